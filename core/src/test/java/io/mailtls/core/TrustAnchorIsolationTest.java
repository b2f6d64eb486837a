package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.junit.TestkitExtension;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.xbill.DNS.DClass;
import org.xbill.DNS.DNSKEYRecord;
import org.xbill.DNS.DSRecord;
import org.xbill.DNS.dnssec.ValidatingResolver;

/**
 * The validator trusts exactly the anchors it is given (RFC 4033 §2, RFC 4035 §4.3), and anchors it
 * could not use are refused when they are given rather than turning every answer insecure.
 */
class TrustAnchorIsolationTest {

  @RegisterExtension static final TestkitExtension testkit = new TestkitExtension();

  private static final TestDnsServer dns =
      testkit.start(
          TestDnsServer.builder()
              .zone(
                  "example.test",
                  z ->
                      z.mx("example.test", 10, "mx1.example.test")
                          .a("mx1.example.test", "127.0.0.2")));

  private static DnsAnswer askMx(TrustAnchors anchors) {
    return DnssecResolver.builder()
        .upstream(dns.socketAddress())
        .trustAnchors(anchors)
        .queryTimeout(Duration.ofSeconds(2))
        .lookupTimeout(Duration.ofSeconds(6))
        .cacheSize(0)
        .build()
        .resolve(DomainName.of("example.test"), DnsRecordType.MX);
  }

  /**
   * dnsjava's ValidatingResolver constructor loads the file named by the JVM-wide property
   * dnsjava.dnssec.trust_anchor_file, and explicit anchors loaded afterwards are merged into that
   * store: a resolver then also trusts whatever that global file says. Here the given anchor covers
   * only another zone, so example.test has no anchor and is insecure; the property's file holds the
   * test server's root key.
   */
  @Test
  void aTrustAnchorFileNamedInSystemPropertiesIsNotAddedToTheGivenAnchors(@TempDir Path dir)
      throws Exception {
    TrustAnchors elsewhere =
        TrustAnchors.parse("other.invalid. IN DS 12345 13 2 " + "AB".repeat(32) + "\n");
    assertThat(askMx(elsewhere).state()).isEqualTo(DnssecState.INSECURE);
    Path file = dir.resolve("anchors.txt");
    Files.writeString(file, dns.trustAnchor(), StandardCharsets.UTF_8);
    String before = System.getProperty(ValidatingResolver.TRUST_ANCHOR_FILE_PROPERTY);
    DnsAnswer a;
    try {
      System.setProperty(ValidatingResolver.TRUST_ANCHOR_FILE_PROPERTY, file.toString());
      a = askMx(elsewhere);
    } finally {
      if (before == null) {
        System.clearProperty(ValidatingResolver.TRUST_ANCHOR_FILE_PROPERTY);
      } else {
        System.setProperty(ValidatingResolver.TRUST_ANCHOR_FILE_PROPERTY, before);
      }
    }
    assertThat(a.state()).isEqualTo(DnssecState.INSECURE);
  }

  private static String anchorWith(int dclass, int algorithm, int digestId) {
    DSRecord ds = dns.trustAnchorRecord();
    return new DSRecord(
            ds.getName(),
            dclass,
            ds.getTTL(),
            ds.getFootprint(),
            algorithm,
            digestId,
            ds.getDigest())
        + "\n";
  }

  @Test
  void theTestkitAnchorAsGivenMakesSignedDataSecure() {
    DSRecord ds = dns.trustAnchorRecord();
    String same = anchorWith(DClass.IN, ds.getAlgorithm(), ds.getDigestID());
    assertThat(askMx(TrustAnchors.parse(same)).state()).isEqualTo(DnssecState.SECURE);
  }

