package io.mailtls.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Attempt;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.Envelope;
import io.mailtls.core.EventListener;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TrustAnchors;
import io.mailtls.dane.DaneResolver;
import io.mailtls.mtasts.MtaStsResolver;
import io.mailtls.mtasts.OkHttpPolicyFetcher;
import io.mailtls.testkit.DnsZoneBuilder;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpStep;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import io.mailtls.testkit.Tlsa;
import io.micrometer.common.KeyValue;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every meter into Micrometer's Prometheus registry, scraped: each meter name keeps one set of tag
 * keys. This registry exports a meter with fewer keys beside the others, as a series without those
 * labels, which a query grouping by one of them ({@code sum by (outcome)}) folds into an empty
 * value; Micrometer's earlier, simpleclient-based Prometheus registry exported only the meters with
 * the first key set it saw. Real peers on loopback: a signed zone, an MTA-STS policy host, and one
 * mock SMTP server per recipient domain, each ending one way:
 *
 * <ul>
 *   <li>{@code ok}: delivered, encrypted, no recipient policy;
 *   <li>{@code bounce}, {@code defer}: RCPT answered 550 5.1.1, 451 4.3.0;
 *   <li>{@code fallback}: the STARTTLS handshake cut, the plaintext retry delivers (RFC 7435);
 *   <li>{@code dane}: TLSA records that match nothing, an enforced DANE failure (RFC 7672 §2.2);
 *   <li>{@code sts}, {@code testing}: MTA-STS {@code enforce} and {@code testing} (RFC 8461 §5)
 *       naming an MX host whose certificate no trust store knows: deferred, and delivered with a
 *       report-only failure;
 *   <li>{@code refused}: an MX host where nothing listens;
 *   <li>{@code closing}: RCPT answered 421 with the recipient's address in the text.
 * </ul>
 *
 * <p>Besides the listener's own meters, Micrometer's {@link DefaultMeterObservationHandler} (as
 * Spring Boot registers it) makes a timer of every observation, tagged with its low-cardinality
 * keys.
 */
class PrometheusTagKeysTest {

  private static final String ZONE = "prom.test";

  private static final byte[] MESSAGE =
      "From: a@sender.test\r\nTo: b@prom.test\r\nSubject: prometheus\r\n\r\nHello.\r\n"
          .getBytes(StandardCharsets.US_ASCII);

  private static final TestPki PKI = TestPki.create();
  private static final List<MockSmtpServer> SERVERS = new ArrayList<>();
  private static final List<Consumer<DnsZoneBuilder>> RECORDS = new ArrayList<>();
  private static final Map<String, String> STS_MODES = new TreeMap<>();
  private static TestDnsServer dns;
  private static MtaStsServer sts;
  private static int port;
  private static int nextIp = 1;

  @BeforeAll
  static void start() throws IOException {
    mx("ok", "", false, b -> b);
    mx("bounce", "", false, b -> b.on(SmtpStep.RCPT, SmtpAction.reply(550, "5.1.1", "no user")));
    mx("defer", "", false, b -> b.on(SmtpStep.RCPT, SmtpAction.reply(451, "4.3.0", "later")));
    mx("fallback", "", false, b -> b.on(SmtpStep.TLS_HANDSHAKE, SmtpAction.disconnect()));
    mx("dane", "", true, b -> b);
    mx("sts", "enforce", false, b -> b);
    mx("testing", "testing", false, b -> b);
    mx(
        "closing",
        "",
        false,
        b ->
            b.on(
                SmtpStep.RCPT,
                SmtpAction.reply(421, "4.3.2", "<b@closing.prom.test> mailbox owner gone home")));
    // Nothing listens on this address.
    RECORDS.add(
        z -> z.mx("refused." + ZONE, 10, "mx.refused." + ZONE).a("mx.refused." + ZONE, ip()));
    MtaStsServer.Builder policies = MtaStsServer.builder().pki(PKI);
    STS_MODES.forEach(
        (d, mode) -> policies.domain(d, MtaStsServer.policyText(mode, 86400, "mx." + d)));
    sts = policies.start();
    for (String d : STS_MODES.keySet()) {
      RECORDS.add(z -> sts.publish(z, d, "prom1"));
    }
    dns = TestDnsServer.builder().zone(ZONE, z -> RECORDS.forEach(r -> r.accept(z))).start();
  }

  private static String ip() {
    return "127.0.41." + nextIp++;
  }

