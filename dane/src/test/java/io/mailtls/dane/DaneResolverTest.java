package io.mailtls.dane;

import static io.mailtls.dane.DaneTrustManagerTest.INTER;
import static io.mailtls.dane.DaneTrustManagerTest.LEAF;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DnsRecord;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.MxHost;
import io.mailtls.core.MxResolution;
import io.mailtls.core.MxResolver;
import io.mailtls.core.NextHop;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.TlsaLookup;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.DnsQuery;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import io.mailtls.testkit.Tlsa;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Type;

/**
 * TLSA discovery against real DNS (RFC 7672 §2.1-§2.2, RFC 7671 §7): the testkit's signed, unsigned
 * and bogus zones on a loopback server, validated in process by core's {@link DnssecResolver}, and
 * MX resolution by core's {@link MxResolver}. Each test uses its own names, so the query log of the
 * shared server can prove which TLSA queries were (not) sent.
 */
class DaneResolverTest {

  private static TestDnsServer dns;
  private static DnsResolver resolver;
  private static DaneResolver dane;

  @BeforeAll
  static void start() {
    dns =
        TestDnsServer.builder()
            .zone(
                "example.test",
                z ->
                    z
                        // The common case: signed MX, signed host, DANE-EE 3 1 1.
                        .mx("example.test", 10, "mx1.example.test")
                        .a("mx1.example.test", "127.0.0.2")
                        .tlsaFor(Tlsa.smtpOwner("mx1.example.test"), 3, 1, 1, LEAF)
                        // A CNAME'd next-hop domain (RFC 7672 §3.2.2: its expansion is a reference
                        // too).
                        .cname("alias.example.test", "example.test")
                        // Records present, none usable.
                        .mx("unusable.example.test", 10, "mx-unusable.example.test")
                        .a("mx-unusable.example.test", "127.0.0.3")
                        .tlsaFor(Tlsa.smtpOwner("mx-unusable.example.test"), 1, 1, 1, LEAF)
                        .tlsa(Tlsa.smtpOwner("mx-unusable.example.test"), 3, 1, 1, new byte[31])
                        // Usable and unusable together.
                        .mx("mixed.example.test", 10, "mx-mixed.example.test")
                        .a("mx-mixed.example.test", "127.0.0.3")
                        .tlsaFor(Tlsa.smtpOwner("mx-mixed.example.test"), 0, 0, 1, INTER)
                        .tlsaFor(Tlsa.smtpOwner("mx-mixed.example.test"), 3, 1, 1, LEAF)
                        // Provably no TLSA: NXDOMAIN, and NODATA.
                        .mx("absent.example.test", 10, "mx-absent.example.test")
                        .a("mx-absent.example.test", "127.0.0.3")
                        .mx("nodata.example.test", 10, "mx-nodata.example.test")
                        .a("mx-nodata.example.test", "127.0.0.3")
                        .txt(Tlsa.smtpOwner("mx-nodata.example.test"), "not a TLSA record")
                        // Failures: TLSA SERVFAIL, timeout, bad signatures; address SERVFAIL.
                        .mx("tlsa-servfail.example.test", 10, "mx-sf.example.test")
                        .a("mx-sf.example.test", "127.0.0.3")
                        .tlsaFor(Tlsa.smtpOwner("mx-sf.example.test"), 3, 1, 1, LEAF)
                        .mx("tlsa-timeout.example.test", 10, "mx-drop.example.test")
                        .a("mx-drop.example.test", "127.0.0.3")
                        .tlsaFor(Tlsa.smtpOwner("mx-drop.example.test"), 3, 1, 1, LEAF)
                        .mx("tlsa-bogus.example.test", 10, "mx-badsig.example.test")
                        .a("mx-badsig.example.test", "127.0.0.3")
                        .tlsaFor(Tlsa.smtpOwner("mx-badsig.example.test"), 3, 1, 1, LEAF)
                        .mx("addr-servfail.example.test", 10, "mx-addrsf.example.test")
                        .a("mx-addrsf.example.test", "127.0.0.3")
                        .tlsaFor(Tlsa.smtpOwner("mx-addrsf.example.test"), 3, 1, 1, LEAF)
                        .mx("addr-bogus.example.test", 10, "mx.bogus.test")
                        .mx("tlsa-zone-bogus.example.test", 10, "mx.tlsazone.test")
                        // A CNAME at the TLSA owner: followed, base domain unchanged.
                        .mx("tlsa-cname.example.test", 10, "mx-tc.example.test")
                        .a("mx-tc.example.test", "127.0.0.3")
                        .cname(Tlsa.smtpOwner("mx-tc.example.test"), "_dane.example.test")
                        .tlsaFor("_dane.example.test", 3, 1, 1, LEAF)
                        .mx("tlsa-cname-insecure.example.test", 10, "mx-tci.example.test")
                        .a("mx-tci.example.test", "127.0.0.3")
                        .cname(Tlsa.smtpOwner("mx-tci.example.test"), "tlsa.plain.test")
                        // CNAME'd MX hosts (RFC 7671 §7).
                        .mx("alias-host.example.test", 10, "mx-alias1.example.test")
                        .cname("mx-alias1.example.test", "mx1.real.test")
                        .tlsaFor(Tlsa.smtpOwner("mx-alias1.example.test"), 3, 1, 2, LEAF)
                        .mx("alias-orig.example.test", 10, "mx-alias2.example.test")
                        .cname("mx-alias2.example.test", "mx2.real.test")
                        .tlsaFor(Tlsa.smtpOwner("mx-alias2.example.test"), 2, 0, 1, INTER)
                        .mx("alias-mid.example.test", 10, "mx-alias3.example.test")
                        .cname("mx-alias3.example.test", "mid.real.test")
                        .mx("alias-insecure.example.test", 10, "mx-alias4.example.test")
                        .cname("mx-alias4.example.test", "mx4.plain.test")
                        .tlsaFor(Tlsa.smtpOwner("mx-alias4.example.test"), 3, 1, 1, LEAF)
                        .mx("alias-insecure-none.example.test", 10, "mx-alias5.example.test")
                        .cname("mx-alias5.example.test", "mx5.plain.test")
                        // A secure MX pointing at an insecure host.
                        .mx("insecure-host.example.test", 10, "mx.plain.test")
                        // Implicit MX (RFC 5321 §5.1) with TLSA at the domain itself.
                        .a("implicit.example.test", "127.0.0.5")
                        .tlsaFor(Tlsa.smtpOwner("implicit.example.test"), 3, 0, 1, LEAF)
                        // Implicit MX of a secure alias: TLSA at the original name only.
                        .cname("implicit-alias.example.test", "host.real.test")
                        .tlsaFor(Tlsa.smtpOwner("implicit-alias.example.test"), 3, 1, 1, LEAF))
            .zone(
                "real.test",
                z ->
                    z.a("mx1.real.test", "127.0.0.6")
                        .a("host.real.test", "127.0.0.6")
                        .tlsaFor(Tlsa.smtpOwner("mx1.real.test"), 3, 1, 1, LEAF)
                        .a("mx2.real.test", "127.0.0.6")
                        .cname("mid.real.test", "mx3.real.test")
                        .tlsaFor(Tlsa.smtpOwner("mid.real.test"), 3, 1, 1, LEAF)
                        .a("mx3.real.test", "127.0.0.6"))
            .zone(
                "plain.test",
                z ->
                    z.unsigned()
                        .mx("plain.test", 10, "mx1.example.test")
                        .a("mx.plain.test", "127.0.0.7")
                        .tlsaFor(Tlsa.smtpOwner("mx.plain.test"), 3, 1, 1, LEAF)
                        .tlsaFor("tlsa.plain.test", 3, 1, 1, LEAF)
                        .a("mx4.plain.test", "127.0.0.7")
                        .tlsaFor(Tlsa.smtpOwner("mx4.plain.test"), 3, 1, 1, LEAF)
                        .a("mx5.plain.test", "127.0.0.7")
                        .tlsaFor(Tlsa.smtpOwner("mx5.plain.test"), 3, 1, 1, LEAF))
            .zone("bogus.test", z -> z.wrongDs().a("mx.bogus.test", "127.0.0.8"))
            .zone("tlsazone.test", z -> z.a("mx.tlsazone.test", "127.0.0.9"))
            .zone(
                "_tcp.mx.tlsazone.test",
                z -> z.wrongDs().tlsaFor(Tlsa.smtpOwner("mx.tlsazone.test"), 3, 1, 1, LEAF))
            .start();
    dns.servfail(Tlsa.smtpOwner("mx-sf.example.test"), Type.TLSA);
    dns.drop(Tlsa.smtpOwner("mx-drop.example.test"), Type.TLSA);
    dns.corruptSignatures(Tlsa.smtpOwner("mx-badsig.example.test"), Type.TLSA);
    dns.servfail("mx-addrsf.example.test", Type.A);
    resolver =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .queryTimeout(Duration.ofMillis(400))
            .lookupTimeout(Duration.ofSeconds(3))
            .build();
    dane = DaneResolver.builder().dns(resolver).build();
  }

