package io.mailtls.mtasts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.params.provider.Arguments.arguments;

import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** RFC 8461 §3.2: the policy body, table-driven. */
class StsPolicyParserTest {

  private static final String BASE =
      "version: STSv1\nmode: enforce\nmx: mail.example.com\n" + "max_age: 86400\n";

  static Stream<Arguments> validPolicies() {
    return Stream.of(
        arguments(
            "§3.2 LF line ends", BASE, MtaStsMode.ENFORCE, List.of("mail.example.com"), 86400L),
        arguments(
            "§3.2 CRLF line ends",
            "version: STSv1\r\nmode: enforce\r\nmx: mail.example.com\r\nmax_age: 86400\r\n",
            MtaStsMode.ENFORCE,
            List.of("mail.example.com"),
            86400L),
        arguments(
            "§3.2 LF and CRLF mixed",
            "version: STSv1\r\nmode: testing\nmx: mail.example.com\r\nmax_age: 604800\n",
            MtaStsMode.TESTING,
            List.of("mail.example.com"),
            604800L),
        arguments(
            "§3.2 [sts-policy-term]: no final line end",
            "version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 86400",
            MtaStsMode.ENFORCE,
            List.of("mail.example.com"),
            86400L),
        arguments(
            "§3.2 \":\" *WSP: no space after the colon",
            "version:STSv1\nmode:enforce\nmx:mail.example.com\nmax_age:86400",
            MtaStsMode.ENFORCE,
            List.of("mail.example.com"),
            86400L),
        arguments(
            "§3.2 *WSP after the colon and at the end of a line",
            "version: \t STSv1 \t\r\nmode:\tenforce  \nmx:  mail.example.com\t\nmax_age: 86400 \n",
            MtaStsMode.ENFORCE,
            List.of("mail.example.com"),
            86400L),
        arguments(
            "§3.2 fields in any order",
            "max_age: 1\nmx: mail.example.com\nmode: enforce\nversion: STSv1\n",
            MtaStsMode.ENFORCE,
            List.of("mail.example.com"),
            1L),
        arguments(
            "§3.2 the RFC's example",
            "version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.example.net\n"
                + "mx: backupmx.example.com\nmax_age: 604800\n",
            MtaStsMode.ENFORCE,
            List.of("mail.example.com", "*.example.net", "backupmx.example.com"),
            604800L),
        arguments(
            "§3.2 mode none needs no mx",
            "version: STSv1\nmode: none\nmax_age: 86400\n",
            MtaStsMode.NONE,
            List.of(),
            86400L),
        arguments(
            "§3.2 mode none may still list mx",
            "version: STSv1\nmode: none\nmx: mail.example.com\nmax_age: 86400\n",
            MtaStsMode.NONE,
            List.of("mail.example.com"),
            86400L),
        arguments(
            "§3.2 repeated mode: the first occurrence is used",
            BASE + "mode: testing\n",
            MtaStsMode.ENFORCE,
            List.of("mail.example.com"),
            86400L),
        arguments(
            "§3.2 repeated max_age and version: the first occurrence is used",
            BASE + "max_age: 5\nversion: STSv1\n",
            MtaStsMode.ENFORCE,
            List.of("mail.example.com"),
            86400L),
        arguments(
            "§3.2 mx accumulates, a duplicate kept once",
            BASE + "mx: *.example.net\nmx: MAIL.example.com\n",
            MtaStsMode.ENFORCE,
            List.of("mail.example.com", "*.example.net"),
            86400L),
        arguments(
            "§3.2 extension fields are ignored",
            "version: STSv1\nx-note: see https://example.com/a?b=c;d e\nmode: enforce\n"
                + "comment: caf\u00e9 \u2615 ok\nmx: mail.example.com\nmax_age: 86400\n"
                + "ext.1_a-b: ;=!\n",
            MtaStsMode.ENFORCE,
            List.of("mail.example.com"),
            86400L),
        arguments(
            "§3.2 %s\"mode\": \"Mode\" is an extension, ignored",
            "version: STSv1\nMode: testing\nmode: enforce\nmx: mail.example.com\nmax_age: 1\n",
            MtaStsMode.ENFORCE,
            List.of("mail.example.com"),
            1L),
        arguments(
            "§3.2 max_age above 31557600 is clamped",
            "version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 31557601\n",
            MtaStsMode.ENFORCE,
            List.of("mail.example.com"),
            31_557_600L),
        arguments(
            "§3.2 max_age of 10 digits is clamped",
            "version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 9999999999\n",
            MtaStsMode.ENFORCE,
            List.of("mail.example.com"),
            31_557_600L),
        arguments(
            "§3.2 max_age exactly 31557600",
            "version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 31557600\n",
            MtaStsMode.ENFORCE,
            List.of("mail.example.com"),
            31_557_600L),
        arguments(
            "§3.2 max_age 0 and leading zeros",
            "version: STSv1\nmode: enforce\nmx: mail.example.com\nmax_age: 0000000000\n",
            MtaStsMode.ENFORCE,
            List.of("mail.example.com"),
            0L),
        arguments(
            "§3.2 mx is normalised to lower case",
            "version: STSv1\nmode: enforce\nmx: MAIL.Example.COM\nmx: *.EXAMPLE.net\nmax_age: 1\n",
            MtaStsMode.ENFORCE,
            List.of("mail.example.com", "*.example.net"),
            1L),
        arguments(
            "§3.2 mx as an A-label",
            "version: STSv1\nmode: enforce\nmx: mail.xn--bcher-kva.example\n"
                + "mx: *.XN--MNCHEN-3YA.example\nmax_age: 1\n",
            MtaStsMode.ENFORCE,
            List.of("mail.xn--bcher-kva.example", "*.xn--mnchen-3ya.example"),
            1L),
        arguments(
            "§3.2 RFC 5321 Domain: one label, digits, inner hyphens",
            "version: STSv1\nmode: testing\nmx: localhost\nmx: 1mx-a.ex-ample.com\n"
                + "mx: *.com\nmax_age: 1\n",
            MtaStsMode.TESTING,
            List.of("localhost", "1mx-a.ex-ample.com", "*.com"),
            1L));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("validPolicies")
  void validPolicy(String name, String text, MtaStsMode mode, List<String> mx, long maxAge) {
    MtaStsPolicy policy = StsPolicyParser.parse(text, "20240101T000000");
    assertThat(policy.id()).isEqualTo("20240101T000000");
    assertThat(policy.mode()).isEqualTo(mode);
    assertThat(policy.mxPatterns()).containsExactlyElementsOf(mx);
    assertThat(policy.maxAge()).isEqualTo(Duration.ofSeconds(maxAge));
  }

  static Stream<Arguments> invalidPolicies() {
    String head = "version: STSv1\nmode: enforce\nmax_age: 86400\n";
    return Stream.of(
        // Document-level: required fields (line 0).
        arguments("§3.2 an empty body", "", 0, "empty"),
        arguments(
            "§3.2 version is required",
            "mode: enforce\nmx: mail.example.com\nmax_age: 1\n",
            0,
            "version field is required"),
        arguments(
            "§3.2 mode is required",
            "version: STSv1\nmx: mail.example.com\nmax_age: 1\n",
            0,
            "mode field is required"),
        arguments(
            "§3.2 max_age is required",
            "version: STSv1\nmode: enforce\nmx: mail.example.com\n",
            0,
            "max_age field is required"),
        arguments("§3.2 mx is required in enforce mode", head, 0, "mx field is required"),
        arguments(
            "§3.2 mx is required in testing mode",
            "version: STSv1\nmode: testing\nmax_age: 1\n",
            0,
            "mx field is required"),
        arguments(
            "§3.2 %s\"version\": Version is not version",
            "Version: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n",
            0,
            "\"Version\" is not \"version\""),
        // version
        arguments("§3.2 version must be STSv1", "version: STSv2\n" + BASE, 1, "STSv1"),
        arguments("§3.2 %s\"STSv1\" is case-sensitive", "version: stsv1\n" + BASE, 1, "STSv1"),
        // mode
        arguments("§3.2 unknown mode", "version: STSv1\nmode: sometimes\n", 2, "mode must be"),
        arguments(
            "§3.2 %s\"enforce\" is case-sensitive",
            "version: STSv1\nmode: Enforce\n", 2, "mode must be"),
        arguments("§3.2 mode without a value", "version: STSv1\nmode:\n", 2, "mode must be"),
        arguments(
            "§3.2 mode with two words",
            "version: STSv1\nmode: enforce testing\n",
            2,
            "mode must be"),
        arguments(
            "§3.2 an ignored repeated field is still a field: a value is required",
            BASE + "mode:\n",
            5,
            "empty value"),
        arguments(
            "§3.2 an ignored repeated field is still a field: no control characters",
            BASE + "version: STSv1\u0001\n",
            5,
            "U+0001"),
        // max_age
        arguments("§3.2 max_age negative", head.replace("86400", "-1"), 3, "max_age"),
        arguments("§3.2 max_age with a sign", head.replace("86400", "+5"), 3, "max_age"),
        arguments("§3.2 max_age decimal", head.replace("86400", "1.5"), 3, "max_age"),
        arguments("§3.2 max_age empty", head.replace("86400", ""), 3, "max_age"),
        arguments(
            "§3.2 max_age of 11 digits", head.replace("86400", "12345678901"), 3, "1 to 10 digits"),
        arguments("§3.2 max_age with a unit", head.replace("86400", "86400s"), 3, "max_age"),
        arguments("§3.2 max_age non-ASCII digits", head.replace("86400", "\u0663"), 3, "max_age"),
        // mx
        arguments("§3.2 mx as a U-label", head + "mx: mail.b\u00fccher.example\n", 4, "U-label"),
        arguments("§4.1 wildcard not a whole label", head + "mx: *example.com\n", 4, "wildcard"),
        arguments("§4.1 wildcard not left-most", head + "mx: a.*.example.com\n", 4, "wildcard"),
        arguments("§4.1 a bare *", head + "mx: *\n", 4, "wildcard"),
        arguments("§4.1 two wildcards", head + "mx: *.*.example.com\n", 4, "wildcard"),
        arguments("§4.1 ** label", head + "mx: **.example.com\n", 4, "wildcard"),
        arguments("§3.2 *. without a domain", head + "mx: *.\n", 4, "empty host name"),
        arguments("§3.2 two trailing dots", head + "mx: mail.example.com..\n", 4, "empty label"),
        arguments("§3.2 a dot alone", head + "mx: .\n", 4, "empty label"),
        arguments("§3.2 *. and a dot", head + "mx: *..\n", 4, "empty label"),
        arguments("§3.2 empty label", head + "mx: mail..example.com\n", 4, "empty label"),
        arguments("§3.2 leading dot", head + "mx: .example.com\n", 4, "empty label"),
        arguments(
            "§3.2 label starts with a hyphen",
            head + "mx: -mail.example.com\n",
            4,
            "must start and end"),
        arguments(
            "§3.2 label ends with a hyphen",
            head + "mx: mail-.example.com\n",
            4,
            "must start and end"),
        arguments("§3.2 underscore", head + "mx: mail_1.example.com\n", 4, "other than"),
        arguments(
            "§3.2 a port is not a Domain", head + "mx: mail.example.com:25\n", 4, "other than"),
        arguments(
            "§3.2 an address literal is not a Domain",
            head + "mx: [192.0.2.1]\n",
            4,
            "must start and end"),
        arguments(
            "§3.2 two names on one line",
            head + "mx: a.example.com b.example.com\n",
            4,
            "other than"),
        arguments("§3.2 mx without a value", head + "mx:\n", 4, "empty host name"),
        arguments(
            "§3.2 label longer than 63",
            head + "mx: " + "a".repeat(64) + ".example\n",
            4,
            "longer than 63"),
        arguments(
            "§3.2 an A-label that does not decode", head + "mx: xn--a.example\n", 4, "A-label"),
        // lines
        arguments("§3.2 nothing but empty lines", "\n\r\n \t\n", 0, "version"),
        arguments("§3.2 bare CR", "version: STSv1\rmode: enforce\n", 1, "bare CR"),
        arguments("§3.2 CR at the very end", "version: STSv1\r", 1, "bare CR"),
        arguments(
            "§3.2 leading white space",
            "version: STSv1\n mode: enforce\n",
            2,
            "invalid field name"),
        arguments(
            "§3.2 white space before the colon",
            "version: STSv1\nmode : enforce\n",
            2,
            "invalid field name"),
        arguments("§3.2 no colon", "version: STSv1\nmode enforce\n", 2, "no ':'"),
        arguments(
            "§3.2 a byte order mark is not a field name", "\ufeff" + BASE, 1, "invalid field name"),
        arguments("§3.2 JSON is not a policy", "{\"version\": \"STSv1\"}", 1, "invalid field name"),
        // extensions
        arguments(
            "§3.2 extension name starts with a letter or digit",
            BASE + "_x: y\n",
            5,
            "invalid field name"),
        arguments(
            "§3.2 extension name at most 32 characters",
            BASE + "a".repeat(33) + ": y\n",
            5,
            "invalid field name"),
        arguments(
            "§3.2 extension value of at least one character",
            BASE + "comment:\n",
            5,
            "empty value"),
        arguments(
            "§3.2 extension value without tabs inside", BASE + "comment: a\tb\n", 5, "U+0009"),
        arguments(
            "§3.2 extension value without control characters", BASE + "x: a\u0001b\n", 5, "U+0001"),
        arguments("§3.2 extension value without NUL", BASE + "x: a\u0000\n", 5, "U+0000"),
        arguments("§3.2 extension value without DEL", BASE + "x: a\u007f\n", 5, "U+007F"),
        arguments("§3.2 no lone surrogate (not UTF-8)", BASE + "x: a\ud800\n", 5, "U+D800"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("invalidPolicies")
  void invalidPolicy(String name, String text, int line, String reason) {
    assertThatThrownBy(() -> StsPolicyParser.parse(text, "1"))
        .isInstanceOfSatisfying(
            StsPolicyException.class,
            e -> {
              assertThat(e.line()).as("line").isEqualTo(line);
              assertThat(e.reason()).contains(reason).contains("RFC");
              assertThat(e.getMessage()).contains(e.reason());
              if (line > 0) {
                assertThat(e.getMessage()).contains("line " + line + ":");
              }
            });
  }

  @Test
  @SuppressWarnings("CanonicalDuration") // seconds, as BASE's max_age gives them
  void repeatedKeyFirstOccurrenceCounts() {
    // RFC 8461 §3.2: of a duplicated field other than mx, "all entries except for the first SHALL
    // be ignored": a later version, mode or max_age is neither used nor checked against its
    // field's values.
    MtaStsPolicy policy =
        StsPolicyParser.parse(
            BASE
                + "version: STSv2\nmode: bogus\n"
                + "mode: testing\nmax_age: 12345678901\nmax_age: 5\n",
            "1");

    assertThat(policy.mode()).isEqualTo(MtaStsMode.ENFORCE);
    assertThat(policy.maxAge()).isEqualTo(Duration.ofSeconds(86400));
    assertThat(policy.mxPatterns()).containsExactly("mail.example.com");
    // The first occurrence counts even when it is the invalid one.
    assertThatThrownBy(
            () ->
                StsPolicyParser.parse(
                    "version: STSv2\nversion: STSv1\nmode: enforce\nmx: a.example\nmax_age: 1\n",
                    "1"))
        .isInstanceOfSatisfying(StsPolicyException.class, e -> assertThat(e.line()).isEqualTo(1));
    // mx is the one field that repeats: every occurrence counts, so every one must be valid.
    assertThatThrownBy(() -> StsPolicyParser.parse(BASE + "mx: *\n", "1"))
        .isInstanceOfSatisfying(StsPolicyException.class, e -> assertThat(e.line()).isEqualTo(5));
  }

  @Test
  void maxAgeAboveLimitIsClampedSoTheDomainKeepsItsPolicy() {
    // RFC 8461 §3.2 caps max_age at 31557600 while its ABNF allows ten digits. Rejecting the
    // policy would leave the sender with no policy for a domain that asked for the longest
    // protection (a downgrade); clamping keeps the policy for the longest life the RFC allows.
    for (String maxAge : List.of("31557601", "99999999", "9999999999")) {
      MtaStsPolicy policy =
          StsPolicyParser.parse(
              "version: STSv1\nmode: enforce\n" + "mx: mail.example.com\nmax_age: " + maxAge + "\n",
              "1");
      assertThat(policy.mode()).as(maxAge).isEqualTo(MtaStsMode.ENFORCE);
      assertThat(policy.maxAge()).as(maxAge).isEqualTo(MtaStsPolicy.MAX_AGE_LIMIT);
    }
    assertThat(StsPolicyParser.MAX_AGE_SECONDS).isEqualTo(MtaStsPolicy.MAX_AGE_LIMIT.toSeconds());
  }

  static Stream<Arguments> strayBlankLinesAndAbsoluteNames() {
    return Stream.of(
        arguments("empty line in the middle", "version: STSv1\n\nmode: enforce\n" + REST),
        arguments(
            "empty CRLF line in the middle", "version: STSv1\r\n\r\nmode: enforce\r\n" + REST),
        arguments("white space only", "version: STSv1\n \t \nmode: enforce\n" + REST),
        arguments("empty first line", "\nversion: STSv1\nmode: enforce\n" + REST),
        arguments("blank line at the end", "version: STSv1\nmode: enforce\n" + REST + "\n"),
        arguments(
            "mx with a trailing dot",
            "version: STSv1\nmode: enforce\nmx: MAIL.example.com.\nmx: *.backup.example.\n"
                + "max_age: 86400\n"));
  }

  private static final String REST = "mx: mail.example.com\nmx: *.backup.example\nmax_age: 86400\n";

  @ParameterizedTest(name = "{0}")
  @MethodSource("strayBlankLinesAndAbsoluteNames")
  @SuppressWarnings("CanonicalDuration") // seconds, as the policies give them
  void strayBlankLinesAndAbsoluteMxNamesKeepThePolicy(String name, String text) {
    // RFC 8461 §3.2's ABNF has neither an empty line nor a trailing dot on a Domain. Refusing the
    // policy for either would leave the domain with no policy at all (§3.3, §5), so a typo would
    // turn its enforce into opportunistic delivery: the policy is kept, exactly as written.
    MtaStsPolicy policy = StsPolicyParser.parse(text, "7");
    assertThat(policy.mode()).isEqualTo(MtaStsMode.ENFORCE);
    assertThat(policy.mxPatterns()).containsExactly("mail.example.com", "*.backup.example");
    assertThat(policy.maxAge()).isEqualTo(Duration.ofSeconds(86400));
  }

  @Test
  void reasonsQuoteTheOffendingValueSafely() {
    assertThatThrownBy(
            () ->
                StsPolicyParser.parse(
                    "version: STSv1\nmode: \"x\"\\" + "y".repeat(200) + "\n", "1"))
        .isInstanceOfSatisfying(
            StsPolicyException.class,
            e ->
                assertThat(e.reason())
                    .contains("\"\\\"x\\\"\\\\yyy")
                    .contains("...\"")
                    .hasSizeLessThan(250));
  }

  @Test
  void argumentsMustNotBeNull() {
    assertThatThrownBy(() -> StsPolicyParser.parse(null, "1"))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> StsPolicyParser.parse(BASE, null))
        .isInstanceOf(NullPointerException.class);
  }

  @Test
  void exceptionCarriesLineAndReason() {
    StsPolicyException e = new StsPolicyException(3, "bad");
    assertThat(e.line()).isEqualTo(3);
    assertThat(e.reason()).isEqualTo("bad");
    assertThat(e).hasMessage("invalid MTA-STS policy, line 3: bad");
    assertThat(new StsPolicyException(0, "missing")).hasMessage("invalid MTA-STS policy: missing");
    assertThatThrownBy(() -> new StsPolicyException(-1, "x"))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