  /**
   * An anchor of another class, of an algorithm or digest the validator does not implement, is
   * silently no anchor: dnsjava then calls every answer insecure (RFC 4035 §5.2 treatment of
   * unsupported algorithms), so a typo in an anchors file switches DANE off without a word.
   */
  @ParameterizedTest
  @ValueSource(strings = {"class CH", "algorithm 200", "digest type 99"})
  void anchorsTheValidatorCannotUseAreRefusedNotSilentlyInsecure(String what) {
    DSRecord ds = dns.trustAnchorRecord();
    String text =
        switch (what) {
          case "class CH" -> anchorWith(DClass.CH, ds.getAlgorithm(), ds.getDigestID());
          case "algorithm 200" -> anchorWith(DClass.IN, 200, ds.getDigestID());
          default -> anchorWith(DClass.IN, ds.getAlgorithm(), 99);
        };
    DnsAnswer a;
    try {
      a = askMx(TrustAnchors.parse(text));
    } catch (IllegalArgumentException refused) {
      return; // refused when given: good
    }
    assertThat(a.state()).as("state with anchor %s", text).isNotEqualTo(DnssecState.INSECURE);
  }

  @Test
  void parseRefusesAnchorsNoValidatorCanUse() {
    DSRecord ds = dns.trustAnchorRecord();
    assertThatThrownBy(
            () -> TrustAnchors.parse(anchorWith(DClass.CH, ds.getAlgorithm(), ds.getDigestID())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("class");
    assertThatThrownBy(() -> TrustAnchors.parse(anchorWith(DClass.IN, 200, ds.getDigestID())))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("algorithm");
    assertThatThrownBy(() -> TrustAnchors.parse(anchorWith(DClass.IN, ds.getAlgorithm(), 99)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("digest");
    // One usable anchor next to an unusable one for the same zone (an algorithm rollover) is fine.
    assertThat(
            TrustAnchors.parse(
                    anchorWith(DClass.IN, ds.getAlgorithm(), ds.getDigestID())
                        + anchorWith(DClass.IN, 200, ds.getDigestID()))
                .summary())
        .hasSize(2);
  }

  /**
   * RFC 5011 §2.1: a key seen with the REVOKE flag must not be used as a trust anchor. Files kept
   * by RFC 5011 resolvers list such keys (flags 385) beside the live ones. dnsjava's validator
   * ignores the flag, so a revoked key, which may be revoked because it leaked, still made what it
   * signed secure. Here the root is signed with a revoked key, as whoever holds it can sign.
   */
  @Test
  void aRevokedDnskeyAnchorIsNeverTrusted() {
    try (TestDnsServer revokedRoot =
        TestDnsServer.builder()
            .revokedRootKey()
            .zone(
                "example.test",
                z ->
                    z.mx("example.test", 10, "mx1.example.test").a("mx1.example.test", "127.0.0.2"))
            .start()) {
      DNSKEYRecord revoked = revokedRoot.trustAnchorKey();
      assertThat(revoked.getFlags() & DNSKEYRecord.Flags.REVOKE).isNotZero();
      String revokedAnchor = revoked + "\n";

      // Alone, it is no usable anchor: refused, as unusable algorithms are.
      assertThatThrownBy(() -> TrustAnchors.parse(revokedAnchor))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("revoked");

      // Beside a live anchor for the root (an RFC 5011 file mid-rollover), it is listed as revoked
      // and not used: the data its key signed is bogus, never secure.
      TrustAnchors both = TrustAnchors.parse(anchorWith(DClass.IN, 13, 2) + revokedAnchor);
      assertThat(both.summary()).anySatisfy(line -> assertThat(line).endsWith(" revoked"));
      DnsAnswer a =
          DnssecResolver.builder()
              .upstream(revokedRoot.socketAddress())
              .trustAnchors(both)
              .queryTimeout(Duration.ofSeconds(2))
              .lookupTimeout(Duration.ofSeconds(6))
              .cacheSize(0)
              .build()
              .resolve(DomainName.of("example.test"), DnsRecordType.MX);
      assertThat(a.state()).isEqualTo(DnssecState.BOGUS);
    }
  }

  /**
   * $INCLUDE makes the parser open any file named in the text: the 1 MiB bound of {@link
   * TrustAnchors#read} no longer bounds what is read, and text meant as anchors reads the file
   * system.
   */
  @Test
  void includeDirectivesAreNotFollowed(@TempDir Path dir) throws Exception {
    Path other = dir.resolve("other.txt");
    Files.writeString(other, dns.trustAnchor(), StandardCharsets.UTF_8);
    assertThatThrownBy(() -> TrustAnchors.parse("$INCLUDE " + other + "\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("$INCLUDE");
  }
}
