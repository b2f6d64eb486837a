package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.testkit.DnsQuery;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.ValidatingResolverServer;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.xbill.DNS.Type;

/**
 * The DNSSEC state of answers (RFC 4035 §4.3, RFC 7672 §2.1.1), against the testkit's signed zones,
 * in both modes: in-process validation ({@link DnssecMode#VALIDATE}) and trust of a loopback
 * validating resolver's AD bit ({@link DnssecMode#TRUST_AD}).
 */
class DnssecStatesTest {

  private static TestDnsServer dns;
  private static ValidatingResolverServer validatingResolver;

  @BeforeAll
  static void startServers() {
    dns =
        TestDnsServer.builder()
            .zone(
                "example.test",
                z ->
                    z.mx("example.test", 10, "mx1.example.test")
                        .a("mx1.example.test", "127.0.0.2")
                        .cname("alias.example.test", "mx1.example.test")
                        .cname("to-unsigned.example.test", "host.unsigned.test")
                        .cname("via-unsigned.example.test", "to-expired.unsigned.test")
                        .cname("c1.example.test", "c2.example.test")
                        .cname("c2.example.test", "c3.example.test")
                        .cname("c3.example.test", "c4.example.test")
                        .cname("c4.example.test", "mx1.example.test")
                        .mx("servfail.example.test", 10, "mx1.example.test")
                        .mx("dropped.example.test", 10, "mx1.example.test")
                        .mx("corrupt.example.test", 10, "mx1.example.test")
                        .txt("big.example.test", bigTxt()))
            .zone(
                "unsigned.test",
                z ->
                    z.unsigned()
                        .mx("unsigned.test", 10, "host.unsigned.test")
                        .a("host.unsigned.test", "127.0.0.3")
                        .cname("to-expired.unsigned.test", "mx.expired.test")
                        .cname("to-wrongds.unsigned.test", "mx.wrongds.test")
                        .cname("loop1.unsigned.test", "loop2.unsigned.test")
                        .cname("loop2.unsigned.test", "loop1.unsigned.test"))
            // far.lame.test is delegated to a server the testkit does not hold: a referral.
            .zone("lame.test", z -> z.unsigned().ns("far.lame.test", "ns.far.lame.test"))
            .zone(
                "wrongds.test",
                z ->
                    z.wrongDs()
                        .mx("wrongds.test", 10, "mx.wrongds.test")
                        .a("mx.wrongds.test", "127.0.0.4"))
            .zone(
                "expired.test",
                z ->
                    z.expiredSignatures()
                        .mx("expired.test", 10, "mx.expired.test")
                        .a("mx.expired.test", "127.0.0.5"))
            .start();
    dns.corruptSignatures("corrupt.example.test", Type.MX);
    dns.servfail("servfail.example.test", Type.MX);
    dns.drop("dropped.example.test", Type.MX);
    dns.truncate("big.example.test", Type.TXT);
    validatingResolver =
        ValidatingResolverServer.start(
            dns.socketAddress(),
            dns.trustAnchor(),
            Clock.systemUTC(),
            InetAddress.getLoopbackAddress());
  }

  private static String[] bigTxt() {
    String[] strings = new String[8];
    for (int i = 0; i < strings.length; i++) {
      strings[i] = ("chunk" + i + "-").repeat(30).substring(0, 200);
    }
    return strings;
  }

  @AfterAll
  static void stopServers() {
    validatingResolver.close();
    dns.close();
  }

  @BeforeEach
  void clearLog() {
    dns.clearQueryLog();
  }

  private static DnsResolver resolver(DnssecMode mode) {
    DnssecResolver.Builder b =
        DnssecResolver.builder()
            .mode(mode)
            .queryTimeout(Duration.ofMillis(mode == DnssecMode.VALIDATE ? 400 : 3000))
            .retries(0)
            .lookupTimeout(Duration.ofSeconds(6));
    if (mode == DnssecMode.VALIDATE) {
      b.upstream(dns.socketAddress()).trustAnchors(TrustAnchors.parse(dns.trustAnchor()));
    } else {
      b.upstream(validatingResolver.socketAddress());
    }
    return b.build();
  }

  private static DnsAnswer ask(DnssecMode mode, String name, DnsRecordType type) {
    return resolver(mode).resolve(DomainName.of(name), type);
  }

  @ParameterizedTest
  @EnumSource(DnssecMode.class)
  void signedMxIsSecure(DnssecMode mode) {
    DnsAnswer a = ask(mode, "example.test", DnsRecordType.MX);
    assertThat(a.outcome()).isEqualTo(DnsOutcome.DATA);
    assertThat(a.state()).isEqualTo(DnssecState.SECURE);
    assertThat(a.records(DnsRecord.Mx.class))
        .containsExactly(new DnsRecord.Mx(10, DomainName.of("mx1.example.test")));
  }

