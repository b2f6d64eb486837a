package io.mailtls.mtasts;

import static io.mailtls.mtasts.StsFixture.DOMAIN;
import static io.mailtls.mtasts.StsFixture.MAX_AGE;
import static io.mailtls.mtasts.StsFixture.POLICY_DOMAIN;
import static io.mailtls.mtasts.StsFixture.TXT_NAME;
import static io.mailtls.mtasts.StsFixture.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DomainName;
import io.mailtls.core.FailureType;
import io.mailtls.core.MtaStsLookup;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.ManualScheduler;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Type;

/**
 * RFC 8461 §3.3 ("MTAs SHOULD proactively refresh cached policies before they expire") and §10.2:
 * background refresh on a manual scheduler driven by the fake clock.
 */
class RefreshTest {

  private static final Instant T0 = FakeClock.START;

  private final StsFixture fx = new StsFixture();
  private final ManualScheduler scheduler = new ManualScheduler(fx.clock);

  @TempDir Path dir;

  @AfterEach
  void close() {
    fx.close();
  }

  private MtaStsResolver refreshing() {
    return fx.sts(b -> b.scheduler(scheduler).refreshJitter(Duration.ZERO));
  }

  /** Moves the clock to the next due task, runs it and waits for its DNS work to settle. */
  private Instant runNext() {
    Instant due = scheduler.nextDue().orElseThrow(() -> new AssertionError("nothing scheduled"));
    fx.clock.set(due);
    assertThat(scheduler.runDue()).isPositive();
    fx.awaitDnsIdle();
    return due;
  }

  @Test
  void section3_3_aCachedPolicyIsRefetchedDailyWhichRestartsMaxAge() {
    MtaStsResolver sts = refreshing();
    await(sts.lookupAsync(POLICY_DOMAIN));
    assertThat(scheduler.pending()).containsExactly(T0.plus(Duration.ofDays(1)));

    runNext();

    // Same id, but a refresh fetches anyway: only a fetch restarts max_age (§5.1).
    assertThat(fx.fetcher.count(DOMAIN)).isEqualTo(2);
    CachedPolicy entry = sts.store().get(POLICY_DOMAIN).orElseThrow();
    assertThat(entry.fetchedAt()).isEqualTo(T0.plus(Duration.ofDays(1)));
    assertThat(entry.expiresAt()).isEqualTo(T0.plus(Duration.ofDays(1)).plus(MAX_AGE));
    assertThat(scheduler.pending()).containsExactly(T0.plus(Duration.ofDays(2)));
    assertThat(((MtaStsLookup.Found) await(sts.lookupAsync(POLICY_DOMAIN))).fromCache()).isTrue();
  }

  @Test
  void section10_2_aBackgroundRefreshIsNotAUseOfThePolicy() {
    InMemoryPolicyStore store = new InMemoryPolicyStore(10, Duration.ofDays(7), fx.clock);
    MtaStsResolver sts =
        fx.sts(b -> b.scheduler(scheduler).refreshJitter(Duration.ZERO).store(store));
    await(sts.lookupAsync(POLICY_DOMAIN)); // fetched and stored: not a use

    runNext(); // the refresh reads the entry, fetches and replaces it

    assertThat(fx.fetcher.count(DOMAIN)).isEqualTo(2);
    assertThat(store.pinned()).isZero();
    await(sts.lookupAsync(POLICY_DOMAIN)); // a sender's lookup reads it: a use
    assertThat(store.pinned()).isEqualTo(1);
  }

  @Test
  void section3_3_aShortLivedPolicyIsRefreshedBeforeItExpires() {
    fx.fetcher.serve(DOMAIN, MtaStsMode.ENFORCE, Duration.ofHours(3), "mx1.example.test");
    MtaStsResolver sts = refreshing();
    await(sts.lookupAsync(POLICY_DOMAIN));

    // refreshBefore (1 h) before expiry comes before refreshInterval (1 day) after the fetch.
    assertThat(scheduler.pending()).containsExactly(T0.plus(Duration.ofHours(2)));
    runNext();
    assertThat(sts.store().get(POLICY_DOMAIN).orElseThrow().expiresAt())
        .isEqualTo(T0.plus(Duration.ofHours(5)));
  }

