package io.mailtls.mtasts;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Attempt;
import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.Envelope;
import io.mailtls.core.EventListener;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.MtaStsLookup;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.NextHop;
import io.mailtls.core.PolicyFailure;
import io.mailtls.core.PolicySource;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.DnsZoneBuilder;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.Test;

/**
 * MTA-STS end to end (RFC 8461 §4, §5): a real policy over HTTPS from {@link MtaStsServer}, real
 * signed DNS, {@link MtaStsResolver} with the OkHttp fetcher plugged into core's transport, and
 * mock SMTP servers with good and bad certificates.
 */
class MtaStsEndToEndTest {

  private static final TestPki PKI = TestPki.create();
  private static final String DOMAIN = "example.test";
  private static final byte[] MESSAGE =
      "From: a@sender.test\r\nTo: b@example.test\r\nSubject: sts\r\n\r\nHello.\r\n"
          .getBytes(StandardCharsets.US_ASCII);

  /** Servers, DNS, MTA-STS and a transport for one test; closed by {@link #close()}. */
  private static final class World implements AutoCloseable {
    final List<MockSmtpServer> servers = new ArrayList<>();
    final List<PolicyFailure> failures = new CopyOnWriteArrayList<>();

    /** The plan and MTA-STS lookup events, with the policy id each found or followed. */
    final List<String> planEvents = new CopyOnWriteArrayList<>();

    MtaStsServer sts;
    TestDnsServer dns;
    int port;

    MockSmtpServer smtp(String ip, String host, UnaryOperator<MockSmtpServer.Builder> config) {
      try {
        MockSmtpServer.Builder b =
            MockSmtpServer.builder().address(InetAddress.getByName(ip)).hostname(host);
        if (port != 0) {
          b.port(port);
        }
        MockSmtpServer s = config.apply(b).start();
        port = s.port();
        servers.add(s);
        return s;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }

    /** A server presenting a certificate for its own name, issued by the trusted test root. */
    MockSmtpServer good(String ip, String host) {
      return smtp(
          ip, host, b -> b.tls(PKI.root().leaf().dnsNames(host).issue().serverSslContext()));
    }

    void start(String policyText, Consumer<DnsZoneBuilder> zone) {
      sts = MtaStsServer.builder().pki(PKI).start();
      if (policyText != null) {
        sts.policy(DOMAIN, policyText);
      }
      dns =
          TestDnsServer.builder()
              .zone(
                  DOMAIN,
                  z -> {
                    if (policyText != null) {
                      sts.publish(z, DOMAIN, "policy1");
                    }
                    zone.accept(z);
                  })
              .start();
    }

    /** Runs before each DNS question is sent; a test may change the zone there. */
    java.util.function.BiConsumer<io.mailtls.core.DomainName, io.mailtls.core.DnsRecordType>
        beforeQuery = (n, t) -> {};

    RecipientResult send(TlsLevel level) {
      DnsResolver real =
          DnssecResolver.builder()
              // DNS changes between lookups here (a new policy id): no answer cache, so that each
              // lookup sees the record as it is now (dane's PlanCacheTest covers the cached case)
              .cacheSize(0)
              .upstream(dns.socketAddress())
              .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
              .queryTimeout(Duration.ofSeconds(2))
              .lookupTimeout(Duration.ofSeconds(8))
              .build();
      DnsResolver resolver =
          (name, type) -> {
            beforeQuery.accept(name, type);
            return real.resolveAsync(name, type);
          };
      OkHttpClient client =
          new OkHttpClient.Builder()
              .sslSocketFactory(PKI.clientSslContext().getSocketFactory(), PKI.trustManager())
              .build();
      MtaStsResolver mtaSts =
          MtaStsResolver.builder()
              .dns(resolver)
              .fetcher(
                  OkHttpPolicyFetcher.builder()
                      .dns(resolver)
                      .client(client)
                      .port(sts.port())
                      .callTimeout(Duration.ofSeconds(5))
                      .build())
              .build();
      EventListener recorder =
          new EventListener() {
            @Override
            public void policyFailure(PolicyFailure failure) {
              failures.add(failure);
            }

            @Override
            public void planStart(NextHop nextHop, TlsLevel level) {
              planEvents.add("planStart " + nextHop);
            }

            @Override
            public void planEnd(DeliveryPlan plan) {
              planEvents.add(
                  "planEnd "
                      + plan.nextHop()
                      + " "
                      + plan.mtaSts().map(MtaStsPolicy::id).orElse("no policy"));
            }

            @Override
            public void mtaStsLookupStart(DomainName policyDomain) {
              planEvents.add("mtaStsLookupStart " + policyDomain);
            }

            @Override
            public void mtaStsLookupEnd(DomainName policyDomain, MtaStsLookup result) {
              planEvents.add(
                  "mtaStsLookupEnd "
                      + policyDomain
                      + " "
                      + (result instanceof MtaStsLookup.Found f
                          ? "Found " + f.policy().id()
                          : result.getClass().getSimpleName()));
            }
          };
      try (mtaSts;
          SecureSmtpTransport transport =
              SecureSmtpTransport.builder()
                  .withoutDane()
                  .dns(resolver)
                  .mtaSts(mtaSts)
                  .trustStore(PKI.trustStore())
                  .heloName("client.sender.test")
                  .port(port)
                  .senderPolicy(SenderPolicy.uniform(level))
                  .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
                  .eventListener(recorder)
                  .build()) {
        DeliveryReport report =
            transport.send(Envelope.of("a@sender.test", "b@" + DOMAIN), MessageContent.of(MESSAGE));
        return report.result("b@" + DOMAIN);
      }
    }

    @Override
    public void close() {
      servers.forEach(MockSmtpServer::close);
      if (sts != null) {
        sts.close();
      }
      if (dns != null) {
        dns.close();
      }
    }
  }

