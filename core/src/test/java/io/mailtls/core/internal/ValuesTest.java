package io.mailtls.core.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.Attempt;
import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryCall;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsOutcome;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnssecSelfCheck;
import io.mailtls.core.DnssecState;
import io.mailtls.core.DomainName;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.Envelope;
import io.mailtls.core.FailureType;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.MxHost;
import io.mailtls.core.MxResolution;
import io.mailtls.core.NextHop;
import io.mailtls.core.PlannedHost;
import io.mailtls.core.PolicyFailure;
import io.mailtls.core.PolicySource;
import io.mailtls.core.ProbeResult;
import io.mailtls.core.ProbeVerdict;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SkippedHost;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.TlsDetails;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URL;
import java.net.URLClassLoader;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The read-only values of {@code io.mailtls.core} (docs/design.md §5): callers cannot build them,
 * mailtls can, through {@link Values}; and they stay values, compared component by component.
 */
class ValuesTest {

  private static final DomainName DOMAIN = DomainName.of("example.test");
  private static final DomainName MX = DomainName.of("mx.example.test");
  private static final InetSocketAddress ADDRESS = new InetSocketAddress(ip("192.0.2.25"), 25);
  private static final SmtpReply OK = SmtpReply.local(250, "2.0.0", "ok");

  /** Every type callers read but never build: final classes without a public constructor. */
  private static final List<Class<?>> READ_ONLY =
      List.of(
          Attempt.class,
          DeliveryCall.class,
          DeliveryPlan.class,
          DeliveryPlan.Failure.class,
          DeliveryReport.class,
          DnsAnswer.class,
          DnssecSelfCheck.Result.class,
          MxHost.class,
          MxResolution.class,
          PlannedHost.class,
          PolicyFailure.class,
          ProbeResult.class,
          ProbeResult.Verification.class,
          RecipientResult.class,
          SkippedHost.class,
          TlsDetails.class);

  @Test
  void callersCannotBuildTheReadOnlyValues() {
    for (Class<?> type : READ_ONLY) {
      assertThat(type.isRecord()).as("%s is a record", type).isFalse();
      assertThat(Modifier.isFinal(type.getModifiers())).as("%s is final", type).isTrue();
      assertThat(type.getConstructors()).as("public constructors of %s", type).isEmpty();
      for (Constructor<?> c : type.getDeclaredConstructors()) {
        assertThat(Modifier.isProtected(c.getModifiers())).as("%s", c).isFalse();
      }
    }
  }