  @AfterAll
  static void stop() {
    dns.close();
  }

  // ------------------------------------------------------------------------------- helpers

  private static MxResolution mx(String nextHop) {
    return MxResolver.builder().dns(resolver).build().resolve(NextHop.parse(nextHop));
  }

  private static TlsaLookup lookup(String nextHop) {
    MxResolution mx = mx(nextHop);
    assertThat(mx.hosts()).as("MX hosts of %s: %s", nextHop, mx).hasSize(1);
    return dane.lookupAsync(mx.hosts().get(0), mx).join();
  }

  private static TlsRequirement.Dane usable(TlsaLookup t) {
    assertThat(t).as("%s", t).isInstanceOf(TlsaLookup.Usable.class);
    return ((TlsaLookup.Usable) t).requirement();
  }

  private static List<DomainName> names(String... names) {
    return List.of(names).stream().map(DomainName::of).toList();
  }

  private static int tlsaQueries(String host) {
    return dns.queryCount(Tlsa.smtpOwner(host), Type.TLSA);
  }

  /** The TLSA owner names queried so far, in order (lower case, no trailing dot). */
  private static List<String> tlsaQueryOrder(String... owners) {
    List<String> wanted = List.of(owners);
    return dns.queries().stream()
        .filter(q -> q.type() == Type.TLSA)
        .map(DnsQuery::name)
        .map(n -> n.toLowerCase(Locale.ROOT).replaceAll("\\.$", ""))
        .filter(wanted::contains)
        .distinct()
        .toList();
  }

