package io.mailtls.core;

import io.mailtls.core.internal.dns.AnswerCache;
import io.mailtls.core.internal.policy.DomainDecision;
import io.mailtls.core.internal.policy.DomainInputs;
import io.mailtls.core.internal.policy.HostDecision;
import io.mailtls.core.internal.policy.HostInputs;
import io.mailtls.core.internal.policy.HostPolicy;
import io.mailtls.core.internal.policy.InMemoryPolicyMap;
import io.mailtls.core.internal.policy.PlanCache;
import io.mailtls.core.internal.transport.SafeListener;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.random.RandomGenerator;
import org.jspecify.annotations.Nullable;

/**
 * Plans delivery for a recipient domain: its MX hosts in order, each with the TLS requirement that
 * the sender's level and the recipient's policies impose, and a decision record. Immutable and
 * thread-safe; build once and share.
 *
 * <p>Recipient-side policies arrive through SPIs: MTA-STS through {@link MtaStsPolicySource}
 * ({@code mailtls-mta-sts} implements it), DANE from {@code mailtls-dane}. Each must be given or
 * explicitly opted out of ({@link Builder#withoutMtaSts()}, {@link Builder#withoutDane()}). An
 * MTA-STS {@code enforce} policy overrides a weaker sender level: only matching MX hosts,
 * PKIX-verified TLS (RFC 8461 §4, §5); {@code testing} delivers as the sender level says and
 * reports failures. Without a provider, {@link TlsLevel#STS_REQUIRED} and {@link
 * TlsLevel#DANE_REQUIRED} fail closed: every recipient is deferred with {@link
 * FailureType#POLICY_UNAVAILABLE}, never delivered opportunistically.
 *
 * <p>Lookups that do not depend on each other run concurrently (every MX host's A and AAAA, then
 * its TLSA, for the first {@link MxResolver#MAX_MX_HOSTS} hosts in preference order), so a plan
 * costs about one dependent chain of round trips.
 *
 * <p>{@link #plan} blocks and returns the plan; {@link #planAsync} returns a {@link
 * CompletableFuture} (docs/design.md §5). {@link #newBuilder()} derives a resolver with some
 * settings changed.
 *
 * <p>Plans are cached (docs/design.md, "DNS caching"): a plan for a next hop under a sender level
 * is reused until the earliest expiry among its inputs, the TTLs of its MX, A, AAAA and TLSA
 * answers and how long the MTA-STS result holds ({@link MtaStsLookup#ttl()}, {@link
 * TlsaLookup#ttl()}); an input whose source does not say is trusted for {@link #UNKNOWN_INPUT_TTL}
 * at most, and no plan for longer than {@link #MAX_PLAN_TTL}. A plan that failed or rests on a
 * failed lookup is not reused. {@link Builder#planCacheSize} sizes or turns off the cache. A reused
 * plan makes no lookup, so it tells a listener of none; {@link SecureSmtpTransport} still fires
 * {@link EventListener#planStart}, {@link EventListener#planEnd} and the plan's policy failures for
 * it, as for a new plan.
 *
 * <p>A resolver has no listener of its own: a caller who wants the MTA-STS and TLSA lookup events
 * of a plan passes a listener to {@link #plan(NextHop, TlsLevel, EventListener)}, one per plan to
 * tell concurrent plans apart (as {@link SecureSmtpTransport} passes each call's listener).
 */
public final class TransportPolicyResolver {

  /**
   * How long a plan is reused at most when an MTA-STS source or DANE provider does not say how long
   * its result holds (an empty {@link MtaStsLookup#ttl()} or {@link TlsaLookup#ttl()}).
   */
  public static final Duration UNKNOWN_INPUT_TTL = Duration.ofSeconds(30);

  /** The longest a plan is reused, whatever its inputs' TTLs. */
  public static final Duration MAX_PLAN_TTL = Duration.ofDays(1);

  /** The plan cache's default size, in next hops; see {@link Builder#planCacheSize}. */
  public static final int DEFAULT_PLAN_CACHE_SIZE = 20_000;

  private final MxResolver mxResolver;
  private final Optional<MtaStsPolicySource> mtaSts;
  private final Optional<DaneProvider> dane;
  private final @Nullable PlanCache plans;
  private final DestinationPolicyMap destinations;

  /** The settings this resolver was built with, for {@link #newBuilder()}. */
  private final Builder settings;

