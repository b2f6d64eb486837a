package io.mailtls.redis;

import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.IntStream;

/**
 * A real three-primary Redis Cluster for the tests: three {@link RedisServerProcess}es on 127.0.0.1
 * with {@code --cluster-enabled yes}, the 16384 hash slots split in three ({@code CLUSTER
 * ADDSLOTS}) and the nodes joined ({@code CLUSTER MEET}). No replicas; {@code
 * cluster-require-full-coverage no}, so the other nodes go on serving their slots when one dies.
 */
final class RedisClusterGroup implements AutoCloseable {

  private final List<RedisServerProcess> nodes = new ArrayList<>();
  private final RedisClient inspector = RedisClient.create();

  private RedisClusterGroup() {
    for (int i = 0; i < 3; i++) {
      nodes.add(
          RedisServerProcess.start(
              "--cluster-enabled", "yes",
              "--cluster-config-file", "nodes.conf",
              "--cluster-node-timeout", "2000",
              "--cluster-require-full-coverage", "no"));
    }
  }

  static RedisClusterGroup start() {
    RedisClusterGroup g = new RedisClusterGroup();
    try {
      for (int i = 0; i < 3; i++) {
        int from = i * 16384 / 3;
        int to = (i + 1) * 16384 / 3;
        g.commands(i).clusterAddSlots(IntStream.range(from, to).toArray());
      }
      RedisCommands<String, String> first = g.commands(0);
      for (int i = 1; i < 3; i++) {
        first.clusterMeet("127.0.0.1", g.nodes.get(i).port());
      }
      for (int i = 0; i < 3; i++) {
        RedisCommands<String, String> c = g.commands(i);
        RedisSentinelGroup.await(
            "cluster node " + i + " to see the whole cluster",
            () -> {
              String info = c.clusterInfo();
              return info.contains("cluster_state:ok")
                  && info.contains("cluster_known_nodes:3")
                  && info.contains("cluster_slots_ok:16384");
            });
      }
      return g;
    } catch (RuntimeException | Error e) {
      g.close();
      throw e;
    }
  }

  RedisServerProcess node(int i) {
    return nodes.get(i);
  }

  /** The slots node {@code i} serves: from {@code i * 16384 / 3} up to the next node's first. */
  static boolean serves(int i, int slot) {
    return slot >= i * 16384 / 3 && slot < (i + 1) * 16384 / 3;
  }

  /** A direct connection to node {@code i}, for the test to inspect its own slots. */
  RedisCommands<String, String> commands(int i) {
    return inspector
        .connect(
            RedisURI.builder()
                .withHost("127.0.0.1")
                .withPort(nodes.get(i).port())
                .withTimeout(Duration.ofSeconds(5))
                .build())
        .sync();
  }

  @Override
  public void close() {
    inspector.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    for (RedisServerProcess n : nodes) {
      n.close();
    }
  }
}
