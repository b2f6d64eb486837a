package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.MxResolution.Kind;
import io.mailtls.testkit.TestDnsServer;
import java.net.InetAddress;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Type;

/** MX resolution (RFC 5321 §5.1, RFC 7505) against the testkit's signed zones. */
class MxResolverTest {

  private static TestDnsServer dns;
  private static DnsResolver resolver;

  @BeforeAll
  static void start() {
    dns =
        TestDnsServer.builder()
            .zone(
                "pref.test",
                z ->
                    z.mx("pref.test", 20, "b.pref.test")
                        .mx("pref.test", 10, "a.pref.test")
                        .mx("pref.test", 30, "c.pref.test")
                        .a("a.pref.test", "127.0.0.11")
                        .a("b.pref.test", "127.0.0.12")
                        .a("c.pref.test", "127.0.0.13")
                        .aaaa("c.pref.test", "::1"))
            .zone(
                "shuffle.test",
                z ->
                    z.mx("shuffle.test", 10, "a.shuffle.test")
                        .mx("shuffle.test", 10, "b.shuffle.test")
                        .mx("shuffle.test", 10, "c.shuffle.test")
                        .mx("shuffle.test", 10, "d.shuffle.test")
                        .mx("shuffle.test", 5, "first.shuffle.test")
                        .a("a.shuffle.test", "127.0.0.21")
                        .a("b.shuffle.test", "127.0.0.22")
                        .a("c.shuffle.test", "127.0.0.23")
                        .a("d.shuffle.test", "127.0.0.24")
                        .a("first.shuffle.test", "127.0.0.25"))
            .zone(
                "implicit.test",
                z ->
                    z.a("implicit.test", "127.0.0.31")
                        .cname("alias.implicit.test", "target.implicit.test")
                        .a("target.implicit.test", "127.0.0.34"))
            .zone("implicit6fails.test", z -> z.a("implicit6fails.test", "127.0.0.32"))
            .zone("implicitbothfail.test", z -> z.a("implicitbothfail.test", "127.0.0.33"))
            .zone("nomail.test", z -> z.txt("nomail.test", "v=spf1 -all"))
            .zone("nullmx.test", z -> z.nullMx("nullmx.test").a("nullmx.test", "127.0.0.41"))
            .zone(
                "xn--bcher-kva.test",
                z ->
                    z.mx("xn--bcher-kva.test", 10, "mx.xn--bcher-kva.test")
                        .a("mx.xn--bcher-kva.test", "127.0.0.51"))
            .zone(
                "alias.test",
                z ->
                    z.mx("alias.test", 10, "mx.alias.test")
                        .cname("mx.alias.test", "real.alias.test")
                        .a("real.alias.test", "127.0.0.61"))
            .zone("ipmx.test", z -> z.mx("ipmx.test", 10, "192.0.2.1"))
            .zone(
                "partial.test",
                z ->
                    z.mx("partial.test", 10, "gone.partial.test")
                        .mx("partial.test", 20, "ok.partial.test")
                        .a("ok.partial.test", "127.0.0.71"))
            .zone("servfail.test", z -> z.mx("servfail.test", 10, "mx.servfail.test"))
            // A delegation to a name server the testkit does not hold: answered with a referral.
            .zone("lame.test", z -> z.unsigned().ns("far.lame.test", "ns.far.lame.test"))
            .zone(
                "bogus.test",
                z ->
                    z.wrongDs()
                        .mx("bogus.test", 10, "mx.bogus.test")
                        .a("mx.bogus.test", "127.0.0.81"))
            .start();
    dns.servfail("servfail.test", Type.MX);
    dns.servfail("implicit6fails.test", Type.AAAA);
    dns.servfail("implicitbothfail.test", Type.AAAA);
    dns.servfail("implicitbothfail.test", Type.A);
    resolver =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .queryTimeout(Duration.ofMillis(500))
            .lookupTimeout(Duration.ofSeconds(5))
            .build();
  }

  @AfterAll
  static void stop() {
    dns.close();
  }

  private static MxResolution resolve(String domain) {
    return MxResolver.builder()
        .dns(resolver)
        .random(new Random(7))
        .build()
        .resolve(NextHop.parse(domain));
  }

  private static List<String> names(MxResolution r) {
    return r.hosts().stream().map(h -> h.name().toString()).toList();
  }

