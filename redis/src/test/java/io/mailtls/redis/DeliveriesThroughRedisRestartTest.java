package io.mailtls.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DomainName;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Issue 18: a sender keeps delivering under its MTA-STS policy while Redis is killed and restarted
 * empty, never fetching the policy again, and with no policy forgotten that it held locally.
 */
class DeliveriesThroughRedisRestartTest {

  private static final TestPki PKI = TestPki.create();
  private static final String DOMAIN = "example.test";
  private static final String OK = "DELIVERED VERIFIED MTA_STS policy1";

  @Test
  void deliveriesGoOnWhileRedisIsKilledAndRestarted() throws Exception {
    try (RedisServerProcess redis = RedisServerProcess.start();
        MockSmtpServer mx =
            MockSmtpServer.builder()
                .address(InetAddress.getLoopbackAddress())
                .hostname("mx1." + DOMAIN)
                .tls(PKI.root().leaf().dnsNames("mx1." + DOMAIN).issue().serverSslContext())
                .start();
        MtaStsServer sts = MtaStsServer.builder().pki(PKI).start()) {
      sts.policy(DOMAIN, MtaStsServer.policyText("enforce", 86400, "mx1." + DOMAIN));
      try (TestDnsServer dns =
              TestDnsServer.builder()
                  .zone(
                      DOMAIN,
                      z -> {
                        sts.publish(z, DOMAIN, "policy1");
                        z.mailHost(DOMAIN, 10, "mx1." + DOMAIN, mx);
                      })
                  .start();
          FleetSender.Sender sender =
              FleetSender.Sender.open(
                  redis.port(),
                  dns.socketAddress(),
                  dns.trustAnchor(),
                  PKI.trustStore(),
                  sts.port(),
                  mx.port(),
                  Duration.ofMillis(500))) {
        String rcpt = "b@" + DOMAIN;
        List<String> results = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
          results.add(sender.send(rcpt));
        }
        redis.kill();
        for (int i = 0; i < 3; i++) {
          results.add(sender.send(rcpt));
        }
        // The store itself, asked directly as a new lookup would: the policy is still there.
        assertThat(sender.store.get(DomainName.of(DOMAIN)))
            .hasValueSatisfying(e -> assertThat(e.policy().id()).isEqualTo("policy1"));
        redis.restart(); // empty
        for (int i = 0; i < 3; i++) {
          results.add(sender.send(rcpt));
        }
        assertThat(results).hasSize(9).containsOnly(OK);
        assertThat(mx.messages()).hasSize(9);
        assertThat(sts.requests(DOMAIN)).as("fetched once, before the outage").hasSize(1);
      }
    }
  }
}
