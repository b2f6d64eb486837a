package io.mailtls.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import io.lettuce.core.SslVerifyMode;
import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.mtasts.CachedPolicy;
import io.mailtls.testkit.TestPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rediss://}: a real redis-server with TLS, its certificate from a private test CA. */
class RedisTlsTest {

  private static final TestPki PKI = TestPki.create();
  private static final DomainName DOMAIN = DomainName.of("example.com");

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  @Test
  void aPolicyTravelsOverTlsVerifiedAgainstTheConfiguredCa(@TempDir Path tmp) throws Exception {
    TestPki.Issued server = PKI.root().leaf().dnsNames("redis.test").issue();
    Path cert = tmp.resolve("redis.crt");
    Path key = tmp.resolve("redis.key");
    Path ca = tmp.resolve("ca.crt");
    Files.writeString(cert, pem("CERTIFICATE", server.certificate().getEncoded()));
    Files.writeString(key, pem("PRIVATE KEY", server.privateKey().getEncoded()));
    Files.writeString(ca, pem("CERTIFICATE", PKI.root().certificate().getEncoded()));
    int tlsPort = RedisServerProcess.freePort();
    try (RedisServerProcess redis =
        RedisServerProcess.start(
            "--tls-port", Integer.toString(tlsPort),
            "--tls-cert-file", cert.toString(),
            "--tls-key-file", key.toString(),
            "--tls-ca-cert-file", ca.toString(),
            "--tls-auth-clients", "no")) {
      assertThat(redis.port()).isNotEqualTo(tlsPort); // plain port for the start-up PING only
      RedisURI uri =
          RedisURI.builder()
              .withHost("127.0.0.1")
              .withPort(tlsPort)
              .withSsl(true)
              // the certificate names redis.test, not 127.0.0.1: the chain is what is checked
              .withVerifyPeer(SslVerifyMode.CA)
              .build();
      CachedPolicy entry =
          CachedPolicy.fetched(
              new MtaStsPolicy(
                  "t1", MtaStsMode.ENFORCE, List.of("mx.example.com"), Duration.ofDays(1)),
              Instant.now().truncatedTo(ChronoUnit.MILLIS));
      SslOptions trustTheTestCa =
          SslOptions.builder().jdkSslProvider().trustManager(PKI.trustManagerFactory()).build();
      try (RedisPolicyStore a =
              RedisPolicyStore.newBuilder(uri)
                  .sslOptions(trustTheTestCa)
                  .commandTimeout(Duration.ofSeconds(5))
                  .build();
          RedisPolicyStore b =
              RedisPolicyStore.newBuilder(uri)
                  .sslOptions(trustTheTestCa)
                  .commandTimeout(Duration.ofSeconds(5))
                  .build();
          // Without the CA the handshake fails: the store keeps working locally, shares nothing.
          RedisPolicyStore untrusting =
              RedisPolicyStore.newBuilder(uri).commandTimeout(Duration.ofSeconds(5)).build()) {
        a.put(DOMAIN, entry);
        assertThat(b.get(DOMAIN)).contains(entry);
        assertThat(a.toString()).contains("rediss://127.0.0.1:" + tlsPort);

        untrusting.put(DOMAIN, entry);
        assertThat(untrusting.get(DOMAIN)).contains(entry);
        assertThat(untrusting.local().peek(DOMAIN)).contains(entry);
        CachedPolicy newer =
            CachedPolicy.fetched(
                new MtaStsPolicy(
                    "t2", MtaStsMode.ENFORCE, List.of("mx.example.com"), Duration.ofDays(1)),
                entry.fetchedAt().plusSeconds(1));
        untrusting.put(DOMAIN, newer);
        assertThat(b.get(DOMAIN)).contains(entry); // the untrusting store's write never arrived
      }
    }
  }
}