  @Test
  @SuppressWarnings("AddressSelection") // ::1 is the zone's AAAA record, not a choice of loopback
  void rfc5321Section5_1PreferenceOrder() throws Exception {
    MxResolution r = resolve("pref.test");
    assertThat(r.kind()).isEqualTo(MxResolution.Kind.MX);
    assertThat(r.mxState()).isEqualTo(DnssecState.SECURE);
    assertThat(names(r)).containsExactly("a.pref.test", "b.pref.test", "c.pref.test");
    MxHost c = r.hosts().get(2);
    assertThat(c.preference()).isEqualTo(30);
    assertThat(c.addresses())
        .containsExactly(InetAddress.getByName("127.0.0.13"), InetAddress.getByName("::1"));
    assertThat(c.addressState()).isEqualTo(DnssecState.SECURE);
    assertThat(r.hosts().get(0).addresses()).containsExactly(InetAddress.getByName("127.0.0.11"));
  }

  @Test
  void rfc5321Section5_1EqualPreferencesAreShuffledDeterministicallyWithASeed() {
    MxResolution once =
        MxResolver.builder()
            .dns(resolver)
            .random(new Random(42))
            .build()
            .resolve(NextHop.parse("shuffle.test"));
    MxResolution again =
        MxResolver.builder()
            .dns(resolver)
            .random(new Random(42))
            .build()
            .resolve(NextHop.parse("shuffle.test"));
    assertThat(names(once)).isEqualTo(names(again));
    assertThat(names(once).get(0)).isEqualTo("first.shuffle.test");
    Set<List<String>> orders = new HashSet<>();
    for (int seed = 0; seed < 20; seed++) {
      List<String> order =
          names(
              MxResolver.builder()
                  .dns(resolver)
                  .random(new Random(seed))
                  .build()
                  .resolve(NextHop.parse("shuffle.test")));
      assertThat(order.get(0)).isEqualTo("first.shuffle.test");
      assertThat(order.subList(1, 5))
          .containsExactlyInAnyOrder(
              "a.shuffle.test", "b.shuffle.test", "c.shuffle.test", "d.shuffle.test");
      orders.add(order);
    }
    assertThat(orders).hasSizeGreaterThan(3);
  }

  @Test
  void rfc5321Section5_1ImplicitMx() throws Exception {
    MxResolution r = resolve("implicit.test");
    assertThat(r.kind()).isEqualTo(MxResolution.Kind.IMPLICIT_MX);
    assertThat(r.hosts())
        .singleElement()
        .satisfies(
            h -> {
              assertThat(h.name()).isEqualTo(DomainName.of("implicit.test"));
              assertThat(h.implicit()).isTrue();
              assertThat(h.addresses()).containsExactly(InetAddress.getByName("127.0.0.31"));
            });
  }

  /**
   * Issue 11 item 11: a failed AAAA lookup does not make the implicit MX unusable when the A lookup
   * gave addresses; the IPv4 addresses are used and the failure stays visible.
   */
  @Test
  void aFailedAaaaLookupKeepsTheImplicitMxReachableOverIpv4() throws Exception {
    MxResolution r = resolve("implicit6fails.test");
    assertThat(r.kind()).isEqualTo(MxResolution.Kind.IMPLICIT_MX);
    assertThat(r.hosts())
        .singleElement()
        .satisfies(
            h -> {
              assertThat(h.addresses()).containsExactly(InetAddress.getByName("127.0.0.32"));
              assertThat(h.addressLookupFailed()).isTrue();
              assertThat(h.ipv6().isSuccess()).isFalse();
            });
  }

  /** Both address lookups failing says nothing about the domain: temporary, never "no host". */
  @Test
  void bothAddressLookupsFailingForTheImplicitMxIsTemporary() {
    MxResolution r = resolve("implicitbothfail.test");
    assertThat(r.kind()).isEqualTo(MxResolution.Kind.TEMPORARY_FAILURE);
  }

  @Test
  void rfc5321Section5_1NoMxAndNoAddressIsPermanent() {
    MxResolution r = resolve("nomail.test");
    assertThat(r.kind()).isEqualTo(MxResolution.Kind.NO_MAIL_HOST);
    assertThat(r.kind().isPermanentFailure()).isTrue();
  }

  @Test
  void rfc7505NullMxIsPermanentEvenWithAnAddress() {
    MxResolution r = resolve("nullmx.test");
    assertThat(r.kind()).isEqualTo(MxResolution.Kind.NULL_MX);
    assertThat(r.kind().isPermanentFailure()).isTrue();
    assertThat(r.hosts()).isEmpty();
  }

