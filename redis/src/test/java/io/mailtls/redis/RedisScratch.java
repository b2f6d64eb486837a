package io.mailtls.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A redis-server of one test's own, a connection to look at (or spoil) its keys, and what the test
 * opened on it, closed in reverse order after the test. A test class holds one per test as
 * {@code @RegisterExtension final RedisScratch scratch = new RedisScratch();}.
 */
final class RedisScratch implements AutoCloseable, AfterEachCallback {

  final RedisServerProcess redis;
  final RedisCommands<String, String> inspect;
  private final List<AutoCloseable> closeables = new ArrayList<>();

  RedisScratch() {
    redis = RedisServerProcess.start();
    closeables.add(redis);
    RedisClient client = RedisClient.create(redis.uri());
    closeables.add(client::shutdown);
    inspect = client.connect().sync();
  }

  /** {@code c}, closed with this scratch server, before it. */
  <T extends AutoCloseable> T closeLater(T c) {
    closeables.add(c);
    return c;
  }

  /** A TLS-RPT aggregate store on this server, under the key prefix {@code test}. */
  RedisAggregateStore aggregateStore(Duration commandTimeout) {
    return closeLater(
        RedisAggregateStore.newBuilder(redis.uri())
            .keyPrefix("test")
            .commandTimeout(commandTimeout)
            .build());
  }

  @Override
  public void afterEach(ExtensionContext context) {
    close();
  }

  /** Closes everything, in reverse order; the first failure is thrown once all are closed. */
  @Override
  public void close() {
    Collections.reverse(closeables);
    IllegalStateException failure = null;
    for (AutoCloseable c : closeables) {
      try {
        c.close();
      } catch (Exception e) {
        if (e instanceof InterruptedException) {
          Thread.currentThread().interrupt();
        }
        if (failure == null) {
          failure = new IllegalStateException("closing " + c + " failed", e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
