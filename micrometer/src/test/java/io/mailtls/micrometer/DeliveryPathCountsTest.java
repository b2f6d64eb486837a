package io.mailtls.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TrustAnchors;
import io.mailtls.dane.DaneResolver;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpStep;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The counts on the paths beside the plain one, through real servers into a real registry at the
 * opportunistic level: a STARTTLS handshake that fails and the plaintext retry on a fresh
 * connection (RFC 7435 §4.1's opportunistic fallback), a first MX host that refuses the greeting
 * and the second that takes the message, and a second message on a pooled session. Each recipient
 * is counted once, by its deciding attempt; each attempt once, failed ones with their failure; the
 * timers count the failed attempts' phases too.
 */
class DeliveryPathCountsTest {

  private static final byte[] MESSAGE =
      "From: a@sender.test\r\nTo: b@example.test\r\nSubject: paths\r\n\r\nHello.\r\n"
          .getBytes(StandardCharsets.US_ASCII);

  private final TestPki pki = TestPki.create();
  private final List<MockSmtpServer> servers = new ArrayList<>();
  private int port;

  private MockSmtpServer server(String ip, String name, UnaryOperator<MockSmtpServer.Builder> s)
      throws Exception {
    MockSmtpServer.Builder b =
        MockSmtpServer.builder()
            .address(InetAddress.getByName(ip))
            .hostname(name)
            .tls(pki.root().leaf().dnsNames(name).issue().serverSslContext());
    if (port != 0) {
      b.port(port);
    }
    MockSmtpServer server = s.apply(b).start();
    port = server.port();
    servers.add(server);
    return server;
  }

  private static Map<String, Double> counters(MeterRegistry registry, String name) {
    Map<String, Double> out = new TreeMap<>();
    for (Counter c : registry.find(name).counters()) {
      out.put(
          c.getId().getTags().stream()
              .map(t -> t.getKey() + "=" + t.getValue())
              .collect(Collectors.joining(",")),
          c.count());
    }
    return out;
  }

  private static long timerCount(MeterRegistry registry, String name) {
    return registry.find(name).timers().stream().mapToLong(Timer::count).sum();
  }

  @Test
  void eachRecipientOnceEachAttemptOnceOnEveryPath() throws Exception {
    MockSmtpServer fallback =
        server(
            "127.0.0.6",
            "mx.fallback.example.test",
            b -> b.on(SmtpStep.TLS_HANDSHAKE, SmtpAction.disconnect()));
    MockSmtpServer refusing =
        server(
            "127.0.0.7",
            "mx1.retry.example.test",
            b -> b.on(SmtpStep.GREETING, SmtpAction.reply(554, "5.3.2", "not now")));
    MockSmtpServer taking = server("127.0.0.8", "mx2.retry.example.test", b -> b);
    MockSmtpServer pooled = server("127.0.0.9", "mx.pooled.example.test", b -> b);
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    List<RecipientResult> results = new ArrayList<>();
    try (TestDnsServer dns =
        TestDnsServer.builder()
            .zone(
                "example.test",
                z ->
                    z.mailHost("fallback.example.test", 10, "mx.fallback.example.test", fallback)
                        .mailHost("retry.example.test", 10, "mx1.retry.example.test", refusing)
                        .mailHost("retry.example.test", 20, "mx2.retry.example.test", taking)
                        .mailHost("pooled.example.test", 10, "mx.pooled.example.test", pooled))
            .start()) {
      DnssecResolver resolver =
          DnssecResolver.builder()
              .upstream(dns.socketAddress())
              .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
              .queryTimeout(Duration.ofSeconds(2))
              .lookupTimeout(Duration.ofSeconds(10))
              .build();
      try (SecureSmtpTransport transport =
          SecureSmtpTransport.builder()
              .withoutMtaSts()
              .dns(resolver)
              .dane(DaneResolver.builder().dns(resolver).build())
              .heloName("client.sender.test")
              .port(port)
              .senderPolicy(SenderPolicy.uniform(TlsLevel.OPPORTUNISTIC))
              .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
              .eventListenerFactory(MailtlsMetrics.builder(registry).build())
              .build()) {
        for (String rcpt :
            List.of(
                "b@fallback.example.test",
                "b@retry.example.test",
                "b@pooled.example.test",
                "c@pooled.example.test")) {
          DeliveryReport report =
              transport.send(Envelope.of("a@sender.test", rcpt), MessageContent.of(MESSAGE));
          results.addAll(report.recipients());
        }
      }
    } finally {
      servers.forEach(MockSmtpServer::close);
    }

    assertThat(results)
        .extracting(RecipientResult::status)
        .as("%s", results)
        .containsOnly(DeliveryStatus.DELIVERED);
    assertThat(results)
        .extracting(r -> r.authentication().orElseThrow())
        .containsExactly(
            Authentication.PLAINTEXT,
            Authentication.ENCRYPTED,
            Authentication.ENCRYPTED,
            Authentication.ENCRYPTED);
    assertThat(results.get(3).attempt().orElseThrow().sessionReused()).isTrue();

    assertThat(counters(registry, Meters.DELIVERIES))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "authentication=plaintext,failure.type=none,policy.source=none,status=delivered",
                1.0,
                "authentication=encrypted,failure.type=none,policy.source=none,status=delivered",
                3.0));
    // The failed handshake and its plaintext retry are one attempt (Attempt.plaintextReason),
    // told apart from a server without STARTTLS by its plaintext.reason; the refused greeting is
    // an attempt of its own, and so is the pooled session's transaction.
    assertThat(results.get(0).attempt().orElseThrow().plaintextReason()).isPresent();
    assertThat(counters(registry, Meters.ATTEMPTS))
        .containsExactlyInAnyOrderEntriesOf(
            Map.of(
                "authentication=plaintext,failure.type=none,outcome=ok,"
                    + "plaintext.reason=tls_handshake_failed,policy.source=none",
                1.0,
                "authentication=none,failure.type=greeting_rejected,outcome=failed,plaintext.reason=none,policy.source=none",
                1.0,
                "authentication=encrypted,failure.type=none,outcome=ok,plaintext.reason=none,policy.source=none",
                3.0));
    assertThat(counters(registry, Meters.POLICY_FAILURES)).isEmpty();
    // Five attempts, each timed, the refused one included; TLS tried three times (the failed
    // handshake, mx2, the pooled session's first), never on the reused session; four transactions.
    assertThat(timerCount(registry, Meters.CONNECT)).isEqualTo(5);
    assertThat(timerCount(registry, Meters.TLS_HANDSHAKE)).isEqualTo(3);
    assertThat(timerCount(registry, Meters.DATA)).isEqualTo(4);
    assertThat(timerCount(registry, Meters.PLAN)).isEqualTo(4);
  }
}