  // ------------------------------------------------------------------------------- §2.2

  /** RFC 7672 §2.2: what a TLSA answer means for the host. */
  @Nested
  class Rfc7672Section2_2TlsaOutcomes {

    @Test
    void secureUsableRecordsMakeDaneMandatory() {
      TlsRequirement.Dane d = usable(lookup("example.test"));
      assertThat(d.records()).containsExactly(new DnsRecord.Tlsa(3, 1, 1, LEAF.spkiSha256()));
      assertThat(d.baseDomain()).isEqualTo(DomainName.of("mx1.example.test"));
      assertThat(d.mxSecure()).isTrue();
    }

    @Test
    void secureButUnusableRecordsAreReportedWithReasons() {
      TlsaLookup t = lookup("unusable.example.test");
      assertThat(t).isInstanceOf(TlsaLookup.Unusable.class);
      TlsaLookup.Unusable u = (TlsaLookup.Unusable) t;
      assertThat(u.records()).hasSize(2);
      assertThat(u.reasons())
          .anySatisfy(r -> assertThat(r).contains("PKIX-EE"))
          .anySatisfy(r -> assertThat(r).contains("31 octets"));
    }

    @Test
    void onlyTheUsableRecordsOfAMixedSetAreRequired() {
      TlsaLookup t = lookup("mixed.example.test");
      assertThat(usable(t).records())
          .containsExactly(new DnsRecord.Tlsa(3, 1, 1, LEAF.spkiSha256()));
      assertThat(((TlsaLookup.Usable) t).note()).contains("unusable records ignored");
    }

