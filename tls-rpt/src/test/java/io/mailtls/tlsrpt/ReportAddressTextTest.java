package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DomainName;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.dane.DaneResolver;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.TestDnsServer;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Random;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/**
 * RFC 8460 §4.4 gives {@code sending-mta-ip} and {@code receiving-ip} as "a string representation
 * of an IPv4 or IPv6 [RFC5952] address": for IPv6 the canonical text of RFC 5952 §4 (lower case, no
 * leading zeros, the longest run of zero groups as {@code ::}), which receivers compare and group
 * by. A real MX on the IPv6 loopback, found through an AAAA record of the signed test DNS, that
 * offers no STARTTLS: the failed session's details name both addresses.
 */
class ReportAddressTextTest {

  private static final String ZONE = "ip6.test";
  private static final String DOMAIN = "v6." + ZONE;
  private static final String HOST = "mx.v6." + ZONE;

  /** {@code ::1}. */
  private static final byte[] V6_LOOPBACK = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};

  private static final LocalDate DAY = LocalDate.parse("2025-05-01");

  private static final byte[] MESSAGE =
      ("From: a@sender.test\r\nTo: b@" + DOMAIN + "\r\nSubject: hello\r\n\r\nHello.\r\n")
          .getBytes(StandardCharsets.US_ASCII);

  /** The report of {@link #DAY} after one delivery to {@link #DOMAIN}, as it is sent. */
  private static JsonNode deliverAndReport(Consumer<TlsRptAggregator.Builder> configure)
      throws Exception {
    FakeClock clock = new FakeClock(Instant.parse("2025-05-01T12:00:00Z"));
    InMemoryAggregateStore store = new InMemoryAggregateStore();
    TlsRptAggregator.Builder ab = TlsRptAggregator.builder().store(store).clock(clock);
    configure.accept(ab);
    TlsRptAggregator aggregator = ab.build();
    try (MockSmtpServer mx =
            MockSmtpServer.builder()
                .address(InetAddress.getByAddress(V6_LOOPBACK))
                .hostname(HOST)
                .idleTimeout(Duration.ofSeconds(20))
                .start();
        TestDnsServer dns =
            TestDnsServer.builder().zone(ZONE, z -> z.mailHost(DOMAIN, 10, HOST, mx)).start()) {
      var resolver = RptFixtures.resolver(dns);
      try (SecureSmtpTransport t =
          SecureSmtpTransport.builder()
              .dns(resolver)
              .dane(DaneResolver.builder().dns(resolver).build())
              .heloName("client.sender.test")
              .port(mx.port())
              .random(new Random(1))
              .senderPolicy(SenderPolicy.uniform(TlsLevel.OPPORTUNISTIC))
              .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
              .noConnectionReuse()
              .withoutMtaSts()
              .eventListenerFactory(aggregator)
              .build()) {
        DeliveryReport report =
            t.send(Envelope.of("a@sender.test", "b@" + DOMAIN), MessageContent.of(MESSAGE));
        assertThat(report.result("b@" + DOMAIN).status())
            .as("%s", report)
            .isEqualTo(DeliveryStatus.DELIVERED);
      }
    }
    TlsRptReportWriter writer =
        TlsRptReportWriter.builder()
            .organizationName("Sender")
            .contactInfo("tlsrpt@sender.test")
            .submitter(DomainName.of("sender.test"))
            .random(new Random(2))
            .build();
    TlsRptReport report = writer.write(DAY, DomainName.of(DOMAIN), store.read(DAY));
    return new ObjectMapper().readTree(report.json());
  }

  @Test
  void anIpv6MxIsReportedInRfc5952Text() throws Exception {
    JsonNode json = deliverAndReport(b -> {});
    JsonNode detail = json.at("/policies/0/failure-details/0");
    assertThat(detail.path("result-type").asText())
        .as("%s", json)
        .isEqualTo("starttls-not-supported");
    assertThat(detail.path("receiving-ip").asText())
        .as("receiving-ip in %s", json)
        .isEqualTo("::1");
    assertThat(detail.path("sending-mta-ip").asText())
        .as("sending-mta-ip in %s", json)
        .isEqualTo("::1");
  }

  @Test
  void aConfiguredIpv6SendingAddressIsReportedInRfc5952Text() throws Exception {
    InetAddress nat =
        InetAddress.getByAddress(
            new byte[] {0x20, 0x01, 0x0d, (byte) 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0x0a});
    JsonNode json = deliverAndReport(b -> b.sendingMtaIp(nat));
    JsonNode detail = json.at("/policies/0/failure-details/0");
    assertThat(detail.path("sending-mta-ip").asText())
        .as("sending-mta-ip in %s", json)
        .isEqualTo("2001:db8::1:0:0:a");
  }
}