  private TransportPolicyResolver(Builder b) {
    this.settings = new Builder(b);
    // build() checked dns and chose random
    this.mxResolver =
        new MxResolver(Objects.requireNonNull(b.dns), Objects.requireNonNull(b.random));
    this.mtaSts = Optional.ofNullable(b.mtaSts);
    this.dane = Optional.ofNullable(b.dane);
    this.plans = b.planCacheSize == 0 ? null : new PlanCache(b.clock, b.planCacheSize);
    this.destinations = b.destinations;
  }

  /** A builder; {@link Builder#dns(DnsResolver)} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder that starts with every setting of this resolver, to build one that differs in some
   * (as OkHttp's {@code newBuilder()}): each setter may be called once, overriding the setting it
   * inherited (an MTA-STS source or DANE provider, or the opt-out from it, included). This resolver
   * is unchanged. Everything is shared, all of it given by the caller: the DNS resolver, the random
   * source, the MTA-STS source, the DANE provider and the clock; a resolver owns nothing that needs
   * closing. The plan cache is made anew, empty.
   */
  public Builder newBuilder() {
    return new Builder(settings);
  }

  /**
   * Plans delivery to {@code nextHop} under the sender's {@code level}, telling no listener, and
   * blocks until the plan is made.
   */
  public DeliveryPlan plan(NextHop nextHop, TlsLevel level) {
    return plan(nextHop, level, EventListener.NONE);
  }

  /**
   * {@link #planAsync(NextHop, TlsLevel, EventListener)}, blocking until the plan is made: tells
   * {@code listener} of the plan's lookups.
   */
  public DeliveryPlan plan(NextHop nextHop, TlsLevel level, EventListener listener) {
    if (destinations != InMemoryPolicyMap.EMPTY) {
      return planAsync(nextHop, level, listener).join();
    }
    return plan(nextHop, level, listener, Optional.empty());
  }

  /**
   * {@link #plan(NextHop, TlsLevel, EventListener)} under {@code entry}, the policy-map entry the
   * caller read for {@code nextHop} from this resolver's map ({@link #entryFor}): a caller that
   * decides more than the plan from the entry (the transport, for {@code TLS-Required: No}) reads
   * the map once, so that one decision never mixes two versions of a reloaded map.
   */
  DeliveryPlan plan(
      NextHop nextHop,
      TlsLevel level,
      EventListener listener,
      Optional<DestinationPolicyMap.Entry> entry) {
    PlanCache cache = plans;
    if (cache != null && entry.isEmpty()) {
      // the hot path: a map lookup and an expiry check, no future
      DeliveryPlan hit =
          cache.get(
              Objects.requireNonNull(nextHop, "nextHop"), Objects.requireNonNull(level, "level"));
      if (hit != null) {
        Objects.requireNonNull(listener, "listener");
        return hit;
      }
    }
    return planAsync(nextHop, level, listener, entry).join();
  }

  /**
   * Plans delivery to {@code nextHop} under the sender's {@code level} without blocking, telling no
   * listener. Completes normally.
   */
  public CompletableFuture<DeliveryPlan> planAsync(NextHop nextHop, TlsLevel level) {
    return planAsync(nextHop, level, EventListener.NONE);
  }

  /**
   * Plans delivery to {@code nextHop} under the sender's {@code level} without blocking, telling
   * {@code listener} of the MTA-STS lookup and each TLSA lookup the plan makes ({@link
   * EventListener#mtaStsLookupStart} and the others; they may arrive on other threads, see {@link
   * EventListener}). The plan completes only after every lookup it started has ended, so these
   * events all happen-before its completion. {@link EventListener#planStart} and {@link
   * EventListener#planEnd} are the caller's to fire: {@link SecureSmtpTransport} fires them around
   * this call. Pass a new listener per call to tell concurrent plans apart; a listener that throws
   * changes nothing. A plan reused from the cache makes no lookup and tells {@code listener}
   * nothing. Completes normally.
   */
  public CompletableFuture<DeliveryPlan> planAsync(
      NextHop nextHop, TlsLevel level, EventListener listener) {
    Objects.requireNonNull(nextHop, "nextHop");
    Objects.requireNonNull(level, "level");
    Objects.requireNonNull(listener, "listener");
    // The map is read once per plan: everything below decides by this one entry.
    return planAsync(nextHop, level, listener, entryFor(nextHop));
  }

