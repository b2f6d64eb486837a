package io.mailtls.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisURI;
import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.mtasts.CachedPolicy;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A Redis with an ACL user: the store authenticates, and never shows the password. */
class RedisAuthenticationTest {

  private static final String PASSWORD = "Fleet-s3cret-0f-the-test";
  private static final DomainName DOMAIN = DomainName.of("example.com");

  private static CachedPolicy policy() {
    return CachedPolicy.fetched(
        new MtaStsPolicy("a1", MtaStsMode.ENFORCE, List.of("mx.example.com"), Duration.ofDays(1)),
        Instant.now().truncatedTo(ChronoUnit.MILLIS));
  }

  private static RedisPolicyStore store(RedisServerProcess redis, String user, String password) {
    RedisURI uri =
        RedisURI.builder()
            .withHost("127.0.0.1")
            .withPort(redis.port())
            .withAuthentication(user, password.toCharArray())
            .build();
    return RedisPolicyStore.newBuilder(uri)
        .keyPrefix("acl")
        .commandTimeout(Duration.ofSeconds(5))
        .build();
  }

  @Test
  void anAclUserWithAPasswordReadsAndWritesItsKeys() {
    try (RedisServerProcess redis =
            RedisServerProcess.start(
                // no default user; "fleet" may only touch its prefix's keys
                "--user",
                "default",
                "off",
                "--user",
                "fleet",
                "on",
                ">" + PASSWORD,
                "~acl:*",
                "+@all");
        RedisPolicyStore a = store(redis, "fleet", PASSWORD);
        RedisPolicyStore b = store(redis, "fleet", PASSWORD)) {
      CachedPolicy entry = policy();
      a.put(DOMAIN, entry);
      assertThat(b.get(DOMAIN)).contains(entry);
      assertThat(a.toString())
          .contains("127.0.0.1")
          .doesNotContain(PASSWORD)
          .doesNotContain("fleet@");
    }
  }

  @Test
  void aWrongPasswordLeavesTheStoreWorkingLocallyAndUnshared() {
    try (RedisServerProcess redis =
            RedisServerProcess.start(
                "--user",
                "default",
                "off",
                "--user",
                "fleet",
                "on",
                ">" + PASSWORD,
                "~acl:*",
                "+@all");
        RedisPolicyStore wrong = store(redis, "fleet", "not-the-password");
        RedisPolicyStore right = store(redis, "fleet", PASSWORD)) {
      CachedPolicy entry = policy();
      wrong.put(DOMAIN, entry); // refused by Redis: no exception, kept locally
      assertThat(wrong.get(DOMAIN)).contains(entry);
      assertThat(right.get(DOMAIN)).isEmpty();
      assertThat(wrong.toString()).doesNotContain("not-the-password");
    }
  }
}