  /** A {@code DnsResolver} implementation builds answers with the builder, nothing else. */
  @Test
  void resolversBuildAnswersWithTheBuilder() {
    DnsAnswer built =
        DnsAnswer.builder(MX, DnsRecordType.A, DnsOutcome.DATA, DnssecState.SECURE)
            .records(List.of(new DnsRecord.Address(ip("192.0.2.25"))))
            .cnameChain(List.of(DOMAIN))
            .rcode(0)
            .reason("validated")
            .build();
    assertThat(built.records()).containsExactly(new DnsRecord.Address(ip("192.0.2.25")));
    assertThat(built.canonicalName()).isEqualTo(DOMAIN);
    assertThat(built.reason()).contains("validated");
    assertThat(built)
        .isEqualTo(
            DnsAnswer.builder(MX, DnsRecordType.A, DnsOutcome.DATA, DnssecState.SECURE)
                .records(List.of(new DnsRecord.Address(ip("192.0.2.25"))))
                .cnameChain(List.of(DOMAIN))
                .reason("validated")
                .build())
        .isNotEqualTo(
            DnsAnswer.builder(MX, DnsRecordType.A, DnsOutcome.DATA, DnssecState.INSECURE)
                .records(List.of(new DnsRecord.Address(ip("192.0.2.25"))))
                .cnameChain(List.of(DOMAIN))
                .reason("validated")
                .build());
    assertThatThrownBy(
            () ->
                DnsAnswer.builder(MX, DnsRecordType.A, DnsOutcome.NODATA, DnssecState.SECURE)
                    .records(List.of(new DnsRecord.Address(ip("192.0.2.25"))))
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("NODATA");
  }

  /** One instance per factory, each built twice: equal, same hash, and every component counts. */
  static List<Supplier<Object>> everyFactory() {
    DnsAnswer a =
        DnsAnswer.builder(MX, DnsRecordType.A, DnsOutcome.DATA, DnssecState.SECURE)
            .records(List.of(new DnsRecord.Address(ip("192.0.2.25"))))
            .build();
    DnsAnswer aaaa =
        DnsAnswer.builder(MX, DnsRecordType.AAAA, DnsOutcome.NODATA, DnssecState.SECURE).build();
    DnsAnswer mxAnswer =
        DnsAnswer.builder(DOMAIN, DnsRecordType.MX, DnsOutcome.DATA, DnssecState.SECURE)
            .records(List.of(new DnsRecord.Mx(10, MX)))
            .build();
    MxHost host = Values.mxHost(MX, 10, false, List.of(ip("192.0.2.25")), a, aaaa);
    MxResolution mx =
        Values.mxResolution(
            new NextHop.Domain(DOMAIN),
            MxResolution.Kind.MX,
            List.of(host),
            Optional.of(mxAnswer),
            List.of("a note"));
    PlannedHost planned =
        Values.plannedHost(
            Optional.of(MX),
            List.of(ip("192.0.2.25")),
            new TlsRequirement.Pkix(List.of(MX)),
            PolicySource.MTA_STS,
            "MTA-STS enforce",
            Optional.empty());
    MtaStsPolicy policy =
        new MtaStsPolicy(
            "20240101", MtaStsMode.ENFORCE, List.of("mx.example.test"), Duration.ofDays(1));
    PolicyFailure policyFailure =
        Values.policyFailure(
            DOMAIN,
            PolicySource.MTA_STS,
            false,
            Optional.of(MX),
            Optional.of(ADDRESS),
            FailureType.STS_WEBPKI_INVALID,
            "expired");
    DeliveryPlan plan =
        Values.deliveryPlan(
            new NextHop.Domain(DOMAIN),
            Optional.of(TlsLevel.OPPORTUNISTIC),
            mx,
            List.of(planned),
            List.of(
                Values.skippedHost(
                    DomainName.of("mx2.example.test"),
                    FailureType.STS_POLICY_INVALID,
                    "outside the policy")),
            Optional.empty(),
            List.of("MTA-STS enforce"),
            List.of(policyFailure),
            Optional.of(policy));
    TlsDetails tls =
        Values.tlsDetails(
            "TLSv1.3",
            "TLS_AES_256_GCM_SHA384",
            List.<X509Certificate>of(),
            Optional.of("mx.example.test"));
    Attempt attempt =
        Values.attempt(
            Optional.of(MX),
            ADDRESS,
            new TlsRequirement.Pkix(List.of(MX)),
            PolicySource.MTA_STS,
            Optional.of(tls),
            Optional.of(Authentication.VERIFIED),
            Optional.empty(),
            Optional.of(OK),
            "");
    RecipientResult result =
        Values.recipientResult(
            EmailAddress.parse("rcpt@example.test"),
            DeliveryStatus.DELIVERED,
            OK,
            Optional.of(attempt),
            plan,
            List.of(attempt));
    ProbeResult.Verification verified = Values.verification(true, Optional.empty(), "chain ok");
    return List.of(
        () ->
            Values.attempt(
                Optional.of(MX),
                ADDRESS,
                new TlsRequirement.Opportunistic(),
                PolicySource.SENDER,
                Optional.of(tls),
                Optional.of(Authentication.ENCRYPTED),
                Optional.of(FailureType.PROTOCOL_ERROR),
                Optional.of(OK),
                "detail"),
        () ->
            Values.deliveryCall(7, Optional.of(Envelope.of("a@sender.test", "rcpt@example.test"))),
        () ->
            Values.deliveryPlan(
                new NextHop.Domain(DOMAIN),
                Optional.of(TlsLevel.ENFORCED),
                mx,
                List.of(),
                List.of(),
                Optional.of(
                    Values.planFailure(
                        DeliveryStatus.DEFERRED,
                        SmtpReply.local(451, "4.7.5", "no"),
                        FailureType.STS_POLICY_INVALID)),
                List.of("why"),
                List.of(policyFailure),
                Optional.of(policy)),
        () ->
            Values.planFailure(
                DeliveryStatus.BOUNCED,
                SmtpReply.local(550, "5.1.10", "null MX"),
                FailureType.DNS_FAILURE),
        () -> Values.deliveryReport(List.of(result)),
        () -> Values.mxHost(MX, 10, true, List.of(ip("192.0.2.25")), a, aaaa),
        () ->
            Values.mxResolution(
                new NextHop.Domain(DOMAIN),
                MxResolution.Kind.IMPLICIT_MX,
                List.of(host),
                Optional.of(mxAnswer),
                List.of("implicit")),
        () ->
            Values.plannedHost(
                Optional.of(MX),
                List.of(ip("192.0.2.25")),
                new TlsRequirement.Opportunistic(),
                PolicySource.SENDER,
                "sender level",
                Optional.of(new TlsRequirement.Pkix(List.of(MX)))),
        () ->
            Values.policyFailure(
                DOMAIN,
                PolicySource.DANE,
                true,
                Optional.of(MX),
                Optional.of(ADDRESS),
                FailureType.DANE_REQUIRED,
                "no usable TLSA"),
        () ->
            Values.probeResult(
                Optional.of(MX),
                ADDRESS,
                new TlsRequirement.Pkix(List.of(MX)),
                Optional.of("mx.example.test"),
                true,
                Optional.of(OK),
                Optional.of(true),
                Optional.of(SmtpReply.local(220, "go ahead")),
                Optional.of(tls),
                Optional.of(verified),
                Optional.empty(),
                Optional.empty(),
                Optional.of(Authentication.VERIFIED),
                Optional.empty(),
                ProbeVerdict.VERIFIED_PKIX,
                "verified",
                List.of("a note"),
                Duration.ofMillis(12)),
        () -> Values.verification(false, Optional.of(FailureType.CERTIFICATE_EXPIRED), "expired"),
        () ->
            Values.recipientResult(
                EmailAddress.parse("rcpt@example.test"),
                DeliveryStatus.DEFERRED,
                SmtpReply.local(451, "later"),
                Optional.of(attempt),
                plan,
                List.of(attempt)),
        () -> Values.skippedHost(MX, FailureType.DNSSEC_INVALID, "TLSA bogus"),
        () ->
            Values.tlsDetails(
                "TLSv1.2",
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                List.<X509Certificate>of(),
                Optional.empty()));
  }

  @Test
  void everyFactoryBuildsAValue() throws ReflectiveOperationException {
    List<Class<?>> covered = new ArrayList<>();
    for (Supplier<Object> factory : everyFactory()) {
      Object one = factory.get();
      Object two = factory.get();
      assertThat(one).isNotSameAs(two).isEqualTo(two).hasSameHashCodeAs(two);
      covered.add(one.getClass());
      // equals consults every component: changing any one of them makes the values differ
      for (Field f : one.getClass().getDeclaredFields()) {
        if (Modifier.isStatic(f.getModifiers())) {
          continue;
        }
        f.setAccessible(true);
        Object kept = f.get(two);
        if (f.getType() == int.class) {
          f.setInt(two, f.getInt(two) + 1);
        } else if (f.getType() == long.class) {
          f.setLong(two, f.getLong(two) + 1);
        } else if (f.getType() == boolean.class) {
          f.setBoolean(two, !f.getBoolean(two));
        } else {
          f.set(two, null);
        }
        assertThat(one)
            .as("%s.%s counts in equals", one.getClass().getSimpleName(), f.getName())
            .isNotEqualTo(two);
        f.set(two, kept);
      }
      assertThat(one).isEqualTo(two);
    }
    List<Class<?>> expected = new ArrayList<>(READ_ONLY);
    expected.removeAll(List.of(DnsAnswer.class, DnssecSelfCheck.Result.class));
    assertThat(covered)
        .as("one factory per type mailtls builds outside io.mailtls.core")
        .containsExactlyInAnyOrderElementsOf(expected);
  }

  /** Types without a text form of their own show their components as a record would. */
  @Test
  void theTextFormIsARecordsUnlessTheTypeHasItsOwn() {
    for (Supplier<Object> factory : everyFactory()) {
      Object v = factory.get();
      String name = v.getClass().getSimpleName();
      if (List.of("Attempt", "MxHost", "RecipientResult", "TlsDetails").contains(name)) {
        assertThat(v.toString()).doesNotStartWith(name + "[");
        continue;
      }
      assertThat(v.toString()).startsWith(name + "[").endsWith("]");
      for (Field f : v.getClass().getDeclaredFields()) {
        if (!Modifier.isStatic(f.getModifiers())) {
          assertThat(v.toString()).contains(f.getName() + "=");
        }
      }
    }
    assertThat(Values.skippedHost(MX, FailureType.DNSSEC_INVALID, "TLSA bogus").toString())
        .isEqualTo("SkippedHost[host=mx.example.test, failure=DNSSEC_INVALID, reason=TLSA bogus]");
    assertThat(
            Values.tlsDetails("TLSv1.3", "TLS_AES_128_GCM_SHA256", List.of(), Optional.empty())
                .toString())
        .isEqualTo("TLSv1.3 TLS_AES_128_GCM_SHA256");
  }

  /** The factories check their arguments as the constructors do. */
  @Test
  void theFactoriesCheckTheirArguments() {
    assertThatThrownBy(() -> Values.deliveryCall(0, Optional.empty()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> Values.planFailure(DeliveryStatus.DELIVERED, OK, FailureType.DNS_FAILURE))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                Values.plannedHost(
                    Optional.of(MX),
                    List.of(),
                    new TlsRequirement.Opportunistic(),
                    PolicySource.SENDER,
                    "none",
                    Optional.empty()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Values.verification(true, Optional.of(FailureType.DNS_FAILURE), ""))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> Values.skippedHost(MX, null, "why"))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("failure");
  }

  /** Nothing but io.mailtls.core's bridge can be installed, and only once. */
  @Test
  void noOtherBridgeCanBeInstalled() throws ReflectiveOperationException {
    assertThatThrownBy(() -> Values.install(new Rogue()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("Rogue");
    Values.skippedHost(MX, FailureType.DNSSEC_INVALID, "installs the bridge if not yet");
    Constructor<?> c = Class.forName("io.mailtls.core.ValuesBridge").getDeclaredConstructor();
    c.setAccessible(true);
    Values second = (Values) c.newInstance();
    assertThatThrownBy(() -> Values.install(second))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("already");
  }

  /**
   * Initialisation order: in a class loader of its own, where no class of mailtls-core has been
   * initialised, the factory works whether it or the value's class is touched first, and from many
   * threads at once.
   */
  @ParameterizedTest
  @ValueSource(booleans = {false, true})
  void theBridgeIsInPlaceWhicheverClassComesFirst(boolean valueClassFirst) throws Exception {
    URL classes = Values.class.getProtectionDomain().getCodeSource().getLocation();
    try (URLClassLoader fresh =
        new URLClassLoader(new URL[] {classes}, ClassLoader.getPlatformClassLoader())) {
      Class<?> values = Class.forName(Values.class.getName(), false, fresh);
      assertThat(values).isNotSameAs(Values.class);
      Class<?> domainName = Class.forName(DomainName.class.getName(), true, fresh);
      Class<?> failureType = Class.forName(FailureType.class.getName(), true, fresh);
      if (valueClassFirst) {
        Class.forName(SkippedHost.class.getName(), true, fresh);
      }
      Method of = domainName.getMethod("of", String.class);
      Object dnssecInvalid = failureType.getField("DNSSEC_INVALID").get(null);
      Method skippedHost = values.getMethod("skippedHost", domainName, failureType, String.class);
      ExecutorService threads = Executors.newFixedThreadPool(8);
      try {
        CountDownLatch start = new CountDownLatch(1);
        List<Future<Object>> built = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
          String host = "mx" + i + ".example.test";
          Callable<Object> call =
              () -> {
                start.await();
                return skippedHost.invoke(null, of.invoke(null, host), dnssecInvalid, "why");
              };
          built.add(threads.submit(call));
        }
        start.countDown();
        for (int i = 0; i < 8; i++) {
          Object v = built.get(i).get();
          assertThat(v.getClass().getClassLoader()).isSameAs(fresh);
          assertThat(v.toString()).contains("mx" + i + ".example.test");
        }
      } finally {
        threads.shutdownNow();
      }
    }
  }

  private static InetAddress ip(String literal) {
    try {
      return InetAddress.getByName(literal);
    } catch (java.net.UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  /** A bridge of someone else's. */
  private static final class Rogue extends Values {
    @Override
    protected Attempt newAttempt(
        Optional<DomainName> host,
        InetSocketAddress address,
        TlsRequirement requirement,
        PolicySource source,
        Optional<TlsDetails> tls,
        Optional<Authentication> authentication,
        Optional<FailureType> failure,
        Optional<SmtpReply> reply,
        String detail,
        Optional<String> announcedName,
        Optional<InetSocketAddress> localAddress,
        io.mailtls.core.Timings timings,
        Optional<io.mailtls.core.MtaStsPolicy> mtaStsPolicy,
        boolean sessionReused,
        Optional<FailureType> plaintextReason,
        boolean failedInTlsNegotiation) {
      throw new AssertionError();
    }

    @Override
    protected DeliveryCall newDeliveryCall(long id, Optional<Envelope> envelope) {
      throw new AssertionError();
    }

    @Override
    protected DeliveryPlan newDeliveryPlan(
        NextHop nextHop,
        Optional<TlsLevel> senderLevel,
        MxResolution mx,
        List<PlannedHost> hosts,
        List<SkippedHost> skipped,
        Optional<DeliveryPlan.Failure> failure,
        List<String> reasons,
        List<PolicyFailure> policyFailures,
        Optional<MtaStsPolicy> mtaSts) {
      throw new AssertionError();
    }

    @Override
    protected DeliveryPlan.Failure newPlanFailure(
        DeliveryStatus status, SmtpReply reply, FailureType type) {
      throw new AssertionError();
    }

    @Override
    protected DeliveryReport newDeliveryReport(List<RecipientResult> recipients) {
      throw new AssertionError();
    }

    @Override
    protected MxHost newMxHost(
        DomainName name,
        int preference,
        boolean implicit,
        List<InetAddress> addresses,
        DnsAnswer ipv4,
        DnsAnswer ipv6) {
      throw new AssertionError();
    }

    @Override
    protected MxResolution newMxResolution(
        NextHop nextHop,
        MxResolution.Kind kind,
        List<MxHost> hosts,
        Optional<DnsAnswer> mxAnswer,
        List<String> notes) {
      throw new AssertionError();
    }

    @Override
    protected PlannedHost newPlannedHost(
        Optional<DomainName> name,
        List<InetAddress> addresses,
        TlsRequirement requirement,
        PolicySource source,
        String why,
        Optional<TlsRequirement> reportOnly,
        Optional<Integer> port) {
      throw new AssertionError();
    }

    @Override
    protected PolicyFailure newPolicyFailure(
        DomainName policyDomain,
        PolicySource source,
        boolean enforced,
        Optional<DomainName> host,
        Optional<InetSocketAddress> address,
        FailureType type,
        String detail,
        List<io.mailtls.core.DnsRecord.Tlsa> tlsaRecords) {
      throw new AssertionError();
    }

    @Override
    protected ProbeResult newProbeResult(
        Optional<DomainName> host,
        InetSocketAddress address,
        TlsRequirement requirement,
        Optional<String> serverName,
        boolean reachable,
        Optional<SmtpReply> greeting,
        Optional<Boolean> starttlsOffered,
        Optional<SmtpReply> starttlsReply,
        Optional<TlsDetails> tls,
        Optional<ProbeResult.Verification> pkix,
        Optional<ProbeResult.Verification> dane,
        Optional<DnsRecord.Tlsa> matchedTlsa,
        Optional<Authentication> authentication,
        Optional<FailureType> failure,
        ProbeVerdict verdict,
        String reason,
        List<String> notes,
        Duration elapsed) {
      throw new AssertionError();
    }

    @Override
    protected ProbeResult.Verification newVerification(
        boolean verified, Optional<FailureType> failure, String detail) {
      throw new AssertionError();
    }

    @Override
    protected RecipientResult newRecipientResult(
        EmailAddress recipient,
        DeliveryStatus status,
        SmtpReply reply,
        Optional<Attempt> attempt,
        DeliveryPlan plan,
        List<Attempt> attempts,
        boolean dsnPassedOn) {
      throw new AssertionError();
    }

    @Override
    protected SkippedHost newSkippedHost(DomainName host, FailureType failure, String reason) {
      throw new AssertionError();
    }

    @Override
    protected TlsDetails newTlsDetails(
        String protocol,
        String cipherSuite,
        List<X509Certificate> peerChain,
        Optional<String> serverName,
        boolean resumed) {
      throw new AssertionError();
    }
  }
}
