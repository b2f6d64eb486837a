package io.mailtls.core;

import io.mailtls.core.internal.policy.MessageTlsOption;
import io.mailtls.core.internal.policy.MessageTlsPolicy;
import io.mailtls.core.internal.smtp.PeerText;
import io.mailtls.core.internal.smtp.SmtpReplyReader;
import io.mailtls.core.internal.smtp.TlsRequiredHeader;
import io.mailtls.core.internal.tls.TlsSupport;
import io.mailtls.core.internal.transport.ConnectionPool;
import io.mailtls.core.internal.transport.ContentFacts;
import io.mailtls.core.internal.transport.DeliverySlots;
import io.mailtls.core.internal.transport.DomainDelivery;
import io.mailtls.core.internal.transport.DowngradeGuard;
import io.mailtls.core.internal.transport.SafeListener;
import io.mailtls.core.internal.transport.SendThreads;
import io.mailtls.core.internal.transport.Watchdog;
import java.io.IOException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.random.RandomGenerator;
import javax.net.SocketFactory;
import org.jspecify.annotations.Nullable;

/**
 * Delivers mail over SMTP under the sender's TLS level and the recipients' policies (docs/design.md
 * §1). Immutable and thread-safe; build one, share it, {@link #close()} it at shutdown; {@link
 * #newBuilder()} derives a transport with some settings changed.
 *
 * <p>Blocking and asynchronous calls are named as everywhere in mailtls (docs/design.md §5): {@link
 * #send} and {@link #plan} block and return the value, {@link #sendAsync} returns a {@link
 * CompletableFuture}.
 *
 * <p>The standard set-up (module {@code mailtls-standard}) wires DNSSEC validation, MTA-STS with a
 * persistent policy cache, and DANE in one call:
 *
 * <pre>{@code
 * try (SecureSmtpTransport transport =
 *     StandardTransport.builder(Path.of("/var/lib/mailer/mailtls"))
 *         .heloName("mail.example.com")
 *         .senderPolicy(SenderPolicy.uniform(TlsLevel.OPPORTUNISTIC))
 *         .build()) {
 *   DeliveryReport report = transport.send(Envelope.of("a@example.com", "b@example.org"),
 *       MessageContent.of(Path.of("message.eml")));
 * }
 * }</pre>
 *
 * <p>Built by hand, a transport needs {@link Builder#dns}, {@link Builder#heloName}, and for each
 * recipient policy either its provider ({@link Builder#mtaSts}, {@link Builder#dane}) or an
 * explicit opt-out ({@link Builder#withoutMtaSts()}, {@link Builder#withoutDane()}), so that a
 * transport that ignores recipients' policies is a visible choice, never an accident.
 *
 * <p>Recipients are grouped by domain; each domain is planned ({@link TransportPolicyResolver}) and
 * delivered on its own, MX host after MX host, and the domains of one message at the same time, at
 * most {@link Builder#maxConcurrentDeliveries} on the transport at once (docs/design.md §1). Every
 * recipient gets exactly one result: delivered only after the server's 250 to the final dot (or
 * BDAT LAST). The content is streamed (dot-stuffed and CRLF-normalised on the fly), read once to
 * measure it and once per attempt.
 */
public final class SecureSmtpTransport implements AutoCloseable {

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(SecureSmtpTransport.class);

  /**
   * The default of {@link Builder#maxConcurrentDeliveries}: 32, eight times the default sessions
   * per destination. Enough to overlap the network waits of a message to many domains (DNS, TLS
   * handshakes, replies) while bounding the threads, sockets and TLS state one transport holds;
   * more adds little once the CPU work of DNSSEC and TLS fills the cores, and a sender that needs
   * more (Postfix runs up to 100 deliveries by default) sets it.
   */
  public static final int DEFAULT_MAX_CONCURRENT_DELIVERIES = 32;

  private final TransportPolicyResolver resolver;
  private final SenderPolicy senderPolicy;
  private final Optional<SmartHost> relay;
  private final DnsResolver dns;
  private final EventListener.Factory listeners;

  /** Downgrade memory (docs/design.md §1); {@link DowngradeGuard#OFF} unless configured. */
  private final DowngradeGuard downgrade;

  /** The ids of {@link DeliveryCall}s: the last one handed out. */
  private final AtomicLong calls = new AtomicLong();

  private final ConnectionPool pool;

  /** The last plan made for the relay under each sender level (none without a relay). */
  private final Map<TlsLevel, RelayPlan> relayPlans = new ConcurrentHashMap<>();

  /** The monotonic clock of the pool's bounds and of the {@link Timings} of results. */
  private final LongSupplier nanoTime = System::nanoTime;

  /**
   * The default reuse time limit of a session: 300 s, as Postfix's {@code
   * smtp_connection_reuse_time_limit}.
   */
  static final Duration DEFAULT_REUSE_TIME_LIMIT = Duration.ofMinutes(5);

  private final DomainDelivery.Settings deliverySettings;
  private final Executor executor;
  private final @Nullable ExecutorService ownedExecutor;

  /** Bounds the domain deliveries in progress at once, over every call on this transport. */
  private final DeliverySlots slots;

  private final Watchdog watchdog;
  private final AtomicBoolean closing = new AtomicBoolean();
  private final List<AutoCloseable> ownedResources;

  /** The settings this transport was built with, for {@link #newBuilder()}. */
  private final Builder settings;

