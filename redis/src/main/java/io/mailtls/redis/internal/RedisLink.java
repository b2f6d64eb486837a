package io.mailtls.redis.internal;

import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisNoScriptException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.SocketOptions;
import io.lettuce.core.SslOptions;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.cluster.models.partitions.RedisClusterNode;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.resource.ClientResources;
import io.lettuce.core.resource.DefaultClientResources;
import io.lettuce.core.resource.Delay;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One Lettuce connection to Redis whose every call is bounded in time and never throws: a call that
 * cannot finish within the command timeout (Redis down, slow, not yet connected) reports {@link
 * Unavailable} and the caller falls back to its local layer.
 *
 * <p>Connecting: the first call connects; a failed connection is tried again by a later call, not
 * sooner than the reconnect delay after the last attempt. Once connected, Lettuce reconnects in the
 * background by itself (its reconnect delay is bounded by the same delay) and, while disconnected,
 * rejects commands at once instead of queueing them, so nothing waits on a dead server.
 *
 * <p>The URI may carry credentials: it is never logged nor printed; {@link #toString()} names the
 * host and port only.
 */
public final class RedisLink implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(RedisLink.class);

  /** A Redis call that did not complete: down, slow, refused or failed. */
  public static final class Unavailable extends Exception {
    private static final long serialVersionUID = 1L;

    Unavailable(String message, @Nullable Throwable cause) {
      super(message, cause, false, false);
    }

    /**
     * Whether Redis answered, with WRONGTYPE: the key holds another type than the command's, left
     * there by another tool. Redis is up; the key holds nothing of mailtls's.
     */
    public boolean wrongType() {
      Throwable cause = getCause();
      return cause instanceof io.lettuce.core.RedisCommandExecutionException
          && String.valueOf(cause.getMessage()).startsWith("WRONGTYPE");
    }
  }

  private final RedisURI uri;
  private final String endpoint;
  private final Duration commandTimeout;
  private final long reconnectDelayNanos;
  private final ClientResources resources;
  private final AbstractRedisClient client; // a RedisClient, or a RedisClusterClient
  private final Object connectLock = new Object();
  private final AtomicBoolean degraded = new AtomicBoolean(false);
  private volatile @Nullable CompletableFuture<StatefulConnection<String, String>> connection;
  private volatile long lastAttempt;
  private volatile boolean closed;

  public RedisLink(RedisURI uri, Duration commandTimeout, Duration reconnectDelay) {
    this(uri, commandTimeout, reconnectDelay, null);
  }

  /** As the other constructor, with the TLS options of a {@code rediss://} URI (null: defaults). */
  public RedisLink(
      RedisURI uri,
      Duration commandTimeout,
      Duration reconnectDelay,
      @Nullable SslOptions sslOptions) {
    this(uri, false, commandTimeout, reconnectDelay, sslOptions);
  }

  /**
   * As the other constructors; with {@code cluster}, {@code uri} names one node of a Redis Cluster
   * (the others are learned from it) and each key goes to the node serving its slot.
   */
  public RedisLink(
      RedisURI uri,
      boolean cluster,
      Duration commandTimeout,
      Duration reconnectDelay,
      @Nullable SslOptions sslOptions) {
    this.uri = Objects.requireNonNull(uri, "uri");
    this.endpoint = (cluster ? "cluster " : "") + endpoint(uri);
    this.commandTimeout = commandTimeout;
    this.reconnectDelayNanos = reconnectDelay.toNanos();
    this.resources =
        DefaultClientResources.builder()
            .ioThreadPoolSize(2)
            .computationThreadPoolSize(2)
            .reconnectDelay(
                Delay.exponential(Duration.ofMillis(10), reconnectDelay, 2, TimeUnit.MILLISECONDS))
            .build();
    if (cluster) {
      RedisClusterClient c = RedisClusterClient.create(resources, uri);
      ClusterClientOptions.Builder options =
          ClusterClientOptions.builder()
              .autoReconnect(true)
              .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
              .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
              // Lettuce 7's default topology refresh follows MOVED/ASK and reconnects.
              .socketOptions(SocketOptions.builder().connectTimeout(commandTimeout).build());
      if (sslOptions != null) {
        options.sslOptions(sslOptions);
      }
      c.setOptions(options.build());
      this.client = c;
      return;
    }
    RedisClient c = RedisClient.create(resources, uri);
    ClientOptions.Builder options =
        ClientOptions.builder()
            .autoReconnect(true)
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .timeoutOptions(TimeoutOptions.enabled(commandTimeout))
            .socketOptions(SocketOptions.builder().connectTimeout(commandTimeout).build());
    if (sslOptions != null) {
      options.sslOptions(sslOptions);
    }
    c.setOptions(options.build());
    this.client = c;
  }

  private static RedisClusterAsyncCommands<String, String> async(
      StatefulConnection<String, String> c) {
    if (c instanceof StatefulRedisClusterConnection<String, String> cluster) {
      return cluster.async();
    }
    return ((StatefulRedisConnection<String, String>) c).async();
  }

  /**
   * {@code host:port}, the sentinels and the master's name, or the socket path: never the
   * credentials.
   */
  private static String endpoint(RedisURI uri) {
    if (uri.getSocket() != null) {
      return uri.getSocket();
    }
    if (uri.getSentinelMasterId() != null && !uri.getSentinels().isEmpty()) {
      StringBuilder s = new StringBuilder(uri.isSsl() ? "rediss-sentinel://" : "redis-sentinel://");
      for (RedisURI sentinel : uri.getSentinels()) {
        s.append(s.charAt(s.length() - 1) == '/' ? "" : ",");
        s.append(sentinel.getHost()).append(':').append(sentinel.getPort());
      }
      return s.append('#').append(uri.getSentinelMasterId()).toString();
    }
    return (uri.isSsl() ? "rediss://" : "redis://") + uri.getHost() + ":" + uri.getPort();
  }

  /** The value of a string key, or null when it does not exist. */
  public @Nullable String getBounded(String key, int maxOctets) throws Unavailable {
    long deadline = System.nanoTime() + commandTimeout.toNanos();
    StatefulConnection<String, String> c = connection(deadline);
    // GETRANGE reads at most maxOctets + 1 octets, however large the value: a longer answer says
    // "too large" without the rest ever crossing the network. It answers "" for a missing key.
    String value = await(async(c).getrange(key, 0, maxOctets).toCompletableFuture(), deadline);
    answered();
    return value == null || value.isEmpty() ? null : value;
  }

  /**
   * Runs a Lua script by its SHA-1 (EVALSHA), loading it with EVAL when Redis does not know it
   * (after a restart, or on a new server), and returns its integer result.
   */
  public long script(Script script, String[] keys, String... args) throws Unavailable {
    return script(System.nanoTime() + commandTimeout.toNanos(), script, keys, args);
  }

  /**
   * As {@link #script(Script, String[], String...)}, but answered by {@code deadline} (a {@link
   * System#nanoTime()} value) when that comes before the command timeout: several calls can share
   * one bound. A script that Redis ran after the deadline may still have been applied.
   */
  public long script(long deadline, Script script, String[] keys, String... args)
      throws Unavailable {
    long own = System.nanoTime() + commandTimeout.toNanos();
    if (own - deadline < 0) {
      deadline = own;
    }
    StatefulConnection<String, String> c = connection(deadline);
    Long result = await(scriptAsync(c, script, keys, args), deadline);
    if (result == null) {
      throw new Unavailable("script returned nothing", null);
    }
    answered();
    return result;
  }

  /** Any command, bounded as the others: {@code command} issues it on the connection. */
  public <T> @Nullable T call(
      java.util.function.Function<
              io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands<String, String>,
              io.lettuce.core.RedisFuture<T>>
          command)
      throws Unavailable {
    long deadline = System.nanoTime() + commandTimeout.toNanos();
    StatefulConnection<String, String> c = connection(deadline);
    T value = await(command.apply(async(c)).toCompletableFuture(), deadline);
    answered();
    return value;
  }

  /** A script that returns a list of strings, run as {@link #script} runs one. */
  public @Nullable List<String> scriptStrings(Script script, String[] keys, String... args)
      throws Unavailable {
    long deadline = System.nanoTime() + commandTimeout.toNanos();
    StatefulConnection<String, String> c = connection(deadline);
    List<String> value =
        await(
            RedisLink.<List<String>>scriptAsync(c, script, ScriptOutputType.MULTI, keys, args),
            deadline);
    answered();
    return value;
  }

  /**
   * As {@link #scriptStrings}, but sent with its source (EVAL) in one round trip, never first by
   * its SHA-1: for a rare call that must cost one command's time, also on a Redis that has not seen
   * the script yet (a read that replaced a single command).
   */
  public @Nullable List<String> evalStrings(Script script, String[] keys, String... args)
      throws Unavailable {
    long deadline = System.nanoTime() + commandTimeout.toNanos();
    StatefulConnection<String, String> c = connection(deadline);
    List<String> value =
        await(
            async(c)
                .<List<String>>eval(script.source(), ScriptOutputType.MULTI, keys, args)
                .toCompletableFuture(),
            deadline);
    answered();
    return value;
  }

  /** As {@link #script} without waiting for the result: failures are logged, never thrown. */
  public void scriptInBackground(Script script, String[] keys, String... args) {
    StatefulConnection<String, String> c;
    CompletableFuture<StatefulConnection<String, String>> f = connection;
    if (f == null || !f.isDone() || f.isCompletedExceptionally() || closed) {
      return; // not connected: the next read that finds Redis again repairs it
    }
    c = f.join();
    CompletableFuture<Long> unused =
        scriptAsync(c, script, keys, args)
            .whenComplete(
                (r, e) -> {
                  if (e != null) {
                    noteFailure(e);
                  }
                });
  }

  /**
   * As {@link #script} without waiting: its result, or a future failed with {@link Unavailable}
   * when not connected. Lettuce times the command out after the command timeout.
   */
  public CompletableFuture<Long> scriptLater(Script script, String[] keys, String... args) {
    CompletableFuture<StatefulConnection<String, String>> f = connection;
    if (f == null || !f.isDone() || f.isCompletedExceptionally() || closed) {
      return CompletableFuture.failedFuture(new Unavailable("not connected", null));
    }
    return scriptAsync(f.join(), script, keys, args)
        .whenComplete(
            (r, e) -> {
              if (e != null) {
                noteFailure(e);
              }
            });
  }

  private static CompletableFuture<Long> scriptAsync(
      StatefulConnection<String, String> c, Script script, String[] keys, String... args) {
    return scriptAsync(c, script, ScriptOutputType.INTEGER, keys, args);
  }

  private static <T> CompletableFuture<T> scriptAsync(
      StatefulConnection<String, String> c,
      Script script,
      ScriptOutputType type,
      String[] keys,
      String... args) {
    return async(c)
        .<T>evalsha(script.sha1(), type, keys, args)
        .toCompletableFuture()
        .exceptionallyCompose(
            e -> {
              Throwable cause =
                  e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
              if (cause instanceof RedisNoScriptException) {
                return async(c).<T>eval(script.source(), type, keys, args).toCompletableFuture();
              }
              return CompletableFuture.failedFuture(cause);
            });
  }

  /**
   * Starts connecting without waiting, so that the first read for a delivery finds the connection
   * made (in a new process, connecting can take longer than the command timeout).
   */
  public void connectInBackground() {
    CompletableFuture<StatefulConnection<String, String>> unused = connectionFuture();
  }

  private StatefulConnection<String, String> connection(long deadline) throws Unavailable {
    if (closed) {
      throw new Unavailable("closed", null);
    }
    return await(connectionFuture(), deadline);
  }

  private CompletableFuture<StatefulConnection<String, String>> connectionFuture() {
    CompletableFuture<StatefulConnection<String, String>> f = connection;
    if (f == null || (f.isCompletedExceptionally() && retryDue())) {
      synchronized (connectLock) {
        f = connection;
        if (f == null || (f.isCompletedExceptionally() && retryDue())) {
          lastAttempt = System.nanoTime();
          f = connect();
          connection = f;
        }
      }
    }
    return f;
  }

  private CompletableFuture<StatefulConnection<String, String>> connect() {
    if (client instanceof RedisClusterClient cluster) {
      // The slot map first: connectAsync needs it and does not load it.
      return cluster
          .refreshPartitionsAsync()
          .toCompletableFuture()
          .thenCompose(loaded -> cluster.connectAsync(StringCodec.UTF8))
          .thenCompose(RedisLink::connectPrimaries);
    }
    return ((RedisClient) client)
        .connectAsync(StringCodec.UTF8, uri)
        .toCompletableFuture()
        .<StatefulConnection<String, String>>thenApply(c -> c);
  }

  /**
   * Connects to every primary before the connection is used: Lettuce connects to a node on its
   * first command, and rejects that command while connecting (REJECT_COMMANDS), so the first read
   * of each node's keys would otherwise find "Redis down". A node that cannot be reached is left to
   * Lettuce's reconnecting; its keys are Redis trouble until it answers.
   */
  private static CompletableFuture<StatefulConnection<String, String>> connectPrimaries(
      StatefulRedisClusterConnection<String, String> c) {
    List<CompletableFuture<?>> nodes = new ArrayList<>();
    for (RedisClusterNode node : c.getPartitions()) {
      if (node.is(RedisClusterNode.NodeFlag.UPSTREAM)) {
        // By host and port: the connections keyed so are the ones commands are routed to.
        RedisURI at = node.getUri();
        nodes.add(c.getConnectionAsync(at.getHost(), at.getPort()).handle((n, e) -> null));
      }
    }
    return CompletableFuture.allOf(nodes.toArray(CompletableFuture<?>[]::new)).thenApply(v -> c);
  }

  private boolean retryDue() {
    return System.nanoTime() - lastAttempt >= reconnectDelayNanos;
  }

  private <T> T await(CompletableFuture<T> future, long deadline) throws Unavailable {
    long wait = deadline - System.nanoTime();
    try {
      return future.get(Math.max(0, wait), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new Unavailable("interrupted", e);
    } catch (ExecutionException e) {
      Throwable cause = e.getCause() != null ? e.getCause() : e;
      noteFailure(cause);
      throw new Unavailable(cause.toString(), cause);
    } catch (TimeoutException e) {
      noteFailure(e);
      throw new Unavailable("no answer within " + commandTimeout, e);
    } catch (RuntimeException e) {
      noteFailure(e);
      throw new Unavailable(e.toString(), e);
    }
  }

  private void answered() {
    if (degraded.compareAndSet(true, false)) {
      log.info("Redis {} answers again", endpoint);
    }
  }

  private void noteFailure(Throwable e) {
    if (degraded.compareAndSet(false, true)) {
      // The message of a Lettuce exception names the server, never its password.
      log.warn("Redis {} unavailable, using the local layer: {}", endpoint, e.toString());
    }
  }

  @Override
  public void close() {
    closed = true;
    CompletableFuture<StatefulConnection<String, String>> f = connection;
    if (f != null && f.isDone() && !f.isCompletedExceptionally()) {
      f.join().close();
    }
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    try {
      resources.shutdown(0, 2, TimeUnit.SECONDS).get(3, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (ExecutionException | TimeoutException e) {
      log.debug("Lettuce client resources did not shut down cleanly", e);
    }
  }

  @Override
  public String toString() {
    return endpoint;
  }

  /** A Lua script and its SHA-1, the name EVALSHA knows it by. */
  public record Script(String source, String sha1) {

    public static Script of(String source) {
      try {
        byte[] digest =
            MessageDigest.getInstance("SHA-1").digest(source.getBytes(StandardCharsets.UTF_8));
        return new Script(source, HexFormat.of().formatHex(digest));
      } catch (NoSuchAlgorithmException e) {
        throw new IllegalStateException("SHA-1 is required of every Java platform", e);
      }
    }
  }
}
