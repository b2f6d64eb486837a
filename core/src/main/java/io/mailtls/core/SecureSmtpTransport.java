package io.mailtls.core;

import io.mailtls.core.internal.smtp.SmtpReplyReader;
import io.mailtls.core.internal.tls.TlsSupport;
import io.mailtls.core.internal.transport.ConnectionPool;
import io.mailtls.core.internal.transport.ContentFacts;
import io.mailtls.core.internal.transport.DomainDelivery;
import io.mailtls.core.internal.transport.SafeListener;
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
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
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
 * delivered on its own, MX host after MX host. Every recipient gets exactly one result: delivered
 * only after the server's 250 to the final dot (or BDAT LAST). The content is streamed (dot-stuffed
 * and CRLF-normalised on the fly), read once to measure it and once per attempt.
 */
public final class SecureSmtpTransport implements AutoCloseable {

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(SecureSmtpTransport.class);

  private final TransportPolicyResolver resolver;
  private final SenderPolicy senderPolicy;
  private final Optional<SmartHost> relay;
  private final DnsResolver dns;
  private final EventListener.Factory listeners;

  /** The ids of {@link DeliveryCall}s: the last one handed out. */
  private final AtomicLong calls = new AtomicLong();

  private final ConnectionPool pool;

  /**
   * The default reuse time limit of a session: 300 s, as Postfix's {@code
   * smtp_connection_reuse_time_limit}.
   */
  static final Duration DEFAULT_REUSE_TIME_LIMIT = Duration.ofMinutes(5);