  private SecureSmtpTransport(Builder b) {
    this.settings = new Builder(b);
    this.dns = Objects.requireNonNull(b.dns, "dns"); // build() checked it
    TransportPolicyResolver.Builder rb =
        TransportPolicyResolver.builder().dns(dns).random(b.random);
    if (b.mtaSts != null) {
      rb.mtaSts(b.mtaSts);
    } else {
      rb.withoutMtaSts();
    }
    if (b.dane != null) {
      rb.dane(b.dane);
    } else {
      rb.withoutDane();
    }
    if (b.destinationPolicies != null) {
      rb.destinationPolicies(b.destinationPolicies);
    }
    this.resolver = rb.build();
    this.ownedResources = List.copyOf(b.ownedResources);
    this.senderPolicy = b.senderPolicy;
    this.relay = Optional.ofNullable(b.relay);
    this.listeners = b.listeners;
    this.downgrade = DowngradeGuard.of(Optional.ofNullable(b.downgradeProtection));
    this.pool =
        new ConnectionPool(
            b.maxSessionsPerDestination,
            b.connectionReuse ? b.idleTime : Duration.ZERO,
            b.reuseTimeLimit,
            b.maxTransactionsPerSession,
            b.timeouts.connect().plus(b.timeouts.dataTermination()),
            nanoTime);
    // Two daemon threads per transport: one closes sockets whose writes stall (RFC 5321
    // §4.5.3.2.5) while the other may be busy expiring idle pooled connections with QUIT.
    AtomicInteger timers = new AtomicInteger();
    this.watchdog =
        new Watchdog(
            2,
            r -> {
              Thread t = new Thread(r, "mailtls-timer-" + timers.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    if (b.connectionReuse) {
      // Idle connections close on time even when their destination is never used again.
      long period = Math.min(Math.max(b.idleTime.toMillis() / 2, 50), 30_000);
      // Runs until the watchdog shuts down; expireIdle throws nothing that would end it early.
      var unused =
          watchdog.scheduleWithFixedDelay(this::expireIdle, period, period, TimeUnit.MILLISECONDS);
    }
    this.deliverySettings =
        new DomainDelivery.Settings(
            new TlsSupport(b.trustStore, b.tlsContexts, Optional.ofNullable(b.dane)),
            b.socketFactory,
            b.timeouts,
            Objects.requireNonNull(b.heloName, "heloName"),
            SmtpReplyReader.Limits.DEFAULT,
            b.port,
            b.maxAttemptsPerDomain,
            relay,
            watchdog);
    if (b.executor != null) {
      this.executor = b.executor;
      this.ownedExecutor = null;
    } else {
      this.ownedExecutor = SendThreads.create(b.maxConcurrentDeliveries);
      this.executor = ownedExecutor;
    }
    // A delivery waits for a slot at most as long as for a session in the pool: both wait for
    // sessions that each of their steps' timeouts bounds.
    this.slots =
        new DeliverySlots(
            b.maxConcurrentDeliveries,
            b.timeouts.connect().plus(b.timeouts.dataTermination()),
            watchdog);
  }

  private void expireIdle() {
    try {
      pool.expireIdle();
    } catch (RuntimeException e) {
      // A failure here must not cancel the periodic task (ScheduledExecutorService would).
      log.warn("expiring idle connections failed", e);
    }
  }

  /** The idle connections kept for reuse now, over every destination (for metrics). */
  public int pooledConnections() {
    return pool.idleCount();
  }

  /**
   * The connections in use now, over every destination: in a transaction, or being opened or closed
   * (for metrics).
   */
  public int busyConnections() {
    return pool.busyCount();
  }

  /** A builder; {@link Builder#dns(DnsResolver)} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder that starts with every setting of this transport, to build one that differs in some
   * (as OkHttp's {@code newBuilder()}): each setter may be called once, overriding the setting it
   * inherited. This transport is unchanged.
   *
   * <p>Shared with this transport: what its builder was given, which stays the caller's (the DNS
   * resolver, the sender policy, the MTA-STS source and the DANE provider, the socket factory, the
   * trust store, the TLS context factory, the listener or listener factory, the random source, the
   * relay, and the executor if one was given). Made anew, owned and closed by the derived
   * transport: what a transport makes for itself, namely its connection pool (no connection is
   * shared), its timer threads, its executor when none was given, and its call ids ({@link
   * DeliveryCall#id()} starts at 1). Resources handed over with {@link Builder#alsoClose} stay this
   * transport's: the derived one uses what it shares of them (the standard set-up's MTA-STS
   * resolver, say) and closes none, so close it before this one.
   */
  public Builder newBuilder() {
    return new Builder(settings);
  }

  /**
   * One call's listener: made by the factory when the call starts, as given (for the resolver,
   * which isolates it itself) and isolated and serialized ({@link SafeListener}).
   */
  private final class Call {
    final EventListener listener;
    final SafeListener events;

    /** The sessions of this call tell its listener: one DomainDelivery per call. */
    final DomainDelivery delivery;

    /** When the call started, on {@link #nanoTime}: where a recipient's total time starts. */
    final long startNanos = nanoTime.getAsLong();

    Call(Optional<Envelope> envelope) {
      this.listener =
          SafeListener.create(listeners, new DeliveryCall(calls.incrementAndGet(), envelope));
      this.events = new SafeListener(listener);
      this.delivery = new DomainDelivery(deliverySettings, pool, events);
    }
  }

  /**
   * Delivers one message to every recipient of the envelope and reports on each. Blocks until every
   * recipient is decided; throws only for caller mistakes, never for delivery failures. Its events
   * go to the listener made for this call ({@link Builder#eventListenerFactory}).
   */
  public DeliveryReport send(Envelope envelope, MessageContent content) {
    Objects.requireNonNull(envelope, "envelope");
    Objects.requireNonNull(content, "content");
    return send(envelope, content, new Call(Optional.of(envelope)));
  }

  private DeliveryReport send(Envelope envelope, MessageContent content, Call call) {
    Start start = start(envelope, content, call);
    if (start instanceof Done done) {
      return done.report();
    }
    Prepared p = (Prepared) start;
    List<CompletableFuture<List<RecipientResult>>> parts = new ArrayList<>();
    for (int i = 0; i < p.groups().size() - 1; i++) {
      parts.add(dispatch(slots.acquire(), p.groups().get(i), envelope, content, p, call));
    }
    // The caller delivers the last domain itself once a slot is free (waiting here is the
    // back-pressure of a blocking send): a message to one domain never changes threads.
    Group last = p.groups().get(p.groups().size() - 1);
    List<RecipientResult> lastResults =
        deliverGranted(slots.acquire().join(), last, envelope, content, p, call);
    List<List<RecipientResult>> all = new ArrayList<>();
    for (CompletableFuture<List<RecipientResult>> part : parts) {
      try {
        all.add(part.join()); // exceptional only for an Error (dispatch), which then propagates
      } catch (CompletionException e) {
        // The Error itself, as if the domain had been delivered on this thread.
        if (e.getCause() instanceof Error error) {
          throw error;
        }
        throw e;
      }
    }
    all.add(lastResults);
    return finish(envelope, inEnvelopeOrder(envelope, all), call.events);
  }

  /** How a send goes on after {@link #start}: a report already, or its domains to deliver. */
  private sealed interface Start permits Done, Prepared {}

  /** Every recipient is decided before any domain: the sender's level or the content failed. */
  private record Done(DeliveryReport report) implements Start {}

  /** The sender's level, the content's scan, and the recipients grouped by next hop. */
  private record Prepared(
      TlsLevel level, ContentFacts scan, List<Group> groups, MessageTlsOption messageTls)
      implements Start {}

  /** The recipients of one next hop, in envelope order. */
  private record Group(NextHop hop, List<EmailAddress> recipients) {}

  /**
   * Fires the call's first events, looks up the sender's level, reads the content once, and groups
   * the recipients by next hop (in the order of their first recipient).
   */
  private Start start(Envelope envelope, MessageContent content, Call call) {
    SafeListener listener = call.events;
    listener.fire(l -> l.deliveryStart(envelope));
    envelope.recipients().forEach(r -> listener.fire(l -> l.recipientStart(r)));
    TlsLevel level;
    try {
      level = senderPolicy.levelFor(envelope.senderDomain());
    } catch (SenderPolicyException e) {
      // The sender's own requirement is unknown: no default may stand in for it.
      log.warn("{}; deferring the message", e.getMessage());
      return new Done(
          finish(
              envelope,
              undeliverable(
                  envelope.recipients(),
                  Optional.empty(),
                  SmtpReply.local(
                      451,
                      "4.3.0",
                      e.getMessage() + "; deferred rather than sent at a default level"),
                  FailureType.SENDER_POLICY_UNAVAILABLE),
              listener));
    }
    ContentFacts scan;
    // RFC 8689 §4.2.2: a TLS-Required: No header field, read in the measuring pass; content that
    // describes itself is not read before sending and declares the field in its descriptor
    TlsRequiredHeader header = new TlsRequiredHeader();
    boolean declaredTlsRequiredNo;
    try {
      // The content's own descriptor, or one measuring pass (RFC 1870 SIZE, RFC 6152 8BITMIME).
      scan = ContentFacts.of(content, header);
      declaredTlsRequiredNo =
          content.descriptor().map(ContentDescriptor::tlsRequiredNo).orElse(false);
    } catch (IOException | RuntimeException e) {
      // A content that cannot be read, by an I/O error or a bug in its implementation, defers
      // every recipient: each still gets its one result and its recipientEnd.
      return new Done(
          finish(
              envelope,
              undeliverable(
                  envelope.recipients(),
                  Optional.of(level),
                  SmtpReply.local(
                      451, "4.3.0", "message content could not be read: " + e.getMessage()),
                  FailureType.LOCAL_FAILURE),
              listener));
    }
    Map<NextHop, List<EmailAddress>> groups = new LinkedHashMap<>();
    for (EmailAddress r : envelope.recipients()) {
      NextHop hop = relay.<NextHop>map(h -> new NextHop.Domain(h.host())).orElse(r.domain());
      groups.computeIfAbsent(hop, h -> new ArrayList<>()).add(r);
    }
    List<Group> list = new ArrayList<>();
    groups.forEach((hop, rcpts) -> list.add(new Group(hop, List.copyOf(rcpts))));
    // RFC 8689 §4.1: REQUIRETLS on the envelope wins over a TLS-Required: No header field.
    MessageTlsOption messageTls =
        MessageTlsOption.of(envelope.requireTls(), header.found() || declaredTlsRequiredNo);
    return new Prepared(level, scan, list, messageTls);
  }

  /**
   * Delivers {@code group} on the executor once {@code grantLater} gives a slot. The future
   * completes with one result per recipient of the group, never exceptionally: a refused slot, a
   * rejected task or a bug defers the group's recipients.
   */
  private CompletableFuture<List<RecipientResult>> dispatch(
      CompletableFuture<DeliverySlots.Grant> grantLater,
      Group group,
      Envelope envelope,
      MessageContent content,
      Prepared p,
      Call call) {
    CompletableFuture<List<RecipientResult>> part = new CompletableFuture<>();
    // Runs here when a slot is free now, else on the thread that frees one (or that times the
    // wait out, or closes the transport): only hands the work over, never does it.
    var unused =
        grantLater.thenAccept(
            grant -> {
              if (!(grant instanceof DeliverySlots.Slot slot)) {
                part.complete(deliverGranted(grant, group, envelope, content, p, call));
                return;
              }
              try {
                executor.execute(
                    () -> {
                      try {
                        part.complete(deliverGranted(slot, group, envelope, content, p, call));
                      } catch (RuntimeException | Error e) {
                        // Only an Error gets here (deliverGranted decides on the rest): it
                        // reaches the caller as it would have on the caller's own thread.
                        part.completeExceptionally(e);
                        throw e;
                      }
                    });
              } catch (RuntimeException e) {
                // RejectedExecutionException: the executor is shut down (or full).
                slot.release();
                part.complete(
                    refused(
                        group,
                        p.level(),
                        "4.3.0",
                        "the executor refused this delivery (" + e + "); deferred"));
              } catch (Error e) {
                // An executor that cannot start a thread (OutOfMemoryError: unable to create
                // native thread): this stage would swallow the Error, leaving the slot held and
                // the part, and so the caller, waiting for ever. It reaches the caller instead.
                slot.release();
                part.completeExceptionally(e);
              }
            });
    return part;
  }

  /**
   * One domain's delivery, under the slot {@code grant} (released here), or its deferral when no
   * slot was given. Exactly one result per recipient of the group, in its order; never throws.
   */
  private List<RecipientResult> deliverGranted(
      DeliverySlots.Grant grant,
      Group group,
      Envelope envelope,
      MessageContent content,
      Prepared p,
      Call call) {
    if (grant instanceof DeliverySlots.Refused refusal) {
      // RFC 3463: 4.3.0 (other mail system status) when closed; 4.4.5, mail system congestion,
      // when no slot freed up in time. Either way the message may go later.
      return refused(group, p.level(), refusal.closed() ? "4.3.0" : "4.4.5", refusal.reason());
    }
    DeliverySlots.Slot slot = (DeliverySlots.Slot) grant;
    // Filled by deliverGroup as DomainDelivery decides: what failed after a recipient was decided
    // (recording in the downgrade memory, the RFC 8461 §5.1 re-check) never undoes its result.
    Map<EmailAddress, RecipientResult> decided = new HashMap<>();
    try {
      return deliverGroup(group, envelope, content, p, call, decided);
    } catch (Exception e) {
      // deliverGroup decides every recipient itself; this is a bug, or caller-supplied code (a
      // policy map, a downgrade memory, in Kotlin or with @SneakyThrows) that threw a checked
      // exception it did not declare: on the executor that would end the task without completing
      // the domain's part, and send() would wait for it for ever. The report stays whole.
      SafeListener.keepInterrupt(e);
      log.warn("delivery to {} failed unexpectedly", group.hop(), e);
      List<RecipientResult> out = new ArrayList<>();
      for (RecipientResult r :
          refused(
              group, p.level(), "4.3.0", PeerText.clean("delivery failed unexpectedly: " + e))) {
        out.add(decided.getOrDefault(r.recipient(), r));
      }
      return out;
    } finally {
      slot.release();
    }
  }

  /**
   * Plans one next hop and delivers to its recipients (each domain exactly as on its own).
   *
   * @param results filled with each recipient's result as it is decided (the caller's, so that a
   *     failure after a decision keeps it)
   */
  private List<RecipientResult> deliverGroup(
      Group group,
      Envelope envelope,
      MessageContent content,
      Prepared p,
      Call call,
      Map<EmailAddress, RecipientResult> results) {
    DeliveryPlan plan;
    // One read of the policy map decides all of this delivery: the plan, whether TLS-Required: No
    // applies, the downgrade memory's exemption and the re-check of RFC 8461 §5.1; a map reloaded
    // meanwhile never mixes in.
    MapRead map = readMap(group.hop());
    Optional<String> entry = operatorEntry(p.messageTls(), group.hop(), map);
    MessageTlsOption option = entry.isPresent() ? MessageTlsOption.DEFAULT : p.messageTls();
    long planStart = nanoTime.getAsLong();
    try {
      plan = plan(group.hop(), p.level(), call, option, map);
    } catch (RuntimeException e) {
      // A bug or a broken provider must not lose the report: every recipient gets a result.
      log.warn("planning delivery to {} failed", group.hop(), e);
      plan = failedPlan(group.hop(), p.level(), "planning failed: " + e);
    }
    Duration planTime = Duration.ofNanos(Math.max(0, nanoTime.getAsLong() - planStart));
    // Downgrade memory: its verdict joins the decision record and may refuse plaintext. It is
    // judged on the hosts as this message will use them (REQUIRETLS may raise one to PKIX), and
    // exempts the domain by the entry the plan was made under (the same read of the map).
    DowngradeGuard.Verdict memory = downgrade.verdict(group.hop(), map.entry());
    plan = DowngradeGuard.apply(plan, memory, option, relay.isPresent());
    if (entry.isPresent()) {
      plan = MessageTlsPolicy.operatorEntryStays(plan, entry.get());
    }
    for (RecipientResult r :
        call.delivery.deliver(
            plan,
            envelope.sender(),
            group.recipients(),
            content,
            p.scan(),
            option,
            memory.plaintextRefused(),
            envelope.dsn())) {
      results.put(r.recipient(), r);
    }
    Optional<DeliveryPlan> replanned =
        retryUnderNewPolicy(
            plan, memory, envelope, group.recipients(), content, p, results, call, map);
    List<RecipientResult> out = new ArrayList<>();
    for (EmailAddress r : group.recipients()) {
      RecipientResult decided = Objects.requireNonNull(results.get(r)); // DomainDelivery decides
      out.add(
          decided.withTimings(RecipientTimings.of(decided, planTime, call.startNanos, nanoTime)));
    }
    // What the next hop's own plans asked of each host, not what this message raised it to.
    downgrade.record(replanned.isPresent() ? List.of(plan, replanned.get()) : List.of(plan), out);
    return out;
  }

  /**
   * One read of the policy map for a next hop: its entry, or why the map failed.
   *
   * @param failure the map's exception, if it threw
   */
  private record MapRead(Optional<DestinationPolicyMap.Entry> entry, Optional<Exception> failure) {}

  /**
   * Reads the policy map once for {@code hop} (none for a transport-wide relay, which has no map).
   * A map that throws is remembered as failed: the plan then fails and the message is deferred.
   */
  private MapRead readMap(NextHop hop) {
    if (relay.isPresent()) {
      return new MapRead(Optional.empty(), Optional.empty());
    }
    try {
      return new MapRead(resolver.entryFor(hop), Optional.empty());
    } catch (Exception e) {
      // Exception: a map in Kotlin, or with @SneakyThrows, throws undeclared checked ones too.
      SafeListener.keepInterrupt(e);
      log.warn("policy map lookup for {} failed", hop, e);
      return new MapRead(Optional.empty(), Optional.of(e));
    }
  }

  /**
   * The operator's policy-map entry for {@code hop}, as {@code map} read it, when the message
   * carries {@code TLS-Required: No}: the header does not lower what the operator set for that
   * destination (docs/design.md §1, "Per message"). A map that failed counts as an entry (fail
   * closed).
   */
  private static Optional<String> operatorEntry(MessageTlsOption option, NextHop hop, MapRead map) {
    if (option != MessageTlsOption.TLS_REQUIRED_NO || !(hop instanceof NextHop.Domain)) {
      return Optional.empty();
    }
    if (map.failure().isPresent()) {
      return Optional.of("(the map failed: " + map.failure().get() + ")");
    }
    return map.entry().map(DestinationPolicyMap.Entry::toString);
  }

  /**
   * The results of every domain in the envelope's recipient order, whatever order the domains
   * finished in: each recipient exactly once.
   */
  private static List<RecipientResult> inEnvelopeOrder(
      Envelope envelope, List<List<RecipientResult>> parts) {
    Map<EmailAddress, RecipientResult> byRecipient = new HashMap<>();
    for (List<RecipientResult> part : parts) {
      for (RecipientResult r : part) {
        byRecipient.put(r.recipient(), r);
      }
    }
    List<RecipientResult> ordered = new ArrayList<>();
    for (EmailAddress r : envelope.recipients()) {
      ordered.add(Objects.requireNonNull(byRecipient.get(r))); // every group answers for all
    }
    return ordered;
  }

  /** The group's recipients deferred without a connection: no slot, or no thread, was given. */
  private static List<RecipientResult> refused(
      Group group, TlsLevel level, String status, String why) {
    return undeliverable(
        group.recipients(),
        Optional.of(level),
        SmtpReply.local(451, status, why),
        FailureType.LOCAL_FAILURE);
  }

  /**
   * RFC 8461 §5.1 step 3: when an {@code enforce} policy left recipients undelivered without any
   * server refusing them, check for a new policy id; under a changed policy, try once more. The
   * next hop's plan of that second round (before any per-message change), when there was one.
   */
  private Optional<DeliveryPlan> retryUnderNewPolicy(
      DeliveryPlan plan,
      DowngradeGuard.Verdict memory,
      Envelope envelope,
      List<EmailAddress> group,
      MessageContent content,
      Prepared prepared,
      Map<EmailAddress, RecipientResult> results,
      Call call,
      MapRead map) {
    List<EmailAddress> retry = new ArrayList<>();
    for (EmailAddress r : group) {
      RecipientResult res = Objects.requireNonNull(results.get(r)); // every recipient has one
      if (res.status() != DeliveryStatus.DEFERRED || !res.reply().locallyGenerated()) {
        continue;
      }
      // Only what policy or TLS kept from going out: never a message whose content may already
      // have reached a server (a connection lost during DATA), which would be sent twice.
      boolean policyKept =
          res.attempt().isEmpty()
              || res.attempt()
                  .flatMap(Attempt::failure)
                  .map(t -> t.tlsRptResultType().isPresent())
                  .orElse(false);
      if (policyKept) {
        retry.add(r);
      }
    }
    // The results first: they were just made, where the plan's policy may have long left the
    // CPU's caches (one of thousands of domains), and a delivered message needs no look at it.
    if (retry.isEmpty() || plan.mtaSts().map(p -> p.mode() != MtaStsMode.ENFORCE).orElse(true)) {
      return Optional.empty();
    }
    Optional<DeliveryPlan> replanned;
    try {
      // under the entry the plan was made with, not the map as it may be by now
      replanned = resolver.replanIfPolicyChangedAsync(plan, call.listener, map.entry()).join();
    } catch (Exception e) {
      // A failing policy source costs the re-check, never the results already decided; also one
      // that threw a checked exception it did not declare (Kotlin, @SneakyThrows), synchronously.
      SafeListener.keepInterrupt(e);
      log.warn("re-checking the MTA-STS policy of {} failed", plan.nextHop(), e);
      return Optional.empty();
    }
    if (replanned.isEmpty()) {
      return Optional.empty();
    }
    Optional<String> entry = operatorEntry(prepared.messageTls(), plan.nextHop(), map);
    MessageTlsOption option = entry.isPresent() ? MessageTlsOption.DEFAULT : prepared.messageTls();
    DeliveryPlan guarded = DowngradeGuard.apply(replanned.get(), memory, option, relay.isPresent());
    DeliveryPlan next =
        entry.isPresent() ? MessageTlsPolicy.operatorEntryStays(guarded, entry.get()) : guarded;
    call.events.fire(l -> l.planEnd(next));
    firePolicyFailures(next, option, call.events);
    for (RecipientResult r :
        call.delivery.deliver(
            next,
            envelope.sender(),
            retry,
            content,
            prepared.scan(),
            option,
            memory.plaintextRefused(),
            envelope.dsn())) {
      // The first round's sessions stay in the report, before the second's: every attempt made
      // for the domain (RecipientResult#attempts), each with the policy it was held under.
      List<Attempt> attempts =
          new ArrayList<>(Objects.requireNonNull(results.get(r.recipient())).attempts());
      attempts.addAll(r.attempts());
      results.put(r.recipient(), r.withAttempts(attempts));
    }
    return Optional.of(next);
  }

  /**
   * {@link #send} without blocking: the message is read and its domains delivered on the
   * transport's executor, and the future completes with the report (never exceptionally for a
   * delivery failure). The call's listener is made here, on the calling thread. When the transport
   * is at its limit of deliveries at once ({@link Builder#maxConcurrentDeliveries}), domains wait
   * for a slot without holding a thread, and the future completes later; once the transport is
   * closed, it completes with every recipient deferred.
   *
   * <p>The future completes on a thread of the transport's executor: a stage that calls the
   * blocking {@link #send} should run elsewhere ({@code thenApplyAsync} with an executor of your
   * own), since with the default pool of platform threads, enough such blocked threads would leave
   * none for the domains they wait for.
   */
  public CompletableFuture<DeliveryReport> sendAsync(Envelope envelope, MessageContent content) {
    Objects.requireNonNull(envelope, "envelope");
    Objects.requireNonNull(content, "content");
    Call call = new Call(Optional.of(envelope));
    CompletableFuture<DeliveryReport> result = new CompletableFuture<>();
    try {
      executor.execute(() -> sendAsync(envelope, content, call, result));
    } catch (RuntimeException e) {
      // RejectedExecutionException: the transport is closed (its own executor is shut down) or
      // the caller's executor is full. A result, not an exception to parse.
      String why =
          closing.get()
              ? "the transport was closed before this message was taken; deferred"
              : "the executor refused the message (" + e + "); deferred";
      SafeListener listener = call.events;
      listener.fire(l -> l.deliveryStart(envelope));
      envelope.recipients().forEach(r -> listener.fire(l -> l.recipientStart(r)));
      result.complete(
          finish(
              envelope,
              undeliverable(
                  envelope.recipients(),
                  Optional.empty(),
                  SmtpReply.local(451, "4.3.0", why),
                  FailureType.LOCAL_FAILURE),
              listener));
    }
    return result;
  }

  private void sendAsync(
      Envelope envelope,
      MessageContent content,
      Call call,
      CompletableFuture<DeliveryReport> result) {
    try {
      Start start = start(envelope, content, call);
      if (start instanceof Done done) {
        result.complete(done.report());
        return;
      }
      Prepared p = (Prepared) start;
      List<CompletableFuture<List<RecipientResult>>> parts = new ArrayList<>();
      for (int i = 0; i < p.groups().size() - 1; i++) {
        parts.add(dispatch(slots.acquire(), p.groups().get(i), envelope, content, p, call));
      }
      // The last domain stays on this thread when a slot is free now; else it waits without one.
      Group last = p.groups().get(p.groups().size() - 1);
      CompletableFuture<DeliverySlots.Grant> grant = slots.acquire();
      if (grant.isDone()) {
        parts.add(
            CompletableFuture.completedFuture(
                deliverGranted(grant.join(), last, envelope, content, p, call)));
      } else {
        parts.add(dispatch(grant, last, envelope, content, p, call));
      }
      CompletableFuture<Void> all =
          CompletableFuture.allOf(parts.toArray(new CompletableFuture<?>[0]));
      Runnable complete =
          () -> {
            try {
              List<List<RecipientResult>> done = new ArrayList<>();
              parts.forEach(part -> done.add(part.join()));
              result.complete(finish(envelope, inEnvelopeOrder(envelope, done), call.events));
            } catch (RuntimeException | Error e) {
              result.completeExceptionally(e instanceof CompletionException c ? c.getCause() : e);
            }
          };
      if (all.isDone()) {
        complete.run();
      } else {
        // Off the thread that completed the last domain, which may be the timer's or close()'s.
        var unused = all.whenComplete((v, e) -> executeOrRun(complete));
      }
    } catch (RuntimeException | Error e) {
      if (e instanceof VirtualMachineError vme) {
        throw vme;
      }
      result.completeExceptionally(e);
    }
  }

  /** Runs {@code task} on the executor, or here when the executor refuses it (closed). */
  private void executeOrRun(Runnable task) {
    try {
      executor.execute(task);
    } catch (RuntimeException | Error e) {
      // An Error too (no thread could be started): thrown here, inside a completion stage, it
      // would be swallowed and the report never completed.
      task.run();
    }
  }

  /**
   * The plan for one next hop under a sender level (what {@link #send} would follow). A call of its
   * own: the listener made for it ({@link DeliveryCall#envelope()} empty) sees planStart, the
   * lookups, planEnd and the plan's policy failures.
   */
  public DeliveryPlan plan(NextHop nextHop, TlsLevel level) {
    MapRead map = readMap(nextHop);
    DeliveryPlan plan =
        plan(nextHop, level, new Call(Optional.empty()), MessageTlsOption.DEFAULT, map);
    return DowngradeGuard.apply(plan, downgrade.verdict(nextHop, map.entry()));
  }

  /**
   * Fires the plan's policy failures as the message's plan holds them: under {@code TLS-Required:
   * No} (RFC 8689 §4.2.2) they are reported as not enforced, as {@link MessageTlsPolicy} marks them
   * in the plan the recipients' results carry.
   */
  private void firePolicyFailures(DeliveryPlan plan, MessageTlsOption option, SafeListener events) {
    List<PolicyFailure> failures =
        option == MessageTlsOption.TLS_REQUIRED_NO
            ? MessageTlsPolicy.apply(plan, option, relay.isPresent()).policyFailures()
            : plan.policyFailures();
    failures.forEach(f -> events.fire(l -> l.policyFailure(f)));
  }

  private DeliveryPlan plan(
      NextHop nextHop, TlsLevel level, Call call, MessageTlsOption option, MapRead map) {
    SafeListener listener = call.events;
    listener.fire(l -> l.planStart(nextHop, level));
    DeliveryPlan plan;
    try {
      if (map.failure().isPresent()) {
        throw new IllegalStateException(
            "the policy map failed: " + map.failure().get(), map.failure().get());
      }
      plan =
          relay.isPresent()
              ? relayPlan(relay.get(), level)
              : resolver.plan(nextHop, level, call.listener, map.entry());
    } catch (RuntimeException e) {
      // The plan still ends for the listener, with the failed plan send() goes on with.
      DeliveryPlan failed = failedPlan(nextHop, level, "planning failed: " + e);
      listener.fire(l -> l.planEnd(failed));
      throw e;
    }
    listener.fire(l -> l.planEnd(plan));
    firePolicyFailures(plan, option, listener);
    return plan;
  }

  /**
   * A relay takes everything, at its own addresses, under its own TLS requirement raised to the
   * sender's level: {@code enforced} makes TLS mandatory; {@code sts-required} and {@code
   * dane-required} concern the recipients' own MX hosts, which a relay hides, so they fail closed
   * (docs/design.md §1: nothing lowers the sender's level).
   */
  private DeliveryPlan relayPlan(SmartHost h, TlsLevel level) {
    NextHop hop = new NextHop.Domain(h.host());
    if (level == TlsLevel.STS_REQUIRED || level == TlsLevel.DANE_REQUIRED) {
      String why =
          level
              + " cannot be met through a relay: the recipients' MX hosts are the"
              + " relay's business; not delivering rather than downgrading";
      return new DeliveryPlan(
          hop,
          level,
          new MxResolution(
              hop, MxResolution.Kind.IMPLICIT_MX, List.of(), Optional.empty(), List.of()),
          List.of(),
          List.of(),
          Optional.of(
              new DeliveryPlan.Failure(
                  DeliveryStatus.DEFERRED,
                  SmtpReply.local(451, EnhancedStatus.CRYPTOGRAPHIC_FAILURE, why),
                  FailureType.POLICY_UNAVAILABLE)),
          List.of("relay " + h.host() + ":" + h.port(), notConsulted(h), why));
    }
    DnsAnswer v4 = dns.resolve(h.host(), DnsRecordType.A);
    DnsAnswer v6 = dns.resolve(h.host(), DnsRecordType.AAAA);
    // The plan is a function of the level and these two answers alone: made again only when
    // either changed (their TTLs aside), not for every message. The resolver is still asked
    // every time, so its TTLs decide when a changed address is seen.
    RelayPlan last = relayPlans.get(level);
    if (last != null && last.v4().equals(v4) && last.v6().equals(v6)) {
      return last.plan();
    }
    DeliveryPlan plan = relayPlan(h, level, v4, v6);
    relayPlans.put(level, new RelayPlan(v4, v6, plan));
    return plan;
  }

  /**
   * The line of every relay plan's decision record that says what the relay costs: mail does not
   * reach the recipients' MX hosts from here, so their MTA-STS (RFC 8461 §5) and DANE (RFC 7672 §2)
   * policies are not applied by mailtls; the relay applies them, or not. docs/design.md §1 promises
   * the record says so, as it does for a policy-map {@code relay=} and for an opt-out.
   */
  private static String notConsulted(SmartHost h) {
    return "recipients' MX hosts, MTA-STS and DANE are not consulted: relay(...) sends every"
        + " message to "
        + h.host()
        + ":"
        + h.port()
        + ", which delivers it onwards under its own policy";
  }

  /** A relay plan and the address answers it was made from. */
  private record RelayPlan(DnsAnswer v4, DnsAnswer v6, DeliveryPlan plan) {}

  private DeliveryPlan relayPlan(SmartHost h, TlsLevel level, DnsAnswer v4, DnsAnswer v6) {
    NextHop hop = new NextHop.Domain(h.host());
    TlsRequirement requirement = h.requirement();
    if (level == TlsLevel.ENFORCED && !requirement.requiresTls()) {
      requirement = new TlsRequirement.Encrypted();
    }
    List<java.net.InetAddress> addresses = new ArrayList<>();
    List<String> notUnicast = new ArrayList<>();
    for (DnsAnswer a : List.of(v4, v6)) {
      if (MxHost.failed(a)) {
        continue; // RFC 4035 §5.5: data that failed validation is never used, as for MX hosts
      }
      for (DnsRecord.Address r : a.records(DnsRecord.Address.class)) {
        if (MxHost.isUnicast(r.address())) {
          addresses.add(r.address());
        } else {
          // 0.0.0.0 would reach the local host; multicast and broadcast never a server (MxHost)
          notUnicast.add(
              "relay "
                  + h.host()
                  + ": address "
                  + r.address().getHostAddress()
                  + " not used: not a unicast address");
        }
      }
    }
    MxHost host = new MxHost(h.host(), 0, true, addresses, v4, v6);
    MxResolution mx =
        new MxResolution(
            hop,
            MxResolution.Kind.IMPLICIT_MX,
            List.of(host),
            Optional.empty(),
            List.of("relay " + h.host() + ":" + h.port()));
    List<String> reasons = new ArrayList<>();
    reasons.add(
        "relay "
            + h.host()
            + ":"
            + h.port()
            + (h.implicitTls() ? " with implicit TLS" : " with STARTTLS"));
    reasons.add("relay requirement " + requirement.getClass().getSimpleName());
    reasons.add(notConsulted(h));
    reasons.addAll(notUnicast);
    List<DnsAnswer> failed = new ArrayList<>();
    for (DnsAnswer a : List.of(v4, v6)) {
      if (MxHost.failed(a)) {
        failed.add(a);
      }
    }
    if (!addresses.isEmpty()) {
      // One family failed (SERVFAIL, timeout, bogus: RFC 4035 §5.5) and the other gave addresses:
      // the relay is reached over that one, as an MX host is, and the record says so. The relay's
      // requirement is the operator's (PKIX, pins, given TLSA records), none of it taken from the
      // DNS, so nothing else changes.
      for (DnsAnswer a : failed) {
        reasons.add(
            "relay "
                + h.host()
                + ": "
                + a.type()
                + " lookup failed ("
                + a
                + "); only the addresses of the other family are used");
      }
    }
    if (addresses.isEmpty()) {
      // Deferred: addresses that are no server's only (0.0.0.0, ...), or a failed lookup.
      SmtpReply reply =
          notUnicast.isEmpty()
              ? SmtpReply.local(
                  451,
                  EnhancedStatus.DIRECTORY_SERVER_FAILURE,
                  "relay address lookup failed: "
                      + (failed.isEmpty() ? List.of(v4, v6) : failed)
                          .stream()
                              .map(DnsAnswer::toString)
                              .collect(java.util.stream.Collectors.joining("; ")))
              : SmtpReply.local(
                  451,
                  EnhancedStatus.UNABLE_TO_ROUTE.withStatusClass(4),
                  "relay " + h.host() + " has no unicast address");
      FailureType type =
          notUnicast.isEmpty() ? FailureType.DNS_FAILURE : FailureType.CONNECTION_FAILED;
      return new DeliveryPlan(
          hop,
          level,
          mx,
          List.of(),
          List.of(),
          Optional.of(new DeliveryPlan.Failure(DeliveryStatus.DEFERRED, reply, type)),
          reasons);
    }
    return new DeliveryPlan(
        hop,
        level,
        mx,
        List.of(
            new PlannedHost(
                Optional.of(h.host()), addresses, requirement, PolicySource.SENDER, "relay")),
        List.of(),
        Optional.empty(),
        reasons);
  }

  private static DeliveryPlan failedPlan(NextHop hop, TlsLevel level, String why) {
    return new DeliveryPlan(
        hop,
        level,
        new MxResolution(
            hop, MxResolution.Kind.NOT_RESOLVED, List.of(), Optional.empty(), List.of()),
        List.of(),
        List.of(),
        Optional.of(
            new DeliveryPlan.Failure(
                DeliveryStatus.DEFERRED,
                SmtpReply.local(451, "4.3.0", why),
                FailureType.POLICY_UNAVAILABLE)),
        List.of(why));
  }

  /** {@code recipients} deferred before any planning or connection. */
  private static List<RecipientResult> undeliverable(
      List<EmailAddress> recipients, Optional<TlsLevel> level, SmtpReply reply, FailureType type) {
    List<RecipientResult> out = new ArrayList<>();
    for (EmailAddress r : recipients) {
      DeliveryPlan plan =
          new DeliveryPlan(
              r.domain(),
              level,
              new MxResolution(
                  r.domain(),
                  MxResolution.Kind.NOT_RESOLVED,
                  List.of(),
                  Optional.empty(),
                  List.of()),
              List.of(),
              List.of(),
              Optional.of(new DeliveryPlan.Failure(DeliveryStatus.DEFERRED, reply, type)),
              List.of(reply.text()),
              List.of(),
              Optional.empty());
      out.add(
          new RecipientResult(
              r, DeliveryStatus.DEFERRED, reply, Optional.empty(), plan, List.of()));
    }
    return out;
  }

  private static DeliveryReport finish(
      Envelope envelope, List<RecipientResult> results, SafeListener listener) {
    // RFC 3461 §5.2.2: a request that reached no DSN server for a recipient was not passed on.
    if (envelope.dsn().isPresent()) {
      results =
          results.stream()
              .map(r -> r.dsn() == DsnHandling.PASSED_ON ? r : r.withDsn(DsnHandling.NOT_PASSED_ON))
              .toList();
    }
    DeliveryReport report = new DeliveryReport(results);
    results.forEach(r -> listener.fire(l -> l.recipientEnd(r)));
    listener.fire(l -> l.deliveryEnd(envelope, report));
    return report;
  }

  /**
   * Closes the transport. Domains still waiting for a delivery slot, and every later call, are
   * deferred (451 4.3.0, "the transport was closed"): their {@link #send} returns and their {@link
   * #sendAsync} completes with that result. Idle pooled connections are closed with QUIT (RFC 5321
   * §4.1.1.10), sent to all of them at once; their replies are awaited together for at most 5 s,
   * however many there are, and a connection whose server has not answered by then is closed
   * unanswered (RFC 5321 §3.8), so servers that stopped answering hold close() up for 5 s at most.
   *
   * <p>Sessions under way go on to their end, with every time bound still enforced, and end with
   * QUIT instead of going back to the pool: a transaction under way is reported as the server
   * answers it, so a message the server accepted is never reported deferred (and sent twice). They
   * open no new connection: a delivery whose session ends without a result is deferred ("the
   * transport was closed") rather than tried at another host. Once the last delivery under way has
   * ended (at once, when none is), the transport's timer threads and own executor stop and the
   * resources handed over with {@link Builder#alsoClose} are closed, on the thread that ends it.
   */
  @Override
  public void close() {
    if (!closing.compareAndSet(false, true)) {
      return; // closed before, or closing: nothing is closed twice
    }
    pool.close();
    slots.closeThen(this::closeWhenDrained);
  }

  /** What the deliveries under way needed until they ended. */
  private void closeWhenDrained() {
    watchdog.shutdownNow();
    if (ownedExecutor != null) {
      ownedExecutor.shutdown();
    }
    for (AutoCloseable r : ownedResources) {
      try {
        r.close();
      } catch (Exception e) {
        log.warn("closing {} failed", r, e);
      }
    }
  }

  /**
   * Configures a {@link SecureSmtpTransport}. Each setter may be called once, also in a builder
   * from {@link SecureSmtpTransport#newBuilder()}, where it overrides the inherited setting. Not
   * thread-safe.
   */
  public static final class Builder {
    private @Nullable DnsResolver dns;
    private SenderPolicy senderPolicy = SenderPolicy.uniform(TlsLevel.OPPORTUNISTIC);
    private @Nullable String heloName;
    private int port = 25;
    private SmtpTimeouts timeouts = SmtpTimeouts.RFC_5321;
    private SocketFactory socketFactory = SocketFactory.getDefault();
    private @Nullable KeyStore trustStore;
    private TlsContextFactory tlsContexts = TlsContextFactory.JDK;
    private EventListener.Factory listeners = call -> EventListener.NONE;
    private @Nullable Executor executor;
    private RandomGenerator random = new Random();
    private @Nullable SmartHost relay;
    private @Nullable DestinationPolicyMap destinationPolicies;
    private @Nullable MtaStsPolicySource mtaSts;
    private @Nullable DaneProvider dane;
    private final List<AutoCloseable> ownedResources = new ArrayList<>();
    private int maxSessionsPerDestination = 4;
    private Duration idleTime = Duration.ofSeconds(5);
    private Duration reuseTimeLimit = DEFAULT_REUSE_TIME_LIMIT;
    private int maxTransactionsPerSession = Integer.MAX_VALUE;
    private boolean connectionReuse = true;
    private int maxAttemptsPerDomain = 5;
    private int maxConcurrentDeliveries = DEFAULT_MAX_CONCURRENT_DELIVERIES;
    private @Nullable DowngradeProtection downgradeProtection;
    private boolean mtaStsChosen;
    private boolean daneChosen;
    private final java.util.Set<String> called = new java.util.HashSet<>();

    private Builder() {}

    /**
     * A builder with {@code from}'s settings, none of them set in this builder yet, and no resource
     * to close ({@link SecureSmtpTransport#newBuilder()}).
     */
    private Builder(Builder from) {
      this.dns = from.dns;
      this.senderPolicy = from.senderPolicy;
      this.heloName = from.heloName;
      this.port = from.port;
      this.timeouts = from.timeouts;
      this.socketFactory = from.socketFactory;
      this.trustStore = from.trustStore;
      this.tlsContexts = from.tlsContexts;
      this.listeners = from.listeners;
      this.executor = from.executor;
      this.random = from.random;
      this.relay = from.relay;
      this.destinationPolicies = from.destinationPolicies;
      this.mtaSts = from.mtaSts;
      this.dane = from.dane;
      this.maxSessionsPerDestination = from.maxSessionsPerDestination;
      this.idleTime = from.idleTime;
      this.reuseTimeLimit = from.reuseTimeLimit;
      this.maxTransactionsPerSession = from.maxTransactionsPerSession;
      this.connectionReuse = from.connectionReuse;
      this.maxAttemptsPerDomain = from.maxAttemptsPerDomain;
      this.maxConcurrentDeliveries = from.maxConcurrentDeliveries;
      this.downgradeProtection = from.downgradeProtection;
      this.mtaStsChosen = from.mtaStsChosen;
      this.daneChosen = from.daneChosen;
    }

    private void once(String name) {
      if (!called.add(name)) {
        throw new IllegalStateException(name + " already set");
      }
    }

    /** The DNS resolver for MX, address and policy lookups (required). */
    public Builder dns(DnsResolver dns) {
      once("dns");
      this.dns = Objects.requireNonNull(dns, "dns");
      return this;
    }

    /** The sender's TLS level per sending domain; default opportunistic for all. */
    public Builder senderPolicy(SenderPolicy policy) {
      once("senderPolicy");
      this.senderPolicy = Objects.requireNonNull(policy, "policy");
      return this;
    }

    /**
     * The EHLO name (required): this host's fully qualified domain name (RFC 5321 §4.1.1.1). Many
     * receivers refuse mail from a client that says {@code localhost} or a bare host name.
     *
     * @throws IllegalArgumentException if {@code name} is not a fully qualified host name ({@link
     *     DomainName#isFullyQualifiedHostName()})
     */
    public Builder heloName(String name) {
      once("heloName");
      DomainName d = DomainName.of(name);
      if (!d.isFullyQualifiedHostName()) {
        throw new IllegalArgumentException(
            "the EHLO name must be this host's fully qualified"
                + " domain name (RFC 5321 §4.1.1.1), not \""
                + name
                + "\"");
      }
      this.heloName = d.toString();
      return this;
    }

    /**
     * The SMTP port of MX hosts; default 25. Tests and tools may point it elsewhere. It does not
     * change the service that DANE looks up: TLSA records are still read at {@code _25._tcp} (RFC
     * 7672 §2.2), unlike a policy-map relay's explicit port ({@code relay=HOST:PORT}), whose
     * records are read at {@code _PORT._tcp} (RFC 6698 §3).
     */
    public Builder port(int port) {
      once("port");
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("port out of range: " + port);
      }
      this.port = port;
      return this;
    }

    /** Time bounds per session step; default {@link SmtpTimeouts#RFC_5321}. */
    public Builder timeouts(SmtpTimeouts timeouts) {
      once("timeouts");
      this.timeouts = Objects.requireNonNull(timeouts, "timeouts");
      return this;
    }

    /** Creates the TCP sockets; default {@link SocketFactory#getDefault()}. */
    public Builder socketFactory(SocketFactory factory) {
      once("socketFactory");
      this.socketFactory = Objects.requireNonNull(factory, "factory");
      return this;
    }

    /** The roots for PKIX verification (MTA-STS, relays); default the JDK's trust store. */
    public Builder trustStore(KeyStore trustStore) {
      once("trustStore");
      this.trustStore = Objects.requireNonNull(trustStore, "trustStore");
      return this;
    }

    /**
     * Builds the TLS contexts (JSSE provider, client certificate); default {@link
     * TlsContextFactory#JDK}. mailtls still chooses the trust manager of every connection.
     */
    public Builder tlsContextFactory(TlsContextFactory factory) {
      once("tlsContextFactory");
      this.tlsContexts = Objects.requireNonNull(factory, "factory");
      return this;
    }

    /**
     * Receives the events of every call, {@code eventListenerFactory(call -> listener)}: it must be
     * thread-safe, since the events of concurrent calls reach it at the same time, and must not
     * throw (if it does, delivery goes on). Default none.
     *
     * @throws IllegalStateException if a listener or a listener factory was set already
     */
    public Builder eventListener(EventListener listener) {
      listenerChosen("eventListener", "eventListenerFactory");
      Objects.requireNonNull(listener, "listener");
      this.listeners = call -> listener;
      return this;
    }

    /**
     * Makes one listener per call ({@link #send}, {@link #sendAsync}, {@link #plan}), which
     * receives every event of that call and no other: concurrent deliveries can be told apart. See
     * {@link EventListener.Factory} for when it is called, and {@link EventListener} for the
     * threads events arrive on. Default none.
     *
     * @throws IllegalStateException if a listener or a listener factory was set already
     */
    public Builder eventListenerFactory(EventListener.Factory factory) {
      listenerChosen("eventListenerFactory", "eventListener");
      this.listeners = Objects.requireNonNull(factory, "factory");
      return this;
    }

    private void listenerChosen(String name, String other) {
      if (called.contains(other)) {
        throw new IllegalStateException(
            name
                + "(...) after "
                + other
                + "(...): a transport"
                + " takes one or the other (a shared listener is the factory call -> listener)");
      }
      once(name);
    }

    /**
     * Runs {@link #sendAsync} and the domains of a message delivered at the same time (the last
     * domain of a blocking {@link #send} stays on the caller's thread). It should run each task on
     * another thread: one that runs tasks where they are submitted makes domains wait for each
     * other, and may run one call's domain on the thread of another. Default: owned and shut down
     * by the transport, a virtual thread per task on Java 24 and later, else a pool of at most
     * {@link #maxConcurrentDeliveries} daemon threads, named {@code mailtls-send-N} (docs/design.md
     * §5).
     */
    public Builder executor(Executor executor) {
      once("executor");
      this.executor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /** Orders equal-preference MX hosts; pass a seeded one for deterministic tests. */
    public Builder random(RandomGenerator random) {
      once("random");
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /**
     * Honour recipients' MTA-STS policies (RFC 8461) from this source, e.g. {@code
     * mailtls-mta-sts}'s {@code MtaStsResolver}. This or {@link #withoutMtaSts()} is required.
     */
    public Builder mtaSts(MtaStsPolicySource source) {
      once("mtaSts");
      this.mtaSts = Objects.requireNonNull(source, "source");
      this.mtaStsChosen = true;
      return this;
    }

    /**
     * Ignore recipients' MTA-STS policies: an explicit opt-out, visible in code review and in every
     * decision record. Mail to a domain with an {@code enforce} policy then goes at the sender's
     * level alone, and {@code sts-required} defers everything.
     */
    public Builder withoutMtaSts() {
      once("mtaSts");
      this.mtaSts = null;
      this.mtaStsChosen = true;
      return this;
    }

    /**
     * Honour recipients' DANE TLSA records (RFC 7672) through this provider, e.g. {@code
     * mailtls-dane}'s {@code DaneResolver}. This or {@link #withoutDane()} is required.
     */
    public Builder dane(DaneProvider provider) {
      once("dane");
      this.dane = Objects.requireNonNull(provider, "provider");
      this.daneChosen = true;
      return this;
    }

    /**
     * Ignore recipients' DANE TLSA records: an explicit opt-out, visible in code review and in
     * every decision record. {@code dane-required} then defers everything.
     */
    public Builder withoutDane() {
      once("dane");
      this.dane = null;
      this.daneChosen = true;
      return this;
    }

    /**
     * Closes {@code resource} when the transport is closed, after its own connections: for policy
     * sources and schedulers built for this transport alone (the standard set-up hands over its
     * MTA-STS resolver this way). May be called more than once; closed in call order.
     */
    public Builder alsoClose(AutoCloseable resource) {
      ownedResources.add(Objects.requireNonNull(resource, "resource"));
      return this;
    }

    /** Sends everything through a relay instead of the recipients' MX hosts. */
    public Builder relay(SmartHost relay) {
      once("relay");
      this.relay = Objects.requireNonNull(relay, "relay");
      return this;
    }

    /**
     * The operator's per-destination policies ({@link DestinationPolicyMap}, docs/design.md §1 "Per
     * destination"): a level per recipient domain, a relay, explicit overrides of a recipient's
     * broken policy. Default none. Not with a transport-wide {@link #relay}, which takes every
     * message: {@link #build()} refuses the two together.
     */
    public Builder destinationPolicies(DestinationPolicyMap map) {
      once("destinationPolicies");
      this.destinationPolicies = Objects.requireNonNull(map, "map");
      return this;
    }

    /** The most sessions open at once to one destination address; default 4. */
    public Builder maxSessionsPerDestination(int max) {
      once("maxSessionsPerDestination");
      this.maxSessionsPerDestination = max;
      return this;
    }

    /**
     * Connection reuse, limited by time as Postfix limits it ({@code
     * smtp_connection_idle_time_limit} and {@code smtp_connection_reuse_time_limit}): an idle
     * session is kept for {@code idleTime} (default 5 s; a timer closes it with QUIT soon after,
     * whether or not its destination is used again), and a session is reused for a new message only
     * while it is younger than {@code reuseTimeLimit} (default 300 s, counted from when it was
     * opened; a message already under way finishes). By default there is no cap on the number of
     * transactions per session: see {@link #maxTransactionsPerSession}.
     */
    public Builder connectionReuse(Duration idleTime, Duration reuseTimeLimit) {
      once("connectionReuse");
      this.idleTime = Objects.requireNonNull(idleTime, "idleTime");
      this.reuseTimeLimit = Objects.requireNonNull(reuseTimeLimit, "reuseTimeLimit");
      this.connectionReuse = true;
      return this;
    }

    /**
     * The most transactions (messages) one reused session carries; by default no cap: the reuse
     * time limit of {@link #connectionReuse} bounds a session, as Postfix's does (its {@code
     * smtp_connection_reuse_count_limit} is 0, no limit, by default), and a server that wants fewer
     * says 421. A cap is for a server that misbehaves after some number of messages.
     */
    public Builder maxTransactionsPerSession(int max) {
      once("maxTransactionsPerSession");
      this.maxTransactionsPerSession = max;
      return this;
    }

    /** Turns connection reuse off: one session per message. */
    public Builder noConnectionReuse() {
      once("connectionReuse");
      this.connectionReuse = false;
      return this;
    }

    /**
     * The most connection attempts (MX addresses) per domain per message; default 5. At most {@link
     * MxResolver#MAX_MX_HOSTS} MX hosts, the first in preference order, are planned.
     */
    public Builder maxAttemptsPerDomain(int max) {
      once("maxAttemptsPerDomain");
      this.maxAttemptsPerDomain = max;
      return this;
    }

    /**
     * The most domain deliveries in progress at once on this transport, over all its calls; default
     * {@value SecureSmtpTransport#DEFAULT_MAX_CONCURRENT_DELIVERIES}. The recipient domains of one
     * message are delivered at the same time, each on its own as it would be alone (its plan, MX
     * failover and results); a delivery holds its slot from planning to its last result. At the
     * limit, further domains wait for a slot, first come first served: a blocking {@link
     * SecureSmtpTransport#send} blocks, and the future of {@link SecureSmtpTransport#sendAsync}
     * completes later, without a thread held while it waits. A domain that waits longer than the
     * connect and data-termination timeouts together ({@link #timeouts}) is deferred, 451 4.4.5
     * (RFC 3463: mail system congestion), as is one still waiting when the transport is closed (451
     * 4.3.0).
     *
     * <p>Also the size of the transport's own thread pool when no {@link #executor} is given and
     * virtual threads are not used.
     */
    public Builder maxConcurrentDeliveries(int max) {
      once("maxConcurrentDeliveries");
      this.maxConcurrentDeliveries = max;
      return this;
    }

    /**
     * Turns on downgrade memory (docs/design.md §1, "Downgrade memory"); off by default. Per
     * recipient domain, the strongest security a delivery achieved within the protection's period
     * becomes a floor: a later delivery that would be weaker is deferred, 451 4.7.4 ({@link
     * FailureType#DOWNGRADE_DETECTED}), instead of going out weaker, unless the operator exempts
     * the domain. Every decision record then says what the memory decided. The store stays the
     * caller's to close ({@link #alsoClose} hands it over).
     */
    public Builder downgradeProtection(DowngradeProtection protection) {
      once("downgradeProtection");
      this.downgradeProtection = Objects.requireNonNull(protection, "protection");
      return this;
    }

    /**
     * Builds the transport.
     *
     * @throws IllegalStateException if {@link #dns} or {@link #heloName} is missing, or if, without
     *     a relay, neither a recipient policy provider nor its explicit opt-out was given for
     *     MTA-STS or for DANE (the message names the fix)
     */
    public SecureSmtpTransport build() {
      if (dns == null) {
        throw new IllegalStateException("dns is required");
      }
      if (heloName == null) {
        throw new IllegalStateException(
            "heloName(...) is required: this host's fully qualified"
                + " domain name, which receivers expect in EHLO (RFC 5321 §4.1.1.1)");
      }
      // A relay hides the recipients' MX hosts, so their policies are the relay's to apply.
      if (relay == null && !mtaStsChosen) {
        throw new IllegalStateException(
            "no MTA-STS policy source: recipients' MTA-STS policies"
                + " (RFC 8461) would be ignored. Use StandardTransport.builder(stateDirectory)"
                + " (module mailtls-standard), or .mtaSts(MtaStsResolver.builder()...build())"
                + " (module mailtls-mta-sts), or call .withoutMtaSts() to opt out explicitly");
      }
      if (relay == null && !daneChosen) {
        throw new IllegalStateException(
            "no DANE provider: recipients' DANE TLSA records"
                + " (RFC 7672) would be ignored. Use StandardTransport.builder(stateDirectory)"
                + " (module mailtls-standard), or .dane(DaneResolver.builder().dns(dns).build())"
                + " (module mailtls-dane), or call .withoutDane() to opt out explicitly");
      }
      if (relay != null && destinationPolicies != null) {
        // Every message would go to the relay and the map would never be consulted: a
        // dane-required entry would not defer as the same sender level through the relay does.
        throw new IllegalStateException(
            "relay(...) takes every message, so destinationPolicies(...) would never be"
                + " consulted: give per-destination relays as map entries (relay=HOST), or drop"
                + " one of the two");
      }
      if (maxSessionsPerDestination < 1) {
        throw new IllegalArgumentException(
            "maxSessionsPerDestination must be positive: " + maxSessionsPerDestination);
      }
      if (maxConcurrentDeliveries < 1) {
        throw new IllegalArgumentException(
            "maxConcurrentDeliveries must be positive: " + maxConcurrentDeliveries);
      }
      if (maxAttemptsPerDomain < 1) {
        throw new IllegalArgumentException(
            "maxAttemptsPerDomain must be positive: " + maxAttemptsPerDomain);
      }
      boolean badReuse =
          idleTime.isNegative() || reuseTimeLimit.isNegative() || reuseTimeLimit.isZero();
      if ((connectionReuse && badReuse) || maxTransactionsPerSession < 1) {
        throw new IllegalArgumentException("connection reuse bounds must be positive");
      }
      return new SecureSmtpTransport(this);
    }
  }
}
