package io.mailtls.dane;

import static io.mailtls.dane.DaneWorld.domain;
import static io.mailtls.dane.DaneWorld.mx;
import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Attempt;
import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryCall;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DnssecMode;
import io.mailtls.core.DomainName;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.Envelope;
import io.mailtls.core.EventListener;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.MtaStsLookup;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.MxHost;
import io.mailtls.core.NextHop;
import io.mailtls.core.PolicyFailure;
import io.mailtls.core.PolicySource;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SkippedHost;
import io.mailtls.core.TlsDetails;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.TlsaLookup;
import io.mailtls.dane.DaneWorld.Delivery;
import io.mailtls.dane.DaneWorld.PkixFailure;
import io.mailtls.testkit.SmtpSession;
import io.mailtls.testkit.TestPki;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The DANE matrix of issue 5, end to end through {@link io.mailtls.core.SecureSmtpTransport} with
 * real components only: the testkit's signed DNS with TLSA records computed from {@link TestPki}
 * certificates, mock SMTP servers with real STARTTLS, {@link DaneResolver}, and for the MTA-STS
 * cases {@link io.mailtls.mtasts.MtaStsResolver} fetching from an HTTPS policy server. Every case
 * runs in both DNSSEC modes: in-process validation ({@link DnssecMode#VALIDATE}) and trust in the
 * AD bit of a validating resolver on loopback ({@link DnssecMode#TRUST_AD}). The peers are
 * described in {@link DaneWorld}.
 */
class DaneEndToEndTest {

  /** Both DNSSEC modes: every case runs in each. */
  private static final List<DnssecMode> MODES = List.of(DnssecMode.values());

  private static DaneWorld world;

  @BeforeAll
  static void start() {
    world = new DaneWorld();
  }

  @AfterAll
  static void stop() {
    world.close();
  }

  // ------------------------------------------------------------------------ parameters

  /** The cartesian product of the given dimensions, one {@link Arguments} per combination. */
  static Stream<Arguments> cross(List<?>... dimensions) {
    List<Object[]> rows = new ArrayList<>();
    rows.add(new Object[0]);
    for (List<?> dimension : dimensions) {
      List<Object[]> next = new ArrayList<>();
      for (Object[] row : rows) {
        for (Object value : dimension) {
          Object[] longer = Arrays.copyOf(row, row.length + 1);
          longer[row.length] = value;
          next.add(longer);
        }
      }
      rows = next;
    }
    return rows.stream().map(Arguments::of);
  }

  /** DANE-EE ({@code ee}) and DANE-TA ({@code ta}) at each level without MTA-STS. */
  static Stream<Arguments> passCases() {
    return cross(
        MODES,
        List.of(TlsLevel.OPPORTUNISTIC, TlsLevel.ENFORCED, TlsLevel.DANE_REQUIRED),
        List.of("ee", "ta"));
  }

  /** The levels without MTA-STS that a DANE outcome must override or satisfy. */
  static Stream<Arguments> mismatchCases() {
    return cross(MODES, List.of(TlsLevel.OPPORTUNISTIC, TlsLevel.ENFORCED, TlsLevel.DANE_REQUIRED));
  }

  /** The levels that, without recipient policy, would not authenticate the peer. */
  static Stream<Arguments> unencryptedLevels() {
    return cross(MODES, List.of(TlsLevel.OPPORTUNISTIC, TlsLevel.ENFORCED));
  }

  /** Those levels against each certificate no PKIX or DANE check would accept. */
  static Stream<Arguments> unusableCertificates() {
    return cross(
        MODES,
        List.of(TlsLevel.OPPORTUNISTIC, TlsLevel.ENFORCED),
        List.of("unusable-selfsigned", "unusable-wrongname"));
  }

  /** Recipient domains whose MX host has no usable, DNSSEC-secure TLSA records. */
  static Stream<Arguments> noUsableDane() {
    return cross(MODES, List.of(domain("notlsa"), "plain.test", domain("unusable-selfsigned")));
  }

  /**
   * The weakest sender level and {@code sts-required}: an MTA-STS enforce policy overrides the
   * first (RFC 8461 §5) and is demanded by the second; DANE must win over it for either.
   */
  static Stream<Arguments> stsLevels() {
    return cross(MODES, List.of(TlsLevel.OPPORTUNISTIC, TlsLevel.STS_REQUIRED));
  }

  /** {@link #stsLevels()} against each kind of PKIX-failing certificate. */
  static Stream<Arguments> stsPkixFailing() {
    return cross(
        MODES,
        List.of(TlsLevel.OPPORTUNISTIC, TlsLevel.STS_REQUIRED),
        List.of(PkixFailure.values()));
  }

  /** Each kind of PKIX-failing certificate, without TLSA (at {@code sts-required}). */
  static Stream<Arguments> stsPkixControl() {
    return cross(MODES, List.of(PkixFailure.values()));
  }

  /** The weakest level and {@code dane-required}, for domains without MTA-STS. */
  static Stream<Arguments> noStsLevels() {
    return cross(MODES, List.of(TlsLevel.OPPORTUNISTIC, TlsLevel.DANE_REQUIRED));
  }

  // ------------------------------------------------------------------------ assertions

  /** The TLSA record (as the report prints it) that {@code certified} matches. */
  private static String tlsa(int usage, int selector, int matching, TestPki.Certified certified) {
    return new DnsRecord.Tlsa(
            usage, selector, matching, certified.tlsaAssociationData(selector, matching))
        .toString();
  }

  /**
   * A DANE-authenticated delivery to {@code host}: delivered, the deciding attempt under a DANE
   * requirement naming {@code matched}, SNI {@code sni} at the server, which received exactly one
   * message in one TLS session; the decision record says DANE decided.
   */
  private static void assertDaneDelivered(
      Delivery d, String host, String sni, String matched, Authentication authentication) {
    RecipientResult r = d.result();
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(r.mxHost()).contains(DomainName.of(host));
    assertThat(r.authentication()).as("%s", r).contains(authentication);
    Attempt a = r.attempt().orElseThrow();
    assertThat(a.source()).isEqualTo(PolicySource.DANE);
    assertThat(a.requirement())
        .isInstanceOfSatisfying(
            TlsRequirement.Dane.class,
            dane -> assertThat(dane.baseDomain()).isEqualTo(DomainName.of(sni)));
    assertThat(a.detail()).contains("DANE: matched TLSA " + matched);
    assertThat(r.tls()).hasValueSatisfying(t -> assertThat(t.serverName()).contains(sni));
    assertThat(r.plan().reasons())
        .as("decision record")
        .anySatisfy(
            reason ->
                assertThat(reason).startsWith(host + ": DANE: ").contains("usable TLSA record"));
    List<SmtpSession> sessions = d.at(host);
    assertThat(sessions).as("sessions at %s", host).hasSize(1);
    SmtpSession s = sessions.get(0);
    // RFC 7672 §8.1: SNI carries the TLSA base domain.
    assertThat(s.sniHostName()).contains(sni);
    assertThat(s.tlsNegotiated()).isTrue();
    assertThat(s.messages()).hasSize(1);
    assertThat(s.commands())
        .filteredOn(c -> c.verb().equals("MAIL"))
        .singleElement()
        .satisfies(c -> assertThat(c.tls()).isTrue());
  }

  /**
   * Not delivered, nothing sent: deferred; every session at {@code host}'s server ended before a
   * MAIL command, and there was exactly one (no plaintext retry after the failure).
   */
  private static void assertNothingSentTo(Delivery d, String host) {
    assertThat(d.result().status()).as("%s", d.result()).isEqualTo(DeliveryStatus.DEFERRED);
    assertThat(d.result().reply().code() / 100).isEqualTo(4);
    assertThat(d.at(host)).as("sessions at %s", host).hasSize(1);
    assertThat(d.verbs(host)).doesNotContain("MAIL", "RCPT", "DATA", "BDAT");
    assertThat(d.at(host).get(0).messages()).isEmpty();
  }

  /** Deferred by the plan itself: no MX host was tried, no server saw a connection. */
  private static void assertNoConnection(Delivery d, FailureType planFailure) {
    RecipientResult r = d.result();
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
    assertThat(r.plan().failure()).map(DeliveryPlan.Failure::type).contains(planFailure);
    assertThat(r.plan().hosts()).isEmpty();
    assertThat(r.attempts()).isEmpty();
    assertThat(d.all()).as("sessions opened").isEmpty();
  }

  /** The plan applied the MTA-STS enforce policy (it was fetched and honoured, not absent). */
  private static void assertStsEnforced(RecipientResult r) {
    assertThat(r.plan().mtaSts())
        .as("MTA-STS policy in the plan")
        .map(MtaStsPolicy::mode)
        .contains(MtaStsMode.ENFORCE);
  }

  /** The decision record says DANE took {@code host} from the MTA-STS policy (RFC 8461 §2). */
  private static void assertDaneWinsInTheRecord(RecipientResult r, String host) {
    assertThat(r.plan().reasons())
        .as("decision record")
        .anySatisfy(
            reason ->
                assertThat(reason).startsWith(host + ": DANE").contains("DANE wins over MTA-STS"));
  }

  // ------------------------------------------------------------------------ DANE pass

  /** RFC 7672 §3.1.1 (DANE-EE) and §3.1.2 (DANE-TA): a match authenticates, at every level. */
  @ParameterizedTest(name = "{0} {1} {2}")
  @MethodSource("passCases")
  void section3_danePassIsVerifiedAtEveryLevel(DnssecMode mode, TlsLevel level, String label) {
    Delivery d = world.send(mode, level, domain(label));
    String host = mx(label);
    String matched =
        label.equals("ee") ? tlsa(3, 1, 1, world.presented.get(host)) : tlsa(2, 1, 1, world.inter);
    assertDaneDelivered(d, host, host, matched, Authentication.VERIFIED);
    assertThat(d.result().attempts()).hasSize(1);
  }

  // ------------------------------------------------------------------------ DANE mismatch

  /**
   * RFC 7672 §2.2 and §3: usable TLSA records that match nothing make the host fail, even under
   * opportunistic TLS: no plaintext retry, no MAIL, although PKIX would accept the certificate.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("mismatchCases")
  void section3_aMismatchIsNeverDelivered(DnssecMode mode, TlsLevel level) {
    String host = mx("mismatch");
    Delivery d = world.send(mode, level, domain("mismatch"));
    assertNothingSentTo(d, host);
    assertThat(d.result().attempts())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.source()).isEqualTo(PolicySource.DANE);
              assertThat(a.failure()).contains(FailureType.CERTIFICATE_NOT_TRUSTED);
              assertThat(a.tls()).isEmpty();
              // docs/design.md §5: the diagnostic names the peer's key and the records tried.
              assertThat(a.detail())
                  .contains("no usable TLSA record matches")
                  .contains(HexFormat.of().formatHex(world.presented.get(host).spkiSha256()));
            });
    assertThat(d.at(host).get(0).sniHostName()).contains(host);
  }

  // ------------------------------------------------------------------------ unusable TLSA

  /**
   * RFC 7672 §2.2: a secure TLSA RRset without a usable record still makes TLS mandatory; a server
   * without STARTTLS gets nothing, whatever the sender level.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("unencryptedLevels")
  void section2_2_unusableTlsaAndNoStarttlsIsNotDelivered(DnssecMode mode, TlsLevel level) {
    String host = mx("unusable-nostarttls");
    Delivery d = world.send(mode, level, domain("unusable-nostarttls"));
    assertNothingSentTo(d, host);
    assertThat(d.verbs(host)).doesNotContain("STARTTLS");
    assertThat(d.result().attempts())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.failure()).contains(FailureType.STARTTLS_NOT_SUPPORTED);
              assertThat(a.source()).isEqualTo(PolicySource.DANE);
            });
  }

  /**
   * RFC 7672 §2.2: with only unusable records the peer is not authenticated: any certificate
   * (self-signed, wrong name) is accepted over TLS, and the result is ENCRYPTED, not VERIFIED.
   */
  @ParameterizedTest(name = "{0} {1} {2}")
  @MethodSource("unusableCertificates")
  void section2_2_unusableTlsaDeliversEncryptedToAnyCertificate(
      DnssecMode mode, TlsLevel level, String label) {
    String host = mx(label);
    Delivery d = world.send(mode, level, domain(label));
    RecipientResult r = d.result();
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(r.authentication()).contains(Authentication.ENCRYPTED);
    assertThat(r.tls()).isPresent();
    Attempt a = r.attempt().orElseThrow();
    assertThat(a.requirement()).isInstanceOf(TlsRequirement.Encrypted.class);
    assertThat(a.source()).isEqualTo(PolicySource.DANE);
    assertThat(r.plan().policyFailures())
        .anySatisfy(f -> assertThat(f.type()).isEqualTo(FailureType.TLSA_INVALID));
    assertThat(r.plan().reasons())
        .as("decision record")
        .anySatisfy(reason -> assertThat(reason).contains(host).contains("tlsa-invalid"));
    assertThat(d.at(host))
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.tlsNegotiated()).isTrue();
              assertThat(s.messages()).hasSize(1);
            });
  }

  // ------------------------------------------------------------------------ dane-required

  /**
   * RFC 7672 §6 / Postfix {@code dane-only}: without usable, DNSSEC-secure TLSA records (secure
   * NODATA, an unsigned zone whose TLSA would match, a secure RRset of unusable records) the host
   * is never contacted.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("noUsableDane")
  void section6_daneRequiredWithoutUsableTlsaConnectsNowhere(DnssecMode mode, String domain) {
    Delivery d = world.send(mode, TlsLevel.DANE_REQUIRED, domain);
    assertNoConnection(d, FailureType.DANE_REQUIRED);
    assertThat(d.result().plan().skipped())
        .singleElement()
        .extracting(SkippedHost::failure)
        .isEqualTo(FailureType.DANE_REQUIRED);
  }

  // ------------------------------------------------------------------------ MTA-STS and DANE

  /**
   * RFC 8461 §2: MTA-STS never overrides a failing DANE check. The certificate is PKIX-valid for
   * the policy's MX host, so a fallback to PKIX would have delivered.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("stsLevels")
  void rfc8461Section2_stsEnforceWithADaneMismatchIsNotDelivered(DnssecMode mode, TlsLevel level) {
    String host = mx("sts-mismatch");
    Delivery d = world.send(mode, level, domain("sts-mismatch"));
    assertNothingSentTo(d, host);
    assertStsEnforced(d.result());
    assertDaneWinsInTheRecord(d.result(), host);
    assertThat(d.result().attempts())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.source()).isEqualTo(PolicySource.DANE);
              assertThat(a.requirement()).isInstanceOf(TlsRequirement.Dane.class);
              assertThat(a.failure()).contains(FailureType.CERTIFICATE_NOT_TRUSTED);
            });
  }

  /**
   * RFC 8461 §2 and RFC 7672 §3: for a host with usable TLSA, DANE decides even under an MTA-STS
   * enforce policy (and at {@code sts-required}): a certificate that fails PKIX but passes DANE is
   * delivered, VERIFIED, with DANE as the policy source.
   */
  @ParameterizedTest(name = "{0} {1} {2}")
  @MethodSource("stsPkixFailing")
  void rfc8461Section2_daneWinsOverStsForAPkixFailingCertificate(
      DnssecMode mode, TlsLevel level, PkixFailure kind) {
    String label = "dane-" + kind.label;
    String host = mx(label);
    String matched =
        kind == PkixFailure.UNTRUSTED_TA
            ? tlsa(2, 1, 1, world.otherInter)
            : tlsa(3, 1, 1, world.presented.get(host));
    Delivery d = world.send(mode, level, domain(label));
    assertDaneDelivered(d, host, host, matched, Authentication.VERIFIED);
    assertStsEnforced(d.result());
    assertDaneWinsInTheRecord(d.result(), host);
  }

  /**
   * The control for the case above: the same kinds of certificate under the same MTA-STS enforce
   * policy, without TLSA records, fail PKIX (RFC 8461 §4.2) and are not delivered.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("stsPkixControl")
  void rfc8461Section4_2_withoutDaneThoseCertificatesFailPkix(DnssecMode mode, PkixFailure kind) {
    String label = "pkix-" + kind.label;
    String host = mx(label);
    Delivery d = world.send(mode, TlsLevel.STS_REQUIRED, domain(label));
    assertNothingSentTo(d, host);
    assertStsEnforced(d.result());
    FailureType expected =
        kind == PkixFailure.WRONG_NAME
            ? FailureType.CERTIFICATE_HOST_MISMATCH
            : FailureType.CERTIFICATE_NOT_TRUSTED;
    assertThat(d.result().attempts())
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.source()).isEqualTo(PolicySource.MTA_STS);
              assertThat(a.failure()).contains(expected);
            });
  }

  // ------------------------------------------------------------------------ DNS failures

  /**
   * RFC 7672 §2.1.1: a TLSA lookup that fails (SERVFAIL) on every MX host is never "no DANE": the
   * mail is deferred and no server is even connected to, at any level.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("mismatchCases")
  void section2_1_1_tlsaServfailOnEveryMxDefersWithoutConnecting(DnssecMode mode, TlsLevel level) {
    Delivery d = world.send(mode, level, domain("servfail"));
    assertNoConnection(d, FailureType.DNSSEC_INVALID);
    assertThat(d.result().plan().skipped())
        .extracting(SkippedHost::host)
        .containsExactly(
            DomainName.of("mx1.servfail.example.test"), DomainName.of("mx2.servfail.example.test"));
    assertThat(d.result().plan().skipped())
        .extracting(SkippedHost::failure)
        .containsOnly(FailureType.DNSSEC_INVALID);
    assertThat(d.verbs("mx1.servfail.example.test")).isEmpty();
    assertThat(d.verbs("mx2.servfail.example.test")).isEmpty();
  }

  // ------------------------------------------------------------------------ names

  /**
   * RFC 7672 §2.2.3 and §8.1: an MX host that is a secure alias has its TLSA base domain, and SNI,
   * at the fully expanded name; the (mismatching) records at the original name are unused.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("noStsLevels")
  void section2_2_3_aSecureCnameMovesTheBaseDomainAndSni(DnssecMode mode, TlsLevel level) {
    Delivery d = world.send(mode, level, domain("cname"));
    String expanded = "smtp.hosting.test";
    RecipientResult r = d.result();
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(r.mxHost()).contains(DomainName.of(mx("cname")));
    assertThat(r.authentication()).contains(Authentication.VERIFIED);
    assertThat(r.attempt().orElseThrow().detail())
        .contains("DANE: matched TLSA " + tlsa(3, 1, 1, world.presented.get(expanded)));
    assertThat(r.tls()).hasValueSatisfying(t -> assertThat(t.serverName()).contains(expanded));
    assertThat(d.at(expanded))
        .singleElement()
        .satisfies(
            s -> {
              assertThat(s.sniHostName()).contains(expanded);
              assertThat(s.messages()).hasSize(1);
            });
  }

  /**
   * RFC 7672 §2.2.1: an insecure MX answer with a secure MX host and matching TLSA still uses DANE
   * at the levels that do not demand it, but only the MX host's own names identify the peer:
   * TRUSTED, not VERIFIED.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("unencryptedLevels")
  void section2_2_1_anInsecureMxWithSecureTlsaIsTrusted(DnssecMode mode, TlsLevel level) {
    String host = mx("trusted");
    Delivery d = world.send(mode, level, "trusted.plain.test");
    assertDaneDelivered(
        d, host, host, tlsa(3, 1, 1, world.presented.get(host)), Authentication.TRUSTED);
    assertThat(d.result().attempt().orElseThrow().requirement())
        .isInstanceOfSatisfying(
            TlsRequirement.Dane.class, dane -> assertThat(dane.mxSecure()).isFalse());
  }

  /**
   * Issue 11 item 1, {@code dane-required} through an insecure MX: the MX names of an unsigned
   * domain may be forged, so {@code dane-required} defers (4.7.5) without connecting, as Postfix's
   * {@code dane-only} defers a "non DNSSEC destination" (RFC 7672 §2.2.1, §6), though the host the
   * answer names has matching TLSA.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("modes")
  void daneRequiredThroughAnInsecureMxDefers(DnssecMode mode) {
    Delivery d = world.send(mode, TlsLevel.DANE_REQUIRED, "trusted.plain.test");
    assertNoConnection(d, FailureType.DANE_REQUIRED);
    assertThat(d.result().reply().enhancedStatus())
        .hasValueSatisfying(e -> assertThat(e.toString()).isEqualTo("4.7.5"));
    assertThat(d.result().reply().text()).contains("non-DNSSEC destination");
  }

  static Stream<Arguments> modes() {
    return cross(MODES);
  }

  static Stream<Arguments> everyLevel() {
    return cross(MODES, List.of(TlsLevel.values()));
  }

  /**
   * Issue 11 item 2, MTA-STS {@code mx} patterns bypassed by DANE: an unsigned domain's MX answer
   * (which an attacker can forge) names a DNSSEC-signed host with usable TLSA that the domain's
   * {@code enforce} policy does not name. RFC 8461 §4.1 and §5.1: such a host is never used; DANE
   * may replace the PKIX check, not the MX match. Every level defers; the host sees nothing.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("everyLevel")
  void stsMxPatternsAreNotBypassedByDaneThroughAnInsecureMx(DnssecMode mode, TlsLevel level) {
    Delivery d = world.send(mode, level, "sts-forged.plain.test");
    RecipientResult r = d.result();
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
    assertThat(d.at(mx("trusted"))).as("sessions at the unnamed host").isEmpty();
    assertThat(r.attempts()).isEmpty();
    if (level == TlsLevel.DANE_REQUIRED) {
      assertThat(r.plan().failure())
          .map(DeliveryPlan.Failure::type)
          .contains(FailureType.DANE_REQUIRED);
    } else {
      assertStsEnforced(r);
      assertThat(r.plan().failure())
          .map(DeliveryPlan.Failure::type)
          .contains(FailureType.STS_POLICY_INVALID);
      assertThat(r.plan().skipped())
          .singleElement()
          .satisfies(
              s -> {
                assertThat(s.host()).isEqualTo(DomainName.of(mx("trusted")));
                assertThat(s.failure()).isEqualTo(FailureType.STS_POLICY_INVALID);
              });
    }
  }

  /**
   * The control for the case above: when the MX answer is DNSSEC-secure the domain owner signed the
   * choice of host, so DANE for that host wins over the MTA-STS policy (RFC 8461 §2), also where
   * the policy's {@code mx} patterns do not name it.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("stsLevels")
  void daneThroughASecureMxStillWinsOverStsMxPatterns(DnssecMode mode, TlsLevel level) {
    String host = mx("trusted");
    Delivery d = world.send(mode, level, domain("sts-signed-mx"));
    assertDaneDelivered(
        d, host, host, tlsa(3, 1, 1, world.presented.get(host)), Authentication.VERIFIED);
    assertStsEnforced(d.result());
    assertDaneWinsInTheRecord(d.result(), host);
  }

  /**
   * Issue 11 item 11, a failed AAAA lookup: the host's A answer is secure, its AAAA lookup
   * SERVFAILs. The failed family is dropped, as Postfix drops it, and DANE decides over IPv4 at
   * every level; the decision record says the AAAA lookup failed.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("mismatchCases")
  void aFailedAaaaLookupKeepsTheSecureAddressFamily(DnssecMode mode, TlsLevel level) {
    String host = mx("aaaa-fails");
    Delivery d = world.send(mode, level, domain("aaaa-fails"));
    assertDaneDelivered(
        d, host, host, tlsa(3, 1, 1, world.presented.get(host)), Authentication.VERIFIED);
    assertThat(d.result().plan().reasons())
        .as("decision record")
        .anySatisfy(reason -> assertThat(reason).startsWith(host + ": AAAA lookup failed"));
  }

  /** The same with both families failing: nothing to connect to, deferred. */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("mismatchCases")
  void bothAddressFamiliesFailingDefers(DnssecMode mode, TlsLevel level) {
    Delivery d = world.send(mode, level, domain("both-fail"));
    RecipientResult r = d.result();
    assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
    assertThat(r.attempts()).isEmpty();
    assertThat(d.all()).isEmpty();
  }

  // ------------------------------------------------------------------------ failover

  /**
   * RFC 5321 §5.1 with RFC 7672 §3: a DANE failure at the first MX host moves on to the next, which
   * passes; the report keeps the first host's failure.
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("noStsLevels")
  void failoverFromADaneMismatchToADanePass(DnssecMode mode, TlsLevel level) {
    String mx1 = "mx1.failover.example.test";
    String mx2 = "mx2.failover.example.test";
    Delivery d = world.send(mode, level, domain("failover"));
    assertDaneDelivered(
        d, mx2, mx2, tlsa(3, 1, 1, world.presented.get(mx2)), Authentication.VERIFIED);
    assertThat(d.result().attempts()).hasSize(2);
    Attempt first = d.result().attempts().get(0);
    assertThat(first.host()).contains(DomainName.of(mx1));
    assertThat(first.source()).isEqualTo(PolicySource.DANE);
    assertThat(first.failure()).contains(FailureType.CERTIFICATE_NOT_TRUSTED);
    assertThat(first.tls()).isEmpty();
    assertThat(d.at(mx1)).hasSize(1);
    assertThat(d.verbs(mx1)).doesNotContain("MAIL");
    assertThat(d.result().attempts().get(1).failure()).isEmpty();
  }

  // ------------------------------------------------------------------------ events

  /**
   * Every event of one call, as {@code <event> <subject>[ <outcome>]}: the subject is what the
   * event is about (recipient, next hop, policy domain, MX host), so that an event of another call
   * shows by its name. A barrier in planStart holds the calls until all have started.
   */
  private static final class CallEvents implements EventListener {
    final DeliveryCall call;
    final CyclicBarrier allStarted;
    final List<String> events = new CopyOnWriteArrayList<>();

    CallEvents(DeliveryCall call, CyclicBarrier allStarted) {
      this.call = call;
      this.allStarted = allStarted;
    }

    private static String host(Optional<DomainName> host) {
      return host.map(DomainName::toString).orElse("[literal]");
    }

    @Override
    public void deliveryStart(Envelope envelope) {
      events.add("deliveryStart " + envelope.recipients().get(0));
    }

    @Override
    public void deliveryEnd(Envelope envelope, DeliveryReport report) {
      events.add("deliveryEnd " + envelope.recipients().get(0));
    }

    @Override
    public void planStart(NextHop nextHop, TlsLevel level) {
      events.add("planStart " + nextHop);
      try {
        allStarted.await(30, TimeUnit.SECONDS);
      } catch (Exception e) {
        events.add("notConcurrent " + e);
      }
    }

    @Override
    public void planEnd(DeliveryPlan plan) {
      events.add("planEnd " + plan.nextHop());
    }

    @Override
    public void mtaStsLookupStart(DomainName policyDomain) {
      events.add("mtaStsLookupStart " + policyDomain);
    }

    @Override
    public void mtaStsLookupEnd(DomainName policyDomain, MtaStsLookup result) {
      events.add("mtaStsLookupEnd " + policyDomain + " " + result.getClass().getSimpleName());
    }

    @Override
    public void tlsaLookupStart(MxHost host) {
      events.add("tlsaLookupStart " + host.name());
    }

    @Override
    public void tlsaLookupEnd(MxHost host, TlsaLookup result) {
      events.add("tlsaLookupEnd " + host.name() + " " + result.getClass().getSimpleName());
    }

    @Override
    public void connectStart(Optional<DomainName> host, InetSocketAddress address) {
      events.add("connectStart " + host(host));
    }

    @Override
    public void connectEnd(
        Optional<DomainName> host, InetSocketAddress address, Optional<FailureType> failure) {
      events.add("connectEnd " + host(host));
    }

    @Override
    public void startTlsStart(Optional<DomainName> host, InetSocketAddress address) {
      events.add("startTlsStart " + host(host));
    }

    @Override
    public void startTlsEnd(
        Optional<DomainName> host,
        InetSocketAddress address,
        Optional<io.mailtls.core.SmtpReply> reply) {
      events.add("startTlsEnd " + host(host));
    }

    @Override
    public void handshakeStart(
        Optional<DomainName> host, InetSocketAddress address, TlsRequirement requirement) {
      events.add("handshakeStart " + host(host));
    }

    @Override
    public void handshakeEnd(
        Optional<DomainName> host,
        InetSocketAddress address,
        Optional<TlsDetails> tls,
        Optional<FailureType> failure,
        String detail) {
      events.add("handshakeEnd " + host(host));
    }

    @Override
    public void policyFailure(PolicyFailure failure) {
      events.add("policyFailure " + failure.policyDomain());
    }

    @Override
    public void attemptEnd(Attempt attempt) {
      events.add("attemptEnd " + host(attempt.host()));
    }

    @Override
    public void recipientStart(EmailAddress recipient) {
      events.add("recipientStart " + recipient);
    }

    @Override
    public void recipientEnd(RecipientResult result) {
      events.add("recipientEnd " + result.recipient());
    }
  }

  /** The events that come in start/end pairs (attemptEnd stands alone). */
  private static final List<String> PAIRED =
      List.of(
          "delivery",
          "recipient",
          "plan",
          "mtaStsLookup",
          "tlsaLookup",
          "connect",
          "startTls",
          "handshake");

  /**
   * Every {@code xStart s} is followed by exactly one {@code xEnd s}, before the next {@code xStart
   * s}; nothing ends that did not start.
   */
  private static void assertPaired(List<String> events) {
    java.util.Set<String> open = new java.util.HashSet<>();
    for (String e : events) {
      String[] words = e.split(" ", -1);
      String name = words[0].replaceFirst("(Start|End)$", "");
      if (!PAIRED.contains(name)) {
        continue;
      }
      String subject = name + " " + words[1];
      if (words[0].endsWith("Start")) {
        assertThat(open.add(subject))
            .as("%s starts again before it ended in %s", subject, events)
            .isTrue();
      } else if (words[0].endsWith("End")) {
        assertThat(open.remove(subject))
            .as("%s ends without a start in %s", subject, events)
            .isTrue();
      }
    }
    assertThat(open).as("started and never ended in %s", events).isEmpty();
  }

  /**
   * Issue 12: deliveries that run at the same time on one transport, with the real DANE and MTA-STS
   * providers, each tell their own listener ({@link EventListener.Factory}), and no other, of every
   * event, the policy lookups included: an MTA-STS lookup with no policy or an {@code enforce} one,
   * TLSA lookups that find usable records or SERVFAIL on two hosts at once, and the re-check of an
   * {@code enforce} policy before a DANE mismatch is given up (RFC 8461 §5.1), which comes after
   * the first plan's end. Every start has one end; a plan's lookups come between its start and its
   * end.
   */
  @ParameterizedTest(name = "{0}")
  @MethodSource("modes")
  void concurrentDeliveriesTellEachCallsListenerOfItsOwnLookups(DnssecMode mode) throws Exception {
    String ee = domain("ee");
    String stsDane = domain("dane-" + PkixFailure.UNTRUSTED_ISSUER.label);
    String servfail = domain("servfail");
    String stsMismatch = domain("sts-mismatch");
    List<String> domains = List.of(ee, stsDane, servfail, stsMismatch);
    CyclicBarrier allStarted = new CyclicBarrier(domains.size());
    Map<String, CallEvents> byDomain = new ConcurrentHashMap<>();
    ExecutorService callers = Executors.newFixedThreadPool(2);
    try (SecureSmtpTransport transport =
        world.transport(
            mode,
            TlsLevel.OPPORTUNISTIC,
            call -> {
              CallEvents c = new CallEvents(call, allStarted);
              byDomain.put(
                  call.envelope().orElseThrow().recipients().get(0).domain().toString(), c);
              return c;
            })) {
      Map<String, CompletableFuture<DeliveryReport>> reports = new java.util.LinkedHashMap<>();
      for (int i = 0; i < domains.size(); i++) {
        Envelope envelope = Envelope.of(DaneWorld.SENDER, "b@" + domains.get(i));
        MessageContent content = MessageContent.of(DaneWorld.MESSAGE);
        reports.put(
            domains.get(i),
            i % 2 == 0
                ? CompletableFuture.supplyAsync(() -> transport.send(envelope, content), callers)
                : transport.sendAsync(envelope, content));
      }
      Map<String, DeliveryStatus> status = new java.util.HashMap<>();
      for (Map.Entry<String, CompletableFuture<DeliveryReport>> r : reports.entrySet()) {
        status.put(r.getKey(), r.getValue().get(60, TimeUnit.SECONDS).recipients().get(0).status());
      }
      assertThat(status)
          .containsEntry(ee, DeliveryStatus.DELIVERED)
          .containsEntry(stsDane, DeliveryStatus.DELIVERED)
          .containsEntry(servfail, DeliveryStatus.DEFERRED)
          .containsEntry(stsMismatch, DeliveryStatus.DEFERRED);
    } finally {
      callers.shutdownNow();
    }

    assertThat(byDomain.keySet()).containsExactlyInAnyOrderElementsOf(domains);
    assertThat(byDomain.values())
        .extracting(c -> c.call.id())
        .containsExactlyInAnyOrder(1L, 2L, 3L, 4L);
    Map<String, List<String>> lookups =
        Map.of(
            ee,
                List.of(
                    "mtaStsLookupEnd " + ee + " NoPolicy", "tlsaLookupEnd " + mx("ee") + " Usable"),
            stsDane,
                List.of(
                    "mtaStsLookupEnd " + stsDane + " Found",
                    "tlsaLookupEnd mx." + stsDane + " Usable"),
            servfail,
                List.of(
                    "mtaStsLookupEnd " + servfail + " NoPolicy",
                    "tlsaLookupEnd mx1." + servfail + " Failed",
                    "tlsaLookupEnd mx2." + servfail + " Failed"),
            stsMismatch,
                List.of(
                    "mtaStsLookupEnd " + stsMismatch + " Found",
                    "tlsaLookupEnd " + mx("sts-mismatch") + " Usable"));
    for (String domain : domains) {
      List<String> events = byDomain.get(domain).events;
      assertPaired(events);
      assertThat(events)
          .as("every event names %s", domain)
          .allSatisfy(
              e -> {
                String subject = e.split(" ", -1)[1];
                assertThat(
                        subject.equals(domain)
                            || subject.endsWith("." + domain)
                            || subject.endsWith("@" + domain))
                    .as("%s in %s", e, events)
                    .isTrue();
              });
      assertThat(events).first().isEqualTo("deliveryStart b@" + domain);
      assertThat(events).last().isEqualTo("deliveryEnd b@" + domain);
      int planStart = events.indexOf("planStart " + domain);
      int planEnd = events.indexOf("planEnd " + domain);
      List<String> planned = events.subList(planStart + 1, planEnd);
      assertThat(planned)
          .as("the lookups of the plan of %s", domain)
          .filteredOn(e -> e.contains("LookupEnd"))
          .containsExactlyInAnyOrderElementsOf(lookups.get(domain));
      assertThat(planned).allMatch(e -> e.contains("Lookup"));
      List<String> after = events.subList(planEnd + 1, events.size());
      if (domain.equals(stsMismatch)) {
        // RFC 8461 §5.1: the policy is asked again before the deferral; it has not changed
        assertThat(after)
            .containsSubsequence(
                "attemptEnd " + mx("sts-mismatch"),
                "mtaStsLookupStart " + domain,
                "mtaStsLookupEnd " + domain + " Found",
                "recipientEnd b@" + domain);
      } else {
        assertThat(after).noneMatch(e -> e.contains("Lookup"));
      }
    }
  }
}
