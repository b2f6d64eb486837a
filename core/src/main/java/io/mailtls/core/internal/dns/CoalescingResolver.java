package io.mailtls.core.internal.dns;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;

/**
 * Sends identical concurrent queries upstream once: a query asked while the same question (name,
 * type, class, the header's RD, CD and AD bits and the EDNS flags) is in flight waits for that
 * query's response, and gets its own copy with its own message id. It sits between dnsjava's
 * validator and the upstreams, so that the lookups of one zone that start together (a domain's MX
 * and MTA-STS TXT records) fetch its DNSKEY and DS records once, not once each. Thread-safe.
 *
 * <p>The futures it returns run their dependent "async" steps that name no executor on the executor
 * of the query ({@link OnExecutor}), and so do the futures derived from them. dnsjava's validator
 * continues every validation step with {@code thenComposeAsync} and no executor; on a plain {@link
 * CompletableFuture} that is the JDK's default async pool, which with a common pool parallelism
 * below 2 (a machine or container with 2 CPUs or fewer) starts a new thread for every step ({@link
 * DnsExecutor}).
 */
final class CoalescingResolver extends ForwardingResolver {

  /** A question as this layer tells questions apart; also {@link KeyResponseCache}'s key. */
  record Key(Name name, int type, int dclass, int flags, int ednsFlags) {

    /** The key of a query that has a question. */
    static Key of(Message query) {
      Record question = Objects.requireNonNull(query.getQuestion(), "no question");
      OPTRecord opt = query.getOPT();
      int flags =
          (query.getHeader().getFlag(Flags.RD) ? 1 : 0)
              | (query.getHeader().getFlag(Flags.CD) ? 2 : 0)
              | (query.getHeader().getFlag(Flags.AD) ? 4 : 0);
      return new Key(
          question.getName(),
          question.getType(),
          question.getDClass(),
          flags,
          opt == null ? -1 : opt.getFlags());
    }
  }

  private final ConcurrentHashMap<Key, CompletableFuture<Message>> inFlight =
      new ConcurrentHashMap<>();

  CoalescingResolver(Resolver upstream) {
    super(upstream);
  }

  @Override
  public CompletionStage<Message> sendAsync(Message query, Executor executor) {
    Record question = query.getQuestion();
    if (question == null) {
      return upstream.sendAsync(query, executor);
    }
    Key key = Key.of(query);
    CompletableFuture<Message> mine = new OnExecutor<>(executor);
    CompletableFuture<Message> running = inFlight.putIfAbsent(key, mine);
    CompletableFuture<Message> shared = running == null ? mine : running;
    if (running == null) {
      CompletionStage<Message> sent;
      try {
        sent = upstream.sendAsync(query, executor);
      } catch (RuntimeException e) {
        sent = CompletableFuture.failedFuture(e);
      }
      var unused =
          sent.whenComplete(
              (response, error) -> {
                inFlight.remove(key, mine);
                if (error != null) {
                  mine.completeExceptionally(error);
                } else {
                  mine.complete(response);
                }
              });
    }
    int id = query.getHeader().getID();
    // Each caller gets a copy: the validator rewrites the responses it is given.
    return shared.thenApply(
        response -> {
          Message copy = response.clone();
          copy.getHeader().setID(id);
          return copy;
        });
  }

  /**
   * A future whose dependent steps without an executor of their own run on {@code executor}, and
   * whose dependent futures do the same (Java 9's {@link CompletableFuture#defaultExecutor()}).
   */
  static final class OnExecutor<T> extends CompletableFuture<T> {
    private final Executor executor;

    OnExecutor(Executor executor) {
      this.executor = executor;
    }

    @Override
    public Executor defaultExecutor() {
      return executor;
    }

    @Override
    public <U> CompletableFuture<U> newIncompleteFuture() {
      return new OnExecutor<>(executor);
    }
  }

  @Override
  public String toString() {
    return "Coalescing(" + upstream + ")";
  }
}
