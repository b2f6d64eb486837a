package io.mailtls.mtasts;

import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecState;
import io.mailtls.core.DomainName;
import io.mailtls.core.FailureType;
import io.mailtls.core.MtaStsLookup;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.MtaStsPolicySource;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Function;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * MTA-STS discovery with an RFC 8461 cache: the {@link MtaStsPolicySource} of mailtls.
 *
 * <p>Every {@link #lookupAsync lookup} asks DNS for the {@code _mta-sts} TXT record (RFC 8461 §3.1)
 * and compares its {@code id} with the cached policy's (§3: "the sender need only check the TXT
 * record's version id against the cached value"):
 *
 * <ul>
 *   <li>same id as a fresh cached policy: the cached policy, no fetch;
 *   <li>a new id, or nothing cached: fetch (§3.3); on success the policy is cached until {@code
 *       max_age} after the fetch (§3.2, §5.1); on failure a fresh cached policy still applies, and
 *       without one the result is {@link MtaStsLookup.Failed};
 *   <li>no TXT record, an unusable one, or a DNS failure: a fresh cached policy still applies (§3.1
 *       note, §3.3: "the sender MUST apply that cached policy"); without one, {@link
 *       MtaStsLookup.NoPolicy} for a record that is provably absent or unusable, and {@link
 *       MtaStsLookup.Failed} with {@link FailureType#DNS_FAILURE} for a lookup that failed (a DNS
 *       failure is never read as "no policy");
 *   <li>an expired entry counts as nothing cached and is removed;
 *   <li>an entry fetched after now by more than {@link CachedPolicy#CLOCK_TOLERANCE} (the clock
 *       went back since its fetch, or the store was altered; less is the clocks of a fleet) counts
 *       as fetched now: it expires no later than {@code max_age} from now (§5.1) and is stored so,
 *       and a new fetch replaces it whatever its date (§10.2).
 * </ul>
 *
 * <p>A failed fetch is not repeated for the same domain and id within {@link
 * Builder#failureBackoff(Duration)} (RFC 8461 §3.3, five minutes by default); meanwhile the answer
 * is what the failed fetch gave. Concurrent lookups of one domain share one TXT query and one fetch
 * (single flight); {@link #recheckAsync recheck} does the same but never joins a lookup that is
 * already running, so its TXT answer is fresh (§5.1 step 3).
 *
 * <p>With a {@link Builder#scheduler(ScheduledExecutorService) scheduler}, cached entries are
 * refreshed in the background before they expire (RFC 8461 §3.3 "SHOULD proactively refresh",
 * §10.2): at the earlier of {@code refreshInterval} (a day) after the fetch and {@code
 * refreshBefore} (an hour) before expiry, less a random jitter. A refresh always fetches the policy
 * when the TXT record is valid, even with an unchanged id, since only a fetch restarts {@code
 * max_age} (§5.1: "time-since-fetch"); it fetches nothing when the TXT record is absent, unusable
 * or unreadable (the record is the discovery signal, and a domain retiring MTA-STS removes it,
 * §8.3), and is then retried after the back-off period until the entry expires. Failed refreshes of
 * policies other than {@code none} are logged as warnings (§3.3). Refreshes are planned only for
 * domains the store holds: the plans of domains a bounded store evicted are cancelled in periodic
 * sweeps, so that they number about twice the store's entries at most (or 64), however many domains
 * pass through it.
 *
 * <p>The store is read in two ways ({@link PolicyStore}): a {@link #lookupAsync lookup} or {@link
 * #recheckAsync recheck} reads it with {@link PolicyStore#get}, a sender's use of the policy;
 * background refresh and the resolver's own compare-before-write reads use {@link
 * PolicyStore#peek}, so that refreshing does not make every cached policy look used. A bounded
 * store can then keep the policies senders use over ones an attacker only made it fetch (RFC 8461
 * §10.2; see {@link InMemoryPolicyStore}).
 *
 * <p>{@link #lookupAsync} and {@link #recheckAsync} do not block (docs/design.md §5); {@link
 * #newBuilder()} derives a resolver with some settings changed.
 *
 * <p>Immutable and thread-safe; build one per cache and share it. The returned futures complete
 * normally, DNS and fetch trouble being values. Times come from the injected {@link Clock}; a
 * stage's callbacks run on the thread that completes the DNS or fetch stage. {@link #close()} stops
 * background refresh (the scheduler itself belongs to the caller).
 *
 * <pre>{@code
 * MtaStsResolver sts = MtaStsResolver.builder()
 *     .dns(dnssecResolver)
 *     .fetcher(policyFetcher)
 *     .store(new FilePolicyStore(Path.of("/var/lib/mailer/mta-sts.json")))
 *     .scheduler(scheduledExecutor)
 *     .build();
 * }</pre>
 */
public final class MtaStsResolver implements MtaStsPolicySource, AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(MtaStsResolver.class);
  private static final int LOCK_STRIPES = 64;

  /** Why a discovery runs; flights of different kinds are not shared. */
  private enum Trigger {
    LOOKUP,
    RECHECK,
    REFRESH
  }

  private record FlightKey(DomainName domain, Trigger trigger) {}

  /** What a discovery knows before DNS answers. */
  private record Context(
      DomainName domain, Trigger trigger, Instant started, Optional<CachedPolicy> fresh) {}

  private final DnsResolver dns;
  private final PolicyFetcher fetcher;
  private final PolicyStore store;
  private final Clock clock;
  private final FetchBackoff backoff;
  private final @Nullable RefreshScheduler refresher; // null without a scheduler
  private final ConcurrentHashMap<FlightKey, CompletableFuture<MtaStsLookup>> inFlight =
      new ConcurrentHashMap<>();
  // Serialise read-modify-write of one domain's store entry (compare-and-remove, newest-wins put).
  private final Object[] stripes = new Object[LOCK_STRIPES];

  /** The settings as the builder was given them, for {@link #newBuilder()}. */
  private final Builder given;

  private MtaStsResolver(Builder b) {
    this.given = new Builder(b);
    this.dns = Objects.requireNonNull(b.dns, "dns"); // build() checked both
    this.fetcher = Objects.requireNonNull(b.fetcher, "fetcher");
    this.store =
        b.store != null
            ? b.store
            : new InMemoryPolicyStore(
                InMemoryPolicyStore.DEFAULT_MAX_ENTRIES,
                InMemoryPolicyStore.DEFAULT_RECENT_USE,
                b.clock);
    this.clock = b.clock;
    this.backoff = new FetchBackoff(b.failureBackoff);
    for (int i = 0; i < stripes.length; i++) {
      stripes[i] = new Object();
    }
    if (b.scheduler != null) {
      Duration retryDelay =
          b.failureBackoff.compareTo(Duration.ofMinutes(1)) > 0
              ? b.failureBackoff
              : Duration.ofMinutes(1);
      this.refresher =
          new RefreshScheduler(
              b.scheduler,
              b.clock,
              b.refreshInterval,
              b.refreshBefore,
              b.refreshJitter,
              retryDelay,
              b.random,
              this::refresh,
              domain -> safePresence(domain) != PolicyStore.Presence.ABSENT);
    } else {
      this.refresher = null;
    }
  }

  /** A builder; {@link Builder#dns} and {@link Builder#fetcher} are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder that starts with every setting of this resolver, to build one that differs in some
   * (as OkHttp's {@code newBuilder()}): each setter may be called once, overriding the setting it
   * inherited. This resolver is unchanged.
   *
   * <p>Shared with this resolver: what its builder was given, which stays the caller's (the DNS
   * resolver, the fetcher, the clock, the scheduler, the random source, and the store if one was
   * given: the two resolvers then read and write one cache). Made anew: the in-memory store when
   * none was given (the derived resolver starts with an empty cache), the fetch back-off, the
   * single-flight table and the refresh plan. {@link #close()} of either stops its own refreshes
   * only; the scheduler is the caller's to shut down.
   */
  public Builder newBuilder() {
    return new Builder(given);
  }

  /** The store holding this resolver's cache. */
  public PolicyStore store() {
    return store;
  }

  /**
   * The policy for {@code policyDomain} per RFC 8461 §3 and §5.1 (see the class comment). Joins a
   * lookup of the same domain that is already running.
   */
  @Override
  public CompletableFuture<MtaStsLookup> lookupAsync(DomainName policyDomain) {
    Objects.requireNonNull(policyDomain, "policyDomain");
    return flight(policyDomain, Trigger.LOOKUP).copy();
  }

  /**
   * RFC 8461 §5.1 step 3, before a delivery under an {@code enforce} policy fails: a fresh TXT
   * query; if its id differs from the cached policy's, a fetch (subject to the back-off) and the
   * new policy; otherwise the cached one. Joins only a recheck already running, never a lookup.
   */
  @Override
  public CompletableFuture<MtaStsLookup> recheckAsync(DomainName policyDomain) {
    Objects.requireNonNull(policyDomain, "policyDomain");
    return flight(policyDomain, Trigger.RECHECK).copy();
  }

  /** How many domains have a background refresh planned (or parked); zero without a scheduler. */
  int plannedRefreshes() {
    return refresher == null ? 0 : refresher.taskCount();
  }

  /** The entry whose background refresh is planned for {@code domain}, if any. */
  Optional<CachedPolicy> plannedRefresh(DomainName domain) {
    return refresher == null ? Optional.empty() : refresher.plannedEntry(domain);
  }

  /** Stops background refresh; lookups keep working. Idempotent. */
  @Override
  public void close() {
    if (refresher != null) {
      refresher.close();
    }
  }

  @Override
  public String toString() {
    return "MtaStsResolver{store="
        + store
        + ", failureBackoff="
        + backoff.period()
        + (refresher != null ? ", proactive refresh" : "")
        + "}";
  }

  // ---------------------------------------------------------------- single flight

  private CompletableFuture<MtaStsLookup> flight(DomainName domain, Trigger trigger) {
    FlightKey key = new FlightKey(domain, trigger);
    CompletableFuture<MtaStsLookup> mine = new CompletableFuture<>();
    CompletableFuture<MtaStsLookup> running = inFlight.putIfAbsent(key, mine);
    if (running != null) {
      return running;
    }
    CompletionStage<MtaStsLookup> work;
    try {
      work = discover(domain, trigger);
    } catch (RuntimeException e) {
      work = CompletableFuture.failedFuture(e);
    }
    work.whenComplete(
        (result, error) -> {
          // Leave the map first: a lookup arriving after completion starts a new flight.
          inFlight.remove(key, mine);
          mine.complete(error == null && result != null ? result : internalError(domain, error));
        });
    return mine;
  }

  /** The last resort for a bug below us: never downgrade, never throw. */
  private MtaStsLookup internalError(DomainName domain, Throwable error) {
    Throwable cause =
        error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
    log.error("MTA-STS discovery for {} failed unexpectedly", domain, cause);
    String reason = "internal error: " + cause;
    Optional<CachedPolicy> fresh = freshEntry(domain, clock.instant(), false);
    if (fresh.isPresent()) {
      return notReusable(
          cached(
              domain,
              fresh.get(),
              reason + "; the cached policy applies until " + fresh.get().expiresAt(),
              true));
    }
    return new MtaStsLookup.Failed(domain, FailureType.STS_POLICY_FETCH_ERROR, reason);
  }

  // ---------------------------------------------------------------- discovery

  private CompletionStage<MtaStsLookup> discover(DomainName domain, Trigger trigger) {
    Instant now = clock.instant();
    // A lookup or recheck is a sender's use of the policy; a background refresh is not (the
    // store keeps used policies over ones only fetched, RFC 8461 §10.2).
    Optional<CachedPolicy> fresh = freshEntry(domain, now, trigger != Trigger.REFRESH);
    fresh.ifPresent(
        entry -> {
          if (refresher != null) {
            refresher.ensureScheduled(domain, entry); // e.g. an entry loaded from a file
          }
        });
    Context ctx = new Context(domain, trigger, now, fresh);
    DomainName txtName;
    try {
      txtName = domain.prefixed("_mta-sts");
    } catch (IllegalArgumentException e) {
      // No such name can exist in the DNS, so no record does: provably absent.
      return CompletableFuture.completedFuture(
          noUsableRecord(
              ctx, true, "_mta-sts." + domain + " is not a valid DNS name: " + e.getMessage()));
    }
    CompletionStage<DnsAnswer> answer;
    try {
      answer = dns.resolveAsync(txtName, DnsRecordType.TXT);
    } catch (RuntimeException e) {
      answer = CompletableFuture.failedFuture(e);
    }
    return answer
        .handle((a, error) -> onTxt(ctx, txtName, a, error))
        .thenCompose(Function.identity());
  }

  private CompletionStage<MtaStsLookup> onTxt(
      Context ctx, DomainName txtName, DnsAnswer answer, Throwable error) {
    if (error != null || answer == null) {
      // DnsResolver's contract makes this a bug; still, a failure is not "no policy".
      return done(dnsFailure(ctx, "TXT " + txtName + ": resolver error: " + error));
    }
    // A result holds no longer than the TXT answer: only a new answer can show a new policy id
    // (RFC 8461 §3.1, §5.1); a failed answer's TTL is zero.
    return txtResult(ctx, txtName, answer).thenApply(r -> holdingAtMost(r, answer.ttl()));
  }

  private CompletionStage<MtaStsLookup> txtResult(
      Context ctx, DomainName txtName, DnsAnswer answer) {
    if (answer.state() == DnssecState.BOGUS || answer.state() == DnssecState.INDETERMINATE) {
      // RFC 4035 §5.5: an answer that failed validation is a failed lookup, whatever outcome a
      // resolver of the caller's put on it; never "no policy" (a cached one still applies).
      return done(dnsFailure(ctx, answer.toString()));
    }
    switch (answer.outcome()) {
      case FAILURE:
        return done(dnsFailure(ctx, answer.toString()));
      case NXDOMAIN:
      case NODATA:
        return done(noUsableRecord(ctx, true, "no MTA-STS TXT record: " + answer));
      case DATA:
      default:
        break;
    }
    List<String> texts =
        answer.records(DnsRecord.Txt.class).stream()
            .map(DnsRecord.Txt::text) // RFC 8461 §3.1: strings concatenated without spaces
            .toList();
    StsRecord.Selection selection = StsRecord.select(texts);
    if (selection instanceof StsRecord.NotFound notFound) {
      // RFC 8461 §3.1: not exactly one valid record means no available policy (a cached one
      // still applies, §5.1).
      return done(
          noUsableRecord(
              ctx, false, "unusable MTA-STS TXT record at " + txtName + ": " + notFound.reason()));
    }
    String id = ((StsRecord.Found) selection).record().id();
    Optional<CachedPolicy> fresh = ctx.fresh();
    if (fresh.isPresent()
        && fresh.get().policy().id().equals(id)
        && ctx.trigger() != Trigger.REFRESH) {
      // RFC 8461 §3: an unchanged id means an unchanged policy; no fetch.
      return done(
          cached(
              ctx.domain(),
              fresh.get(),
              "policy id "
                  + id
                  + " unchanged; cached"
                  + " policy valid until "
                  + fresh.get().expiresAt(),
              false));
    }
    return fetch(ctx, id);
  }

  /** {@code result} with a {@link MtaStsLookup#ttl()} no longer than {@code limit}. */
  private static MtaStsLookup holdingAtMost(MtaStsLookup result, Duration limit) {
    Duration ttl = result.ttl().filter(t -> t.compareTo(limit) < 0).orElse(limit);
    if (result instanceof MtaStsLookup.Found f) {
      return new MtaStsLookup.Found(
          f.policyDomain(), f.policy(), f.fromCache(), f.note(), Optional.of(ttl), f.unconfirmed());
    }
    if (result instanceof MtaStsLookup.NoPolicy n) {
      return new MtaStsLookup.NoPolicy(
          n.policyDomain(), n.provablyAbsent(), n.reason(), Optional.of(ttl));
    }
    return result; // Failed: never reused
  }

  /** {@code result} marked as not to be reused (a zero {@link MtaStsLookup#ttl()}). */
  private static MtaStsLookup notReusable(MtaStsLookup result) {
    return holdingAtMost(result, Duration.ZERO);
  }

  private static CompletionStage<MtaStsLookup> done(MtaStsLookup result) {
    return CompletableFuture.completedFuture(result);
  }

  /** The TXT lookup failed (SERVFAIL, timeout, bogus): never read as "no policy". */
  private MtaStsLookup dnsFailure(Context ctx, String what) {
    if (ctx.fresh().isPresent()) {
      // RFC 8461 §3.3: no live policy can be discovered, but a valid cached one exists. A plan
      // with it is not reused: the next message asks DNS again.
      return notReusable(
          cached(
              ctx.domain(),
              ctx.fresh().get(),
              "MTA-STS TXT lookup failed ("
                  + what
                  + "); the cached policy applies until "
                  + ctx.fresh().get().expiresAt()
                  + " (RFC 8461 §3.3)",
              true));
    }
    return new MtaStsLookup.Failed(
        ctx.domain(), FailureType.DNS_FAILURE, "MTA-STS TXT lookup failed: " + what);
  }

  /** No TXT record, or an unusable one. */
  private MtaStsLookup noUsableRecord(Context ctx, boolean provablyAbsent, String reason) {
    if (ctx.fresh().isPresent()) {
      // RFC 8461 §3.1: the absence of a usable TXT record does not remove a cached policy
      // (§5.1: it applies until max_age after its fetch).
      return cached(
          ctx.domain(),
          ctx.fresh().get(),
          reason
              + "; the cached policy applies"
              + " until "
              + ctx.fresh().get().expiresAt()
              + " (RFC 8461 §3.1, §5.1)",
          // A record shown absent confirms that nothing newer is published; an unusable one
          // (two records during a change, say) does not.
          !provablyAbsent);
    }
    return new MtaStsLookup.NoPolicy(ctx.domain(), provablyAbsent, reason);
  }

  /**
   * A cached policy, holding until it expires (RFC 8461 §5.1); {@code unconfirmed}: discovery could
   * not tell whether it is still current (see {@link MtaStsLookup.Found#unconfirmed()}).
   */
  private MtaStsLookup cached(
      DomainName domain, CachedPolicy entry, String note, boolean unconfirmed) {
    return new MtaStsLookup.Found(
        domain, entry.policy(), true, note, Optional.of(timeLeft(entry.expiresAt())), unconfirmed);
  }

  private Duration timeLeft(Instant expiresAt) {
    Duration left = Duration.between(clock.instant(), expiresAt);
    return left.isNegative() ? Duration.ZERO : left;
  }

  // ---------------------------------------------------------------- fetch

  private CompletionStage<MtaStsLookup> fetch(Context ctx, String id) {
    DomainName domain = ctx.domain();
    Optional<FetchBackoff.Failure> recent = backoff.active(domain, id, ctx.started());
    if (recent.isPresent()) {
      // RFC 8461 §3.3: at most one attempt per id in the back-off period.
      FetchBackoff.Failure f = recent.get();
      return done(
          fetchFailed(
              ctx,
              id,
              f.type(),
              f.reason()
                  + " (at "
                  + f.at()
                  + "; not fetched again before "
                  + backoff.retryAt(f)
                  + ", RFC 8461 §3.3)",
              false));
    }
    CompletionStage<FetchResult> stage;
    try {
      stage = fetcher.fetchAsync(domain, id);
    } catch (RuntimeException e) {
      stage = CompletableFuture.failedFuture(e);
    }
    return stage.handle(
        (result, error) -> {
          FetchResult outcome = result;
          if (error != null || result == null) {
            Throwable cause =
                error instanceof CompletionException && error.getCause() != null
                    ? error.getCause()
                    : error;
            outcome =
                new FetchResult.Failure(
                    FailureType.STS_POLICY_FETCH_ERROR, "policy fetcher error: " + cause);
          } else if (result instanceof FetchResult.Success s && !s.policy().id().equals(id)) {
            outcome =
                new FetchResult.Failure(
                    FailureType.STS_POLICY_INVALID,
                    "the fetcher returned a policy with id "
                        + s.policy().id()
                        + " for TXT id "
                        + id);
          }
          if (outcome instanceof FetchResult.Success success) {
            return fetched(ctx, success.policy());
          }
          FetchResult.Failure failure = (FetchResult.Failure) outcome;
          backoff.record(
              domain,
              new FetchBackoff.Failure(id, clock.instant(), failure.type(), failure.reason()));
          return fetchFailed(ctx, id, failure.type(), failure.reason(), true);
        });
  }

  private MtaStsLookup fetched(Context ctx, MtaStsPolicy policy) {
    DomainName domain = ctx.domain();
    backoff.clear(domain);
    Instant now = clock.instant();
    CachedPolicy entry = CachedPolicy.fetched(policy, now);
    String note;
    if (entry.isFresh(now)) {
      // RFC 8461 §3.2, §5.1: cache until max_age after this fetch.
      storeIfNewer(domain, entry);
      note = "fetched policy id " + policy.id() + ", cached until " + entry.expiresAt();
    } else {
      // max_age 0: applies to this delivery only, and replaces whatever was cached.
      removeIfUnchanged(domain, ctx.fresh());
      note = "fetched policy id " + policy.id() + " (max_age 0: not cached)";
    }
    Optional<CachedPolicy> previous = ctx.fresh();
    if (previous.isPresent() && !previous.get().policy().id().equals(policy.id())) {
      note += "; replaces policy id " + previous.get().policy().id();
    }
    log.debug("MTA-STS {}: {}", domain, note);
    // max_age 0 applies to this delivery only: not to be reused
    Duration ttl = entry.isFresh(now) ? timeLeft(entry.expiresAt()) : Duration.ZERO;
    return new MtaStsLookup.Found(domain, policy, false, note, Optional.of(ttl));
  }

  /**
   * The answer after a failed fetch of {@code id}: the fresh cached policy if any, else Failed.
   * {@code attempted} is false when the back-off answered for a fetch that failed earlier (logged
   * then, not again).
   */
  private MtaStsLookup fetchFailed(
      Context ctx, String id, FailureType type, String reason, boolean attempted) {
    DomainName domain = ctx.domain();
    if (ctx.fresh().isPresent()) {
      CachedPolicy entry = ctx.fresh().get();
      String note =
          "fetching policy id "
              + id
              + " failed ("
              + tlsRpt(type)
              + ": "
              + reason
              + "); the cached policy id "
              + entry.policy().id()
              + " applies until "
              + entry.expiresAt()
              + " (RFC 8461 §3.3)";
      // RFC 8461 §3.3: alert administrators when a refresh fails, unless the mode is none.
      if (attempted && entry.policy().mode() != MtaStsMode.NONE) {
        log.warn("MTA-STS {}: {}", domain, note);
      } else {
        log.debug("MTA-STS {}: {}", domain, note);
      }
      // The TXT record names a policy that could not be fetched: a plan with the cached policy is
      // not reused, so that the next message looks again (within the back-off, RFC 8461 §3.3).
      return notReusable(cached(domain, entry, note, true));
    }
    if (attempted) {
      log.info(
          "MTA-STS {}: fetching policy id {} failed ({}: {})", domain, id, tlsRpt(type), reason);
    }
    return new MtaStsLookup.Failed(domain, type, reason);
  }

  private static String tlsRpt(FailureType type) {
    return type.tlsRptResultType().orElse(type.name());
  }

  // ---------------------------------------------------------------- proactive refresh

  /** Run by the refresh scheduler when {@code scheduled} is due. Never throws. */
  private void refresh(DomainName domain, CachedPolicy scheduled) {
    RefreshScheduler refresher = Objects.requireNonNull(this.refresher); // its caller
    Instant now = clock.instant();
    Optional<CachedPolicy> current = safeRead(domain, false);
    if (current.isEmpty()
        && scheduled.isFresh(now)
        && safePresence(domain) != PolicyStore.Presence.ABSENT) {
      // The store could not read it (a shared store that does not answer, or answered the read too
      // late and the presence in time): the policy may still be there, and giving its refresh up
      // would let it lapse (RFC 8461 §3.3, §10.2). Only a store that says it holds nothing ends
      // the refresh. Look again.
      log.debug("MTA-STS {}: policy store could not be read; refresh retried later", domain);
      refresher.retry(domain, scheduled);
      return;
    }
    if (current.isEmpty() || !current.get().isFresh(now)) {
      // Removed, or expired (RFC 8461 §5.1): nothing left to refresh.
      removeIfUnchanged(domain, current);
      refresher.cancel(domain);
      return;
    }
    if (!current.get().equals(scheduled)) {
      refresher.ensureScheduled(domain, current.get()); // replaced meanwhile: plan for the new one
      return;
    }
    // Nothing waits for a background refresh: its outcome is the cache's state, read above.
    var unused =
        flight(domain, Trigger.REFRESH)
            .whenComplete(
                (result, error) -> {
                  Optional<CachedPolicy> after = safeRead(domain, false);
                  if (after.isPresent() && !after.get().equals(scheduled)) {
                    return; // renewed: storeIfNewer scheduled the next refresh
                  }
                  log.debug(
                      "MTA-STS {}: background refresh did not renew the policy ({}); retrying",
                      domain,
                      result);
                  refresher.retry(domain, scheduled);
                });
  }

  // ---------------------------------------------------------------- store access

  /**
   * The domain's entry if still fresh at {@code now}; an expired one is removed. {@code use}: the
   * read is a sender's use of the policy ({@link PolicyStore#get}), not bookkeeping ({@link
   * PolicyStore#peek}).
   */
  private Optional<CachedPolicy> freshEntry(DomainName domain, Instant now, boolean use) {
    Optional<CachedPolicy> entry = safeRead(domain, use);
    if (entry.isPresent() && entry.get().fetchedAhead(now)) {
      entry = Optional.of(fetchedNow(domain, entry.get(), now));
    }
    if (entry.isPresent() && !entry.get().isFresh(now)) {
      // RFC 8461 §5.1: past max_age since its fetch, a policy no longer applies.
      removeIfUnchanged(domain, entry);
      if (refresher != null) {
        refresher.cancel(domain);
      }
      return Optional.empty();
    }
    return entry;
  }

  /**
   * A cached entry fetched after {@code now} by more than {@link CachedPolicy#CLOCK_TOLERANCE}: the
   * clock went back since its fetch was dated (an NTP step, a restored VM), or the store was
   * altered. It counts as fetched now, expiring no later than {@code max_age} from now (RFC 8461
   * §5.1; see {@link CachedPolicy#fetchedNoLaterThan}), and is stored so unless it changed
   * meanwhile: left as it was, it would stay fresh until {@code max_age} after a time not yet
   * reached, and without a TXT record or a fetch (an attacker's doing, §10.2) that stale policy
   * would apply all that time.
   */
  private CachedPolicy fetchedNow(DomainName domain, CachedPolicy entry, Instant now) {
    CachedPolicy corrected = entry.fetchedNoLaterThan(now);
    log.warn(
        "MTA-STS {}: cached policy id {} was fetched at {}, later than now ({}; the clock went"
            + " back?): counted as fetched now, it applies until {} at most (RFC 8461 §5.1)",
        domain,
        entry.policy().id(),
        entry.fetchedAt(),
        now,
        corrected.expiresAt());
    synchronized (stripe(domain)) {
      if (safeRead(domain, false).equals(Optional.of(entry))) {
        try {
          store.put(domain, corrected);
        } catch (RuntimeException e) {
          log.warn("MTA-STS policy store {} failed to store {}", store, domain, e);
        }
      }
    }
    return corrected;
  }

  /**
   * Stores {@code entry} unless a later fetch is already stored; schedules its refresh. A stored
   * entry fetched after now by more than {@link CachedPolicy#CLOCK_TOLERANCE} is no later fetch,
   * whatever its date says (the clock went back since; within it, another host's clock may run
   * ahead, and its fetch is later): it is replaced, or it would keep every policy fetched until the
   * clock catches up out of the cache, a domain's move from {@code testing} to {@code enforce}
   * included (RFC 8461 §10.2).
   */
  private void storeIfNewer(DomainName domain, CachedPolicy entry) {
    synchronized (stripe(domain)) {
      Optional<CachedPolicy> current = safeRead(domain, false);
      if (current.isPresent()
          && current.get().fetchedAt().isAfter(entry.fetchedAt())
          && !current.get().fetchedAhead(clock.instant())) {
        return;
      }
      try {
        store.put(domain, entry);
      } catch (RuntimeException e) {
        log.warn("MTA-STS policy store {} failed to store {}", store, domain, e);
      }
    }
    if (refresher != null) {
      refresher.schedule(domain, entry);
    }
  }

  /** Removes the domain's entry if it is still {@code expected} (nothing, or the same entry). */
  private void removeIfUnchanged(DomainName domain, Optional<CachedPolicy> expected) {
    synchronized (stripe(domain)) {
      Optional<CachedPolicy> current = safeRead(domain, false);
      if (current.isEmpty() || (expected.isPresent() && !current.equals(expected))) {
        return;
      }
      try {
        store.remove(domain);
      } catch (RuntimeException e) {
        log.warn("MTA-STS policy store {} failed to remove {}", store, domain, e);
      }
    }
  }

  private Optional<CachedPolicy> safeRead(DomainName domain, boolean use) {
    try {
      Optional<CachedPolicy> entry = use ? store.get(domain) : store.peek(domain);
      return entry != null ? entry : Optional.empty();
    } catch (RuntimeException e) {
      log.warn("MTA-STS policy store {} failed to read {}", store, domain, e);
      return Optional.empty();
    }
  }

  /**
   * Whether the store holds the domain's entry; {@link PolicyStore.Presence#UNKNOWN} when the store
   * throws (it cannot tell).
   */
  private PolicyStore.Presence safePresence(DomainName domain) {
    try {
      PolicyStore.Presence presence = store.presence(domain);
      return presence != null ? presence : PolicyStore.Presence.UNKNOWN;
    } catch (RuntimeException e) {
      log.warn("MTA-STS policy store {} failed to read {}", store, domain, e);
      return PolicyStore.Presence.UNKNOWN;
    }
  }

  private Object stripe(DomainName domain) {
    return stripes[Math.floorMod(domain.hashCode(), stripes.length)];
  }

  // ---------------------------------------------------------------- builder

  /**
   * Configures an {@link MtaStsResolver}. Each setter may be called once, also in a builder from
   * {@link MtaStsResolver#newBuilder()}, where it overrides the inherited setting; values are
   * checked by {@link #build()}. Not thread-safe.
   */
  public static final class Builder {
    private final Set<String> called = new HashSet<>();
    private @Nullable DnsResolver dns;
    private @Nullable PolicyFetcher fetcher;
    private @Nullable PolicyStore store;
    private Clock clock = Clock.systemUTC();
    private @Nullable ScheduledExecutorService scheduler;
    private Duration refreshInterval = Duration.ofDays(1);
    private Duration refreshBefore = Duration.ofHours(1);
    private Duration refreshJitter = Duration.ofMinutes(10);
    private RandomGenerator random = () -> ThreadLocalRandom.current().nextLong();
    private Duration failureBackoff = Duration.ofMinutes(5);

    private Builder() {}

    /** A builder with {@code from}'s settings, none of them set in this builder yet. */
    private Builder(Builder from) {
      this.dns = from.dns;
      this.fetcher = from.fetcher;
      this.store = from.store;
      this.clock = from.clock;
      this.scheduler = from.scheduler;
      this.refreshInterval = from.refreshInterval;
      this.refreshBefore = from.refreshBefore;
      this.refreshJitter = from.refreshJitter;
      this.random = from.random;
      this.failureBackoff = from.failureBackoff;
    }

    private void once(String setter) {
      if (!called.add(setter)) {
        throw new IllegalStateException(setter + " already set");
      }
    }

    /** The resolver for {@code _mta-sts} TXT records (required). */
    public Builder dns(DnsResolver dns) {
      once("dns");
      this.dns = Objects.requireNonNull(dns, "dns");
      return this;
    }

    /** Fetches policies over HTTPS, RFC 8461 §3.3 (required). */
    public Builder fetcher(PolicyFetcher fetcher) {
      once("fetcher");
      this.fetcher = Objects.requireNonNull(fetcher, "fetcher");
      return this;
    }

    /**
     * Where the cache lives; default a new {@link InMemoryPolicyStore} of the default size on this
     * builder's clock.
     */
    public Builder store(PolicyStore store) {
      once("store");
      this.store = Objects.requireNonNull(store, "store");
      return this;
    }

    /** The clock for fetch times, expiry and back-off; default the system UTC clock. */
    public Builder clock(Clock clock) {
      once("clock");
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * Enables proactive refresh (RFC 8461 §3.3) on this scheduler, which stays the caller's to shut
     * down. Default: none, so policies are refreshed only when a lookup finds a new id or an
     * expired entry. A refresh planned for a domain the store no longer holds is cancelled; with a
     * {@link java.util.concurrent.ScheduledThreadPoolExecutor} it also leaves the executor's queue
     * at once (other schedulers may keep cancelled tasks until they are due).
     */
    public Builder scheduler(ScheduledExecutorService scheduler) {
      once("scheduler");
      this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
      return this;
    }

    /**
     * Refresh a cached policy at most this long after its fetch; default one day, the frequency RFC
     * 8461 §3.3 suggests. At least one minute.
     */
    public Builder refreshInterval(Duration interval) {
      once("refreshInterval");
      this.refreshInterval = Objects.requireNonNull(interval, "interval");
      return this;
    }

    /** Refresh a cached policy at least this long before it expires; default one hour. */
    public Builder refreshBefore(Duration before) {
      once("refreshBefore");
      this.refreshBefore = Objects.requireNonNull(before, "before");
      return this;
    }

    /**
     * Refresh up to this much earlier than planned, at random, so that policies fetched together
     * are not refreshed together; default ten minutes. Zero disables the jitter.
     */
    public Builder refreshJitter(Duration jitter) {
      once("refreshJitter");
      this.refreshJitter = Objects.requireNonNull(jitter, "jitter");
      return this;
    }

    /**
     * The source of the refresh jitter; default {@link ThreadLocalRandom}. Calls are serialised, so
     * a generator that is not thread-safe will do.
     */
    public Builder random(RandomGenerator random) {
      once("random");
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /**
     * How long a failed fetch of one policy id blocks another fetch of that id for that domain;
     * default five minutes (RFC 8461 §3.3: "five minutes or longer per version ID"). Zero disables
     * the back-off.
     */
    public Builder failureBackoff(Duration backoff) {
      once("failureBackoff");
      this.failureBackoff = Objects.requireNonNull(backoff, "backoff");
      return this;
    }

    /**
     * Builds the resolver.
     *
     * @throws IllegalStateException if {@link #dns} or {@link #fetcher} was not set
     * @throws IllegalArgumentException for a negative duration or a refresh interval under a minute
     */
    public MtaStsResolver build() {
      if (dns == null) {
        throw new IllegalStateException("dns(DnsResolver) is required");
      }
      if (fetcher == null) {
        throw new IllegalStateException("fetcher(PolicyFetcher) is required");
      }
      if (refreshInterval.compareTo(Duration.ofMinutes(1)) < 0) {
        throw new IllegalArgumentException(
            "refreshInterval must be at least one minute: " + refreshInterval);
      }
      requireNotNegative("refreshBefore", refreshBefore);
      requireNotNegative("refreshJitter", refreshJitter);
      requireNotNegative("failureBackoff", failureBackoff);
      return new MtaStsResolver(this);
    }

    private static void requireNotNegative(String what, Duration d) {
      if (d.isNegative()) {
        throw new IllegalArgumentException(what + " must not be negative: " + d);
      }
    }
  }
}