  /**
   * {@link #planAsync(NextHop, TlsLevel, EventListener)} under {@code entry}, read by the caller.
   */
  CompletableFuture<DeliveryPlan> planAsync(
      NextHop nextHop,
      TlsLevel level,
      EventListener listener,
      Optional<DestinationPolicyMap.Entry> entry) {
    Objects.requireNonNull(nextHop, "nextHop");
    Objects.requireNonNull(level, "level");
    Objects.requireNonNull(entry, "entry");
    SafeListener events = new SafeListener(Objects.requireNonNull(listener, "listener"));
    // A plan under a policy-map entry is made anew each time (and not cached): the map may be
    // reloaded, and the entry decides as much as the lookups do.
    PlanCache cache = entry.isPresent() ? null : plans;
    long started = 0;
    long ticket = 0;
    if (cache != null) {
      DeliveryPlan hit = cache.get(nextHop, level);
      if (hit != null) {
        return CompletableFuture.completedFuture(hit);
      }
      // Inputs' TTLs count from when they are looked up, so from now at the earliest.
      started = cache.now();
      // Taken before the first lookup: a forget() after this may have superseded what the lookups
      // find (a policy the re-check replaced), so this plan is then not cached.
      ticket = cache.begin();
    }
    long since = started;
    long mine = ticket;
    // An entry's relay is planned as the domain it names: its MX hosts, its policies.
    NextHop target =
        entry
            .flatMap(e -> e.policy().relay())
            .<NextHop>map(r -> new NextHop.Domain(r.host()))
            .orElse(nextHop);
    // MX resolution and MTA-STS discovery do not depend on each other: run them together.
    CompletableFuture<MxResolution> mx = mxResolver.resolveAsync(target);
    CompletableFuture<Optional<MtaStsLookup>> sts = stsLookup(target, false, events);
    // TLSA lookups depend on the MX hosts only; they run beside MTA-STS discovery.
    CompletableFuture<Map<DomainName, TlsaLookup>> tlsa =
        mx.thenCompose(m -> tlsaLookups(m, tlsaPort(entry), events));
    // thenCombine completes only once both sides have, failed or not: the plan completes after
    // every lookup it started has ended (tlsaLookups sees to it also for a provider that throws),
    // so no lookup event of this plan comes after the caller's planEnd.
    return mx.thenCombine(sts, (m, p) -> new Inputs(nextHop, level, m, p, Map.of(), entry))
        .thenCombine(
            tlsa, (in, t) -> new Inputs(in.nextHop(), in.level(), in.mx(), in.sts(), t, in.entry()))
        .thenApply(in -> remember(in, assemble(in), since, mine));
  }

  /**
   * RFC 8461 §5.1 step 3: before mail fails for good under an {@code enforce} policy, ask for a new
   * policy id; when the policy changed, the new plan follows it, and no plan of the old policy is
   * reused: the next hop's cached plans under every sender level are forgotten, and plans of it
   * that started before and end after are not cached. Empty when no MTA-STS policy source is
   * configured or the policy did not change. Tells no listener.
   */
  public CompletableFuture<Optional<DeliveryPlan>> replanIfPolicyChangedAsync(DeliveryPlan old) {
    return replanIfPolicyChangedAsync(old, EventListener.NONE);
  }

  /**
   * {@link #replanIfPolicyChangedAsync(DeliveryPlan)}, telling {@code listener} of the re-check's
   * MTA-STS lookup and, when the policy changed, of the new plan's TLSA lookups, as {@link
   * #planAsync(NextHop, TlsLevel, EventListener)} does.
   *
   * <p>With a policy map ({@link Builder#destinationPolicies}), the new plan is made under the
   * map's entry for {@code old.nextHop()} as the map reads now: a {@link DeliveryPlan} does not
   * record the entry it was made under, so when a reloading map changed since {@code old} was
   * planned, the new plan follows the new entry (its level, overrides, relay) while {@code old}
   * followed the previous one. A caller that must decide one delivery on one version of a reloading
   * map delivers through {@link SecureSmtpTransport}, which reads the map once per domain delivery
   * and makes the plan, the downgrade memory's verdict and this re-check under that one entry.
   */
  public CompletableFuture<Optional<DeliveryPlan>> replanIfPolicyChangedAsync(
      DeliveryPlan old, EventListener listener) {
    Objects.requireNonNull(listener, "listener");
    if (mtaSts.isEmpty() || enforcedPolicyId(old).isEmpty()) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    return replanIfPolicyChangedAsync(old, listener, entryFor(old.nextHop()));
  }