    @Test
    void provablyAbsentRecordsMeanNoDane() {
      assertThat(lookup("absent.example.test"))
          .isInstanceOf(TlsaLookup.None.class)
          .satisfies(t -> assertThat(((TlsaLookup.None) t).reason()).contains("NXDOMAIN"));
      assertThat(lookup("nodata.example.test"))
          .isInstanceOf(TlsaLookup.None.class)
          .satisfies(t -> assertThat(((TlsaLookup.None) t).reason()).contains("NODATA"));
    }

    @Test
    void insecureRecordsMeanNoDane() {
      // _25._tcp.<host> is a CNAME into an unsigned zone: the records there are insecure.
      TlsaLookup t = lookup("tlsa-cname-insecure.example.test");
      assertThat(t).isInstanceOf(TlsaLookup.None.class);
      assertThat(((TlsaLookup.None) t).reason()).contains("INSECURE");
    }

    @Test
    void aCnameAtTheTlsaOwnerKeepsTheBaseDomain() {
      TlsRequirement.Dane d = usable(lookup("tlsa-cname.example.test"));
      assertThat(d.baseDomain()).isEqualTo(DomainName.of("mx-tc.example.test"));
      assertThat(d.referenceNames()).doesNotContain(DomainName.of("_dane.example.test"));
    }

    @Test
    void implicitMxUsesTheDomainItself() {
      TlsRequirement.Dane d = usable(lookup("implicit.example.test"));
      assertThat(d.baseDomain()).isEqualTo(DomainName.of("implicit.example.test"));
      assertThat(d.referenceNames()).containsExactly(DomainName.of("implicit.example.test"));
    }

    /**
     * RFC 7672 §2.2.2: a domain without MX records whose name is a secure alias: TLSA at the
     * expanded name first, then at the name the sender was given, which is the base domain (and
     * SNI) when the records are there.
     */
    @Test
    void implicitMxOfASecureAliasFallsBackToTheOriginalName() {
      MxResolution mx = mx("implicit-alias.example.test");
      assertThat(mx.kind()).isEqualTo(MxResolution.Kind.IMPLICIT_MX);
      TlsRequirement.Dane d = usable(dane.lookupAsync(mx.hosts().get(0), mx).join());
      assertThat(d.baseDomain()).isEqualTo(DomainName.of("implicit-alias.example.test"));
      assertThat(d.referenceNames()).contains(DomainName.of("implicit-alias.example.test"));
      assertThat(
              tlsaQueryOrder(
                  Tlsa.smtpOwner("host.real.test"), Tlsa.smtpOwner("implicit-alias.example.test")))
          .containsExactly(
              Tlsa.smtpOwner("host.real.test"), Tlsa.smtpOwner("implicit-alias.example.test"));
    }

    @Test
    void anAddressLiteralHasNoDane() {
      MxResolution literal = mx("[127.0.0.2]");
      MxHost any = mx("example.test").hosts().get(0);
      assertThat(dane.lookupAsync(any, literal).join()).isInstanceOf(TlsaLookup.None.class);
    }
  }

  // ------------------------------------------------------------------------------- §2.1.1

  /** RFC 7672 §2.1.1: a failed lookup is never "no DANE" (the downgrade others shipped). */
  @Nested
  class Rfc7672Section2_1_1Failures {

    private void assertFailed(String nextHop, String... reason) {
      TlsaLookup t = lookup(nextHop);
      assertThat(t).as("%s", t).isInstanceOf(TlsaLookup.Failed.class);
      assertThat(((TlsaLookup.Failed) t).reason()).contains(reason);
    }

    @Test
    void tlsaServfailFails() {
      assertFailed("tlsa-servfail.example.test", "TLSA lookup failed", "SERVFAIL");
    }

    @Test
    void tlsaTimeoutFails() {
      assertFailed("tlsa-timeout.example.test", "TLSA lookup failed", "TIMEOUT");
    }

    @Test
    void tlsaWithBadSignaturesFails() {
      assertFailed("tlsa-bogus.example.test", "TLSA lookup failed", "BOGUS");
    }

    @Test
    void tlsaInABogusZoneFails() {
      assertFailed("tlsa-zone-bogus.example.test", "TLSA lookup failed", "BOGUS");
    }

    @Test
    void aFailedAddressLookupFailsWithoutAskingForTlsa() {
      assertFailed("addr-servfail.example.test", "address lookup failed");
      assertThat(tlsaQueries("mx-addrsf.example.test")).isZero();
    }

