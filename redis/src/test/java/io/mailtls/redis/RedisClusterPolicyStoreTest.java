package io.mailtls.redis;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.lettuce.core.cluster.SlotHash;
import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.mtasts.CachedPolicy;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * {@link RedisPolicyStore} with {@code cluster(true)} against a real three-primary Redis Cluster
 * ({@link RedisClusterGroup}): the policies of many domains spread over the three nodes' slots.
 */
class RedisClusterPolicyStoreTest {

  private static final Duration TIMEOUT = Duration.ofMillis(200);

  private final List<AutoCloseable> closeables = new ArrayList<>();
  private RedisClusterGroup cluster;
  private final Map<DomainName, CachedPolicy> policies = new LinkedHashMap<>();

  @BeforeEach
  void start() {
    cluster = RedisClusterGroup.start();
    closeables.add(cluster);
    Instant now = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    for (int i = 0; i < 60; i++) {
      String domain = "d" + i + ".example";
      policies.put(
          DomainName.of(domain),
          CachedPolicy.fetched(
              new MtaStsPolicy(
                  "id" + i, MtaStsMode.ENFORCE, List.of("mx." + domain), Duration.ofDays(7)),
              now));
    }
  }

  @AfterEach
  void close() throws Exception {
    Collections.reverse(closeables);
    for (AutoCloseable c : closeables) {
      c.close();
    }
  }

  /** A cluster store whose only seed is node {@code i}. */
  private RedisPolicyStore store(int seed) {
    RedisPolicyStore s =
        RedisPolicyStore.newBuilder(cluster.node(seed).uri())
            .cluster(true)
            .keyPrefix("test")
            .commandTimeout(TIMEOUT)
            .reconnectDelay(Duration.ofMillis(100))
            .build();
    closeables.add(s);
    return s;
  }

  /**
   * Puts every policy once the store has connected to every node (learning the slot map and
   * connecting to a node take a moment; until then a write is kept locally only).
   */
  private void putAll(RedisPolicyStore s) {
    for (int n = 0; n < 3; n++) {
      int node = n;
      DomainName first =
          policies.keySet().stream().filter(d -> node(s, d) == node).findFirst().orElseThrow();
      RedisSentinelGroup.await(
          "the store to reach node " + node,
          () -> {
            s.put(first, policies.get(first));
            return cluster.commands(node).get(s.key(first)) != null;
          });
    }
    policies.forEach(s::put);
  }

  private static int node(RedisPolicyStore s, DomainName d) {
    int slot = SlotHash.getSlot(s.key(d));
    for (int i = 0; i < 3; i++) {
      if (RedisClusterGroup.serves(i, slot)) {
        return i;
      }
    }
    throw new AssertionError("slot " + slot);
  }

  @Test
  void policiesPutThroughOneNodeAreReadThroughAnother() {
    RedisPolicyStore a = store(0);
    putAll(a);

    // Each policy is on the node that serves its key's slot, and every node holds some.
    int[] perNode = new int[3];
    policies.forEach(
        (d, p) -> {
          int n = node(a, d);
          assertThat(cluster.commands(n).get(a.key(d))).contains("\"id\":\"" + p.policy().id());
          perNode[n]++;
        });
    assertThat(perNode).doesNotContain(0);

    // Another process, seeded with another node and an empty local layer, reads them all.
    RedisPolicyStore b = store(1);
    RedisSentinelGroup.await(
        "b to connect", () -> b.peek(policies.keySet().iterator().next()).isPresent());
    policies.forEach((d, p) -> assertThat(b.get(d)).as(d.toString()).contains(p));
  }

  @Test
  void aDeadNodeCostsOnlyItsOwnSlotsAndNoCallWaitsLong() {
    RedisPolicyStore a = store(0);
    putAll(a);
    cluster.node(2).kill();

    // The process that knows them all keeps answering them all, each call bounded (the limit
    // only catches a hang; Lettuce's own default timeout is 60 s).
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> policies.forEach((d, p) -> assertThat(a.get(d)).as(d.toString()).contains(p)));

    // A new process finds the policies of the two live nodes in Redis, and none of the dead
    // one's: "Redis down" there is not "no policy" for a process that knew it, but a new one
    // has to fetch.
    RedisPolicyStore c = store(1);
    RedisSentinelGroup.await(
        "c to connect",
        () ->
            policies.keySet().stream()
                .filter(d -> node(c, d) == 0)
                .findFirst()
                .map(d -> c.peek(d).isPresent())
                .orElseThrow());
    assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () ->
            policies.forEach(
                (d, p) -> {
                  if (node(c, d) == 2) {
                    assertThat(c.get(d)).as(d.toString()).isEmpty();
                  } else {
                    assertThat(c.get(d)).as(d.toString()).contains(p);
                  }
                }));
  }
}