  /**
   * {@link #replanIfPolicyChangedAsync(DeliveryPlan, EventListener)} under {@code entry}: the
   * policy-map entry {@code old} was planned under, so that the new plan is made from the old
   * plan's MX answers (a relay's, when the entry names one) under the same entry, whatever the map
   * says by now.
   */
  CompletableFuture<Optional<DeliveryPlan>> replanIfPolicyChangedAsync(
      DeliveryPlan old, EventListener listener, Optional<DestinationPolicyMap.Entry> entry) {
    Objects.requireNonNull(entry, "entry");
    SafeListener events = new SafeListener(Objects.requireNonNull(listener, "listener"));
    Optional<String> oldId = enforcedPolicyId(old);
    if (mtaSts.isEmpty() || oldId.isEmpty()) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    // the MX resolution's next hop: a policy-map relay's, whose policy the plan followed
    return stsLookup(old.mx().nextHop(), true, events)
        .thenCompose(
            p -> {
              if (p.isPresent()
                  && p.get() instanceof MtaStsLookup.Found f
                  && !f.policy().id().equals(oldId.get())) {
                // The new plan is made from the old plan's MX answers, whose TTLs ran from when the
                // old plan looked them up: it serves this retry only. The cached plans of the
                // superseded policy are forgotten, under every sender level (the policy is the
                // domain's), and so are those still being made from it: the next plan() is made
                // from the answers as they are then (the DNS cache still has them) and the new
                // policy.
                forget(old.nextHop());
                return tlsaLookups(old.mx(), tlsaPort(entry), events)
                    .thenApply(
                        t -> {
                          Inputs in =
                              new Inputs(
                                  old.nextHop(),
                                  old.senderLevel().orElseThrow(),
                                  old.mx(),
                                  p,
                                  t,
                                  entry);
                          return Optional.of(assemble(in));
                        });
              }
              return CompletableFuture.completedFuture(Optional.empty());
            });
  }

  private static Optional<String> enforcedPolicyId(DeliveryPlan plan) {
    return plan.mtaSts().filter(p -> p.mode() == MtaStsMode.ENFORCE).map(MtaStsPolicy::id);
  }

  /**
   * The policy source's lookup (or re-check) of {@code hop}, between its start and end events. A
   * source that throws still throws from here, as it did before there were events, after the end
   * event.
   */
  private CompletableFuture<Optional<MtaStsLookup>> stsLookup(
      NextHop hop, boolean recheck, SafeListener events) {
    if (mtaSts.isEmpty() || !(hop instanceof NextHop.Domain d)) {
      return CompletableFuture.completedFuture(Optional.empty());
    }
    DomainName domain = d.name();
    events.fire(l -> l.mtaStsLookupStart(domain));
    CompletableFuture<MtaStsLookup> stage;
    try {
      stage = recheck ? mtaSts.get().recheckAsync(domain) : mtaSts.get().lookupAsync(domain);
    } catch (RuntimeException | Error e) {
      events.fire(l -> l.mtaStsLookupEnd(domain, sourceFailed(domain, e)));
      throw e;
    }
    return stage
        .whenComplete(
            (r, e) ->
                events.fire(
                    l ->
                        l.mtaStsLookupEnd(
                            domain, e == null && r != null ? r : sourceFailed(domain, e))))
        .thenApply(Optional::of);
  }

  /** What the end event says of a policy source that threw, failed or returned nothing. */
  private static MtaStsLookup sourceFailed(DomainName domain, Throwable e) {
    return new MtaStsLookup.Failed(
        domain, FailureType.STS_POLICY_FETCH_ERROR, "the MTA-STS policy source " + failure(e));
  }

  /** What the end event says of a DANE provider that threw, failed or returned nothing. */
  private static TlsaLookup providerFailed(MxHost host, Throwable e) {
    return new TlsaLookup.Failed(host.name(), "the DANE provider " + failure(e));
  }

  private static String failure(Throwable e) {
    if (e == null) {
      return "completed with no result";
    }
    Throwable cause = e instanceof CompletionException && e.getCause() != null ? e.getCause() : e;
    return "failed: " + cause;
  }

  /**
   * What a plan is made from.
   *
   * @param nextHop the recipient domain; {@code mx} is of the entry's relay when it has one
   */
  private record Inputs(
      NextHop nextHop,
      TlsLevel level,
      MxResolution mx,
      Optional<MtaStsLookup> sts,
      Map<DomainName, TlsaLookup> tlsa,
      Optional<DestinationPolicyMap.Entry> entry) {}

  /**
   * The policy-map entry for a recipient domain, if any (none for an address literal): one read of
   * the map, for one plan.
   */
  Optional<DestinationPolicyMap.Entry> entryFor(NextHop hop) {
    if (destinations == InMemoryPolicyMap.EMPTY || !(hop instanceof NextHop.Domain d)) {
      return Optional.empty();
    }
    return Objects.requireNonNull(destinations.lookup(d.name()), "the policy map returned null");
  }