    @Test
    void bogusAddressesFail() {
      assertFailed("addr-bogus.example.test", "address lookup failed", "BOGUS");
      assertThat(tlsaQueries("mx.bogus.test")).isZero();
    }
  }

  // ------------------------------------------------------------------------------- §2.2.3

  /** RFC 7672 §2.2 and §2.2.3, RFC 7671 §7: which names TLSA is looked up at. */
  @Nested
  class Rfc7672Section2_2_3TlsaBaseDomain {

    @Test
    void insecureAddressesMeanNoTlsaQueryAtAll() {
      TlsaLookup t = lookup("insecure-host.example.test");
      assertThat(t).isInstanceOf(TlsaLookup.None.class);
      assertThat(((TlsaLookup.None) t).reason()).contains("INSECURE", "no TLSA lookup");
      assertThat(tlsaQueries("mx.plain.test")).isZero();
    }

    @Test
    void aSecureAliasIsLookedUpAtTheExpandedNameFirst() {
      TlsaLookup t = lookup("alias-host.example.test");
      TlsRequirement.Dane d = usable(t);
      assertThat(d.baseDomain()).isEqualTo(DomainName.of("mx1.real.test"));
      // The expanded name's records won; the original name's were never needed.
      assertThat(d.records()).containsExactly(new DnsRecord.Tlsa(3, 1, 1, LEAF.spkiSha256()));
      assertThat(tlsaQueries("mx-alias1.example.test")).isZero();
      // RFC 7671 §7: SNI is the expanded name; the original MX name is a reference too.
      assertThat(d.referenceNames())
          .containsExactly(
              DomainName.of("mx1.real.test"),
              DomainName.of("mx-alias1.example.test"),
              DomainName.of("alias-host.example.test"));
    }

    @Test
    void withNothingAtTheExpandedNameTheOriginalIsTried() {
      TlsRequirement.Dane d = usable(lookup("alias-orig.example.test"));
      assertThat(d.baseDomain()).isEqualTo(DomainName.of("mx-alias2.example.test"));
      assertThat(
              tlsaQueryOrder(
                  Tlsa.smtpOwner("mx2.real.test"), Tlsa.smtpOwner("mx-alias2.example.test")))
          .containsExactly(
              Tlsa.smtpOwner("mx2.real.test"), Tlsa.smtpOwner("mx-alias2.example.test"));
    }

    @Test
    void namesInTheMiddleOfAChainAreNeverUsed() {
      TlsaLookup t = lookup("alias-mid.example.test");
      assertThat(t).isInstanceOf(TlsaLookup.None.class);
      assertThat(tlsaQueries("mid.real.test")).isZero();
      assertThat(tlsaQueries("mx3.real.test")).isEqualTo(1);
      assertThat(tlsaQueries("mx-alias3.example.test")).isEqualTo(1);
    }

    @Test
    void anInsecureLinkIgnoresTheTargetButASecureAliasKeepsTheOriginal() {
      // mx-alias4.example.test (signed) -> mx4.plain.test (unsigned): the addresses are
      // insecure; the CNAME itself is secure, so the host's own TLSA records still count.
      TlsRequirement.Dane d = usable(lookup("alias-insecure.example.test"));
      assertThat(d.baseDomain()).isEqualTo(DomainName.of("mx-alias4.example.test"));
      assertThat(tlsaQueries("mx4.plain.test")).isZero();
      assertThat(dns.queryCount("mx-alias4.example.test", Type.CNAME)).isEqualTo(1);
    }

    @Test
    void anInsecureLinkWithoutRecordsAtTheOriginalMeansNoDane() {
      assertThat(lookup("alias-insecure-none.example.test")).isInstanceOf(TlsaLookup.None.class);
      assertThat(tlsaQueries("mx5.plain.test")).isZero();
    }
  }

  // ------------------------------------------------------------------------------- §2.2.1

  /** RFC 7672 §2.2.1 and §3.2.2: the MX answer's security decides the reference identifiers. */
  @Nested
  class Rfc7672Section2_2_1MxSecurity {