  @ParameterizedTest
  @EnumSource(DnssecMode.class)
  void provedNonExistenceIsASecureAnswerNotAnException(DnssecMode mode) {
    DnsAnswer nx = ask(mode, "nosuch.example.test", DnsRecordType.MX);
    assertThat(nx.outcome()).isEqualTo(DnsOutcome.NXDOMAIN);
    assertThat(nx.state()).isEqualTo(DnssecState.SECURE);
    DnsAnswer nodata = ask(mode, "mx1.example.test", DnsRecordType.TXT);
    assertThat(nodata.outcome()).isEqualTo(DnsOutcome.NODATA);
    assertThat(nodata.state()).isEqualTo(DnssecState.SECURE);
  }

  /**
   * RFC 2308 §2.2: a referral is no answer. Handed on by dnsjava's validator as the authoritative
   * server sent it (RA clear), or by a validating resolver (RA set), it is a failure, never NODATA.
   */
  @ParameterizedTest
  @EnumSource(DnssecMode.class)
  void aReferralIsAFailureNeverNodata(DnssecMode mode) {
    for (DnsRecordType type : List.of(DnsRecordType.MX, DnsRecordType.A)) {
      DnsAnswer a = ask(mode, "far.lame.test", type);
      assertThat(a.outcome()).as("%s", type).isEqualTo(DnsOutcome.FAILURE);
      assertThat(a.failure()).as("%s", type).contains(DnsFailure.REFUSED);
      assertThat(a.state()).as("%s", type).isEqualTo(DnssecState.INDETERMINATE);
      assertThat(a.isNegative()).as("%s", type).isFalse();
    }
  }

  @ParameterizedTest
  @EnumSource(DnssecMode.class)
  void unsignedDelegationIsInsecure(DnssecMode mode) {
    DnsAnswer a = ask(mode, "unsigned.test", DnsRecordType.MX);
    assertThat(a.outcome()).isEqualTo(DnsOutcome.DATA);
    assertThat(a.state()).isEqualTo(DnssecState.INSECURE);
  }

  @ParameterizedTest
  @EnumSource(DnssecMode.class)
  void dsMatchingNoKeyIsBogusNeverInsecure(DnssecMode mode) {
    assertBogus(ask(mode, "wrongds.test", DnsRecordType.MX));
  }

  @ParameterizedTest
  @EnumSource(DnssecMode.class)
  void expiredSignaturesAreBogusNeverInsecure(DnssecMode mode) {
    assertBogus(ask(mode, "expired.test", DnsRecordType.MX));
  }

  @ParameterizedTest
  @EnumSource(DnssecMode.class)
  void corruptedRrsigIsBogusNeverInsecure(DnssecMode mode) {
    assertBogus(ask(mode, "corrupt.example.test", DnsRecordType.MX));
  }

  /**
   * RFC 4035 §5 and §4.3: every RRset of an answer is validated with the keys of its own zone. An
   * insecure CNAME (in an unsigned zone) whose target lies in a signed zone that fails validation
   * is bogus: the target's RRset is not insecure because the alias pointing at it is.
   */
  @Test
  void anInsecureCnameToABogusZoneIsBogusNeverInsecure() {
    assertBogus(ask(DnssecMode.VALIDATE, "to-expired.unsigned.test", DnsRecordType.A));
    assertBogus(ask(DnssecMode.VALIDATE, "to-wrongds.unsigned.test", DnsRecordType.A));
    // a denial at the target (the host exists, without TXT) is no more insecure than its data
    assertBogus(ask(DnssecMode.VALIDATE, "to-expired.unsigned.test", DnsRecordType.TXT));
    assertBogus(ask(DnssecMode.VALIDATE, "to-expired.unsigned.test", DnsRecordType.TLSA));
    // secure, then insecure, then bogus: the last link is validated too
    assertBogus(ask(DnssecMode.VALIDATE, "via-unsigned.example.test", DnsRecordType.A));
    // the insecure alias itself still resolves, insecure, to good data
    DnsAnswer good = ask(DnssecMode.VALIDATE, "to-unsigned.example.test", DnsRecordType.A);
    assertThat(good.state()).isEqualTo(DnssecState.INSECURE);
    assertThat(good.outcome()).isEqualTo(DnsOutcome.DATA);
  }

  private static void assertBogus(DnsAnswer a) {
    assertThat(a.outcome()).isEqualTo(DnsOutcome.FAILURE);
    assertThat(a.state()).isEqualTo(DnssecState.BOGUS);
    assertThat(a.failure()).contains(DnsFailure.VALIDATION_FAILED);
    assertThat(a.records()).isEmpty();
    assertThat(a.reason()).isPresent();
  }