  /**
   * The port whose TLSA records apply (RFC 6698 §3, RFC 7672 §2.2: {@code _PORT._tcp.HOST}, the
   * port connected to): a policy-map relay's explicit port, a real service port; else 25, also when
   * the transport's {@code port(...)} points port-25 traffic elsewhere (tests, tools).
   */
  private static int tlsaPort(Optional<DestinationPolicyMap.Entry> entry) {
    return entry.flatMap(e -> e.policy().relay()).flatMap(DestinationPolicy.Relay::port).orElse(25);
  }

  /**
   * Every connectable host's TLSA discovery for {@code port}, concurrently (RFC 7672 §2.2), each
   * between its start and end events. A provider that throws fails the result, as it did before
   * there were events, once the lookups already started have ended; no further lookup is started.
   */
  private CompletableFuture<Map<DomainName, TlsaLookup>> tlsaLookups(
      MxResolution mx, int port, SafeListener events) {
    if (dane.isEmpty() || mx.kind().isPermanentFailure() || mx.kind().isTemporaryFailure()) {
      return CompletableFuture.completedFuture(Map.of());
    }
    List<CompletableFuture<TlsaLookup>> all = new ArrayList<>();
    List<DomainName> asked = new ArrayList<>();
    Throwable thrown = null;
    for (MxHost h : mx.hosts()) {
      if (h.addresses().isEmpty()) {
        continue;
      }
      events.fire(l -> l.tlsaLookupStart(h));
      CompletableFuture<TlsaLookup> lookup;
      try {
        lookup = dane.get().lookupAsync(h, mx, port);
      } catch (RuntimeException | Error e) {
        events.fire(l -> l.tlsaLookupEnd(h, providerFailed(h, e)));
        thrown = e;
        break;
      }
      asked.add(h.name());
      all.add(
          lookup.whenComplete(
              (r, e) ->
                  events.fire(
                      l -> l.tlsaLookupEnd(h, e == null && r != null ? r : providerFailed(h, e)))));
    }
    CompletableFuture<Void> ended = CompletableFuture.allOf(all.toArray(CompletableFuture[]::new));
    if (thrown != null) {
      Throwable t = thrown;
      return ended.handle((v, e) -> null).thenCompose(v -> CompletableFuture.failedFuture(t));
    }
    return ended.thenApply(
        v -> {
          // Keyed by the host asked for, not by the name the outcome carries: an outcome that
          // names another host (the TLSA base domain, say) still decides this one, and a host is
          // never left without its outcome, which would read as "no DANE" (RFC 7672 §2.2).
          Map<DomainName, TlsaLookup> out = new HashMap<>();
          for (int i = 0; i < all.size(); i++) {
            // a provider that completed with no result fails the plan, as before
            out.put(
                asked.get(i),
                Objects.requireNonNull(all.get(i).join(), "the DANE provider returned null"));
          }
          return out;
        });
  }

  private DeliveryPlan assemble(Inputs in) {
    return assemble(
        new DomainInputs(
            in.mx().nextHop(),
            in.level(),
            mtaSts.isPresent(),
            dane.isPresent(),
            in.mx(),
            in.sts(),
            in.entry()),
        in.tlsa(),
        in.nextHop());
  }

  /**
   * Forgets the cached plans for a next hop under every sender level, if plans are cached, and the
   * plans for it that have started and not ended: they are not cached when they end (RFC 8461 §5.1:
   * once the re-check found a new policy, no plan of the old one is reused).
   */
  private void forget(NextHop nextHop) {
    PlanCache cache = plans;
    if (cache != null) {
      for (TlsLevel level : TlsLevel.values()) {
        cache.remove(nextHop, level);
      }
    }
  }

  /**
   * Caches {@code plan} until the earliest expiry among its inputs, counted from {@code
   * startedMillis} (when they started to be looked up, so never later than they expire), or forgets
   * the plan for its key when it may not be reused. Either only if no plan that started later, nor
   * a {@link #forget}, has reached the key since {@code ticket} was taken: a plan that ends late
   * never replaces a newer one. Returns {@code plan}.
   */
  private DeliveryPlan remember(Inputs in, DeliveryPlan plan, long startedMillis, long ticket) {
    PlanCache cache = plans;
    if (cache == null || in.entry().isPresent()) {
      return plan;
    }
    long reuse = reuseMillis(in, plan);
    if (reuse <= 0) {
      cache.remove(in.nextHop(), in.level(), ticket);
    } else {
      cache.put(in.nextHop(), in.level(), plan, startedMillis + reuse, estimatedBytes(in), ticket);
    }
    return plan;
  }

  private static long estimatedBytes(Inputs in) {
    return estimatedBytes(in.mx(), in.sts(), in.tlsa());
  }

