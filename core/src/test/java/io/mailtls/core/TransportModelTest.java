package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The transport's value types: levels, sender policy, addresses, envelopes. */
class TransportModelTest {

  @ParameterizedTest
  @CsvSource({
    "opportunistic, OPPORTUNISTIC",
    "ENFORCED, ENFORCED",
    "sts-required, STS_REQUIRED",
    "dane_required, DANE_REQUIRED",
    "' Dane-Required ', DANE_REQUIRED"
  })
  void tlsLevelTokens(String token, TlsLevel level) {
    assertThat(TlsLevel.parse(token)).isEqualTo(level);
    assertThat(TlsLevel.parse(level.token())).isEqualTo(level);
  }

  @Test
  void unknownTlsLevelNamesTheValue() {
    assertThatThrownBy(() -> TlsLevel.parse("secure"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"secure\"");
  }

  @Test
  void senderPolicyPerDomainWithDefault() {
    SenderPolicy p =
        SenderPolicy.builder()
            .defaultLevel(TlsLevel.OPPORTUNISTIC)
            .level("Bank.Example", TlsLevel.ENFORCED)
            .level("bücher.example", TlsLevel.DANE_REQUIRED)
            .build();
    assertThat(p.levelFor(Optional.of(DomainName.of("bank.example")))).isEqualTo(TlsLevel.ENFORCED);
    assertThat(p.levelFor(Optional.of(DomainName.of("xn--bcher-kva.example"))))
        .isEqualTo(TlsLevel.DANE_REQUIRED);
    assertThat(p.levelFor(Optional.of(DomainName.of("other.example"))))
        .isEqualTo(TlsLevel.OPPORTUNISTIC);
    assertThat(p.levelFor(Optional.empty())).isEqualTo(TlsLevel.OPPORTUNISTIC);
    assertThatThrownBy(
            () ->
                SenderPolicy.builder()
                    .level("a.example", TlsLevel.ENFORCED)
                    .level("A.EXAMPLE", TlsLevel.OPPORTUNISTIC))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("a.example");
  }

  @Test
  void senderPolicyFromAFunctionFallsBackOnEmptyOnlyAndFailsOnFailure() {
    Map<DomainName, TlsLevel> store = Map.of(DomainName.of("x.example"), TlsLevel.ENFORCED);
    SenderPolicy p =
        SenderPolicy.of(
            d -> {
              if (d.toString().equals("broken.example")) {
                throw new IllegalStateException("store down");
              }
              return Optional.ofNullable(store.get(d));
            },
            TlsLevel.STS_REQUIRED);
    assertThat(p.levelFor(Optional.of(DomainName.of("x.example")))).isEqualTo(TlsLevel.ENFORCED);
    assertThat(p.levelFor(Optional.of(DomainName.of("y.example"))))
        .isEqualTo(TlsLevel.STS_REQUIRED);
    // A failed lookup is not "no entry": the level is unknown (issue 11 item 3).
    assertThatThrownBy(() -> p.levelFor(Optional.of(DomainName.of("broken.example"))))
        .isInstanceOf(SenderPolicyException.class)
        .hasMessageContaining("broken.example")
        .hasCauseInstanceOf(IllegalStateException.class);
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = '|',
      value = {
        "user@example.test|user|example.test|false",
        "User.Name+tag@EXAMPLE.test|User.Name+tag|example.test|false",
        "\"quoted local\"@example.test|\"quoted local\"|example.test|false",
        "josé@bücher.test|josé|xn--bcher-kva.test|true",
        "postmaster@[192.0.2.1]|postmaster|[192.0.2.1]|false",
      })
  void rfc5321Section4_1_2Mailboxes(String text, String local, String domain, boolean utf8) {
    EmailAddress a = EmailAddress.parse(text);
    assertThat(a.localPart()).isEqualTo(local);
    assertThat(a.domain().toString()).isEqualTo(domain);
    assertThat(a.needsSmtpUtf8()).isEqualTo(utf8);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "@example.test",
        "user@",
        "user",
        "a..b@example.test",
        ".a@example.test",
        "a b@example.test",
        "a@exa mple.test",
        "\"open@example.test",
        "a@[1.2.3]"
      })
  void malformedMailboxesNameTheValue(String text) {
    assertThatThrownBy(() -> EmailAddress.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(text);
  }

  @Test
  void localPartOver64OctetsIsRefused() {
    assertThatThrownBy(() -> EmailAddress.parse("a".repeat(65) + "@example.test"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("64");
  }

  @Test
  void envelopesDeduplicateAndKeepOrder() {
    Envelope e = Envelope.of("s@sender.test", "b@x.test", "a@x.test", "b@x.test");
    assertThat(e.recipients())
        .extracting(EmailAddress::toString)
        .containsExactly("b@x.test", "a@x.test");
    assertThat(e.senderDomain()).contains(DomainName.of("sender.test"));
    assertThat(Envelope.ofNullSender(List.of(EmailAddress.parse("a@x.test"))).senderDomain())
        .isEmpty();
    assertThatThrownBy(() -> new Envelope(Optional.empty(), List.of()))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "mail.example.com.",
        "*",
        "*.",
        "a.*.example.com",
        "*example.com",
        "Mail.Example.com",
        "bücher.example",
        "-bad.example"
      })
  void rfc8461Section4_1PatternsThatCouldNeverMatchAreRefused(String pattern) {
    assertThatThrownBy(
            () ->
                new MtaStsPolicy(
                    "1", MtaStsMode.ENFORCE, List.of(pattern), java.time.Duration.ofDays(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(pattern);
  }

  @Test
  void credentialsNeverShowThePassword() {
    assertThat(new Credentials("user", "hunter2").toString()).doesNotContain("hunter2");
  }

  @Test
  void rfc8460ResultTypes() {
    assertThat(FailureType.STARTTLS_NOT_SUPPORTED.tlsRptResultType())
        .contains("starttls-not-supported");
    assertThat(FailureType.CERTIFICATE_HOST_MISMATCH.tlsRptResultType())
        .contains("certificate-host-mismatch");
    assertThat(FailureType.CONNECTION_FAILED.tlsRptResultType()).isEmpty();
  }
}
