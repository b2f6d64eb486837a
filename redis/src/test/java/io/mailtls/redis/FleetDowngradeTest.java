package io.mailtls.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
import io.mailtls.core.DomainName;
import io.mailtls.core.DowngradeMemory;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18: downgrade memory shared by a fleet. One sender, in its own JVM, delivers to a domain
 * over TLS (authenticated under an MTA-STS policy, or not); then the domain's MX stops offering
 * STARTTLS. Another sender, with its own {@link RedisDowngradeMemory} on the same Redis and an
 * empty local layer, which never delivered there itself, defers the domain with {@link
 * io.mailtls.core.FailureType#DOWNGRADE_DETECTED} (451 4.7.4) and sends nothing in plaintext. A
 * sender whose memory is under another key prefix (a fleet that never reached the domain) delivers
 * in plaintext, as the opportunistic level says: the shared record is what made the difference.
 * With Redis down, a domain the sender knows nothing of locally is deferred, not delivered
 * unchecked.
 */
class FleetDowngradeTest {

  private static final TestPki PKI = TestPki.create();
  private static final String DOMAIN = "example.test";
  private static final String MX = "mx1." + DOMAIN;
  private static final String RCPT = "b@" + DOMAIN;

  @Test
  void tlsSeenByOneProcessRefusesAPlaintextDeliveryInAnother(@TempDir Path tmp) throws Exception {
    MockSmtpServer first = tlsServer();
    try (RedisServerProcess redis = RedisServerProcess.start()) {
      try (TestDnsServer dns =
          TestDnsServer.builder().zone(DOMAIN, z -> z.mailHost(DOMAIN, 10, MX, first)).start()) {
        String result = runSender(tmp, redis, dns, 0, first.port());
        assertThat(result).isEqualTo("DELIVERED ENCRYPTED - 250");
        assertThat(record(redis)).containsOnlyKeys("tls");

        first.close();
        try (MockSmtpServer plain = plainServer(first.port())) {
          try (DowngradeSender.Sender second = sender(redis, dns, "fleet", plain.port())) {
            assertThat(second.memory.local().seen(DomainName.of(DOMAIN)))
                .isEqualTo(DowngradeMemory.Seen.NOTHING);
            assertThat(second.send(RCPT)).isEqualTo("DEFERRED - DOWNGRADE_DETECTED 451");
            assertThat(second.last.reply().text())
                .contains("downgrade refused")
                .contains("TLS seen");
          }
          // It connected, saw no STARTTLS and quit before MAIL.
          assertThat(plain.messages()).isEmpty();
          assertThat(plain.sessions())
              .isNotEmpty()
              .allSatisfy(s -> assertThat(s.commandLines()).noneMatch(l -> l.startsWith("MAIL")));

          try (DowngradeSender.Sender otherFleet = sender(redis, dns, "other", plain.port())) {
            assertThat(otherFleet.send(RCPT)).isEqualTo("DELIVERED PLAINTEXT - 250");
          }
          assertThat(plain.messages()).hasSize(1);
        }
      }
    } finally {
      first.close();
    }
  }

  @Test
  void authenticatedTlsSeenByOneProcessRefusesAnUnauthenticatedDeliveryInAnother(@TempDir Path tmp)
      throws Exception {
    MockSmtpServer first = tlsServer();
    MtaStsServer sts = MtaStsServer.builder().pki(PKI).start();
    try (RedisServerProcess redis = RedisServerProcess.start()) {
      sts.policy(DOMAIN, MtaStsServer.policyText("enforce", 86400, MX));
      try (TestDnsServer dns =
          TestDnsServer.builder()
              .zone(
                  DOMAIN,
                  z -> {
                    sts.publish(z, DOMAIN, "policy1");
                    z.mailHost(DOMAIN, 10, MX, first);
                  })
              .start()) {
        String result = runSender(tmp, redis, dns, sts.port(), first.port());
        assertThat(result).isEqualTo("DELIVERED VERIFIED - 250");
        assertThat(record(redis)).containsOnlyKeys("tls", "authenticated_tls");

        // The attacker strips STARTTLS and blocks the policy host: a process with no policy cached
        // (this one never fetched it) cannot fetch it now and, per RFC 8461 §5, goes on without.
        first.close();
        sts.close();
        try (MockSmtpServer plain = plainServer(first.port())) {
          try (DowngradeSender.Sender second =
              sender(redis, dns, "fleet", sts.port(), plain.port())) {
            assertThat(second.send(RCPT)).isEqualTo("DEFERRED - DOWNGRADE_DETECTED 451");
            assertThat(second.last.reply().text())
                .contains("downgrade refused")
                .contains("authenticated TLS seen");
          }
          // The host was skipped before any connection: its requirement does not authenticate.
          assertThat(plain.sessions()).isEmpty();

          try (DowngradeSender.Sender otherFleet =
              sender(redis, dns, "other", sts.port(), plain.port())) {
            assertThat(otherFleet.send(RCPT)).isEqualTo("DELIVERED PLAINTEXT - 250");
          }
          assertThat(plain.messages()).hasSize(1);
        }
      }
    } finally {
      first.close();
      sts.close();
    }
  }

  @Test
  void withRedisDownADomainNotKnownLocallyIsDeferredNotDeliveredUnchecked() throws Exception {
    try (RedisServerProcess redis = RedisServerProcess.start();
        MockSmtpServer mx = plainServer(0);
        TestDnsServer dns =
            TestDnsServer.builder().zone(DOMAIN, z -> z.mailHost(DOMAIN, 10, MX, mx)).start();
        DowngradeSender.Sender sender = sender(redis, dns, "fleet", mx.port())) {
      redis.kill();
      // Fail closed: the check cannot be made, so the domain waits (451 4.3.0).
      assertThat(sender.send(RCPT)).isEqualTo("DEFERRED - POLICY_UNAVAILABLE 451");
      assertThat(sender.last.reply().text()).contains("downgrade memory unavailable");
      assertThat(mx.sessions()).isEmpty();

      // Once Redis answers again (restarted empty: nothing seen), the domain is delivered.
      redis.restart();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
      String result;
      do {
        Thread.sleep(50);
        result = sender.send(RCPT);
      } while (!result.startsWith("DELIVERED") && System.nanoTime() < deadline);
      assertThat(result).isEqualTo("DELIVERED PLAINTEXT - 250");
      assertThat(mx.messages()).hasSize(1);
    }
  }

  private static MockSmtpServer tlsServer() throws IOException {
    return MockSmtpServer.builder()
        .address(InetAddress.getLoopbackAddress())
        .hostname(MX)
        .tls(PKI.root().leaf().dnsNames(MX).issue().serverSslContext())
        .start();
  }

  /** The host without STARTTLS on {@code port} (0: a free one). */
  private static MockSmtpServer plainServer(int port) throws IOException {
    MockSmtpServer.Builder b =
        MockSmtpServer.builder().address(InetAddress.getLoopbackAddress()).hostname(MX);
    if (port != 0) {
      b.port(port);
    }
    return b.start();
  }

  /** A sender in this JVM, without MTA-STS, its memory under {@code prefix}. */
  private static DowngradeSender.Sender sender(
      RedisServerProcess redis, TestDnsServer dns, String prefix, int smtpPort) throws Exception {
    return sender(redis, dns, prefix, 0, smtpPort);
  }

  /** A sender in this JVM, with MTA-STS unless {@code stsPort} is 0. */
  private static DowngradeSender.Sender sender(
      RedisServerProcess redis, TestDnsServer dns, String prefix, int stsPort, int smtpPort)
      throws Exception {
    return DowngradeSender.Sender.open(
        redis.port(),
        prefix,
        dns.socketAddress(),
        dns.trustAnchor(),
        PKI.trustStore(),
        stsPort,
        smtpPort,
        Duration.ofSeconds(5));
  }

  private static Map<String, String> record(RedisServerProcess redis) {
    RedisClient client = RedisClient.create(redis.uri());
    try {
      return client.connect().sync().hgetall("fleet:downgrade:v1:" + DOMAIN);
    } finally {
      client.shutdown();
    }
  }

  /** Runs {@link DowngradeSender} in a new JVM, memory under the prefix "fleet"; its last line. */
  private static String runSender(
      Path tmp, RedisServerProcess redis, TestDnsServer dns, int stsPort, int smtpPort)
      throws Exception {
    Path anchor = tmp.resolve("anchor");
    Files.writeString(anchor, dns.trustAnchor(), StandardCharsets.US_ASCII);
    Path root = tmp.resolve("root.pem");
    Files.writeString(
        root,
        "-----BEGIN CERTIFICATE-----\n"
            + Base64.getMimeEncoder().encodeToString(PKI.root().certificate().getEncoded())
            + "\n-----END CERTIFICATE-----\n",
        StandardCharsets.US_ASCII);
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(classPath());
    cmd.add(DowngradeSender.class.getName());
    cmd.addAll(
        List.of(
            Integer.toString(redis.port()),
            "fleet",
            Integer.toString(dns.socketAddress().getPort()),
            anchor.toString(),
            root.toString(),
            Integer.toString(stsPort),
            Integer.toString(smtpPort),
            RCPT));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String text = new String(out, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(text).isZero();
    List<String> lines = text.strip().lines().toList();
    return lines.get(lines.size() - 1).strip();
  }

  /** This test's class path and module path, all on a class path, and its own classes. */
  private static String classPath() {
    Set<String> entries = new LinkedHashSet<>();
    for (String property : List.of("java.class.path", "jdk.module.path")) {
      String value = System.getProperty(property);
      if (value != null && !value.isBlank()) {
        entries.addAll(List.of(value.split(File.pathSeparator)));
      }
    }
    for (Class<?> c : List.of(DowngradeSender.class, RedisDowngradeMemory.class)) {
      try {
        entries.add(
            Path.of(c.getProtectionDomain().getCodeSource().getLocation().toURI()).toString());
      } catch (URISyntaxException e) {
        throw new IllegalStateException(e);
      }
    }
    return String.join(File.pathSeparator, entries);
  }
}