  /**
   * About how many octets of peer data a plan made of these inputs holds: the MX answer whole (all
   * its records, not only the hosts planned), every host's address answers, the MTA-STS policy (its
   * id, {@code mx} patterns and text, up to {@link MtaStsPolicy#MAX_TEXT_LENGTH} characters: the
   * plan keeps it alive after the policy store evicted or replaced it, or when the store hands out
   * copies) and the TLSA records.
   */
  static long estimatedBytes(
      MxResolution mx, Optional<MtaStsLookup> sts, Map<DomainName, TlsaLookup> tlsa) {
    long bytes = mx.mxAnswer().map(AnswerCache::estimatedBytes).orElse(0L);
    if (sts.isPresent() && sts.get() instanceof MtaStsLookup.Found f) {
      MtaStsPolicy p = f.policy();
      bytes += 64L + f.note().length() + p.id().length() + p.text().map(String::length).orElse(0);
      for (String pattern : p.mxPatterns()) {
        bytes += 16L + pattern.length();
      }
    }
    for (MxHost h : mx.hosts()) {
      bytes += AnswerCache.estimatedBytes(h.ipv4()) + AnswerCache.estimatedBytes(h.ipv6());
    }
    for (TlsaLookup t : tlsa.values()) {
      List<DnsRecord.Tlsa> records =
          t instanceof TlsaLookup.Usable u
              ? u.requirement().records()
              : t instanceof TlsaLookup.Unusable n ? n.records() : List.of();
      for (DnsRecord.Tlsa r : records) {
        bytes += 16 + r.data().length;
      }
    }
    return bytes;
  }

  /**
   * How long a plan may be reused: the smallest TTL among its inputs, or 0 when it may not be (the
   * plan failed, or rests on a failed lookup or on an answer without a TTL).
   */
  private static long reuseMillis(Inputs in, DeliveryPlan plan) {
    if (plan.failure().isPresent()) {
      return 0; // deferred or failed: the next message looks again
    }
    long ttl = MAX_PLAN_TTL.toMillis();
    MxResolution mx = in.mx();
    if (mx.mxAnswer().isPresent()) {
      ttl = Math.min(ttl, answerTtl(mx.mxAnswer().get()));
    }
    for (MxHost h : mx.hosts()) {
      ttl = Math.min(ttl, Math.min(answerTtl(h.ipv4()), answerTtl(h.ipv6())));
    }
    if (in.sts().isPresent()) {
      MtaStsLookup sts = in.sts().get();
      if (sts instanceof MtaStsLookup.Failed) {
        return 0;
      }
      ttl = Math.min(ttl, sts.ttl().orElse(UNKNOWN_INPUT_TTL).toMillis());
    }
    for (TlsaLookup t : in.tlsa().values()) {
      if (t instanceof TlsaLookup.Failed) {
        return 0;
      }
      ttl = Math.min(ttl, t.ttl().orElse(UNKNOWN_INPUT_TTL).toMillis());
    }
    return Math.max(0, ttl);
  }

  /**
   * A failed answer's TTL is zero, and so makes the plan not reusable; so is one whose validation
   * failed, whatever its outcome (RFC 4035 §5.5).
   */
  private static long answerTtl(DnsAnswer answer) {
    return MxHost.failed(answer) ? 0 : answer.ttl().toMillis();
  }

