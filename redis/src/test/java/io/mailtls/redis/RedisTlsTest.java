package io.mailtls.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.mtasts.CachedPolicy;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code rediss://}: a real redis-server with TLS, its certificate from a private test CA. */
class RedisTlsTest {

  private static final DomainName DOMAIN = DomainName.of("example.com");

  @Test
  void aPolicyTravelsOverTlsVerifiedAgainstTheConfiguredCa(@TempDir Path tmp) throws Exception {
    try (TlsRedis redis = TlsRedis.start(tmp)) {
      int tlsPort = redis.tlsPort();
      RedisURI uri = redis.uri();
      CachedPolicy entry =
          CachedPolicy.fetched(
              new MtaStsPolicy(
                  "t1", MtaStsMode.ENFORCE, List.of("mx.example.com"), Duration.ofDays(1)),
              Instant.now().truncatedTo(ChronoUnit.MILLIS));
      SslOptions trustTheTestCa = TlsRedis.TRUST_THE_TEST_CA;
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