  private final DomainDelivery.Settings deliverySettings;
  private final Executor executor;
  private final @Nullable ExecutorService ownedExecutor;
  private final ScheduledThreadPoolExecutor watchdog;
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
    this.resolver = rb.build();
    this.ownedResources = List.copyOf(b.ownedResources);
    this.senderPolicy = b.senderPolicy;
    this.relay = Optional.ofNullable(b.relay);
    this.listeners = b.listeners;
    this.pool =
        new ConnectionPool(
            b.maxSessionsPerDestination,
            b.connectionReuse ? b.idleTime : Duration.ZERO,
            b.reuseTimeLimit,
            b.maxTransactionsPerSession,
            b.timeouts.connect().plus(b.timeouts.dataTermination()),
            System::nanoTime);
    // Two daemon threads per transport: one closes sockets whose writes stall (RFC 5321
    // §4.5.3.2.5) while the other may be busy expiring idle pooled connections with QUIT.
    AtomicInteger timers = new AtomicInteger();
    this.watchdog =
        new ScheduledThreadPoolExecutor(
            2,
            r -> {
              Thread t = new Thread(r, "mailtls-timer-" + timers.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    watchdog.setRemoveOnCancelPolicy(true);
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
      AtomicInteger n = new AtomicInteger();
      this.ownedExecutor =
          Executors.newCachedThreadPool(
              r -> {
                Thread t = new Thread(r, "mailtls-send-" + n.incrementAndGet());
                t.setDaemon(true);
                return t;
              });
      this.executor = ownedExecutor;
    }
  }

  private void expireIdle() {
    try {
      pool.expireIdle();
    } catch (RuntimeException e) {
      // A failure here must not cancel the periodic task (ScheduledExecutorService would).
      log.warn("expiring idle connections failed", e);
    }
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
   * which isolates it itself) and isolated ({@link SafeListener}).
   */
  private final class Call {
    final EventListener listener;
    final SafeListener events;

    Call(Optional<Envelope> envelope) {
      this.listener =
          SafeListener.create(listeners, new DeliveryCall(calls.incrementAndGet(), envelope));
      this.events = new SafeListener(listener);
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
    SafeListener listener = call.events;
    // The sessions of this call tell its listener: one DomainDelivery per call.
    DomainDelivery delivery = new DomainDelivery(deliverySettings, pool, listener);
    listener.fire(l -> l.deliveryStart(envelope));
    envelope.recipients().forEach(r -> listener.fire(l -> l.recipientStart(r)));
    TlsLevel level;
    try {
      level = senderPolicy.levelFor(envelope.senderDomain());
    } catch (SenderPolicyException e) {
      // The sender's own requirement is unknown: no default may stand in for it.
      log.warn("{}; deferring the message", e.getMessage());
      return finish(
          envelope,
          undeliverable(
              envelope,
              Optional.empty(),
              SmtpReply.local(
                  451, "4.3.0", e.getMessage() + "; deferred rather than sent at a default level"),
              FailureType.SENDER_POLICY_UNAVAILABLE),
          listener);
    }
    ContentFacts scan;
    try {
      // The content's own descriptor, or one measuring pass (RFC 1870 SIZE, RFC 6152 8BITMIME).
      scan = ContentFacts.of(content);
    } catch (IOException | RuntimeException e) {
      // A content that cannot be read, by an I/O error or a bug in its implementation, defers
      // every recipient: each still gets its one result and its recipientEnd.
      return finish(
          envelope,
          undeliverable(
              envelope,
              Optional.of(level),
              SmtpReply.local(451, "4.3.0", "message content could not be read: " + e.getMessage()),
              FailureType.CONNECTION_FAILED),
          listener);
    }
    Map<NextHop, List<EmailAddress>> groups = new LinkedHashMap<>();
    for (EmailAddress r : envelope.recipients()) {
      NextHop hop = relay.<NextHop>map(h -> new NextHop.Domain(h.host())).orElse(r.domain());
      groups.computeIfAbsent(hop, h -> new ArrayList<>()).add(r);
    }
    Map<EmailAddress, RecipientResult> results = new HashMap<>();
    for (Map.Entry<NextHop, List<EmailAddress>> g : groups.entrySet()) {
      DeliveryPlan plan;
      try {
        plan = plan(g.getKey(), level, call);
      } catch (RuntimeException e) {
        // A bug or a broken provider must not lose the report: every recipient gets a result.
        log.warn("planning delivery to {} failed", g.getKey(), e);
        plan = failedPlan(g.getKey(), level, "planning failed: " + e);
      }
      for (RecipientResult r :
          delivery.deliver(plan, envelope.sender(), g.getValue(), content, scan)) {
        results.put(r.recipient(), r);
      }
      retryUnderNewPolicy(plan, envelope, g.getValue(), content, scan, results, call, delivery);
    }
    List<RecipientResult> ordered = new ArrayList<>();
    for (EmailAddress r : envelope.recipients()) {
      ordered.add(results.get(r));
    }
    return finish(envelope, ordered, listener);
  }

  /**
   * RFC 8461 §5.1 step 3: when an {@code enforce} policy left recipients undelivered without any
   * server refusing them, check for a new policy id; under a changed policy, try once more.
   */
  private void retryUnderNewPolicy(
      DeliveryPlan plan,
      Envelope envelope,
      List<EmailAddress> group,
      MessageContent content,
      ContentFacts scan,
      Map<EmailAddress, RecipientResult> results,
      Call call,
      DomainDelivery delivery) {
    if (plan.mtaSts().map(p -> p.mode() != MtaStsMode.ENFORCE).orElse(true)) {
      return;
    }
    List<EmailAddress> retry = new ArrayList<>();
    for (EmailAddress r : group) {
      RecipientResult res = Objects.requireNonNull(results.get(r)); // every recipient has one
      // Only what policy or TLS kept from going out: never a message whose content may already
      // have reached a server (a connection lost during DATA), which would be sent twice.
      boolean policyKept =
          res.attempt().isEmpty()
              || res.attempt()
                  .flatMap(Attempt::failure)
                  .map(t -> t.tlsRptResultType().isPresent())
                  .orElse(false);
      if (res.status() == DeliveryStatus.DEFERRED && res.reply().locallyGenerated() && policyKept) {
        retry.add(r);
      }
    }
    if (retry.isEmpty()) {
      return;
    }
    Optional<DeliveryPlan> replanned;
    try {
      replanned = resolver.replanIfPolicyChangedAsync(plan, call.listener).join();
    } catch (RuntimeException e) {
      // A failing policy source costs the re-check, never the results already decided.
      log.warn("re-checking the MTA-STS policy of {} failed", plan.nextHop(), e);
      return;
    }
    if (replanned.isEmpty()) {
      return;
    }
    DeliveryPlan next = replanned.get();
    call.events.fire(l -> l.planEnd(next));
    next.policyFailures().forEach(f -> call.events.fire(l -> l.policyFailure(f)));
    for (RecipientResult r : delivery.deliver(next, envelope.sender(), retry, content, scan)) {
      results.put(r.recipient(), r);
    }
  }

  /**
   * {@link #send} on the transport's executor. The call's listener is made here, on the calling
   * thread, before the send is handed to the executor.
   */
  public CompletableFuture<DeliveryReport> sendAsync(Envelope envelope, MessageContent content) {
    Objects.requireNonNull(envelope, "envelope");
    Objects.requireNonNull(content, "content");
    Call call = new Call(Optional.of(envelope));
    return CompletableFuture.supplyAsync(() -> send(envelope, content, call), executor);
  }

  /**
   * The plan for one next hop under a sender level (what {@link #send} would follow). A call of its
   * own: the listener made for it ({@link DeliveryCall#envelope()} empty) sees planStart, the
   * lookups, planEnd and the plan's policy failures.
   */
  public DeliveryPlan plan(NextHop nextHop, TlsLevel level) {
    return plan(nextHop, level, new Call(Optional.empty()));
  }

  private DeliveryPlan plan(NextHop nextHop, TlsLevel level, Call call) {
    SafeListener listener = call.events;
    listener.fire(l -> l.planStart(nextHop, level));
    DeliveryPlan plan;
    try {
      plan =
          relay.isPresent()
              ? relayPlan(relay.get(), level)
              : resolver.plan(nextHop, level, call.listener);
    } catch (RuntimeException e) {
      // The plan still ends for the listener, with the failed plan send() goes on with.
      DeliveryPlan failed = failedPlan(nextHop, level, "planning failed: " + e);
      listener.fire(l -> l.planEnd(failed));
      throw e;
    }
    listener.fire(l -> l.planEnd(plan));
    plan.policyFailures().forEach(f -> listener.fire(l -> l.policyFailure(f)));
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
          List.of("relay " + h.host() + ":" + h.port(), why));
    }
    TlsRequirement requirement = h.requirement();
    if (level == TlsLevel.ENFORCED && !requirement.requiresTls()) {
      requirement = new TlsRequirement.Encrypted();
    }
    DnsAnswer v4 = dns.resolve(h.host(), DnsRecordType.A);
    DnsAnswer v6 = dns.resolve(h.host(), DnsRecordType.AAAA);
    List<java.net.InetAddress> addresses = new ArrayList<>();
    for (DnsAnswer a : List.of(v4, v6)) {
      a.records(DnsRecord.Address.class).forEach(r -> addresses.add(r.address()));
    }
    MxHost host = new MxHost(h.host(), 0, true, addresses, v4, v6);
    MxResolution mx =
        new MxResolution(
            hop,
            MxResolution.Kind.IMPLICIT_MX,
            List.of(host),
            Optional.empty(),
            List.of("relay " + h.host() + ":" + h.port()));
    List<String> reasons =
        List.of(
            "relay "
                + h.host()
                + ":"
                + h.port()
                + (h.implicitTls() ? " with implicit TLS" : " with STARTTLS"),
            "relay requirement " + requirement.getClass().getSimpleName());
    if (addresses.isEmpty()) {
      return new DeliveryPlan(
          hop,
          level,
          mx,
          List.of(),
          List.of(),
          Optional.of(
              new DeliveryPlan.Failure(
                  DeliveryStatus.DEFERRED,
                  SmtpReply.local(
                      451,
                      EnhancedStatus.DIRECTORY_SERVER_FAILURE,
                      "relay address lookup failed: " + v4),
                  FailureType.DNS_FAILURE)),
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
            hop, MxResolution.Kind.TEMPORARY_FAILURE, List.of(), Optional.empty(), List.of()),
        List.of(),
        List.of(),
        Optional.of(
            new DeliveryPlan.Failure(
                DeliveryStatus.DEFERRED,
                SmtpReply.local(451, "4.3.0", why),
                FailureType.POLICY_UNAVAILABLE)),
        List.of(why));
  }