  /**
   * {@code <label>.prom.test} with one MX host, {@code mx.<label>.prom.test}: under an MTA-STS
   * policy in {@code mtaSts} mode unless empty (its certificate then from a CA no trust store
   * knows), with TLSA records matching nothing if {@code badDane}.
   */
  private static void mx(
      String label, String mtaSts, boolean badDane, UnaryOperator<MockSmtpServer.Builder> script)
      throws IOException {
    String domain = label + "." + ZONE;
    String host = "mx." + domain;
    TestPki.Issued leaf =
        (mtaSts.isEmpty() ? PKI.root() : PKI.otherCa()).leaf().dnsNames(host).issue();
    MockSmtpServer.Builder b =
        MockSmtpServer.builder()
            .address(InetAddress.getByName(ip()))
            .hostname(host)
            .tls(leaf.serverSslContext());
    if (port != 0) {
      b.port(port);
    }
    MockSmtpServer s = script.apply(b).start();
    port = s.port();
    SERVERS.add(s);
    RECORDS.add(z -> z.mailHost(domain, 10, host, s));
    if (badDane) {
      RECORDS.add(z -> z.tlsa(Tlsa.smtpOwner(host), 3, 1, 1, Tlsa.wrongData(1)));
    }
    if (!mtaSts.isEmpty()) {
      STS_MODES.put(domain, mtaSts);
    }
  }

  @AfterAll
  static void stop() {
    SERVERS.forEach(MockSmtpServer::close);
    if (sts != null) {
      sts.close();
    }
    if (dns != null) {
      dns.close();
    }
  }

