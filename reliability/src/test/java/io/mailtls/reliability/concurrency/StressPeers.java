package io.mailtls.reliability.concurrency;

import io.mailtls.core.DnssecResolver;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.EventListener;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpMessage;
import io.mailtls.testkit.SmtpSession;
import io.mailtls.testkit.TestDnsServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.UnaryOperator;

/**
 * Real peers for the transport stress tests: one mock SMTP server per recipient domain d0.test … on
 * its own loopback address (all on one port), published as the domain's MX host under the testkit's
 * signed zones, and a listener factory that counts every recipientEnd and deliveryEnd per call, so
 * that exactly-once is checked from what the transport told, not only from its return values.
 */
final class StressPeers implements AutoCloseable {

  final List<MockSmtpServer> servers = new ArrayList<>();
  final TestDnsServer dns;

  /** recipientEnd events, per call id and recipient. */
  final Map<String, AtomicInteger> recipientEnds = new ConcurrentHashMap<>();

  /** deliveryEnd events per call id. */
  final Map<Long, AtomicInteger> deliveryEnds = new ConcurrentHashMap<>();

  StressPeers(int domains, UnaryOperator<MockSmtpServer.Builder> config) {
    int port = 0;
    for (int i = 0; i < domains; i++) {
      MockSmtpServer.Builder b =
          MockSmtpServer.builder().address(inet("127.0.0." + (60 + i))).hostname(host(i));
      if (port != 0) {
        b.port(port);
      }
      try {
        MockSmtpServer s = config.apply(b).start();
        port = s.port();
        servers.add(s);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    TestDnsServer.Builder d = TestDnsServer.builder();
    for (int i = 0; i < domains; i++) {
      String zone = domain(i);
      String host = host(i);
      MockSmtpServer s = servers.get(i);
      d.zone(zone, z -> z.mailHost(zone, 10, host, s));
    }
    dns = d.start();
  }

  static String domain(int i) {
    return "d" + i + ".test";
  }

  private static String host(int i) {
    return "mx." + domain(i);
  }

  private static InetAddress inet(String ip) {
    try {
      return InetAddress.getByName(ip);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A transport to these peers at OPPORTUNISTIC, counting events, with {@code extra} applied. */
  SecureSmtpTransport.Builder transport() {
    return SecureSmtpTransport.builder()
        .dns(
            DnssecResolver.builder()
                .upstream(dns.socketAddress())
                .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
                .queryTimeout(Duration.ofSeconds(10))
                .lookupTimeout(Duration.ofSeconds(30))
                .build())
        .heloName("client.sender.test")
        .port(servers.get(0).port())
        .senderPolicy(SenderPolicy.uniform(TlsLevel.OPPORTUNISTIC))
        .withoutMtaSts()
        .withoutDane()
        .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(10)))
        .eventListenerFactory(
            call ->
                new EventListener() {
                  @Override
                  public void recipientEnd(RecipientResult result) {
                    recipientEnds
                        .computeIfAbsent(
                            call.id() + " " + result.recipient(), k -> new AtomicInteger())
                        .incrementAndGet();
                  }

                  @Override
                  public void deliveryEnd(
                      io.mailtls.core.Envelope envelope, io.mailtls.core.DeliveryReport report) {
                    deliveryEnds
                        .computeIfAbsent(call.id(), k -> new AtomicInteger())
                        .incrementAndGet();
                  }
                });
  }

  /** Every message the servers accepted (their 250 to the final dot), by Message-ID. */
  Map<String, List<String>> acceptedRecipientsByMessageId() {
    Map<String, List<String>> out = new ConcurrentHashMap<>();
    for (MockSmtpServer s : servers) {
      for (SmtpMessage m : s.messages()) {
        String id = messageId(m.data());
        out.computeIfAbsent(id, k -> new java.util.concurrent.CopyOnWriteArrayList<>())
            .addAll(m.recipients());
      }
    }
    return out;
  }

  private static String messageId(byte[] data) {
    String text = new String(data, java.nio.charset.StandardCharsets.US_ASCII);
    int i = text.indexOf("Message-ID: <");
    int j = text.indexOf('>', i);
    return text.substring(i + "Message-ID: <".length(), j);
  }

  /** A message with this Message-ID. */
  static byte[] message(String id) {
    return ("From: a@sender.test\r\nTo: x@d0.test\r\nMessage-ID: <"
            + id
            + ">\r\nSubject: stress\r\n\r\nHello.\r\n")
        .getBytes(java.nio.charset.StandardCharsets.US_ASCII);
  }

  /**
   * How many sessions at these servers are surely active at one moment: open and before their QUIT
   * (so held by a delivery or the pool; a session that sent QUIT is over for the client, though the
   * server may take a moment to see the close). Two passes: a session active in both was active
   * throughout, so those active in both were all active at once when the second pass began; a
   * single pass would count a session that ended before a later one started.
   */
  static int activeAtOnce(List<MockSmtpServer> at) {
    java.util.Set<String> first = new java.util.HashSet<>();
    for (int i = 0; i < at.size(); i++) {
      for (SmtpSession session : at.get(i).sessions()) {
        if (active(session)) {
          first.add(i + ":" + session.id());
        }
      }
    }
    int n = 0;
    for (int i = 0; i < at.size(); i++) {
      for (SmtpSession session : at.get(i).sessions()) {
        if (first.contains(i + ":" + session.id()) && active(session)) {
          n++;
        }
      }
    }
    return n;
  }

  private static boolean active(SmtpSession session) {
    return !session.isClosed() && !session.commandLines().contains("QUIT");
  }

  /** Sessions still open at the servers now. */
  int openSessions() {
    int n = 0;
    for (MockSmtpServer s : servers) {
      for (SmtpSession session : s.sessions()) {
        if (!session.isClosed()) {
          n++;
        }
      }
    }
    return n;
  }

  /** Open sessions at one server now. */
  static int openSessions(MockSmtpServer s) {
    int n = 0;
    for (SmtpSession session : s.sessions()) {
      if (!session.isClosed()) {
        n++;
      }
    }
    return n;
  }

  /** Live threads whose name starts with {@code prefix}. */
  static long threads(String prefix) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> t.isAlive() && t.getName().startsWith(prefix))
        .count();
  }

  /** The recipient as the report names it. */
  static String key(long callId, EmailAddress r) {
    return callId + " " + r;
  }

  @Override
  public void close() {
    servers.forEach(MockSmtpServer::close);
    dns.close();
  }
}
