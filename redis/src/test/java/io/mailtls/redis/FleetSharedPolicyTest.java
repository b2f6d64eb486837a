package io.mailtls.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisClient;
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
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18: two senders in separate JVMs, each a {@link io.mailtls.core.SecureSmtpTransport} with
 * its own {@link io.mailtls.mtasts.MtaStsResolver} whose store is a {@link RedisPolicyStore} on one
 * real Redis, share an MTA-STS policy (RFC 8461 §5.1): the first fetches it over HTTPS, the second
 * never fetches and still delivers as the policy requires.
 */
class FleetSharedPolicyTest {

  private static final TestPki PKI = TestPki.create();
  private static final String DOMAIN = "example.test";

  @Test
  void aPolicyFetchedByOneProcessProtectsAnotherThatNeverFetchesIt(@TempDir Path tmp)
      throws Exception {
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
              .start()) {
        Path anchor = tmp.resolve("anchor");
        Files.writeString(anchor, dns.trustAnchor(), StandardCharsets.US_ASCII);
        Path root = tmp.resolve("root.pem");
        Files.writeString(
            root,
            "-----BEGIN CERTIFICATE-----\n"
                + Base64.getMimeEncoder().encodeToString(PKI.root().certificate().getEncoded())
                + "\n-----END CERTIFICATE-----\n",
            StandardCharsets.US_ASCII);
        List<String> args =
            List.of(
                Integer.toString(redis.port()),
                Integer.toString(dns.socketAddress().getPort()),
                anchor.toString(),
                root.toString(),
                Integer.toString(sts.port()),
                Integer.toString(mx.port()),
                "b@" + DOMAIN);

        String first = runSender(args);
        assertThat(first).isEqualTo("DELIVERED VERIFIED MTA_STS policy1");
        assertThat(sts.requests(DOMAIN)).hasSize(1);

        // The policy is in Redis, under the fleet's prefix.
        RedisClient client = RedisClient.create(redis.uri());
        try {
          assertThat(client.connect().sync().get("fleet:sts:" + DOMAIN)).contains("\"policy1\"");
        } finally {
          client.shutdown();
        }

        String second = runSender(args);
        assertThat(second).isEqualTo("DELIVERED VERIFIED MTA_STS policy1");
        assertThat(sts.requests(DOMAIN)).as("the second process never fetched").hasSize(1);
        assertThat(mx.messages()).hasSize(2);
      }
    }
  }

  /** Runs {@link FleetSender} in a new JVM; its last line of output. */
  private static String runSender(List<String> args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-cp");
    cmd.add(classPath());
    cmd.add(FleetSender.class.getName());
    cmd.addAll(args);
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
    for (Class<?> c : List.of(FleetSender.class, RedisPolicyStore.class)) {
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