  @Test
  void section3_3_aRefreshThatFindsANewIdFetchesTheNewPolicy() {
    MtaStsResolver sts = refreshing();
    await(sts.lookupAsync(POLICY_DOMAIN));
    fx.publish("v=STSv1; id=2");
    fx.fetcher.serve(DOMAIN, MtaStsMode.TESTING, MAX_AGE, "mx9.example.test");

    runNext();

    assertThat(fx.fetcher.calls()).extracting(MapPolicyFetcher.Call::id).containsExactly("1", "2");
    MtaStsLookup.Found result = (MtaStsLookup.Found) await(sts.lookupAsync(POLICY_DOMAIN));
    assertThat(result.fromCache()).isTrue();
    assertThat(result.policy().id()).isEqualTo("2");
    assertThat(result.policy().mode()).isEqualTo(MtaStsMode.TESTING);
  }

  /**
   * A shared store whose read for the refresh failed (it answered too late, so its {@code peek}
   * came back empty) while it still says it holds the entry: the refresh is retried, never given
   * up, since only a store that says it holds nothing ends it.
   */
  @Test
  void section3_3_aRefreshWhoseReadFailedWhileTheStoreHoldsThePolicyIsRetried() {
    InMemoryPolicyStore held = new InMemoryPolicyStore(10, Duration.ofDays(7), fx.clock);
    java.util.concurrent.atomic.AtomicBoolean readsFail =
        new java.util.concurrent.atomic.AtomicBoolean();
    PolicyStore store =
        new PolicyStore() {
          @Override
          public java.util.Optional<CachedPolicy> get(DomainName d) {
            return readsFail.get() ? java.util.Optional.empty() : held.get(d);
          }

          @Override
          public java.util.Optional<CachedPolicy> peek(DomainName d) {
            return readsFail.get() ? java.util.Optional.empty() : held.peek(d);
          }

          @Override
          public Presence presence(DomainName d) {
            return held.presence(d); // this read came in time
          }

          @Override
          public void put(DomainName d, CachedPolicy entry) {
            held.put(d, entry);
          }

          @Override
          public void remove(DomainName d) {
            held.remove(d);
          }
        };
    MtaStsResolver sts =
        fx.sts(b -> b.scheduler(scheduler).refreshJitter(Duration.ZERO).store(store));
    await(sts.lookupAsync(POLICY_DOMAIN));
    readsFail.set(true);

    Instant first = runNext();

    assertThat(held.peek(POLICY_DOMAIN)).as("still held").isPresent();
    assertThat(scheduler.pending()).containsExactly(first.plus(Duration.ofMinutes(5)));
    readsFail.set(false);
    Instant retry = runNext();
    assertThat(held.peek(POLICY_DOMAIN).orElseThrow().fetchedAt()).isEqualTo(retry);
  }

  @Test
  void section3_3_aFailedRefreshKeepsThePolicyAndRetriesAfterTheBackoff() {
    MtaStsResolver sts = refreshing();
    await(sts.lookupAsync(POLICY_DOMAIN));
    fx.fetcher.fail(DOMAIN, FailureType.STS_POLICY_FETCH_ERROR, "HTTP 500");

    Instant first = runNext();

    assertThat(sts.store().get(POLICY_DOMAIN).orElseThrow().fetchedAt()).isEqualTo(T0);
    assertThat(scheduler.pending()).containsExactly(first.plus(Duration.ofMinutes(5)));
    fx.fetcher.serve(DOMAIN, MtaStsMode.ENFORCE, MAX_AGE, "mx1.example.test");

    Instant retry = runNext();

    assertThat(fx.fetcher.count(DOMAIN)).isEqualTo(3);
    assertThat(sts.store().get(POLICY_DOMAIN).orElseThrow().fetchedAt()).isEqualTo(retry);
    assertThat(scheduler.pending()).containsExactly(retry.plus(Duration.ofDays(1)));
  }