  private static String enforce(String... mx) {
    return MtaStsServer.policyText("enforce", 86400, mx);
  }

  @Test
  void section5EnforceWithAMatchingVerifiedMxDeliversVerifiedEvenForAnOpportunisticSender() {
    try (World w = new World()) {
      MockSmtpServer mx = w.good("127.0.0.2", "mx1." + DOMAIN);
      w.start(enforce("mx1." + DOMAIN), z -> z.mailHost(DOMAIN, 10, "mx1." + DOMAIN, mx));
      RecipientResult r = w.send(TlsLevel.OPPORTUNISTIC);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.authentication()).contains(Authentication.VERIFIED);
      assertThat(r.attempt().orElseThrow().source()).isEqualTo(PolicySource.MTA_STS);
      assertThat(r.plan().reasons()).anyMatch(s -> s.contains("overrides sender level"));
      assertThat(mx.sessions().get(0).sniHostName()).contains("mx1." + DOMAIN);
      assertThat(w.failures).isEmpty();
    }
  }

  @Test
  void section4_1AnMxOutsideTheEnforcePolicyNeverSeesAConnection() {
    try (World w = new World()) {
      MockSmtpServer outside = w.good("127.0.0.2", "mx0." + DOMAIN);
      MockSmtpServer inside = w.good("127.0.0.3", "mx1." + DOMAIN);
      w.start(
          enforce("mx1." + DOMAIN),
          z ->
              z.mailHost(DOMAIN, 5, "mx0." + DOMAIN, outside)
                  .mailHost(DOMAIN, 10, "mx1." + DOMAIN, inside));
      RecipientResult r = w.send(TlsLevel.OPPORTUNISTIC);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.mxHost().orElseThrow().toString()).isEqualTo("mx1." + DOMAIN);
      assertThat(outside.sessions()).isEmpty();
      assertThat(r.plan().skipped())
          .singleElement()
          .satisfies(
              s -> {
                assertThat(s.host().toString()).isEqualTo("mx0." + DOMAIN);
                assertThat(s.failure()).isEqualTo(FailureType.STS_POLICY_INVALID);
              });
      assertThat(w.failures)
          .anySatisfy(
              f -> {
                assertThat(f.type()).isEqualTo(FailureType.STS_POLICY_INVALID);
                assertThat(f.enforced()).isTrue();
              });
    }
  }

  private static void badHosts(World w, Consumer<DnsZoneBuilder>[] zone) {
    MockSmtpServer wrongName =
        w.smtp(
            "127.0.0.2",
            "mx1." + DOMAIN,
            b -> b.tls(PKI.root().leaf().dnsNames("elsewhere.example").issue().serverSslContext()));
    MockSmtpServer selfSigned =
        w.smtp(
            "127.0.0.3",
            "mx2." + DOMAIN,
            b -> b.tls(TestPki.selfSigned("mx2." + DOMAIN).serverSslContext()));
    MockSmtpServer plain = w.smtp("127.0.0.4", "mx3." + DOMAIN, b -> b);
    zone[0] =
        z ->
            z.mailHost(DOMAIN, 10, "mx1." + DOMAIN, wrongName)
                .mailHost(DOMAIN, 20, "mx2." + DOMAIN, selfSigned)
                .mailHost(DOMAIN, 30, "mx3." + DOMAIN, plain);
  }

  @Test
  @SuppressWarnings({"unchecked", "rawtypes"}) // a generic array can only be created raw
  void section5EnforceRefusesWrongNameSelfSignedAndPlaintextMxHostsThenTriesTheNext() {
    try (World w = new World()) {
      Consumer<DnsZoneBuilder>[] zone = new Consumer[1];
      badHosts(w, zone);
      MockSmtpServer good = w.good("127.0.0.5", "mx4." + DOMAIN);
      w.start(
          enforce("*." + DOMAIN),
          z -> {
            zone[0].accept(z);
            z.mailHost(DOMAIN, 40, "mx4." + DOMAIN, good);
          });
      RecipientResult r = w.send(TlsLevel.OPPORTUNISTIC);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.mxHost().orElseThrow().toString()).isEqualTo("mx4." + DOMAIN);
      assertThat(r.authentication()).contains(Authentication.VERIFIED);
      assertThat(r.attempts())
          .extracting(a -> a.failure().orElse(null))
          .containsExactly(
              FailureType.CERTIFICATE_HOST_MISMATCH,
              FailureType.CERTIFICATE_NOT_TRUSTED,
              FailureType.STARTTLS_NOT_SUPPORTED,
              null);
      // No plaintext fallback, no MAIL to any refused host.
      for (MockSmtpServer s : w.servers.subList(0, 3)) {
        assertThat(s.sessions())
            .allSatisfy(x -> assertThat(x.commandLines()).noneMatch(l -> l.startsWith("MAIL")));
      }
      assertThat(w.failures)
          .extracting(PolicyFailure::type)
          .contains(
              FailureType.CERTIFICATE_HOST_MISMATCH,
              FailureType.CERTIFICATE_NOT_TRUSTED,
              FailureType.STARTTLS_NOT_SUPPORTED);
      assertThat(w.failures).allMatch(PolicyFailure::enforced);
    }
  }

  @Test
  @SuppressWarnings({"unchecked", "rawtypes"}) // a generic array can only be created raw
  void section5EnforceWithOnlyBadHostsDefersNeverPlaintext() {
    try (World w = new World()) {
      Consumer<DnsZoneBuilder>[] zone = new Consumer[1];
      badHosts(w, zone);
      w.start(enforce("*." + DOMAIN), zone[0]);
      RecipientResult r = w.send(TlsLevel.OPPORTUNISTIC);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.attempts())
          .extracting(a -> a.failure().orElseThrow())
          .containsExactly(
              FailureType.CERTIFICATE_HOST_MISMATCH,
              FailureType.CERTIFICATE_NOT_TRUSTED,
              FailureType.STARTTLS_NOT_SUPPORTED);
      assertThat(r.reply().isTransientFailure()).isTrue();
      assertThat(w.servers).allSatisfy(s -> assertThat(s.messages()).isEmpty());
    }
  }

  @Test
  @SuppressWarnings({"unchecked", "rawtypes"}) // a generic array can only be created raw
  void section5TestingModeDeliversAsTheSenderLevelSaysAndReportsEachFailure() {
    try (World w = new World()) {
      Consumer<DnsZoneBuilder>[] zone = new Consumer[1];
      badHosts(w, zone);
      w.start(MtaStsServer.policyText("testing", 86400, "mx9." + DOMAIN), zone[0]);
      RecipientResult r = w.send(TlsLevel.OPPORTUNISTIC);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.mxHost().orElseThrow().toString()).isEqualTo("mx1." + DOMAIN);
      assertThat(r.authentication()).contains(Authentication.ENCRYPTED);
      assertThat(w.failures).isNotEmpty().noneMatch(PolicyFailure::enforced);
      assertThat(w.failures)
          .extracting(PolicyFailure::type)
          .contains(FailureType.STS_POLICY_INVALID, FailureType.CERTIFICATE_HOST_MISMATCH);
    }
  }

  @Test
  void section5ModeNoneIsAsWithoutAPolicy() {
    try (World w = new World()) {
      MockSmtpServer mx = w.smtp("127.0.0.2", "mx1." + DOMAIN, b -> b);
      w.start(
          MtaStsServer.policyText("none", 86400), z -> z.mailHost(DOMAIN, 10, "mx1." + DOMAIN, mx));
      RecipientResult r = w.send(TlsLevel.OPPORTUNISTIC);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.authentication()).contains(Authentication.PLAINTEXT);
      assertThat(r.plan().mtaSts()).isEmpty();
      assertThat(w.failures).isEmpty();
    }
  }

  @Test
  void stsRequiredWithoutAPolicyIsNotDelivered() {
    try (World w = new World()) {
      MockSmtpServer mx = w.good("127.0.0.2", "mx1." + DOMAIN);
      w.start(null, z -> z.mailHost(DOMAIN, 10, "mx1." + DOMAIN, mx));
      RecipientResult r = w.send(TlsLevel.STS_REQUIRED);
      assertThat(r.status()).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(r.reply().text()).contains("publishes no MTA-STS policy");
      // the sender's requirement, not a failure of a recipient policy: no RFC 8460 type
      assertThat(r.plan().failure().orElseThrow().type()).isEqualTo(FailureType.STS_REQUIRED);
      assertThat(FailureType.STS_REQUIRED.tlsRptResultType()).isEmpty();
      assertThat(r.plan().policyFailures()).isEmpty();
      assertThat(mx.sessions()).isEmpty();
    }
  }

  @Test
  void stsRequiredWithAnEnforcePolicyDeliversVerified() {
    try (World w = new World()) {
      MockSmtpServer mx = w.good("127.0.0.2", "mx1." + DOMAIN);
      w.start(enforce("mx1." + DOMAIN), z -> z.mailHost(DOMAIN, 10, "mx1." + DOMAIN, mx));
      RecipientResult r = w.send(TlsLevel.STS_REQUIRED);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.authentication()).contains(Authentication.VERIFIED);
    }
  }

  @Test
  void stsRequiredWithATestingPolicyBounces() {
    try (World w = new World()) {
      MockSmtpServer mx = w.good("127.0.0.2", "mx1." + DOMAIN);
      w.start(
          MtaStsServer.policyText("testing", 86400, "mx1." + DOMAIN),
          z -> z.mailHost(DOMAIN, 10, "mx1." + DOMAIN, mx));
      RecipientResult r = w.send(TlsLevel.STS_REQUIRED);
      assertThat(r.status()).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(r.reply().text()).contains("not enforce");
      assertThat(r.plan().failure().orElseThrow().type()).isEqualTo(FailureType.STS_REQUIRED);
      assertThat(mx.sessions()).isEmpty();
    }
  }

  @Test
  void aPolicyThatCannotBeFetchedMeansDeliveryAsWithoutMtaStsAndAReportedFailure() {
    try (World w = new World()) {
      MockSmtpServer mx = w.smtp("127.0.0.2", "mx1." + DOMAIN, b -> b);
      w.start(enforce("mx1." + DOMAIN), z -> z.mailHost(DOMAIN, 10, "mx1." + DOMAIN, mx));
      w.sts.fault(DOMAIN, MtaStsServer.Fault.NOT_FOUND);
      RecipientResult r = w.send(TlsLevel.OPPORTUNISTIC);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.authentication()).contains(Authentication.PLAINTEXT);
      assertThat(w.failures)
          .anySatisfy(
              f -> {
                assertThat(f.type()).isEqualTo(FailureType.STS_POLICY_FETCH_ERROR);
                assertThat(f.source()).isEqualTo(PolicySource.MTA_STS);
              });
      assertThat(r.plan().reasons()).anyMatch(s -> s.contains("lookup failed"));
    }
  }

  @Test
  void stsRequiredWhenTheFetchFailsDefers() {
    try (World w = new World()) {
      MockSmtpServer mx = w.good("127.0.0.2", "mx1." + DOMAIN);
      w.start(enforce("mx1." + DOMAIN), z -> z.mailHost(DOMAIN, 10, "mx1." + DOMAIN, mx));
      w.sts.fault(DOMAIN, MtaStsServer.Fault.SERVER_ERROR);
      RecipientResult r = w.send(TlsLevel.STS_REQUIRED);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.plan().failure().orElseThrow().type())
          .isEqualTo(FailureType.STS_POLICY_FETCH_ERROR);
      assertThat(mx.sessions()).isEmpty();
    }
  }

  /**
   * RFC 8461 §5.1 step 3: before mail fails under an enforce policy, the sender checks the TXT
   * record for a new policy id. Here the published policy names no MX host; by the time the sender
   * re-checks, the domain has published a corrected policy under a new id, which is then followed.
   */
  @Test
  void section5_1ANewPolicyIdIsFetchedBeforeGivingUp() {
    try (World w = new World()) {
      MockSmtpServer mx = w.good("127.0.0.2", "mx1." + DOMAIN);
      w.start(enforce("mx9." + DOMAIN), z -> z.mailHost(DOMAIN, 10, "mx1." + DOMAIN, mx));
      java.util.concurrent.atomic.AtomicInteger txtQueries =
          new java.util.concurrent.atomic.AtomicInteger();
      w.beforeQuery =
          (name, type) -> {
            if (name.toString().equals("_mta-sts." + DOMAIN) && txtQueries.incrementAndGet() == 2) {
              w.sts.policy(DOMAIN, enforce("mx1." + DOMAIN));
              w.dns.update(
                  DOMAIN,
                  z ->
                      z.remove("_mta-sts." + DOMAIN, org.xbill.DNS.Type.TXT)
                          .txt("_mta-sts." + DOMAIN, MtaStsServer.stsRecord("policy2")));
            }
          };
      RecipientResult r = w.send(TlsLevel.OPPORTUNISTIC);
      assertThat(txtQueries.get()).isEqualTo(2);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.authentication()).contains(Authentication.VERIFIED);
      assertThat(r.plan().mtaSts().orElseThrow().id()).isEqualTo("policy2");
      // The first round reached no server (mx1 was outside policy1's patterns): the one attempt is
      // the second round's, held under policy2.
      assertThat(r.attempts()).singleElement().isSameAs(r.attempt().orElseThrow());
      assertThat(r.attempt().orElseThrow().mtaStsPolicy()).isEqualTo(r.plan().mtaSts());
      // The re-check's lookup comes after the first plan's end, and the plan it made ends too
      // (EventListener's class comment: the one exception to lookups inside a plan).
      assertThat(w.planEvents)
          .containsExactly(
              "planStart " + DOMAIN,
              "mtaStsLookupStart " + DOMAIN,
              "mtaStsLookupEnd " + DOMAIN + " Found policy1",
              "planEnd " + DOMAIN + " policy1",
              "mtaStsLookupStart " + DOMAIN,
              "mtaStsLookupEnd " + DOMAIN + " Found policy2",
              "planEnd " + DOMAIN + " policy2");
    }
  }

  @Test
  void section5_1WithoutANewPolicyTheMailIsDeferredNotBounced() {
    try (World w = new World()) {
      MockSmtpServer mx = w.good("127.0.0.2", "mx1." + DOMAIN);
      w.start(enforce("mx9." + DOMAIN), z -> z.mailHost(DOMAIN, 10, "mx1." + DOMAIN, mx));
      java.util.concurrent.atomic.AtomicInteger txtQueries =
          new java.util.concurrent.atomic.AtomicInteger();
      w.beforeQuery =
          (name, type) -> {
            if (name.toString().equals("_mta-sts." + DOMAIN)) {
              txtQueries.incrementAndGet();
            }
          };
      RecipientResult r = w.send(TlsLevel.OPPORTUNISTIC);
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.plan().failure().orElseThrow().type()).isEqualTo(FailureType.STS_POLICY_INVALID);
      assertThat(txtQueries.get()).as("the id was re-checked").isEqualTo(2);
      assertThat(mx.sessions()).isEmpty();
      assertThat(w.planEvents)
          .containsExactly(
              "planStart " + DOMAIN,
              "mtaStsLookupStart " + DOMAIN,
              "mtaStsLookupEnd " + DOMAIN + " Found policy1",
              "planEnd " + DOMAIN + " policy1",
              "mtaStsLookupStart " + DOMAIN,
              "mtaStsLookupEnd " + DOMAIN + " Found policy1");
    }
  }

  @Test
  void attemptsUnderEnforceCarryTheirPolicySource() {
    try (World w = new World()) {
      MockSmtpServer mx = w.good("127.0.0.2", "mx1." + DOMAIN);
      w.start(enforce("mx1." + DOMAIN), z -> z.mailHost(DOMAIN, 10, "mx1." + DOMAIN, mx));
      RecipientResult r = w.send(TlsLevel.ENFORCED);
      Attempt a = r.attempt().orElseThrow();
      assertThat(a.source()).isEqualTo(PolicySource.MTA_STS);
      assertThat(a.mtaStsPolicy()).isEqualTo(r.plan().mtaSts()).isPresent();
      assertThat(a.tls().orElseThrow().protocol()).isIn("TLSv1.3", "TLSv1.2");
    }
  }
}