  /**
   * The plan the rules of {@link HostPolicy} make of the lookups' results: the domain-level rules
   * first, then each host in MX order, then why nothing can be tried when no host is left.
   */
  private static DeliveryPlan assemble(
      DomainInputs in, Map<DomainName, TlsaLookup> tlsa, NextHop nextHop) {
    TlsLevel level = in.level();
    MxResolution mx = in.mx();
    Optional<DestinationPolicy.Relay> relay = in.destination().flatMap(e -> e.policy().relay());
    Optional<Integer> port = relay.flatMap(DestinationPolicy.Relay::port);
    DomainDecision domain = HostPolicy.decideDomain(in);
    if (domain instanceof DomainDecision.Fail fail) {
      return new DeliveryPlan(
          nextHop,
          level,
          mx,
          List.of(),
          fail.skipped(),
          Optional.of(fail.failure()),
          fail.reasons(),
          fail.policyFailures(),
          fail.mtaSts());
    }
    DomainDecision.Proceed proceed = (DomainDecision.Proceed) domain;
    List<String> reasons = new ArrayList<>(proceed.reasons());
    relay.ifPresent(
        r ->
            reasons.add(
                "policy map relay "
                    + r
                    + " for "
                    + nextHop
                    + ": planned as "
                    + r.host()
                    + " (its MX hosts, MTA-STS and DANE); "
                    + nextHop
                    + "'s own MX hosts, MTA-STS and DANE are not consulted, since mail does not"
                    + " reach them from here"));
    List<PolicyFailure> policyFailures = new ArrayList<>(proceed.policyFailures());
    List<PlannedHost> hosts = new ArrayList<>();
    List<SkippedHost> skipped = new ArrayList<>();
    Optional<DeliveryPlan.Failure> literalRefused = Optional.empty();
    if (nextHop instanceof NextHop.AddressLiteral literal && !MxHost.isUnicast(literal.address())) {
      // user@[0.0.0.0]: a connect to the unspecified address reaches the local host, and no
      // multicast or broadcast address is a mail server; no retry can change the address.
      reasons.add(nextHop + " is not a unicast address: never connected to");
      literalRefused =
          Optional.of(
              io.mailtls.core.internal.Values.planFailure(
                  DeliveryStatus.BOUNCED,
                  SmtpReply.local(
                      550, "5.1.2", "address literal " + nextHop + " is not a unicast address"),
                  FailureType.CONNECTION_FAILED));
    } else if (nextHop instanceof NextHop.AddressLiteral literal) {
      HostDecision d = HostPolicy.decide(HostInputs.addressLiteral(in));
      add(
          d,
          Optional.empty(),
          List.of(literal.address()),
          port,
          hosts,
          skipped,
          reasons,
          policyFailures);
    } else {
      for (MxHost h : mx.hosts()) {
        HostDecision d =
            HostPolicy.decide(HostInputs.mxHost(in, h, Optional.ofNullable(tlsa.get(h.name()))));
        add(d, Optional.of(h.name()), h.addresses(), port, hosts, skipped, reasons, policyFailures);
      }
    }
    Optional<DeliveryPlan.Failure> failure = literalRefused;
    if (hosts.isEmpty() && failure.isEmpty()) {
      failure = Optional.of(HostPolicy.noHostLeft(skipped, proceed.enforce()));
    }
    return new DeliveryPlan(
        nextHop, level, mx, hosts, skipped, failure, reasons, policyFailures, proceed.mtaSts());
  }

  /** Adds one host's decision to the plan being assembled. */
  private static void add(
      HostDecision d,
      Optional<DomainName> name,
      List<InetAddress> addresses,
      Optional<Integer> port,
      List<PlannedHost> hosts,
      List<SkippedHost> skipped,
      List<String> reasons,
      List<PolicyFailure> policyFailures) {
    if (d instanceof HostDecision.Use use) {
      reasons.addAll(use.notes());
      policyFailures.addAll(use.policyFailures());
      hosts.add(
          new PlannedHost(
              name, addresses, use.requirement(), use.source(), use.why(), use.reportOnly(), port));
    } else if (d instanceof HostDecision.Skip skip) {
      reasons.addAll(skip.notes());
      policyFailures.addAll(skip.policyFailures());
      // an address literal has no name; the root stands for it
      skipped.add(new SkippedHost(name.orElse(DomainName.ROOT), skip.failure(), skip.reason()));
    } else {
      // decideDomain proceeded, and decide applies the same domain rules first
      throw new IllegalStateException(
          "a domain rule decided a host after the domain proceeded: " + d);
    }
  }

  /**
   * Configures a {@link TransportPolicyResolver}. Each setter may be called once, also in a builder
   * from {@link TransportPolicyResolver#newBuilder()}, where it overrides the inherited setting.
   * Not thread-safe.
   */
  public static final class Builder {
    private @Nullable DnsResolver dns;
    private @Nullable RandomGenerator random;
    private @Nullable MtaStsPolicySource mtaSts;
    private @Nullable DaneProvider dane;
    private boolean stsChosen;
    private boolean daneChosen;
    private Clock clock = Clock.systemUTC();
    private int planCacheSize = DEFAULT_PLAN_CACHE_SIZE;
    private DestinationPolicyMap destinations = InMemoryPolicyMap.EMPTY;
    private final Set<String> called = new HashSet<>();

    private Builder() {}

    /** A builder with {@code from}'s settings, none of them set in this builder yet. */
    private Builder(Builder from) {
      this.dns = from.dns;
      this.random = from.random;
      this.mtaSts = from.mtaSts;
      this.dane = from.dane;
      this.stsChosen = from.stsChosen;
      this.daneChosen = from.daneChosen;
      this.clock = from.clock;
      this.planCacheSize = from.planCacheSize;
      this.destinations = from.destinations;
    }

    private void once(String setter, String what) {
      if (!called.add(setter)) {
        throw new IllegalStateException(what);
      }
    }