  @Test
  void section8_3_withoutATxtRecordARefreshFetchesNothingAndThePolicyLapsesOnSchedule() {
    fx.fetcher.serve(DOMAIN, MtaStsMode.ENFORCE, Duration.ofHours(2), "mx1.example.test");
    MtaStsResolver sts = refreshing();
    await(sts.lookupAsync(POLICY_DOMAIN));
    fx.dns.removeRecords(TXT_NAME, Type.TXT);

    int refreshes = 0;
    while (scheduler.nextDue().isPresent()) {
      runNext();
      refreshes++;
      assertThat(refreshes).isLessThan(100);
    }

    // First at expiry - 1 h, then every 5 minutes while a retry still ends before expiry.
    assertThat(refreshes).isEqualTo(12);
    assertThat(fx.fetcher.count(DOMAIN)).isEqualTo(1);
    assertThat(fx.clock.instant()).isEqualTo(T0.plus(Duration.ofMinutes(115)));
    assertThat(((MtaStsLookup.Found) await(sts.lookupAsync(POLICY_DOMAIN))).policy().id())
        .isEqualTo("1");
    // Parked: lookups in the last minutes start no refresh of their own.
    assertThat(scheduler.pending()).isEmpty();
    fx.clock.set(T0.plus(Duration.ofHours(2)));
    assertThat(await(sts.lookupAsync(POLICY_DOMAIN))).isInstanceOf(MtaStsLookup.NoPolicy.class);
  }

  @Test
  void section10_2_aDnsFailureAtRefreshTimeIsRetried() {
    MtaStsResolver sts = refreshing();
    await(sts.lookupAsync(POLICY_DOMAIN));
    fx.dns.servfail(TXT_NAME, Type.TXT);

    Instant first = runNext();
    assertThat(scheduler.pending()).containsExactly(first.plus(Duration.ofMinutes(5)));
    assertThat(fx.fetcher.count(DOMAIN)).isEqualTo(1);

    fx.dns.clearFaults();
    Instant second = runNext();
    assertThat(fx.fetcher.count(DOMAIN)).isEqualTo(2);
    assertThat(sts.store().get(POLICY_DOMAIN).orElseThrow().fetchedAt()).isEqualTo(second);
  }

  @Test
  void entriesLoadedFromAFileAreScheduledOnFirstUse() {
    Path file = dir.resolve("sts.json");
    new FilePolicyStore(file)
        .put(
            POLICY_DOMAIN,
            CachedPolicy.fetched(
                new MtaStsPolicy("1", MtaStsMode.ENFORCE, List.of("mx1.example.test"), MAX_AGE),
                T0.minus(Duration.ofHours(3))));
    MtaStsResolver sts =
        fx.sts(
            b ->
                b.scheduler(scheduler)
                    .refreshJitter(Duration.ZERO)
                    .store(new FilePolicyStore(file)));
    assertThat(scheduler.pending()).isEmpty();

    await(sts.lookupAsync(POLICY_DOMAIN));

    assertThat(fx.fetcher.calls()).isEmpty();
    assertThat(scheduler.pending()).containsExactly(T0.plus(Duration.ofHours(21)));
  }

  @Test
  void closeCancelsBackgroundRefreshButLookupsStillWork() {
    MtaStsResolver sts = refreshing();
    await(sts.lookupAsync(POLICY_DOMAIN));

    sts.close();

    assertThat(scheduler.pending()).isEmpty();
    fx.publish("v=STSv1; id=2");
    assertThat(((MtaStsLookup.Found) await(sts.lookupAsync(POLICY_DOMAIN))).policy().id())
        .isEqualTo("2");
    assertThat(scheduler.pending()).isEmpty();
  }

