package io.mailtls.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.ResourceLock;

/** The test server fails a test, it never skips one, when it cannot run a redis-server. */
class RedisServerProcessTest {

  @Test
  @ResourceLock("redis.server")
  void aMissingRedisServerFailsWithAClearMessage() {
    String before = System.getProperty("redis.server");
    System.setProperty("redis.server", "/nonexistent/redis-server");
    try {
      assertThatThrownBy(RedisServerProcess::start)
          .isInstanceOf(AssertionError.class)
          .hasMessageContaining("/nonexistent/redis-server is not an executable file");
    } finally {
      if (before == null) {
        System.clearProperty("redis.server");
      } else {
        System.setProperty("redis.server", before);
      }
    }
  }

  @Test
  void theServerAnswersOnALoopbackPortOtherThan6379AndRestartsOnIt() {
    try (RedisServerProcess redis = RedisServerProcess.start()) {
      int port = redis.port();
      assertThat(port).isNotEqualTo(6379);
      assertThat(redis.uri().getHost()).isEqualTo("127.0.0.1");
      redis.restart();
      assertThat(redis.port()).isEqualTo(port);
    }
  }
}
