package io.mailtls.dane;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DnsRecord;
import io.mailtls.dane.internal.DigestAgility;
import io.mailtls.testkit.TestPki;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** RFC 7672 §3.1 and RFC 6698 §2.1: which TLSA records an SMTP client can use. */
class TlsaUsabilityTest {

  private static byte[] bytes(int n) {
    byte[] b = new byte[n];
    Arrays.fill(b, (byte) 0xab);
    return b;
  }

  /** A minimal DER SEQUENCE of {@code n} octets in all. */
  private static byte[] sequence(int n) {
    byte[] b = bytes(n);
    b[0] = 0x30;
    if (n - 2 < 0x80) {
      b[1] = (byte) (n - 2);
    } else {
      b[1] = (byte) 0x82;
      b[2] = (byte) ((n - 4) >> 8);
      b[3] = (byte) (n - 4);
    }
    return b;
  }

  @ParameterizedTest(name = "{0} {1} {2} with {3} octets -> usable={4}")
  @CsvSource({
    "3, 1, 1, 32, true", // DANE-EE SPKI SHA2-256: the common case
    "3, 0, 1, 32, true",
    "3, 1, 2, 64, true",
    "2, 0, 1, 32, true", // DANE-TA
    "2, 1, 2, 64, true",
    "3, 1, 1, 31, false", // wrong digest length
    "3, 1, 1, 33, false",
    "3, 1, 2, 32, false",
    "0, 0, 1, 32, false", // PKIX-TA: not for SMTP (RFC 7672 §3.1.3)
    "1, 1, 1, 32, false", // PKIX-EE
    "4, 1, 1, 32, false", // unknown usage
    "3, 2, 1, 32, false", // unknown selector
    "3, 1, 3, 32, false", // unknown matching type
    "3, 1, 255, 32, false",
  })
  void classifiesDigestRecords(int usage, int selector, int mt, int len, boolean usable) {
    DnsRecord.Tlsa r = new DnsRecord.Tlsa(usage, selector, mt, bytes(len));
    assertThat(TlsaUsability.isUsable(r)).isEqualTo(usable);
    assertThat(TlsaUsability.whyUnusable(r).isPresent()).isEqualTo(!usable);
  }

  @ParameterizedTest(name = "full data {0} octets")
  @CsvSource({"40", "300"})
  void fullRecordsMustBeDerSequences(int len) {
    byte[] truncated = Arrays.copyOf(sequence(len), len - 1);
    assertThat(TlsaUsability.whyUnusable(new DnsRecord.Tlsa(2, 0, 0, truncated)))
        .hasValueSatisfying(why -> assertThat(why).contains("DER"));
    assertThat(TlsaUsability.isUsable(new DnsRecord.Tlsa(3, 1, 0, bytes(len)))).isFalse();
  }

  /**
   * RFC 7672 §3.1: malformed association data makes a record unusable, and a secure RRset of
   * unusable records makes TLS mandatory, unauthenticated (RFC 7672 §2.2), not DANE authentication
   * that can never pass. Full data (matching type 0) is the whole certificate (selector 0) or
   * SubjectPublicKeyInfo (selector 1) (RFC 6698 §2.1.2): a DER SEQUENCE that is neither is as
   * malformed as a SHA2-256 digest of 31 octets.
   */
  @ParameterizedTest(
      name = "{0} {1} 0 of a DER SEQUENCE of {2} octets that is no certificate or key")
  @CsvSource({"3, 0, 40", "3, 1, 40", "2, 0, 40", "2, 1, 40", "3, 0, 300", "3, 1, 300"})
  void rfc7672Section3_1FullDataThatIsNoCertificateOrKeyIsUnusable(
      int usage, int selector, int len) {
    DnsRecord.Tlsa r = new DnsRecord.Tlsa(usage, selector, 0, sequence(len));
    assertThat(TlsaUsability.whyUnusable(r)).isPresent();
    assertThat(DigestAgility.select(List.of(r)).used()).isEmpty();
  }

  @ParameterizedTest(name = "{0} {1} 0 of a real certificate or key")
  @CsvSource({"3, 0", "3, 1", "2, 0", "2, 1"})
  void fullDataOfARealCertificateOrKeyIsUsable(int usage, int selector) {
    TestPki.Issued leaf = TestPki.selfSigned("mx.example.test");
    DnsRecord.Tlsa r =
        new DnsRecord.Tlsa(usage, selector, 0, leaf.tlsaAssociationData(selector, 0));
    assertThat(TlsaUsability.whyUnusable(r)).isEmpty();
    byte[] trailing = Arrays.copyOf(r.data(), r.data().length + 1);
    assertThat(TlsaUsability.isUsable(new DnsRecord.Tlsa(usage, selector, 0, trailing))).isFalse();
  }

  @ParameterizedTest
  @CsvSource({"0, PKIX-TA", "1, PKIX-EE", "2, DANE-TA", "3, DANE-EE", "9, usage(9)"})
  void usageNamesFollowRfc7218(int usage, String name) {
    assertThat(TlsaUsability.usageName(usage)).isEqualTo(name);
  }

  /**
   * The one set of TLSA field constants ({@link DnsRecord.Tlsa}) holds the IANA registry values
   * (RFC 6698 §7.2-§7.4, acronyms of RFC 7218), and a record built from them is usable.
   */
  @Test
  void theFieldConstantsAreTheRegistryValues() {
    assertThat(
            List.of(
                DnsRecord.Tlsa.PKIX_TA,
                DnsRecord.Tlsa.PKIX_EE,
                DnsRecord.Tlsa.DANE_TA,
                DnsRecord.Tlsa.DANE_EE))
        .containsExactly(0, 1, 2, 3);
    assertThat(List.of(DnsRecord.Tlsa.CERT, DnsRecord.Tlsa.SPKI)).containsExactly(0, 1);
    assertThat(List.of(DnsRecord.Tlsa.FULL, DnsRecord.Tlsa.SHA2_256, DnsRecord.Tlsa.SHA2_512))
        .containsExactly(0, 1, 2);
    assertThat(TlsaUsability.usageName(DnsRecord.Tlsa.DANE_EE)).isEqualTo("DANE-EE");
    assertThat(
            TlsaUsability.isUsable(
                new DnsRecord.Tlsa(
                    DnsRecord.Tlsa.DANE_EE,
                    DnsRecord.Tlsa.SPKI,
                    DnsRecord.Tlsa.SHA2_256,
                    bytes(32))))
        .isTrue();
  }
}