    @Test
    void aSecureMxAddsTheNextHopDomain() {
      TlsRequirement.Dane d = usable(lookup("example.test"));
      assertThat(d.referenceNames())
          .containsExactlyElementsOf(names("mx1.example.test", "example.test"));
    }

    @Test
    void aSecureCnamedNextHopAddsItsExpansion() {
      TlsRequirement.Dane d = usable(lookup("alias.example.test"));
      assertThat(d.referenceNames())
          .containsExactlyElementsOf(
              names("mx1.example.test", "alias.example.test", "example.test"));
    }

    @Test
    void anInsecureMxWithASecureHostStillMeansDaneWithTheHostNameOnly() {
      TlsaLookup t = lookup("plain.test");
      TlsRequirement.Dane d = usable(t);
      assertThat(d.mxSecure()).isFalse();
      assertThat(d.referenceNames()).containsExactlyElementsOf(names("mx1.example.test"));
      assertThat(((TlsaLookup.Usable) t).note()).contains("MX answer INSECURE", "TRUSTED");
    }
  }

  // ------------------------------------------------------------------------------- API

  @Test
  void theBuilderNeedsADnsResolverAndRejectsSecondCalls() {
    assertThatThrownBy(() -> DaneResolver.builder().build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("dns");
    assertThatThrownBy(() -> DaneResolver.builder().dns(resolver).dns(resolver))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void trustManagersAreFreshDaneTrustManagers() {
    TlsRequirement.Dane d = usable(lookup("example.test"));
    assertThat(dane.trustManager(d))
        .isInstanceOf(DaneTrustManager.class)
        .isNotSameAs(dane.trustManager(d));
  }

  /**
   * {@code newBuilder()}: a derived provider asks the DNS it was given and keeps the original's
   * clock, which dates DANE-TA chains; the original is unchanged.
   */
  @Test
  void aDerivedProviderOverridesTheDnsAndKeepsTheClock() throws Exception {
    List<String> asked = new CopyOnWriteArrayList<>();
    DnsResolver recording =
        (name, type) -> {
          asked.add(type + " " + name);
          return resolver.resolveAsync(name, type);
        };
    Clock later = Clock.offset(Clock.systemUTC(), Duration.ofDays(3650));
    DaneResolver original = DaneResolver.builder().dns(resolver).clock(later).build();
    DaneResolver derived = original.newBuilder().dns(recording).build();

    MxResolution mx = mx("example.test");
    assertThat(derived.lookupAsync(mx.hosts().get(0), mx).join())
        .isInstanceOf(TlsaLookup.Usable.class);
    assertThat(asked).contains("TLSA _25._tcp.mx1.example.test");
    asked.clear();
    assertThat(original.lookupAsync(mx.hosts().get(0), mx).join())
        .isInstanceOf(TlsaLookup.Usable.class);
    assertThat(asked).as("the original asks its own DNS").isEmpty();

    // a DANE-TA chain valid today is expired by the clock both providers share
    TestPki.Issued leaf = INTER.leaf().dnsNames("mx1.example.test").issue();
    DomainName host = DomainName.of("mx1.example.test");
    TlsRequirement.Dane ta =
        new TlsRequirement.Dane(
            List.of(
                new DnsRecord.Tlsa(
                    DnsRecord.Tlsa.DANE_TA,
                    DnsRecord.Tlsa.CERT,
                    DnsRecord.Tlsa.SHA2_256,
                    INTER.tlsaAssociationData(DnsRecord.Tlsa.CERT, DnsRecord.Tlsa.SHA2_256))),
            host,
            List.of(host),
            true);
    X509Certificate[] chain = leaf.chain().toArray(X509Certificate[]::new);
    for (DaneResolver later10y : List.of(original, derived)) {
      assertThatThrownBy(() -> later10y.trustManager(ta).checkServerTrusted(chain, "ECDHE_ECDSA"))
          .isInstanceOf(CertificateException.class);
    }
    DaneResolver.builder()
        .dns(resolver)
        .build()
        .trustManager(ta)
        .checkServerTrusted(chain, "ECDHE_ECDSA");
    assertThatThrownBy(() -> original.newBuilder().clock(later).clock(later))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("clock already set");
  }
}
