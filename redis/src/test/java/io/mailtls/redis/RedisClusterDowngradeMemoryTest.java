package io.mailtls.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.lettuce.core.cluster.SlotHash;
import io.mailtls.core.DomainName;
import io.mailtls.core.DowngradeMemory;
import io.mailtls.core.TransportSecurity;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link RedisDowngradeMemory} with {@code cluster(true)} against a real three-primary Redis
 * Cluster ({@link RedisClusterGroup}): the domains' hashes spread over the three nodes' slots.
 */
class RedisClusterDowngradeMemoryTest {

  private static final Duration TIMEOUT = Duration.ofMillis(200);
  private final Instant at = Instant.now().truncatedTo(ChronoUnit.MILLIS);

  private final List<AutoCloseable> closeables = new ArrayList<>();
  private final List<DomainName> domains = new ArrayList<>();
  private RedisClusterGroup cluster;

  @BeforeEach
  void start() {
    cluster = RedisClusterGroup.start();
    closeables.add(cluster);
    for (int i = 0; i < 60; i++) {
      domains.add(DomainName.of("d" + i + ".example"));
    }
  }

  @AfterEach
  void close() throws Exception {
    Collections.reverse(closeables);
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  /** A cluster store whose only seed is node {@code seed}. */
  private RedisDowngradeMemory store(int seed) {
    RedisDowngradeMemory s =
        RedisDowngradeMemory.newBuilder(cluster.node(seed).uri())
            .cluster(true)
            .keyPrefix("test")
            .commandTimeout(TIMEOUT)
            .reconnectDelay(Duration.ofMillis(100))
            .build();
    closeables.add(s);
    return s;
  }

  private static int node(RedisDowngradeMemory s, DomainName d) {
    int slot = SlotHash.getSlot(s.key(d));
    for (int i = 0; i < 3; i++) {
      if (RedisClusterGroup.serves(i, slot)) {
        return i;
      }
    }
    throw new AssertionError("slot " + slot);
  }

  /** Raises every domain through {@code s} and waits until each node holds its domains' hashes. */
  private void raiseAll(RedisDowngradeMemory s) {
    domains.forEach(d -> s.raise(d, TransportSecurity.AUTHENTICATED_TLS, at));
    // Raises made before the store reached a node are kept and written back by later calls.
    RedisSentinelGroup.await(
        "every hash on its node",
        () -> {
          domains.forEach(s::seen);
          return domains.stream()
              .allMatch(d -> !cluster.commands(node(s, d)).hgetall(s.key(d)).isEmpty());
        });
  }

  @Test
  void raisesThroughOneNodeAreSeenThroughAnotherAndADeadNodeCostsOnlyItsSlots() {
    RedisDowngradeMemory a = store(0);
    raiseAll(a);
    int[] perNode = new int[3];
    domains.forEach(d -> perNode[node(a, d)]++);
    assertThat(perNode).doesNotContain(0);

    // Another process, seeded with another node and an empty local layer, sees them all.
    RedisDowngradeMemory b = store(1);
    RedisSentinelGroup.await(
        "b to read through every node",
        () -> {
          try {
            return domains.stream().allMatch(d -> b.seen(d).authenticatedTls().isPresent());
          } catch (RedisDowngradeMemory.RedisUnavailableException e) {
            return false; // not connected to that node yet
          }
        });
    domains.forEach(d -> assertThat(b.seen(d).authenticatedTls()).as(d.toString()).contains(at));

    cluster.node(2).kill();
    // What a process knows it keeps answering, each call bounded.
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () ->
            domains.forEach(
                d -> assertThat(b.seen(d).authenticatedTls()).as(d.toString()).contains(at)));
    // A new process sees the live nodes' domains; for the dead node's it fails closed (the
    // transport defers those domains), never "nothing seen".
    RedisDowngradeMemory c = store(1);
    DomainName onLive = domains.stream().filter(d -> node(c, d) == 0).findFirst().orElseThrow();
    RedisSentinelGroup.await(
        "c to connect",
        () -> {
          try {
            return c.seen(onLive).authenticatedTls().isPresent();
          } catch (RedisDowngradeMemory.RedisUnavailableException e) {
            return false;
          }
        });
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () ->
            domains.forEach(
                d -> {
                  if (node(c, d) == 2) {
                    assertThatThrownBy(() -> c.seen(d))
                        .as(d.toString())
                        .isInstanceOf(RedisDowngradeMemory.RedisUnavailableException.class);
                  } else {
                    DowngradeMemory.Seen seen = c.seen(d);
                    assertThat(seen.authenticatedTls()).as(d.toString()).contains(at);
                  }
                }));
  }
}