  private static SecureSmtpTransport transport(EventListener.Factory listeners) {
    DnssecResolver resolver =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .queryTimeout(Duration.ofSeconds(2))
            .lookupTimeout(Duration.ofSeconds(10))
            .build();
    OkHttpClient http =
        new OkHttpClient.Builder()
            .sslSocketFactory(PKI.clientSslContext().getSocketFactory(), PKI.trustManager())
            .build();
    MtaStsResolver mtaSts =
        MtaStsResolver.builder()
            .dns(resolver)
            .fetcher(
                OkHttpPolicyFetcher.builder()
                    .client(http)
                    .dns(resolver)
                    .port(sts.port())
                    .connectTimeout(Duration.ofSeconds(2))
                    .callTimeout(Duration.ofSeconds(10))
                    .build())
            .build();
    return SecureSmtpTransport.builder()
        .dns(resolver)
        .dane(DaneResolver.builder().dns(resolver).build())
        .mtaSts(mtaSts)
        .trustStore(PKI.trustStore())
        .heloName("client.sender.test")
        .port(port)
        .senderPolicy(SenderPolicy.uniform(TlsLevel.OPPORTUNISTIC))
        .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(3)))
        .noConnectionReuse()
        .eventListenerFactory(listeners)
        .build();
  }

  private static RecipientResult send(SecureSmtpTransport transport, String label) {
    DeliveryReport report =
        transport.send(
            Envelope.of("a@sender.test", "b@" + label + "." + ZONE), MessageContent.of(MESSAGE));
    return report.recipients().get(0);
  }

  /**
   * A Prometheus registry that remembers every meter it refused, and why (one whose name it holds
   * under another type, say).
   */
  private static PrometheusMeterRegistry prometheus(List<String> refused) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    registry.config().onMeterRegistrationFailed((id, reason) -> refused.add(reason));
    return registry;
  }

  /** Each meter name of {@code registry} with the tag key sets registered under it. */
  private static Map<String, Set<Set<String>>> tagKeys(PrometheusMeterRegistry registry) {
    Map<String, Set<Set<String>>> out = new TreeMap<>();
    for (Meter m : registry.getMeters()) {
      Set<String> keys = new TreeSet<>();
      m.getId().getTags().stream().map(Tag::getKey).forEach(keys::add);
      out.computeIfAbsent(m.getId().getName(), n -> new java.util.HashSet<>()).add(keys);
    }
    return out;
  }

  /** A listener an application composes before the metrics': it throws at every attempt's end. */
  private static final class ThrowsAtAttemptEnd implements EventListener {
    @Override
    public void attemptEnd(Attempt attempt) {
      throw new IllegalStateException("an application listener's bug");
    }
  }

  @Test
  void everyMeterNameHasOneSetOfTagKeysAndTheScrapeHasEveryOutcome() {
    List<String> refused = new CopyOnWriteArrayList<>();
    PrometheusMeterRegistry registry = prometheus(refused);
    ObservationRegistry observations = ObservationRegistry.create();
    observations
        .observationConfig()
        .observationHandler(new DefaultMeterObservationHandler(registry));
    MailtlsMetrics metrics =
        MailtlsMetrics.builder(registry).observationRegistry(observations).build();
    Map<String, RecipientResult> results = new TreeMap<>();
    try (SecureSmtpTransport transport = transport(metrics)) {
      new TransportPoolMetrics(transport).bindTo(registry);
      for (String label :
          List.of(
              "ok",
              "bounce",
              "defer",
              "fallback",
              "dane",
              "sts",
              "testing",
              "refused",
              "closing")) {
        results.put(label, send(transport, label));
      }
    }
    // The metrics listener after one that throws at attemptEnd: the transport isolates the
    // composite, so the metrics' listener never sees the attempt end, and stops its observation
    // at deliveryEnd.
    try (SecureSmtpTransport transport =
        transport(call -> EventListener.all(new ThrowsAtAttemptEnd(), metrics.create(call)))) {
      results.put("force-stopped", send(transport, "ok"));
    }

    assertThat(results)
        .as("the scripted outcomes")
        .extractingFromEntries(e -> e.getKey() + "=" + e.getValue().status())
        .containsExactlyInAnyOrder(
            "ok=DELIVERED",
            "bounce=BOUNCED",
            "defer=DEFERRED",
            "fallback=DELIVERED",
            "dane=DEFERRED",
            "sts=DEFERRED",
            "testing=DELIVERED",
            "refused=DEFERRED",
            "closing=DEFERRED",
            "force-stopped=DELIVERED");
    assertThat(results.get("refused").attempt().orElseThrow().failure())
        .contains(FailureType.CONNECTION_FAILED);

    assertThat(refused).as("meters the Prometheus registry refused").isEmpty();
    assertThat(tagKeys(registry))
        .as("tag key sets per meter name")
        .allSatisfy((name, keySets) -> assertThat(keySets).as(name).hasSize(1));

    String scrape = registry.scrape();
    assertThat(scrape)
        .contains(
            "mailtls_deliveries_recipients_total{authentication=\"encrypted\","
                + "failure_type=\"none\",policy_source=\"none\",status=\"delivered\"}",
            "mailtls_deliveries_recipients_total{authentication=\"encrypted\","
                + "failure_type=\"none\",policy_source=\"none\",status=\"bounced\"}",
            "mailtls_deliveries_recipients_total{authentication=\"encrypted\","
                + "failure_type=\"none\",policy_source=\"none\",status=\"deferred\"}",
            "mailtls_deliveries_recipients_total{authentication=\"plaintext\","
                + "failure_type=\"none\",policy_source=\"none\",status=\"delivered\"}",
            "mailtls_deliveries_recipients_total{authentication=\"none\","
                + "failure_type=\"connection_failed\",policy_source=\"none\",status=\"deferred\"}",
            "mailtls_attempts_total{authentication=\"plaintext\",failure_type=\"none\","
                + "outcome=\"ok\",plaintext_reason=\"tls_handshake_failed\",policy_source=\"none\"}",
            "mailtls_attempts_total{authentication=\"none\","
                + "failure_type=\"connection_failed\",outcome=\"failed\","
                + "plaintext_reason=\"none\",policy_source=\"none\"}",
            "mailtls_policy_failures_total{enforced=\"true\","
                + "failure_type=\"certificate_not_trusted\",policy_source=\"mta_sts\"}",
            "mailtls_policy_failures_total{enforced=\"false\","
                + "failure_type=\"certificate_not_trusted\",policy_source=\"mta_sts\"}",
            "mailtls_policy_failures_total{enforced=\"true\",",
            "policy_source=\"dane\"}",
            "mailtls_plan_seconds_count{outcome=\"ok\"}",
            "mailtls_connect_seconds_count ",
            "mailtls_tls_handshake_seconds_count ",
            "mailtls_data_seconds_count ",
            "mailtls_connections_pooled_connections ",
            "mailtls_connections_busy_connections ",
            "mailtls_delivery_seconds_count{error=\"none\",status=\"delivered\"}",
            "mailtls_delivery_seconds_count{error=\"none\",status=\"bounced\"}",
            "mailtls_delivery_seconds_count{error=\"none\",status=\"deferred\"}",
            "mailtls_attempt_seconds_count{authentication=\"encrypted\",error=\"none\","
                + "failure_type=\"none\",outcome=\"ok\",policy_source=\"none\"}",
            "mailtls_attempt_seconds_count{authentication=\"none\",error=\"AttemptFailed\","
                + "failure_type=\"connection_failed\",outcome=\"failed\",policy_source=\"none\"}",
            // the attempt whose end the metrics' listener never saw
            "mailtls_attempt_seconds_count{authentication=\"unknown\",error=\"none\","
                + "failure_type=\"unknown\",outcome=\"unknown\",policy_source=\"unknown\"} 1");
  }

  /**
   * Every attempt made is counted in {@code mailtls.attempts}, also one whose {@code attemptEnd}
   * never reached the metrics' listener (a listener composed before it threw): then with {@code
   * unknown} for how it ended, as its {@code mailtls.attempt} observation, so that the counter's
   * series add up to the attempts, as the observation timer's do.
   */
  @Test
  void anAttemptWhoseEndWasMissedIsCountedAsUnknown() {
    io.micrometer.core.instrument.simple.SimpleMeterRegistry registry =
        new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
    ObservationRegistry observations = ObservationRegistry.create();
    observations
        .observationConfig()
        .observationHandler(new DefaultMeterObservationHandler(registry));
    MailtlsMetrics metrics =
        MailtlsMetrics.builder(registry).observationRegistry(observations).build();
    try (SecureSmtpTransport transport = transport(metrics)) {
      assertThat(send(transport, "ok").status()).isEqualTo(DeliveryStatus.DELIVERED);
    }
    try (SecureSmtpTransport transport =
        transport(call -> EventListener.all(new ThrowsAtAttemptEnd(), metrics.create(call)))) {
      assertThat(send(transport, "ok").status()).isEqualTo(DeliveryStatus.DELIVERED);
    }
    Map<String, Double> attempts = new TreeMap<>();
    for (io.micrometer.core.instrument.Counter c : registry.find("mailtls.attempts").counters()) {
      attempts.merge(
          c.getId().getTag("outcome") + "," + c.getId().getTag("plaintext.reason"),
          c.count(),
          Double::sum);
    }
    long observed =
        registry.find("mailtls.attempt").timers().stream()
            .mapToLong(io.micrometer.core.instrument.Timer::count)
            .sum();
    assertThat(observed).as("mailtls.attempt observations").isEqualTo(2);
    assertThat(attempts)
        .as("mailtls.attempts by outcome and plaintext.reason")
        .containsExactlyInAnyOrderEntriesOf(Map.of("ok,none", 1.0, "unknown,unknown", 1.0));
    assertThat(
            registry
                .get("mailtls.attempts")
                .tag("outcome", "unknown")
                .tag("failure.type", "unknown")
                .tag("authentication", "unknown")
                .tag("plaintext.reason", "unknown")
                .tag("policy.source", "unknown")
                .counter()
                .count())
        .isEqualTo(1.0);
  }

  /**
   * An attempt's observation says how it failed by its failure type and the reply's code and
   * enhanced status (RFC 3463), never by the reply's text: a server's text may name the recipient
   * (personal data a trace must not keep), and is the peer's to choose.
   */
  @Test
  void anAttemptsObservationNeverQuotesTheServersReplyText() {
    List<String> seen = new CopyOnWriteArrayList<>();
    ObservationRegistry observations = ObservationRegistry.create();
    observations
        .observationConfig()
        .observationHandler(
            new ObservationHandler<Observation.Context>() {
              @Override
              public void onStop(Observation.Context context) {
                if (!context.getName().equals(Meters.ATTEMPT_OBSERVATION)) {
                  return;
                }
                for (KeyValue kv : context.getAllKeyValues()) {
                  seen.add(kv.getKey() + "=" + kv.getValue());
                }
                Throwable error = context.getError();
                seen.add("error=" + (error == null ? "null" : error.getMessage()));
              }

              @Override
              public boolean supportsContext(Observation.Context context) {
                return true;
              }
            });
    MailtlsMetrics metrics =
        MailtlsMetrics.builder(prometheus(new ArrayList<>()))
            .observationRegistry(observations)
            .build();
    RecipientResult result;
    try (SecureSmtpTransport transport = transport(metrics)) {
      result = send(transport, "closing");
    }
    Attempt attempt = result.attempt().orElseThrow();
    assertThat(attempt.failure()).contains(FailureType.SERVICE_CLOSING);
    assertThat(attempt.detail()).as("the report keeps the reply").contains("b@closing.prom.test");
    assertThat(result.status()).isEqualTo(DeliveryStatus.DEFERRED);

    assertThat(seen)
        .as("the attempt observation's key values and error")
        .noneMatch(s -> s.contains("b@closing.prom.test") || s.contains("gone home"))
        .contains(
            "outcome=failed",
            "failure.type=service_closing",
            "mailtls.reply.code=421",
            "mailtls.reply.enhanced.status=4.3.2",
            "error=service_closing: 421 4.3.2");
  }
}