  @ParameterizedTest
  @EnumSource(DnssecMode.class)
  void servfailIsATemporaryFailureNeverNoRecords(DnssecMode mode) {
    DnsAnswer a = ask(mode, "servfail.example.test", DnsRecordType.MX);
    assertThat(a.outcome()).isEqualTo(DnsOutcome.FAILURE);
    // The upstream's own failure is not a validation failure: indeterminate, not bogus.
    assertThat(a.state()).isEqualTo(DnssecState.INDETERMINATE);
    assertThat(a.failure()).contains(DnsFailure.SERVFAIL);
    assertThat(a.isNegative()).isFalse();
  }

  @ParameterizedTest
  @EnumSource(DnssecMode.class)
  void noAnswerIsIndeterminateNeverNoRecords(DnssecMode mode) {
    DnsAnswer a = ask(mode, "dropped.example.test", DnsRecordType.MX);
    assertThat(a.outcome()).isEqualTo(DnsOutcome.FAILURE);
    assertThat(a.state()).isEqualTo(DnssecState.INDETERMINATE);
    assertThat(a.failure().orElseThrow()).isIn(DnsFailure.TIMEOUT, DnsFailure.SERVFAIL);
    assertThat(a.isNegative()).isFalse();
    if (mode == DnssecMode.VALIDATE) {
      assertThat(a.failure()).contains(DnsFailure.TIMEOUT);
    }
  }

  @ParameterizedTest
  @EnumSource(DnssecMode.class)
  void truncatedUdpAnswerIsRetriedOverTcp(DnssecMode mode) {
    DnsAnswer a = ask(mode, "big.example.test", DnsRecordType.TXT);
    assertThat(a.outcome()).isEqualTo(DnsOutcome.DATA);
    assertThat(a.state()).isEqualTo(DnssecState.SECURE);
    assertThat(a.records(DnsRecord.Txt.class).get(0).strings()).hasSize(8);
    assertThat(dns.queries())
        .anySatisfy(
            q -> {
              assertThat(q.name()).isEqualTo("big.example.test.");
              assertThat(q.transport()).isEqualTo(DnsQuery.Transport.TCP);
            });
  }

  @ParameterizedTest
  @EnumSource(DnssecMode.class)
  void secureCnameChainIsSecure(DnssecMode mode) {
    DnsAnswer a = ask(mode, "alias.example.test", DnsRecordType.A);
    assertThat(a.outcome()).isEqualTo(DnsOutcome.DATA);
    assertThat(a.state()).isEqualTo(DnssecState.SECURE);
    assertThat(a.cnameChain()).containsExactly(DomainName.of("mx1.example.test"));
  }

  @ParameterizedTest
  @EnumSource(DnssecMode.class)
  void cnameChainWithOneInsecureLinkIsInsecure(DnssecMode mode) {
    DnsAnswer a = ask(mode, "to-unsigned.example.test", DnsRecordType.A);
    assertThat(a.outcome()).isEqualTo(DnsOutcome.DATA);
    assertThat(a.state()).isEqualTo(DnssecState.INSECURE);
    assertThat(a.canonicalName()).isEqualTo(DomainName.of("host.unsigned.test"));
    assertThat(a.records(DnsRecord.Address.class)).hasSize(1);
  }

  @ParameterizedTest
  @EnumSource(DnssecMode.class)
  void rfc1034Section3_6_2CnameLoopIsATypedFailureNeverNoRecords(DnssecMode mode) {
    // In an unsigned zone nothing but mailtls's own loop check stands in the way.
    DnsAnswer a = ask(mode, "loop1.unsigned.test", DnsRecordType.A);
    assertThat(a.outcome()).isEqualTo(DnsOutcome.FAILURE);
    assertThat(a.isNegative()).isFalse();
    assertThat(a.failure()).contains(DnsFailure.CNAME_CHAIN);
    assertThat(a.state()).isEqualTo(DnssecState.INDETERMINATE);
  }

  @Test
  void aCnameChainLongerThanTheLimitIsATypedFailure() {
    DnsResolver shortChains =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .maxCnameChain(2)
            .build();
    DnsAnswer a = shortChains.resolve(DomainName.of("c1.example.test"), DnsRecordType.A);
    assertThat(a.outcome()).isEqualTo(DnsOutcome.FAILURE);
    assertThat(a.failure()).contains(DnsFailure.CNAME_CHAIN);
    DnsAnswer whole =
        resolver(DnssecMode.VALIDATE).resolve(DomainName.of("c1.example.test"), DnsRecordType.A);
    assertThat(whole.outcome()).isEqualTo(DnsOutcome.DATA);
    assertThat(whole.cnameChain()).hasSize(4);
    assertThat(whole.state()).isEqualTo(DnssecState.SECURE);
  }
}