  @Test
  void nxdomainIsPermanent() {
    MxResolution r = resolve("nosuch.pref.test");
    assertThat(r.kind()).isEqualTo(MxResolution.Kind.NO_SUCH_DOMAIN);
    assertThat(r.kind().isPermanentFailure()).isTrue();
    assertThat(r.mxState()).isEqualTo(DnssecState.SECURE);
  }

  @Test
  void servfailIsTemporary() {
    MxResolution r = resolve("servfail.test");
    assertThat(r.kind()).isEqualTo(MxResolution.Kind.TEMPORARY_FAILURE);
    assertThat(r.kind().isTemporaryFailure()).isTrue();
    assertThat(r.hosts()).isEmpty();
  }

  /**
   * RFC 2308 §2.2: a referral (no answer, NS and no SOA in the authority section), as an upstream
   * that does not recurse sends, says nothing about the name's records. For an unsigned domain,
   * dnsjava's validator hands it on as insecure; the MX lookup fails, so the resolution is
   * temporary. Read as NODATA it went on to the implicit MX, whose address lookups got referrals
   * too, and ended in no mail host: a permanent bounce for a resolver problem.
   */
  @Test
  void aReferralIsTemporaryNeverNoMailHost() {
    MxResolution r = resolve("far.lame.test");
    assertThat(r.kind()).isEqualTo(Kind.TEMPORARY_FAILURE);
    assertThat(r.kind().isPermanentFailure()).isFalse();
    assertThat(r.hosts()).isEmpty();
    DnsAnswer mx = r.mxAnswer().orElseThrow();
    assertThat(mx.outcome()).isEqualTo(DnsOutcome.FAILURE);
    assertThat(mx.failure()).contains(DnsFailure.REFUSED);
    assertThat(mx.reason()).hasValueSatisfying(reason -> assertThat(reason).contains("referral"));
  }

  @Test
  void bogusMxIsTemporaryNeverImplicit() {
    MxResolution r = resolve("bogus.test");
    assertThat(r.kind()).isEqualTo(MxResolution.Kind.TEMPORARY_FAILURE);
    assertThat(r.mxState()).isEqualTo(DnssecState.BOGUS);
  }

  @Test
  void idnRecipientDomainIsResolvedThroughItsALabel() throws Exception {
    EmailAddress rcpt = EmailAddress.parse("user@bücher.test");
    assertThat(rcpt.toPath()).isEqualTo("user@xn--bcher-kva.test");
    MxResolution r = MxResolver.builder().dns(resolver).build().resolve(rcpt.domain());
    assertThat(r.kind()).isEqualTo(MxResolution.Kind.MX);
    assertThat(names(r)).containsExactly("mx.xn--bcher-kva.test");
    assertThat(r.hosts().get(0).addresses()).containsExactly(InetAddress.getByName("127.0.0.51"));
  }

  @Test
  void aliasedMxHostIsFollowedAndNoted() throws Exception {
    MxResolution r = resolve("alias.test");
    assertThat(r.kind()).isEqualTo(MxResolution.Kind.MX);
    MxHost h = r.hosts().get(0);
    assertThat(h.name()).isEqualTo(DomainName.of("mx.alias.test"));
    assertThat(h.canonicalName()).contains(DomainName.of("real.alias.test"));
    assertThat(h.addresses()).containsExactly(InetAddress.getByName("127.0.0.61"));
    assertThat(r.notes()).anyMatch(n -> n.contains("alias of real.alias.test"));
  }

  @Test
  void ipAddressAsMxTargetIsIgnored() {
    MxResolution r = resolve("ipmx.test");
    // RFC 5321 §5.1: MX records present and none usable is an error of the domain's data (which
    // the planner bounces), not a failed lookup to try again
    assertThat(r.kind()).isEqualTo(MxResolution.Kind.NO_USABLE_MX);
    assertThat(r.kind().isPermanentFailure()).isTrue();
    assertThat(r.notes()).anyMatch(n -> n.contains("192.0.2.1") && n.contains("IP address"));
  }

  @Test
  void hostWithoutAddressesIsKeptButNotConnectable() {
    MxResolution r = resolve("partial.test");
    assertThat(names(r)).containsExactly("gone.partial.test", "ok.partial.test");
    assertThat(r.hosts().get(0).addresses()).isEmpty();
    assertThat(r.hosts().get(0).ipv4().outcome()).isEqualTo(DnsOutcome.NXDOMAIN);
    assertThat(r.connectableHosts())
        .extracting(h -> h.name().toString())
        .containsExactly("ok.partial.test");
  }

