package io.mailtls.core.internal.smtp;

import static io.mailtls.core.internal.smtp.TestStreams.string;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.mailtls.core.internal.smtp.EsmtpParameter.Body;
import io.mailtls.core.internal.smtp.EsmtpParameter.Notify;
import io.mailtls.core.internal.smtp.EsmtpParameter.Ret;
import io.mailtls.core.internal.smtp.SmtpCommand.Verb;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

class SmtpCommandTest {

  static Stream<Arguments> encodings() {
    return Stream.of(
        arguments(
            "RFC 5321 §4.1.1.1 EHLO domain",
            SmtpCommand.ehlo("client.example.com"),
            "EHLO client.example.com\r\n",
            Verb.EHLO,
            true),
        arguments(
            "RFC 5321 §4.1.3 EHLO IPv4 literal",
            SmtpCommand.ehlo("[192.0.2.1]"),
            "EHLO [192.0.2.1]\r\n",
            Verb.EHLO,
            true),
        arguments(
            "RFC 5321 §4.1.3 EHLO IPv6 literal",
            SmtpCommand.ehlo("[IPv6:2001:db8::1]"),
            "EHLO [IPv6:2001:db8::1]\r\n",
            Verb.EHLO,
            true),
        arguments(
            "RFC 5321 §4.1.1.1 HELO",
            SmtpCommand.helo("client.example.com"),
            "HELO client.example.com\r\n",
            Verb.HELO,
            true),
        arguments(
            "RFC 5321 §4.1.1.2 MAIL FROM",
            SmtpCommand.mailFrom("alice@example.com"),
            "MAIL FROM:<alice@example.com>\r\n",
            Verb.MAIL,
            false),
        arguments(
            "RFC 5321 §4.5.5 null reverse path",
            SmtpCommand.mailFrom(""),
            "MAIL FROM:<>\r\n",
            Verb.MAIL,
            false),
        arguments(
            "RFC 1870 §6 / RFC 6152 §2 parameters",
            SmtpCommand.mailFrom(
                "alice@example.com",
                EsmtpParameter.size(12345),
                EsmtpParameter.body(Body.EIGHT_BIT_MIME)),
            "MAIL FROM:<alice@example.com> SIZE=12345 BODY=8BITMIME\r\n",
            Verb.MAIL,
            false),
        arguments(
            "RFC 3461 §4.3/§4.4 RET and ENVID",
            SmtpCommand.mailFrom(
                "", EsmtpParameter.ret(Ret.HDRS), EsmtpParameter.envid("QQ314159 a+b=c")),
            "MAIL FROM:<> RET=HDRS ENVID=QQ314159+20a+2Bb+3Dc\r\n",
            Verb.MAIL,
            false),
        arguments(
            "RFC 8689 REQUIRETLS",
            SmtpCommand.mailFrom("a@example.com", EsmtpParameter.requireTls()),
            "MAIL FROM:<a@example.com> REQUIRETLS\r\n",
            Verb.MAIL,
            false),
        arguments(
            "RFC 5321 §4.1.2 quoted local part",
            SmtpCommand.mailFrom("\"john smith\"@example.com"),
            "MAIL FROM:<\"john smith\"@example.com>\r\n",
            Verb.MAIL,
            false),
        arguments(
            "RFC 5321 §4.1.1.3 RCPT TO",
            SmtpCommand.rcptTo("bob@example.org"),
            "RCPT TO:<bob@example.org>\r\n",
            Verb.RCPT,
            false),
        arguments(
            "RFC 5321 §4.1.1.3 RCPT TO postmaster",
            SmtpCommand.rcptTo("Postmaster"),
            "RCPT TO:<Postmaster>\r\n",
            Verb.RCPT,
            false),
        arguments(
            "RFC 3461 §4.1/§4.2 NOTIFY and ORCPT",
            SmtpCommand.rcptTo(
                "bob@example.org",
                EsmtpParameter.notify(Set.of(Notify.DELAY, Notify.FAILURE)),
                EsmtpParameter.orcpt("bob+tag@example.org")),
            "RCPT TO:<bob@example.org> NOTIFY=FAILURE,DELAY ORCPT=rfc822;bob+2Btag@example.org\r\n",
            Verb.RCPT,
            false),
        arguments(
            "RFC 3461 §4.1 NOTIFY=NEVER",
            SmtpCommand.rcptTo("bob@example.org", EsmtpParameter.notify(Set.of())),
            "RCPT TO:<bob@example.org> NOTIFY=NEVER\r\n",
            Verb.RCPT,
            false),
        arguments("RFC 5321 §4.1.1.4 DATA", SmtpCommand.data(), "DATA\r\n", Verb.DATA, true),
        arguments(
            "RFC 3030 §2 BDAT",
            SmtpCommand.bdat(1048576, false),
            "BDAT 1048576\r\n",
            Verb.BDAT,
            false),
        arguments(
            "RFC 3030 §2 BDAT LAST",
            SmtpCommand.bdat(86, true),
            "BDAT 86 LAST\r\n",
            Verb.BDAT,
            false),
        arguments(
            "RFC 3030 §2 BDAT 0 LAST",
            SmtpCommand.bdat(0, true),
            "BDAT 0 LAST\r\n",
            Verb.BDAT,
            false),
        arguments("RFC 5321 §4.1.1.5 RSET", SmtpCommand.rset(), "RSET\r\n", Verb.RSET, false),
        arguments("RFC 5321 §4.1.1.9 NOOP", SmtpCommand.noop(), "NOOP\r\n", Verb.NOOP, true),
        arguments("RFC 5321 §4.1.1.10 QUIT", SmtpCommand.quit(), "QUIT\r\n", Verb.QUIT, true),
        arguments(
            "RFC 3207 §4 STARTTLS", SmtpCommand.starttls(), "STARTTLS\r\n", Verb.STARTTLS, true),
        arguments(
            "RFC 4954 §4 + RFC 4616 §2 AUTH PLAIN (the RFC 4954 example)",
            SmtpCommand.authPlain("test", "test", "1234"),
            "AUTH PLAIN dGVzdAB0ZXN0ADEyMzQ=\r\n",
            Verb.AUTH,
            true),
        arguments(
            "RFC 4616 §2 AUTH PLAIN without authzid",
            SmtpCommand.authPlain("", "tim", "tanstaaftanstaaf"),
            "AUTH PLAIN AHRpbQB0YW5zdGFhZnRhbnN0YWFm\r\n",
            Verb.AUTH,
            true),
        arguments(
            "RFC 4954 §4 empty initial response is \"=\"",
            SmtpCommand.auth("external", new byte[0]),
            "AUTH EXTERNAL =\r\n",
            Verb.AUTH,
            true),
        arguments("AUTH LOGIN", SmtpCommand.authLogin(), "AUTH LOGIN\r\n", Verb.AUTH, true),
        arguments(
            "AUTH LOGIN user name",
            SmtpCommand.authLoginUsername("username"),
            "dXNlcm5hbWU=\r\n",
            Verb.SASL_RESPONSE,
            true),
        arguments(
            "AUTH LOGIN password",
            SmtpCommand.authLoginPassword("password"),
            "cGFzc3dvcmQ=\r\n",
            Verb.SASL_RESPONSE,
            true),
        arguments(
            "RFC 4954 §4 cancel", SmtpCommand.saslCancel(), "*\r\n", Verb.SASL_RESPONSE, true));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("encodings")
  void encodesExactBytes(
      String name, SmtpCommand command, String wire, Verb verb, boolean endsGroup)
      throws IOException {
    assertThat(string(command.toBytes())).isEqualTo(wire);
    assertThat(command.verb()).isEqualTo(verb);
    assertThat(command.mustEndPipelineGroup()).as("RFC 2920 §3.1").isEqualTo(endsGroup);
    assertThat(command.isUtf8()).isFalse();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    command.writeTo(out);
    assertThat(string(out.toByteArray())).isEqualTo(wire);
  }

  @Test
  void rfc6531Section3_3Utf8OnlyWithSmtpUtf8() {
    assertThatThrownBy(() -> SmtpCommand.mailFrom("jörg@example.com"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("SMTPUTF8");
    assertThatThrownBy(() -> SmtpCommand.rcptTo("用户@例子.广告")).hasMessageContaining("SMTPUTF8");

    SmtpCommand mail = SmtpCommand.mailFrom("jörg@bücher.example", EsmtpParameter.smtpUtf8());
    SmtpCommand rcpt = SmtpCommand.rcptTo("用户@例子.广告", true, List.of());

    assertThat(mail.isUtf8()).isTrue();
    assertThat(mail.toBytes())
        .isEqualTo("MAIL FROM:<jörg@bücher.example> SMTPUTF8\r\n".getBytes(StandardCharsets.UTF_8));
    assertThat(rcpt.toBytes()).isEqualTo("RCPT TO:<用户@例子.广告>\r\n".getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void rfc6531Section3_3NonAsciiParameterNeedsSmtpUtf8() {
    EsmtpParameter utf8Value = EsmtpParameter.of("X-TAG", "ä");

    assertThatThrownBy(() -> SmtpCommand.mailFrom("a@example.com", utf8Value))
        .hasMessageContaining("SMTPUTF8");
    assertThat(
            SmtpCommand.mailFrom("a@example.com", EsmtpParameter.smtpUtf8(), utf8Value).toString())
        .isEqualTo("MAIL FROM:<a@example.com> SMTPUTF8 X-TAG=ä");
  }

  static Stream<Arguments> injections() {
    return Stream.<Arguments>of(
        arguments("CRLF in EHLO", (Supplier<?>) () -> SmtpCommand.ehlo("a.example\r\nRSET")),
        arguments("LF in EHLO", (Supplier<?>) () -> SmtpCommand.ehlo("a.example\nRSET")),
        arguments("space in EHLO", (Supplier<?>) () -> SmtpCommand.ehlo("a.example RSET")),
        arguments("NUL in EHLO", (Supplier<?>) () -> SmtpCommand.ehlo("a\u0000.example")),
        arguments(
            "CRLF in MAIL FROM",
            (Supplier<?>) () -> SmtpCommand.mailFrom("a@b.example>\r\nRCPT TO:<victim@c.example")),
        arguments("CR in MAIL FROM", (Supplier<?>) () -> SmtpCommand.mailFrom("a\r@b.example")),
        arguments("LF in RCPT TO", (Supplier<?>) () -> SmtpCommand.rcptTo("a@b.example\nDATA")),
        arguments("NUL in RCPT TO", (Supplier<?>) () -> SmtpCommand.rcptTo("a\u0000@b.example")),
        arguments("TAB in RCPT TO", (Supplier<?>) () -> SmtpCommand.rcptTo("a\t@b.example")),
        arguments("DEL in RCPT TO", (Supplier<?>) () -> SmtpCommand.rcptTo("a\u007F@b.example")),
        arguments(
            "C1 control in RCPT TO",
            (Supplier<?>) () -> SmtpCommand.rcptTo("a\u0085@b.example", true, List.of())),
        arguments(
            "closing bracket in path",
            (Supplier<?>) () -> SmtpCommand.mailFrom("a@b.example> SIZE=1")),
        arguments(
            "space in unquoted local part",
            (Supplier<?>) () -> SmtpCommand.mailFrom("john smith@example.com")),
        arguments(
            "CRLF in quoted local part",
            (Supplier<?>) () -> SmtpCommand.mailFrom("\"a\r\nb\"@example.com")),
        arguments(
            "CRLF in parameter value", (Supplier<?>) () -> EsmtpParameter.of("X-A", "1\r\nRSET")),
        arguments("space in parameter value", (Supplier<?>) () -> EsmtpParameter.of("X-A", "1 2")),
        arguments("'=' in parameter value", (Supplier<?>) () -> EsmtpParameter.of("X-A", "1=2")),
        arguments("empty parameter value", (Supplier<?>) () -> EsmtpParameter.of("X-A", "")),
        arguments(
            "CRLF in parameter keyword",
            (Supplier<?>) () -> EsmtpParameter.of("SIZE\r\nRSET", "1")),
        arguments("keyword starting with '-'", (Supplier<?>) () -> EsmtpParameter.of("-X")),
        arguments("CR in ENVID", (Supplier<?>) () -> EsmtpParameter.envid("a\rb")),
        arguments("non-ASCII ENVID", (Supplier<?>) () -> EsmtpParameter.envid("ä")),
        arguments("CRLF in ORCPT", (Supplier<?>) () -> EsmtpParameter.orcpt("a@b\r\nRSET")),
        arguments(
            "CRLF in AUTH mechanism",
            (Supplier<?>) () -> SmtpCommand.auth("PLAIN\r\nRSET", new byte[] {1})),
        arguments(
            "NUL in AUTH PLAIN user", (Supplier<?>) () -> SmtpCommand.authPlain("", "a\0b", "p")),
        arguments(
            "NUL in AUTH PLAIN password",
            (Supplier<?>) () -> SmtpCommand.authPlain("", "a", "p\0")),
        arguments(
            "empty AUTH PLAIN password", (Supplier<?>) () -> SmtpCommand.authPlain("", "a", "")),
        arguments(
            "non-ASCII mechanism that upper-cases to PLAIN",
            (Supplier<?>) () -> SmtpCommand.auth("plaın")),
        arguments(
            "non-ASCII postmaster look-alike",
            (Supplier<?>) () -> SmtpCommand.rcptTo("poſtmaster", true, List.of())),
        arguments("HELO with address literal", (Supplier<?>) () -> SmtpCommand.helo("[192.0.2.1]")),
        arguments("negative BDAT size", (Supplier<?>) () -> SmtpCommand.bdat(-1, true)),
        arguments("negative SIZE", (Supplier<?>) () -> EsmtpParameter.size(-1)),
        arguments(
            "unpaired surrogate in UTF-8 path",
            (Supplier<?>) () -> SmtpCommand.rcptTo("a\uD800@b.example", true, List.of())));
  }

  @ParameterizedTest(name = "RFC 5321 §2.3.8 / §4.1.2 rejects {0}")
  @MethodSource("injections")
  void rejectsInjectionAndMalformedArguments(String name, Supplier<?> build) {
    assertThatThrownBy(build::get).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void injectionMessageShowsTheValueEscaped() {
    assertThatThrownBy(() -> SmtpCommand.mailFrom("a@b.example\r\nDATA"))
        .hasMessageContaining("\"a@b.example\\r\\nDATA\"")
        .hasMessageNotContaining("\r");
  }

  @Test
  void credentialsAreRedacted() {
    SmtpCommand plain = SmtpCommand.authPlain("", "user", "hunter2");

    assertThat(plain).hasToString("AUTH PLAIN <redacted>");
    assertThat(SmtpCommand.authLoginPassword("hunter2")).hasToString("<redacted>");
    assertThat(SmtpCommand.saslResponse(new byte[] {1, 2})).hasToString("<redacted>");
    assertThat(SmtpCommand.authLogin()).hasToString("AUTH LOGIN");
    assertThatThrownBy(() -> SmtpCommand.authPlain("", "user", "hunter2\0"))
        .hasMessageNotContaining("hunter2");
  }

  @Test
  void authPlainIsUtf8() {
    byte[] wire = SmtpCommand.authPlain("", "jörg", "pässword").toBytes();
    String encoded = string(wire).substring("AUTH PLAIN ".length()).trim();

    assertThat(java.util.Base64.getDecoder().decode(encoded))
        .isEqualTo("\0jörg\0pässword".getBytes(StandardCharsets.UTF_8));
  }

  @Test
  void mechanismNamesAreUpperCasedInRootLocale() {
    // Under tr_TR, "login".toUpperCase() would give "LOGİN".
    assertThat(string(SmtpCommand.auth("login").toBytes())).isEqualTo("AUTH LOGIN\r\n");
    assertThat(EsmtpParameter.of("smtputf8").keyword()).isEqualTo("SMTPUTF8");
    assertThat(EsmtpParameter.of("size", "1").keyword()).isEqualTo("SIZE");
  }

  @Test
  void valueEquality() {
    assertThat(SmtpCommand.rset()).isEqualTo(SmtpCommand.rset());
    assertThat(SmtpCommand.rset()).hasSameHashCodeAs(SmtpCommand.rset());
    assertThat(SmtpCommand.rset()).isNotEqualTo(SmtpCommand.noop());
  }

  @Test
  void bodyParameters() {
    assertThat(EsmtpParameter.body(Body.SEVEN_BIT)).hasToString("BODY=7BIT");
    assertThat(EsmtpParameter.body(Body.BINARY_MIME)).hasToString("BODY=BINARYMIME");
    assertThat(EsmtpParameter.ret(Ret.FULL)).hasToString("RET=FULL");
    assertThat(EsmtpParameter.notify(EnumSet.allOf(Notify.class)))
        .hasToString("NOTIFY=SUCCESS,FAILURE,DELAY");
  }

  @Test
  void rfc3461Section4_4EnvidLength() {
    assertThat(EsmtpParameter.envid("x".repeat(100)).value()).contains("x".repeat(100));
    assertThatThrownBy(() -> EsmtpParameter.envid("x".repeat(101))).hasMessageContaining("100");
    assertThatThrownBy(() -> EsmtpParameter.envid("+".repeat(34))).hasMessageContaining("100");
  }

  @ParameterizedTest(name = "RFC 5321 §4.1.2 accepts mailbox {0}")
  @ValueSource(
      strings = {
        "a@example.com",
        "first.last+tag@sub.example.co.uk",
        "!#$%&'*+-/=?^_`{|}~@example.com",
        "john..doe@example.com",
        "\"quoted@at\"@example.com",
        "\"with \\\" escaped\"@example.com",
        "user@[192.0.2.1]",
        "user@[IPv6:2001:db8::1]",
        "user@under_score.example"
      })
  void acceptsRealMailboxes(String mailbox) {
    assertThat(SmtpCommand.rcptTo(mailbox).toString()).isEqualTo("RCPT TO:<" + mailbox + ">");
  }

  @ParameterizedTest(name = "RFC 5321 §4.1.2 rejects mailbox {0}")
  @ValueSource(
      strings = {
        "",
        "no-at-sign",
        "@example.com",
        "user@",
        "a<b@example.com",
        "a(b)@example.com",
        "a,b@example.com",
        "\"unterminated@example.com",
        "\"\"@example.com",
        "\"q\"x@example.com",
        "user@exa mple.com",
        "user@exa>mple.com",
        "user@[192.0.2.1",
        "user@[]",
        "user@[1 2]"
      })
  void rejectsBrokenMailboxes(String mailbox) {
    assertThatThrownBy(() -> SmtpCommand.rcptTo(mailbox))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest(name = "RFC 5321 §4.1.1.1 rejects EHLO name {0}")
  @ValueSource(
      strings = {
        "",
        ".example.com",
        "example.com.",
        "a..example",
        "under_score.example",
        "bücher.example",
        "[unterminated",
        "[]",
        "name;x"
      })
  void rejectsBadClientNames(String name) {
    assertThatThrownBy(() -> SmtpCommand.ehlo(name)).isInstanceOf(IllegalArgumentException.class);
  }
}
