package io.mailtls.core.internal.tls;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DomainName;
import io.mailtls.testkit.TestPki;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** RFC 6125 §6.4 name matching as RFC 8461 §4.2 and RFC 7672 §3.2.3 apply it. */
class HostnameMatcherTest {

  @ParameterizedTest(name = "{0} vs {1} -> {2}")
  @CsvSource({
    "mx.example.com, mx.example.com, true",
    "MX.Example.COM, mx.example.com, true",
    "mx.example.com., mx.example.com, true",
    "*.example.com, mx.example.com, true",
    "*.example.com, example.com, false", // one label exactly
    "*.example.com, a.mx.example.com, false",
    "f*.example.com, foo.example.com, false", // partial wildcards refused
    "*mx.example.com, amx.example.com, false",
    "mx.*.com, mx.example.com, false",
    "*.com, example.com, false", // no single-label base
    "*, mx, false",
    "other.example.com, mx.example.com, false",
    "xn--bcher-kva.example, xn--bcher-kva.example, true",
  })
  void rfc6125Section6_4(String presented, String reference, boolean matches) {
    assertThat(HostnameMatcher.matches(presented, DomainName.of(reference))).isEqualTo(matches);
  }

  /**
   * Only ASCII is folded: U+212A KELVIN SIGN lower-cases to {@code k}, so a CN (or any presented
   * identifier) written with it would otherwise match {@code kelvin.example} (RFC 4343, RFC 6125
   * §6.4.1).
   */
  @Test
  void aPresentedNameOutsideAsciiNeverMatches() {
    assertThat(HostnameMatcher.matches("\u212Aelvin.example", DomainName.of("kelvin.example")))
        .isFalse();
    TestPki.Issued kelvin =
        TestPki.create().root().leaf().commonName("\u212Aelvin.example").noSubjectAltName().issue();
    assertThat(
            HostnameMatcher.matches(kelvin.certificate(), List.of(DomainName.of("kelvin.example"))))
        .isFalse();
  }

  /**
   * WebPKI checks take DNS-IDs alone: RFC 8461 §4.2 requires a subjectAltName DNS-ID matching the
   * MX host (and RFC 9525 §6.3 drops the CN-ID), where DANE-TA may fall back to the CN.
   */
  @Test
  void webPkiChecksIgnoreTheCommonName() {
    TestPki pki = TestPki.create();
    TestPki.Issued cnOnly =
        pki.root().leaf().commonName("mx.example.com").noSubjectAltName().issue();
    assertThat(
            HostnameMatcher.matchesDnsId(
                cnOnly.certificate(), List.of(DomainName.of("mx.example.com"))))
        .isFalse();
    TestPki.Issued san = pki.root().leaf().dnsNames("mx.example.com").issue();
    assertThat(
            HostnameMatcher.matchesDnsId(
                san.certificate(), List.of(DomainName.of("mx.example.com"))))
        .isTrue();
  }

  @Test
  void commonNameOnlyWhenThereIsNoDnsId() {
    TestPki pki = TestPki.create();
    TestPki.Issued cnOnly =
        pki.root().leaf().commonName("mx.example.com").noSubjectAltName().issue();
    assertThat(
            HostnameMatcher.matches(cnOnly.certificate(), List.of(DomainName.of("mx.example.com"))))
        .isTrue();
    TestPki.Issued both =
        pki.root().leaf().commonName("mx.example.com").dnsNames("other.example.com").issue();
    assertThat(
            HostnameMatcher.matches(both.certificate(), List.of(DomainName.of("mx.example.com"))))
        .isFalse();
    assertThat(
            HostnameMatcher.matches(
                both.certificate(), List.of(DomainName.of("other.example.com"))))
        .isTrue();
  }
}
