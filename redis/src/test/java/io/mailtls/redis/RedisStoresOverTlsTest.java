package io.mailtls.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import io.mailtls.core.DomainName;
import io.mailtls.core.DowngradeMemory;
import io.mailtls.core.TransportSecurity;
import io.mailtls.tlsrpt.AppliedPolicy;
import io.mailtls.tlsrpt.PolicyCounts;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The TLS-RPT stores and the downgrade memory over {@code rediss://} (as {@link RedisTlsTest} for
 * policies): a real redis-server with TLS, its certificate from a private test CA given in {@code
 * sslOptions}.
 */
class RedisStoresOverTlsTest {

  private static final LocalDate DAY = LocalDate.of(2026, 12, 5);
  private static final AppliedPolicy NONE = AppliedPolicy.noPolicy(DomainName.of("example.org"));
  private static final String REPORT = "tlsrpt/2026-12-05/example.org";

  @Test
  void countsAndClaimsTravelOverTlsVerifiedAgainstTheConfiguredCa(@TempDir Path tmp)
      throws Exception {
    try (TlsRedis redis = TlsRedis.start(tmp)) {
      int tlsPort = redis.tlsPort();
      RedisURI uri = redis.uri();
      SslOptions trustTheTestCa = TlsRedis.TRUST_THE_TEST_CA;
      try (RedisAggregateStore a =
              RedisAggregateStore.newBuilder(uri)
                  .sslOptions(trustTheTestCa)
                  .commandTimeout(Duration.ofSeconds(5))
                  .build();
          RedisAggregateStore b =
              RedisAggregateStore.newBuilder(uri)
                  .sslOptions(trustTheTestCa)
                  .commandTimeout(Duration.ofSeconds(5))
                  .build();
          RedisAggregateStore untrusting =
              RedisAggregateStore.newBuilder(uri)
                  .commandTimeout(Duration.ofSeconds(2))
                  .maxPendingMerges(5)
                  .build();
          RedisReportClaim claimA =
              RedisReportClaim.newBuilder(uri)
                  .sslOptions(trustTheTestCa)
                  .keyPrefix("tls")
                  .commandTimeout(Duration.ofSeconds(5))
                  .reconnectDelay(Duration.ofMillis(500))
                  .build();
          RedisReportClaim claimB =
              RedisReportClaim.newBuilder(uri)
                  .sslOptions(trustTheTestCa)
                  .keyPrefix("tls")
                  .commandTimeout(Duration.ofSeconds(5))
                  .build();
          RedisReportClaim untrustingClaim =
              RedisReportClaim.newBuilder(uri)
                  .keyPrefix("tls")
                  .commandTimeout(Duration.ofSeconds(2))
                  .build()) {
        a.merge(DAY, Map.of(NONE, PolicyCounts.success()));
        b.merge(DAY, Map.of(NONE, PolicyCounts.success()));
        assertThat(b.read(DAY)).containsOnly(Map.entry(NONE, new PolicyCounts(2, 0, Map.of())));
        assertThat(a.toString()).contains("rediss://127.0.0.1:" + tlsPort);

        // Without the CA the handshake fails: the counts wait in memory, never half-read.
        untrusting.merge(DAY, Map.of(NONE, PolicyCounts.success()));
        assertThat(untrusting.pendingMerges()).isEqualTo(1);
        assertThatThrownBy(() -> untrusting.read(DAY)).isInstanceOf(IOException.class);
        assertThat(b.read(DAY)).containsOnly(Map.entry(NONE, new PolicyCounts(2, 0, Map.of())));

        assertThat(untrustingClaim.tryClaim(REPORT, Duration.ofMinutes(5))).isFalse();
        assertThat(claimA.tryClaim(REPORT, Duration.ofMinutes(5))).isTrue();
        assertThat(claimB.tryClaim(REPORT, Duration.ofMinutes(5))).isFalse();
        claimA.markSettled(REPORT);
        claimA.release(REPORT);
        assertThat(claimB.isSettled(REPORT)).isTrue();
        assertThat(untrustingClaim.isSettled(REPORT)).isFalse(); // unknown, not "settled"
        assertThat(claimB.tryClaim(REPORT, Duration.ofMinutes(5)))
            .as("a settled report is not claimed again")
            .isFalse();
      }
    }
  }

  @Test
  void downgradeMemoryTravelsOverTlsAndWithoutTheCaFailsClosed(@TempDir Path tmp) throws Exception {
    DomainName domain = DomainName.of("example.org");
    Instant at = Instant.parse("2026-12-05T01:00:00Z");
    try (TlsRedis redis = TlsRedis.start(tmp);
        RedisDowngradeMemory a =
            RedisDowngradeMemory.newBuilder(redis.uri())
                .sslOptions(TlsRedis.TRUST_THE_TEST_CA)
                .commandTimeout(Duration.ofSeconds(5))
                .build();
        RedisDowngradeMemory b =
            RedisDowngradeMemory.newBuilder(redis.uri())
                .sslOptions(TlsRedis.TRUST_THE_TEST_CA)
                .commandTimeout(Duration.ofSeconds(5))
                .build();
        RedisDowngradeMemory untrusting =
            RedisDowngradeMemory.newBuilder(redis.uri())
                .commandTimeout(Duration.ofSeconds(2))
                .build()) {
      a.raise(domain, TransportSecurity.AUTHENTICATED_TLS, at);
      // b learns it from Redis, over TLS: its own local layer is empty.
      assertThat(b.local().seen(domain)).isEqualTo(DowngradeMemory.Seen.NOTHING);
      assertThat(b.seen(domain).authenticatedTls()).contains(at);
      assertThat(a.toString()).contains("127.0.0.1:" + redis.tlsPort()).doesNotContain("null");

      // Without the CA the handshake fails: a domain it does not know is never "nothing seen".
      assertThatThrownBy(() -> untrusting.seen(domain))
          .isInstanceOf(RedisDowngradeMemory.RedisUnavailableException.class);
    }
  }
}