  /** Every recipient deferred before any planning: the message cannot be handled at all. */
  private static List<RecipientResult> undeliverable(
      Envelope envelope, Optional<TlsLevel> level, SmtpReply reply, FailureType type) {
    List<RecipientResult> out = new ArrayList<>();
    for (EmailAddress r : envelope.recipients()) {
      DeliveryPlan plan =
          new DeliveryPlan(
              r.domain(),
              level,
              new MxResolution(
                  r.domain(),
                  MxResolution.Kind.TEMPORARY_FAILURE,
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
    DeliveryReport report = new DeliveryReport(results);
    results.forEach(r -> listener.fire(l -> l.recipientEnd(r)));
    listener.fire(l -> l.deliveryEnd(envelope, report));
    return report;
  }

  /**
   * Closes idle pooled connections (with QUIT), the transport's own executor, and then the
   * resources handed over with {@link Builder#alsoClose}.
   */
  @Override
  public void close() {
    pool.close();
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
    private @Nullable MtaStsPolicySource mtaSts;
    private @Nullable DaneProvider dane;
    private final List<AutoCloseable> ownedResources = new ArrayList<>();
    private int maxSessionsPerDestination = 4;
    private Duration idleTime = Duration.ofSeconds(5);
    private Duration reuseTimeLimit = DEFAULT_REUSE_TIME_LIMIT;
    private int maxTransactionsPerSession = Integer.MAX_VALUE;
    private boolean connectionReuse = true;
    private int maxAttemptsPerDomain = 5;
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
      this.mtaSts = from.mtaSts;
      this.dane = from.dane;
      this.maxSessionsPerDestination = from.maxSessionsPerDestination;
      this.idleTime = from.idleTime;
      this.reuseTimeLimit = from.reuseTimeLimit;
      this.maxTransactionsPerSession = from.maxTransactionsPerSession;
      this.connectionReuse = from.connectionReuse;
      this.maxAttemptsPerDomain = from.maxAttemptsPerDomain;
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

    /** The SMTP port of MX hosts; default 25. Tests and tools may point it elsewhere. */
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

    /** Runs {@link #sendAsync}; default a cached pool of daemon threads owned by the transport. */
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

    /** The most connection attempts (MX addresses) per domain per message; default 5. */
    public Builder maxAttemptsPerDomain(int max) {
      once("maxAttemptsPerDomain");
      this.maxAttemptsPerDomain = max;
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
      if (maxSessionsPerDestination < 1) {
        throw new IllegalArgumentException(
            "maxSessionsPerDestination must be positive: " + maxSessionsPerDestination);
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