  @Test
  void addressLiteralNeedsNoDns() throws Exception {
    dns.clearQueryLog();
    MxResolution r = resolve("[127.0.0.9]");
    assertThat(r.kind()).isEqualTo(MxResolution.Kind.ADDRESS_LITERAL);
    assertThat(r.nextHop())
        .isEqualTo(new NextHop.AddressLiteral(InetAddress.getByName("127.0.0.9")));
    assertThat(dns.queries()).isEmpty();
  }

  /**
   * {@code newBuilder()}: the derived resolver asks the DNS it was given and orders hosts with the
   * original's random source; the original still asks its own DNS.
   */
  @Test
  void aDerivedResolverOverridesTheDnsAndKeepsTheRandomSource() {
    List<String> asked = new CopyOnWriteArrayList<>();
    DnsResolver recording =
        (name, type) -> {
          asked.add(type + " " + name);
          return resolver.resolveAsync(name, type);
        };
    MxResolver original = MxResolver.builder().dns(resolver).random(new Random(42)).build();
    MxResolver derived = original.newBuilder().dns(recording).build();

    MxResolution viaDerived = derived.resolve(NextHop.parse("shuffle.test"));
    assertThat(asked).contains("MX shuffle.test");
    assertThat(names(viaDerived))
        .as("the order a fresh Random(42) gives")
        .isEqualTo(
            names(
                MxResolver.builder()
                    .dns(resolver)
                    .random(new Random(42))
                    .build()
                    .resolve(NextHop.parse("shuffle.test"))));

    asked.clear();
    assertThat(original.resolve(NextHop.parse("shuffle.test")).hosts()).hasSize(5);
    assertThat(asked).as("the original asks its own DNS").isEmpty();
    assertThatThrownBy(() -> original.newBuilder().dns(resolver).dns(resolver))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("dns already set");
    assertThatThrownBy(() -> MxResolver.builder().build())
        .isInstanceOf(IllegalStateException.class);
  }

  /**
   * RFC 5321 §5.1: a domain without MX records is its own host, under the name the sender was
   * given, even when that name is an alias: the host keeps both names, as the TLSA lookup of a
   * non-MX destination needs them (RFC 7672 §2.2.2: the expanded name first, then the original).
   */
  @Test
  void anAliasedDomainWithoutMxIsItsOwnHostUnderItsOwnName() throws Exception {
    MxResolution r = resolve("alias.implicit.test");
    assertThat(r.kind()).isEqualTo(MxResolution.Kind.IMPLICIT_MX);
    assertThat(names(r)).containsExactly("alias.implicit.test");
    MxHost host = r.hosts().get(0);
    assertThat(host.implicit()).isTrue();
    assertThat(host.canonicalName()).contains(DomainName.of("target.implicit.test"));
    assertThat(host.addresses()).containsExactly(InetAddress.getByName("127.0.0.34"));
    assertThat(host.addressState()).isEqualTo(DnssecState.SECURE);
  }

  /**
   * RFC 4035 §5.5: an MX answer that failed validation is never used, even when a resolver of the
   * caller's hands it over as data or as a denial: it is a failed lookup, never MX hosts and never
   * an implicit MX.
   */
  @Test
  void anMxAnswerThatFailedValidationIsAFailureWhateverItsOutcome() {
    for (DnssecState state : List.of(DnssecState.BOGUS, DnssecState.INDETERMINATE)) {
      DnsResolver marking =
          (name, type) ->
              resolver
                  .resolveAsync(name, type)
                  .thenApply(
                      a ->
                          type != DnsRecordType.MX
                              ? a
                              : DnsAnswer.builder(a.name(), a.type(), a.outcome(), state)
                                  .records(a.records())
                                  .cnameChain(a.cnameChain())
                                  .ttl(a.ttl())
                                  .build());
      MxResolver mx = MxResolver.builder().dns(marking).random(new Random(7)).build();
      for (String domain : List.of("pref.test", "implicit.test")) {
        MxResolution r = mx.resolve(NextHop.parse(domain));
        assertThat(r.kind()).as("%s %s: %s", domain, state, r).isEqualTo(Kind.TEMPORARY_FAILURE);
        assertThat(r.hosts()).isEmpty();
        assertThat(r.mxState()).isEqualTo(state);
      }
    }
  }
}