  @Test
  void aShutDownSchedulerOnlyDisablesRefresh() {
    scheduler.shutdown();
    MtaStsResolver sts = refreshing();

    assertThat(await(sts.lookupAsync(POLICY_DOMAIN))).isInstanceOf(MtaStsLookup.Found.class);
  }

  // ---------------------------------------------------------------- the plan itself

  private RefreshScheduler plan(Duration jitter, long seed) {
    return new RefreshScheduler(
        scheduler,
        fx.clock,
        Duration.ofDays(1),
        Duration.ofHours(1),
        jitter,
        Duration.ofMinutes(5),
        new SplittableRandom(seed),
        (d, e) -> {},
        d -> true);
  }

  private static CachedPolicy lasting(Duration maxAge) {
    return CachedPolicy.fetched(
        new MtaStsPolicy("1", MtaStsMode.ENFORCE, List.of("mx.example.test"), maxAge), T0);
  }

  @Test
  void dueTimeIsTheEarlierOfTheIntervalAndExpiryLessRefreshBefore() {
    RefreshScheduler p = plan(Duration.ZERO, 1);
    assertThat(p.dueTime(lasting(Duration.ofDays(365)))).contains(T0.plus(Duration.ofDays(1)));
    assertThat(p.dueTime(lasting(Duration.ofHours(10)))).contains(T0.plus(Duration.ofHours(9)));
    // Never before half the entry's life: no refresh storm for a short max_age.
    assertThat(p.dueTime(lasting(Duration.ofMinutes(90))))
        .contains(T0.plus(Duration.ofMinutes(45)));
    // Too short-lived to refresh in the background at all.
    assertThat(p.dueTime(lasting(Duration.ofMinutes(1)))).isEmpty();
  }

  @Test
  void jitterMovesTheRefreshEarlierByLessThanTheJitter() {
    RefreshScheduler p = plan(Duration.ofMinutes(10), 42);
    Instant planned = T0.plus(Duration.ofDays(1));
    Set<Instant> seen = new HashSet<>();
    for (int i = 0; i < 50; i++) {
      Instant due = p.dueTime(lasting(Duration.ofDays(30))).orElseThrow();
      assertThat(due).isAfter(planned.minus(Duration.ofMinutes(10))).isBeforeOrEqualTo(planned);
      seen.add(due);
    }
    assertThat(seen).hasSizeGreaterThan(40);
  }

  @Test
  void oneTaskPerDomain() {
    RefreshScheduler p = plan(Duration.ZERO, 1);
    DomainName d = DomainName.of("a.test");
    p.schedule(d, lasting(Duration.ofDays(30)));
    p.schedule(d, lasting(Duration.ofDays(10)));
    p.ensureScheduled(d, lasting(Duration.ofDays(10)));

    assertThat(scheduler.pending()).containsExactly(T0.plus(Duration.ofDays(1)));
    assertThat(p.plannedEntry(d)).contains(lasting(Duration.ofDays(10)));
  }

  // ---------------------------------------------------------------- builder

  @Test
  void builderRequiresDnsAndFetcherAndRejectsBadValues() {
    assertThatThrownBy(() -> MtaStsResolver.builder().fetcher(fx.fetcher).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("dns");
    assertThatThrownBy(() -> MtaStsResolver.builder().dns(fx.resolver).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("fetcher");
    assertThatThrownBy(() -> MtaStsResolver.builder().clock(fx.clock).clock(fx.clock))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("clock already set");
    assertThatThrownBy(() -> fx.sts(b -> b.failureBackoff(Duration.ofSeconds(-1))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT-1S");
    assertThatThrownBy(() -> fx.sts(b -> b.refreshInterval(Duration.ZERO)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("refreshInterval");
    assertThatThrownBy(() -> fx.sts(b -> b.refreshBefore(Duration.ofHours(-1))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("refreshBefore");
    assertThatThrownBy(() -> MtaStsResolver.builder().store(null))
        .isInstanceOf(NullPointerException.class);
  }
}
