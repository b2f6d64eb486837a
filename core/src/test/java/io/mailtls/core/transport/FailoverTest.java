package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.EnhancedStatus;
import io.mailtls.core.FailureType;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpStep;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Type;

/** MX failover (RFC 5321 §5.1) and the DNS outcomes that allow no connection at all. */
class FailoverTest {

  @Test
  void deadAnd421HostsAreSkippedInPreferenceOrder() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer closing =
          f.server(
              "127.0.0.3",
              b ->
                  b.hostname("mx2.example.test")
                      .on(SmtpStep.GREETING, SmtpAction.reply(421, "4.3.2", "shutting down")));
      MockSmtpServer good = f.server("127.0.0.4", b -> b.hostname("mx3.example.test"));
      f.dns(
          d ->
              d.zone(
                  "example.test",
                  z ->
                      z
                          // mx1 has an address where nothing listens on the shared port.
                          .mx("example.test", 10, "mx1.example.test")
                          .a("mx1.example.test", "127.0.0.5")
                          .mailHost("example.test", 20, "mx2.example.test", closing)
                          .mailHost("example.test", 30, "mx3.example.test", good)));
      DeliveryReport report = f.send(TlsLevel.OPPORTUNISTIC, "rcpt@example.test");
      RecipientResult r = report.result("rcpt@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.mxHost().orElseThrow().toString()).isEqualTo("mx3.example.test");
      assertThat(r.attempts()).hasSize(3);
      assertThat(r.attempts().get(0).failure()).contains(FailureType.CONNECTION_FAILED);
      assertThat(r.attempts().get(1).failure()).contains(FailureType.SERVICE_CLOSING);
      assertThat(r.attempts().get(1).reply().orElseThrow().code()).isEqualTo(421);
      assertThat(r.attempts().get(2).failure()).isEmpty();
      assertThat(good.messages()).hasSize(1);
    }
  }

  @Test
  void allHostsFailingDefersWithTheLastReason() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer closing =
          f.server(
              "127.0.0.3",
              b ->
                  b.hostname("mx2.example.test")
                      .on(SmtpStep.GREETING, SmtpAction.reply(421, "4.3.2", "shutting down")));
      f.dns(
          d ->
              d.zone(
                  "example.test",
                  z ->
                      z.mx("example.test", 10, "mx1.example.test")
                          .a("mx1.example.test", "127.0.0.5")
                          .mailHost("example.test", 20, "mx2.example.test", closing)));
      RecipientResult r =
          f.send(TlsLevel.OPPORTUNISTIC, "rcpt@example.test").result("rcpt@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.reply().code()).isEqualTo(421);
      assertThat(r.attempts()).hasSize(2);
    }
  }

  @Test
  void rfc7505NullMxBouncesWithoutAnyConnection() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer bystander = f.server("127.0.0.2", b -> b);
      f.dns(
          d ->
              d.zone("example.test", z -> z.nullMx("example.test").a("example.test", "127.0.0.2")));
      RecipientResult r =
          f.send(TlsLevel.OPPORTUNISTIC, "rcpt@example.test").result("rcpt@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(r.reply().enhancedStatus()).contains(EnhancedStatus.NULL_MX);
      assertThat(r.reply().locallyGenerated()).isTrue();
      assertThat(r.attempts()).isEmpty();
      assertThat(bystander.sessions()).isEmpty();
    }
  }

  @Test
  void servfailOnMxDefersWithoutAnyConnection() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = f.server("127.0.0.2", b -> b.hostname("mx.example.test"));
      f.dns(
          d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
      f.dns.servfail("example.test", Type.MX);
      RecipientResult r =
          f.send(TlsLevel.OPPORTUNISTIC, "rcpt@example.test").result("rcpt@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.reply().enhancedStatus()).contains(EnhancedStatus.DIRECTORY_SERVER_FAILURE);
      // an upstream failure, not a validation failure: no RFC 8460 dnssec-invalid
      assertThat(r.plan().failure().orElseThrow().type()).isEqualTo(FailureType.DNS_FAILURE);
      assertThat(r.attempts()).isEmpty();
      assertThat(mx.sessions()).isEmpty();
    }
  }

  @Test
  void nxdomainBouncesWithoutAnyConnection() throws Exception {
    try (Fixture f = new Fixture()) {
      f.server("127.0.0.2", b -> b);
      f.dns(d -> d.zone("example.test", z -> z.a("example.test", "127.0.0.2")));
      RecipientResult r =
          f.send(TlsLevel.OPPORTUNISTIC, "rcpt@nosuch.example.test")
              .result("rcpt@nosuch.example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(r.attempts()).isEmpty();
    }
  }

  @Test
  void recipientsOfSeveralDomainsAreGroupedAndPlannedApart() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer one = f.server("127.0.0.2", b -> b.hostname("mx.one.test"));
      MockSmtpServer two = f.server("127.0.0.3", b -> b.hostname("mx.two.test"));
      f.dns(
          d ->
              d.zone("one.test", z -> z.mailHost("one.test", 10, "mx.one.test", one))
                  .zone("two.test", z -> z.mailHost("two.test", 10, "mx.two.test", two)));
      DeliveryReport r = f.send(TlsLevel.OPPORTUNISTIC, "a@one.test", "b@two.test", "c@one.test");
      assertThat(r.allDelivered()).isTrue();
      assertThat(r.recipients())
          .extracting(x -> x.recipient().toString())
          .containsExactly("a@one.test", "b@two.test", "c@one.test");
      assertThat(one.messages())
          .singleElement()
          .satisfies(m -> assertThat(m.recipients()).containsExactly("a@one.test", "c@one.test"));
      assertThat(two.messages())
          .singleElement()
          .satisfies(m -> assertThat(m.recipients()).containsExactly("b@two.test"));
    }
  }

  @Test
  void stsRequiredAndDaneRequiredFailClosedWithoutTheirModules() throws Exception {
    for (TlsLevel level : new TlsLevel[] {TlsLevel.STS_REQUIRED, TlsLevel.DANE_REQUIRED}) {
      try (Fixture f = new Fixture()) {
        MockSmtpServer mx =
            f.server(
                "127.0.0.2",
                b -> b.hostname("mx.example.test").tls(Fixture.certFor("mx.example.test")));
        f.dns(
            d ->
                d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
        RecipientResult r = f.send(level, "rcpt@example.test").result("rcpt@example.test");
        assertThat(r.status()).as(level.token()).isEqualTo(DeliveryStatus.DEFERRED);
        assertThat(r.plan().failure().orElseThrow().type())
            .isEqualTo(FailureType.POLICY_UNAVAILABLE);
        assertThat(r.reply().text()).contains(level.token()).contains("not delivering");
        assertThat(mx.sessions()).isEmpty();
      }
    }
  }
}