    /** The DNS resolver for MX and address lookups (required). */
    public Builder dns(DnsResolver dns) {
      once("dns", "dns already set");
      this.dns = Objects.requireNonNull(dns, "dns");
      return this;
    }

    /** The random source that orders equal-preference MX hosts; default a new {@link Random}. */
    public Builder random(RandomGenerator random) {
      once("random", "random already set");
      this.random = Objects.requireNonNull(random, "random");
      return this;
    }

    /**
     * The source of recipients' MTA-STS policies (RFC 8461), e.g. {@code MtaStsResolver}. This or
     * {@link #withoutMtaSts()} is required.
     */
    public Builder mtaSts(MtaStsPolicySource source) {
      once("mtaSts", "mtaSts already chosen");
      this.mtaSts = Objects.requireNonNull(source, "source");
      stsChosen = true;
      return this;
    }

    /** Plans without MTA-STS: an explicit opt-out, stated in every decision record. */
    public Builder withoutMtaSts() {
      once("mtaSts", "mtaSts already chosen");
      this.mtaSts = null;
      stsChosen = true;
      return this;
    }

    /**
     * The DANE provider (RFC 7672), e.g. {@code mailtls-dane}'s {@code DaneResolver}. This or
     * {@link #withoutDane()} is required.
     */
    public Builder dane(DaneProvider provider) {
      once("dane", "dane already chosen");
      this.dane = Objects.requireNonNull(provider, "provider");
      daneChosen = true;
      return this;
    }

    /** Plans without DANE: an explicit opt-out, stated in every decision record. */
    public Builder withoutDane() {
      once("dane", "dane already chosen");
      this.dane = null;
      daneChosen = true;
      return this;
    }

    /**
     * The clock that tells when a cached plan expires; default the system UTC clock. Give the same
     * clock as the DNS resolver's and the MTA-STS source's.
     */
    public Builder clock(Clock clock) {
      once("clock", "clock already set");
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /**
     * How many next hops' plans are cached (each under any of the sender levels); default {@value
     * TransportPolicyResolver#DEFAULT_PLAN_CACHE_SIZE}, twice the recipient domains the DNS
     * resolver's default answer cache holds, so that a fan-out to 10,000 domains keeps every plan.
     * A cached plan with its answers, TLSA records and MTA-STS policy takes about 3 KB of heap when
     * no two domains share an MX host (docs/benchmarks.md, "Memory"): about 60 MB at the default,
     * 290 MB for 100,000 next hops. What a plan holds is the peers' choice (an MX RRset of hundreds
     * of long names, an MTA-STS policy's {@code mx} patterns and its text, which the plan keeps
     * alive once the policy store has let it go), so the cache is bounded by an estimate of its
     * peer data too: a plan estimated above 16 KiB is not kept (its domain is planned again for
     * each message, from the DNS answer cache), and the plans kept hold at most 4 KiB per next hop
     * of this size together (an ordinary plan is estimated at a few hundred octets). 0 turns the
     * plan cache off: every plan asks its DNS resolver and policy sources again (whose own caches
     * still apply).
     *
     * @throws IllegalArgumentException when negative
     */
    public Builder planCacheSize(int nextHops) {
      once("planCacheSize", "planCacheSize already set");
      if (nextHops < 0) {
        throw new IllegalArgumentException("planCacheSize must not be negative: " + nextHops);
      }
      this.planCacheSize = nextHops;
      return this;
    }

    /**
     * The operator's per-destination policies (docs/design.md §1, "Per destination"); default none,
     * every destination as the sender's level and its own policies say. A plan for a destination
     * with an entry is made anew for each message (the map may change: {@link
     * DestinationPolicyMap#reloading}), never taken from the plan cache.
     */
    public Builder destinationPolicies(DestinationPolicyMap map) {
      once("destinationPolicies", "destinationPolicies already set");
      this.destinations = Objects.requireNonNull(map, "map");
      return this;
    }

    /**
     * Builds the resolver.
     *
     * @throws IllegalStateException without {@link #dns}, or when MTA-STS or DANE was neither
     *     configured nor explicitly opted out of
     */
    public TransportPolicyResolver build() {
      if (dns == null) {
        throw new IllegalStateException("dns is required");
      }
      if (!stsChosen) {
        throw new IllegalStateException(
            "MTA-STS: call mtaSts(...) (module mailtls-mta-sts) or"
                + " withoutMtaSts() to opt out explicitly");
      }
      if (!daneChosen) {
        throw new IllegalStateException(
            "DANE: call dane(...) (module mailtls-dane) or"
                + " withoutDane() to opt out explicitly");
      }
      if (random == null) {
        random = new Random();
      }
      return new TransportPolicyResolver(this);
    }
  }
}
