package io.mailtls.mtasts;

import static io.mailtls.mtasts.StsFixture.DOMAIN;
import static io.mailtls.mtasts.StsFixture.MAX_AGE;
import static io.mailtls.mtasts.StsFixture.POLICY_DOMAIN;
import static io.mailtls.mtasts.StsFixture.TXT_NAME;
import static io.mailtls.mtasts.StsFixture.await;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsOutcome;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecState;
import io.mailtls.core.DomainName;
import io.mailtls.core.FailureType;
import io.mailtls.core.MtaStsLookup;
import io.mailtls.core.MtaStsMode;
import io.mailtls.testkit.FakeClock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.xbill.DNS.Type;

/**
 * RFC 8461 §3.1, §3.3 and §5.1: discovery through the real DNS stack (the testkit's signed server
 * and a validating resolver), fetches through {@link MapPolicyFetcher}, time from a fake clock.
 */
class MtaStsResolverTest {

  private final StsFixture fx = new StsFixture();

  @AfterEach
  void close() {
    fx.close();
  }

  private static MtaStsLookup.Found found(MtaStsLookup result) {
    assertThat(result).isInstanceOf(MtaStsLookup.Found.class);
    return (MtaStsLookup.Found) result;
  }

  // ---------------------------------------------------------------- §3.1, §3.3: discovery

  @Test
  void section3_1And3_3_validTxtRecordWithNothingCachedFetchesAndCaches() {
    MtaStsResolver sts = fx.sts();

    MtaStsLookup.Found result = found(await(sts.lookupAsync(POLICY_DOMAIN)));

    assertThat(result.fromCache()).isFalse();
    assertThat(result.policy().id()).isEqualTo("1");
    assertThat(result.policy().mode()).isEqualTo(MtaStsMode.ENFORCE);
    assertThat(result.policy().mxPatterns())
        .containsExactly("mx1.example.test", "*.mx.example.test");
    assertThat(fx.fetcher.calls()).containsExactly(new MapPolicyFetcher.Call(POLICY_DOMAIN, "1"));
    // §3.2, §5.1: cached until max_age after the fetch.
    CachedPolicy entry = sts.store().get(POLICY_DOMAIN).orElseThrow();
    assertThat(entry.fetchedAt()).isEqualTo(FakeClock.START);
    assertThat(entry.expiresAt()).isEqualTo(FakeClock.START.plus(MAX_AGE));
    assertThat(entry.policy()).isEqualTo(result.policy());
  }

  @Test
  void section3_1_stringsOfOneRecordAreConcatenated() {
    fx.publish("v=STSv1; id=20250301", "T1200Z;");
    MtaStsResolver sts = fx.sts();

    assertThat(found(await(sts.lookupAsync(POLICY_DOMAIN))).policy().id())
        .isEqualTo("20250301T1200Z");
  }

  @Test
  void section3_1_recordsNotStartingWithVersionAndSemicolonAreDiscardedBeforeCounting() {
    // Beside the real record "v=STSv1; id=1": a bare "v=STSv1" and one without the ';'.
    fx.dns.update(DOMAIN, z -> z.txt(TXT_NAME, "v=STSv1").txt(TXT_NAME, "v=STSv1 id=2"));
    MtaStsResolver sts = fx.sts();

    MtaStsLookup.Found result = found(await(sts.lookupAsync(POLICY_DOMAIN)));

    assertThat(result.policy().id()).isEqualTo("1");
    assertThat(fx.fetcher.calls()).containsExactly(new MapPolicyFetcher.Call(POLICY_DOMAIN, "1"));
  }

  @Test
  void section3_1_aRecordWithTrailingWhiteSpaceIsInvalidSoNoPolicy() {
    fx.publish("v=STSv1; id=1 ");
    MtaStsResolver sts = fx.sts();

    MtaStsLookup result = await(sts.lookupAsync(POLICY_DOMAIN));

    assertThat(result)
        .isInstanceOfSatisfying(
            MtaStsLookup.NoPolicy.class, n -> assertThat(n.reason()).contains("white space"));
    assertThat(fx.fetcher.calls()).isEmpty();
  }

  @Test
  void section3_2_repeatedIdInTheRecordFirstOccurrenceCounts() {
    fx.publish("v=STSv1; id=1; id=2");
    MtaStsResolver sts = fx.sts();

    assertThat(found(await(sts.lookupAsync(POLICY_DOMAIN))).policy().id()).isEqualTo("1");
  }

  @Test
  void section3_sameIdAsFreshCachedPolicyIsNotFetched() {
    MtaStsResolver sts = fx.sts();
    await(sts.lookupAsync(POLICY_DOMAIN));
    fx.clock.advance(Duration.ofDays(3));

    MtaStsLookup.Found result = found(await(sts.lookupAsync(POLICY_DOMAIN)));

    assertThat(result.fromCache()).isTrue();
    assertThat(result.note()).contains("unchanged");
    assertThat(fx.fetcher.count(DOMAIN)).isEqualTo(1);
    assertThat(fx.txtQueries()).isEqualTo(2); // the TXT record is still checked every time
    // Seeing the same id does not extend the entry: only a fetch restarts max_age (§5.1).
    assertThat(sts.store().get(POLICY_DOMAIN).orElseThrow().fetchedAt()).isEqualTo(FakeClock.START);
  }

  @Test
  void section3_newIdIsFetchedAndReplacesTheCachedPolicy() {
    MtaStsResolver sts = fx.sts();
    await(sts.lookupAsync(POLICY_DOMAIN));
    fx.clock.advance(Duration.ofHours(5));
    fx.publish("v=STSv1; id=2");
    fx.fetcher.serve(DOMAIN, MtaStsMode.TESTING, Duration.ofDays(1), "mx2.example.test");

    MtaStsLookup.Found result = found(await(sts.lookupAsync(POLICY_DOMAIN)));

    assertThat(result.fromCache()).isFalse();
    assertThat(result.policy().id()).isEqualTo("2");
    assertThat(result.policy().mode()).isEqualTo(MtaStsMode.TESTING);
    assertThat(result.note()).contains("replaces policy id 1");
    CachedPolicy entry = sts.store().get(POLICY_DOMAIN).orElseThrow();
    assertThat(entry.policy().id()).isEqualTo("2");
    assertThat(entry.expiresAt()).isEqualTo(fx.clock.instant().plus(Duration.ofDays(1)));
  }

  @Test
  void section3_3_newIdThatFailsToFetchKeepsTheFreshCachedPolicy() {
    MtaStsResolver sts = fx.sts();
    await(sts.lookupAsync(POLICY_DOMAIN));
    fx.publish("v=STSv1; id=2");
    fx.fetcher.fail(DOMAIN, FailureType.STS_WEBPKI_INVALID, "certificate expired");

    MtaStsLookup.Found result = found(await(sts.lookupAsync(POLICY_DOMAIN)));

    assertThat(result.fromCache()).isTrue();
    assertThat(result.policy().id()).isEqualTo("1");
    assertThat(result.note())
        .contains(
            "policy id 2 failed",
            "sts-webpki-invalid",
            "certificate expired",
            "cached policy id 1");
    assertThat(sts.store().get(POLICY_DOMAIN).orElseThrow().policy().id()).isEqualTo("1");
  }

  @ParameterizedTest
  @EnumSource(
      value = FailureType.class,
      names = {"STS_POLICY_FETCH_ERROR", "STS_POLICY_INVALID", "STS_WEBPKI_INVALID"})
  void section3_3_fetchFailureWithNothingCachedIsFailed(FailureType type) {
    fx.fetcher.fail(DOMAIN, type, "why: " + type);
    MtaStsResolver sts = fx.sts();

    MtaStsLookup result = await(sts.lookupAsync(POLICY_DOMAIN));

    assertThat(result).isEqualTo(new MtaStsLookup.Failed(POLICY_DOMAIN, type, "why: " + type));
    assertThat(sts.store().get(POLICY_DOMAIN)).isEmpty();
  }

  @Test
  void section3_2_maxAgeZeroAppliesOnceAndIsNotCached() {
    fx.fetcher.serve(DOMAIN, MtaStsMode.ENFORCE, Duration.ZERO, "mx1.example.test");
    MtaStsResolver sts = fx.sts();

    assertThat(found(await(sts.lookupAsync(POLICY_DOMAIN))).fromCache()).isFalse();
    assertThat(sts.store().get(POLICY_DOMAIN)).isEmpty();
    assertThat(found(await(sts.lookupAsync(POLICY_DOMAIN))).fromCache()).isFalse();
    assertThat(fx.fetcher.count(DOMAIN)).isEqualTo(2);
  }

  // ---------------------------------------------------------------- §3.1, §5.1: TXT trouble

  /** A change to the DNS that leaves no usable TXT record, and what it proves. */
  record TxtTrouble(
      String name, Consumer<StsFixture> apply, boolean isDnsFailure, boolean provablyAbsent) {
    @Override
    public String toString() {
      return name;
    }
  }

  static Stream<Arguments> txtTrouble() {
    return Stream.of(
            new TxtTrouble(
                "NXDOMAIN (record removed)",
                f -> f.dns.removeRecords(TXT_NAME, Type.TXT),
                false,
                true),
            new TxtTrouble(
                "NODATA (name has only an A record)",
                f ->
                    f.dns.update(
                        DOMAIN, z -> z.remove(TXT_NAME, Type.TXT).a(TXT_NAME, "127.0.0.9")),
                false,
                true),
            new TxtTrouble(
                "no record starts with v=STSv1", f -> f.publish("v=spf1 -all"), false, false),
            new TxtTrouble(
                "invalid record (id missing)", f -> f.publish("v=STSv1; foo=bar"), false, false),
            new TxtTrouble(
                "two STS records",
                f -> f.dns.update(DOMAIN, z -> z.txt(TXT_NAME, "v=STSv1; id=2")),
                false,
                false),
            new TxtTrouble("SERVFAIL", f -> f.dns.servfail(TXT_NAME, Type.TXT), true, false),
            new TxtTrouble(
                "bogus signature", f -> f.dns.corruptSignatures(TXT_NAME, Type.TXT), true, false),
            new TxtTrouble("timeout", f -> f.dns.drop(TXT_NAME, Type.TXT), true, false))
        .map(Arguments::of);
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("txtTrouble")
  void section5_1_cachedPolicyStillAppliesWhenTheTxtRecordIsUnusable(TxtTrouble trouble) {
    MtaStsResolver sts = fx.sts();
    await(sts.lookupAsync(POLICY_DOMAIN));
    trouble.apply().accept(fx);
    fx.clock.advance(MAX_AGE.minusSeconds(1));

    MtaStsLookup.Found result = found(await(sts.lookupAsync(POLICY_DOMAIN)));

    assertThat(result.fromCache()).isTrue();
    assertThat(result.policy().id()).isEqualTo("1");
    assertThat(result.note()).contains("cached policy applies until");
    assertThat(fx.fetcher.count(DOMAIN)).isEqualTo(1);
    assertThat(sts.store().get(POLICY_DOMAIN)).isPresent();
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("txtTrouble")
  void section3_1_withNothingCachedAnUnusableRecordIsNoPolicyAndAFailureIsNot(TxtTrouble trouble) {
    MtaStsResolver sts = fx.sts();
    trouble.apply().accept(fx);

    MtaStsLookup result = await(sts.lookupAsync(POLICY_DOMAIN));

    if (trouble.isDnsFailure()) {
      // A DNS failure is never "no policy": the record may well exist.
      assertThat(result).isInstanceOf(MtaStsLookup.Failed.class);
      assertThat(((MtaStsLookup.Failed) result).type()).isEqualTo(FailureType.DNS_FAILURE);
      assertThat(((MtaStsLookup.Failed) result).reason()).contains(TXT_NAME);
    } else {
      assertThat(result).isInstanceOf(MtaStsLookup.NoPolicy.class);
      assertThat(((MtaStsLookup.NoPolicy) result).provablyAbsent())
          .isEqualTo(trouble.provablyAbsent());
    }
    assertThat(fx.fetcher.calls()).isEmpty();
  }

  /**
   * RFC 4035 §5.5: a TXT answer that failed validation is a failed lookup even when a resolver of
   * the caller's hands it over as a denial or as data: never "no policy" (which would make an
   * {@code sts-required} sender bounce, and an attacker's forged denial a downgrade), and never a
   * policy id to fetch.
   */
  @ParameterizedTest(name = "[{index}] {0}")
  @EnumSource(
      value = DnssecState.class,
      names = {"BOGUS", "INDETERMINATE"})
  void aTxtAnswerThatFailedValidationIsADnsFailureWhateverItsOutcome(DnssecState state) {
    for (boolean denial : new boolean[] {true, false}) {
      DnsResolver marking =
          (name, type) ->
              fx.resolver
                  .resolveAsync(name, type)
                  .thenApply(
                      a ->
                          type != DnsRecordType.TXT
                              ? a
                              : denial
                                  ? DnsAnswer.builder(a.name(), a.type(), DnsOutcome.NODATA, state)
                                      .ttl(a.ttl())
                                      .build()
                                  : DnsAnswer.builder(a.name(), a.type(), a.outcome(), state)
                                      .records(a.records())
                                      .ttl(a.ttl())
                                      .build());
      MtaStsResolver sts =
          MtaStsResolver.builder().dns(marking).fetcher(fx.fetcher).clock(fx.clock).build();

      MtaStsLookup result = await(sts.lookupAsync(POLICY_DOMAIN));

      assertThat(result)
          .as("denial %s: %s", denial, result)
          .isInstanceOf(MtaStsLookup.Failed.class);
      assertThat(((MtaStsLookup.Failed) result).type()).isEqualTo(FailureType.DNS_FAILURE);
      assertThat(fx.fetcher.calls()).isEmpty();
    }
  }

  // ---------------------------------------------------------------- §5.1: expiry

  @ParameterizedTest(name = "[{index}] {0}")
  @MethodSource("txtTrouble")
  void section5_1_anExpiredPolicyThatCannotBeRefreshedNoLongerApplies(TxtTrouble trouble) {
    MtaStsResolver sts = fx.sts();
    await(sts.lookupAsync(POLICY_DOMAIN));
    trouble.apply().accept(fx);
    fx.clock.advance(MAX_AGE); // time-since-fetch reaches max_age

    MtaStsLookup result = await(sts.lookupAsync(POLICY_DOMAIN));

    assertThat(result).isNotInstanceOf(MtaStsLookup.Found.class);
    assertThat(result)
        .isInstanceOf(
            trouble.isDnsFailure() ? MtaStsLookup.Failed.class : MtaStsLookup.NoPolicy.class);
    assertThat(sts.store().get(POLICY_DOMAIN)).isEmpty(); // the expired entry is removed
  }

  @Test
  void section5_1_anExpiredPolicyWithTheSameIdIsFetchedAgain() {
    MtaStsResolver sts = fx.sts();
    await(sts.lookupAsync(POLICY_DOMAIN));
    fx.clock.advance(MAX_AGE.plusMinutes(1));

    MtaStsLookup.Found result = found(await(sts.lookupAsync(POLICY_DOMAIN)));

    assertThat(result.fromCache()).isFalse();
    assertThat(fx.fetcher.count(DOMAIN)).isEqualTo(2);
    assertThat(sts.store().get(POLICY_DOMAIN).orElseThrow().fetchedAt())
        .isEqualTo(fx.clock.instant());
  }

  @Test
  void section5_1_anExpiredPolicyWhoseRefetchFailsIsFailedNotTheOldPolicy() {
    MtaStsResolver sts = fx.sts();
    await(sts.lookupAsync(POLICY_DOMAIN));
    fx.fetcher.fail(DOMAIN, FailureType.STS_POLICY_FETCH_ERROR, "connection refused");
    fx.clock.advance(MAX_AGE);

    assertThat(await(sts.lookupAsync(POLICY_DOMAIN)))
        .isEqualTo(
            new MtaStsLookup.Failed(
                POLICY_DOMAIN, FailureType.STS_POLICY_FETCH_ERROR, "connection refused"));
    assertThat(sts.store().get(POLICY_DOMAIN)).isEmpty();
  }

  // ---------------------------------------------------------------- §5.1, §10.2: clock went back

  /**
   * The clock ran ahead while a {@code testing} policy was fetched, and was then stepped back (NTP,
   * a restored VM). The domain moves to {@code enforce}: the new policy must be cached, so that an
   * attacker who then strips the TXT record finds the {@code enforce} policy in the cache, not the
   * stale {@code testing} one (RFC 8461 §10.2: a downgrade).
   */
  @Test
  void section10_2_aPolicyFetchedWhileTheClockRanAheadDoesNotKeepItsSuccessorOutOfTheCache() {
    fx.fetcher.serve(DOMAIN, MtaStsMode.TESTING, MAX_AGE, "mx1.example.test");
    MtaStsResolver sts = fx.sts();
    fx.clock.advance(Duration.ofDays(30));
    assertThat(found(await(sts.lookupAsync(POLICY_DOMAIN))).policy().mode())
        .isEqualTo(MtaStsMode.TESTING);
    fx.clock.set(FakeClock.START);
    fx.publish("v=STSv1; id=2");
    fx.fetcher.serve(DOMAIN, MtaStsMode.ENFORCE, MAX_AGE, "mx1.example.test");

    MtaStsLookup.Found fetched = found(await(sts.lookupAsync(POLICY_DOMAIN)));

    assertThat(fetched.fromCache()).isFalse();
    assertThat(fetched.policy().id()).isEqualTo("2");
    CachedPolicy stored = sts.store().peek(POLICY_DOMAIN).orElseThrow();
    assertThat(stored.policy().id()).isEqualTo("2");
    assertThat(stored.fetchedAt()).isEqualTo(FakeClock.START);
    assertThat(stored.expiresAt()).isEqualTo(FakeClock.START.plus(MAX_AGE));

    fx.dns.removeRecords(TXT_NAME, Type.TXT); // the attacker strips the record
    fx.clock.advance(Duration.ofHours(1));
    MtaStsLookup.Found later = found(await(sts.lookupAsync(POLICY_DOMAIN)));

    assertThat(later.fromCache()).isTrue();
    assertThat(later.policy().id()).isEqualTo("2");
    assertThat(later.policy().mode()).isEqualTo(MtaStsMode.ENFORCE);
    assertThat(fx.fetcher.count(DOMAIN)).isEqualTo(2);
  }

  /**
   * The clock steps back while a fetch is in flight: the lookup saw the cached entry as fetched in
   * the past, but the new fetch is dated by the corrected clock, before the cached entry's fetch. A
   * stored fetch later than now is no fetch at all yet: the new policy replaces it.
   */
  @Test
  void section10_2_aFetchCompletingAfterTheClockSteppedBackReplacesAnEntryDatedAheadOfIt() {
    fx.fetcher.serve(DOMAIN, MtaStsMode.TESTING, MAX_AGE, "mx1.example.test");
    MtaStsResolver sts = fx.sts();
    fx.clock.advance(Duration.ofDays(30));
    await(sts.lookupAsync(POLICY_DOMAIN));
    fx.publish("v=STSv1; id=2");
    fx.fetcher.serve(DOMAIN, MtaStsMode.ENFORCE, MAX_AGE, "mx1.example.test");
    CompletableFuture<Void> gate = fx.fetcher.hold();
    CompletableFuture<MtaStsLookup> lookup = sts.lookupAsync(POLICY_DOMAIN);
    StsFixture.eventually("the fetch of id 2", () -> fx.fetcher.count(DOMAIN) == 2);
    fx.clock.set(FakeClock.START);
    gate.complete(null);

    assertThat(found(await(lookup)).policy().id()).isEqualTo("2");

    CachedPolicy stored = sts.store().peek(POLICY_DOMAIN).orElseThrow();
    assertThat(stored.policy().id()).isEqualTo("2");
    assertThat(stored.policy().mode()).isEqualTo(MtaStsMode.ENFORCE);
    assertThat(stored.fetchedAt()).isEqualTo(FakeClock.START);
  }

  /**
   * RFC 8461 §5.1: a cached policy applies until {@code max_age} after its fetch. A fetch dated
   * after now (the clock went back since) counts as a fetch now: the policy still applies, but
   * expires no later than {@code max_age} from now, not {@code max_age} after a time not yet
   * reached.
   */
  @Test
  void section5_1_aPolicyFetchedAheadOfTheClockExpiresNoLaterThanMaxAgeFromNow() {
    MtaStsResolver sts = fx.sts();
    fx.clock.advance(Duration.ofDays(30));
    await(sts.lookupAsync(POLICY_DOMAIN));
    fx.clock.set(FakeClock.START);
    fx.dns.removeRecords(TXT_NAME, Type.TXT); // nothing to fetch a new policy from

    MtaStsLookup.Found result = found(await(sts.lookupAsync(POLICY_DOMAIN)));

    assertThat(result.fromCache()).isTrue();
    assertThat(result.policy().mode()).isEqualTo(MtaStsMode.ENFORCE); // not dropped
    CachedPolicy stored = sts.store().peek(POLICY_DOMAIN).orElseThrow();
    assertThat(stored.fetchedAt()).isEqualTo(FakeClock.START);
    assertThat(stored.expiresAt()).isEqualTo(FakeClock.START.plus(MAX_AGE));

    fx.clock.advance(MAX_AGE.minusSeconds(1));
    assertThat(found(await(sts.lookupAsync(POLICY_DOMAIN))).fromCache()).isTrue();
    fx.clock.advance(Duration.ofSeconds(1));
    assertThat(await(sts.lookupAsync(POLICY_DOMAIN))).isInstanceOf(MtaStsLookup.NoPolicy.class);
    assertThat(sts.store().peek(POLICY_DOMAIN)).isEmpty();
    assertThat(fx.fetcher.count(DOMAIN)).isEqualTo(1);
  }

  // ---------------------------------------------------------------- §3.3: back-off

  @Test
  void section3_3_aFailedIdIsNotFetchedAgainWithinTheBackoff() {
    fx.fetcher.fail(DOMAIN, FailureType.STS_POLICY_FETCH_ERROR, "HTTP 503");
    MtaStsResolver sts = fx.sts();
    await(sts.lookupAsync(POLICY_DOMAIN));

    fx.clock.advance(Duration.ofMinutes(5).minusSeconds(1));
    MtaStsLookup during = await(sts.lookupAsync(POLICY_DOMAIN));

    assertThat(fx.fetcher.count(DOMAIN)).isEqualTo(1);
    assertThat(during).isInstanceOf(MtaStsLookup.Failed.class);
    MtaStsLookup.Failed failed = (MtaStsLookup.Failed) during;
    assertThat(failed.type()).isEqualTo(FailureType.STS_POLICY_FETCH_ERROR);
    assertThat(failed.reason())
        .contains(
            "HTTP 503",
            "not fetched again before",
            FakeClock.START.plus(Duration.ofMinutes(5)).toString());

    fx.clock.advance(Duration.ofSeconds(1));
    fx.fetcher.serve(DOMAIN, MtaStsMode.ENFORCE, MAX_AGE, "mx1.example.test");
    assertThat(found(await(sts.lookupAsync(POLICY_DOMAIN))).fromCache()).isFalse();
    assertThat(fx.fetcher.count(DOMAIN)).isEqualTo(2);
  }

  @Test
  void section3_3_duringTheBackoffAFreshCachedPolicyApplies() {
    MtaStsResolver sts = fx.sts();
    await(sts.lookupAsync(POLICY_DOMAIN));
    fx.publish("v=STSv1; id=2");
    fx.fetcher.fail(DOMAIN, FailureType.STS_POLICY_INVALID, "mode missing");
    await(sts.lookupAsync(POLICY_DOMAIN));
    fx.clock.advance(Duration.ofMinutes(2));

    MtaStsLookup.Found result = found(await(sts.lookupAsync(POLICY_DOMAIN)));

    assertThat(result.policy().id()).isEqualTo("1");
    assertThat(result.fromCache()).isTrue();
    assertThat(result.note()).contains("mode missing", "not fetched again before");
    assertThat(fx.fetcher.count(DOMAIN)).isEqualTo(2);
  }

  @Test
  void section3_3_theBackoffIsPerIdSoANewIdIsFetchedAtOnce() {
    fx.fetcher.fail(DOMAIN, FailureType.STS_POLICY_FETCH_ERROR, "HTTP 503");
    MtaStsResolver sts = fx.sts();
    await(sts.lookupAsync(POLICY_DOMAIN));
    fx.publish("v=STSv1; id=2");
    fx.fetcher.serve(DOMAIN, MtaStsMode.ENFORCE, MAX_AGE, "mx1.example.test");
    fx.clock.advance(Duration.ofSeconds(10));

    MtaStsLookup.Found result = found(await(sts.lookupAsync(POLICY_DOMAIN)));

    assertThat(result.policy().id()).isEqualTo("2");
    assertThat(fx.fetcher.calls()).extracting(MapPolicyFetcher.Call::id).containsExactly("1", "2");
  }

  /**
   * A fetch failed while the clock ran a day ahead; the clock was then stepped back (NTP, a
   * restored VM). The back-off is five minutes per id (RFC 8461 §3.3), not five minutes after a
   * time not yet reached: otherwise the domain's {@code enforce} policy is neither fetched nor
   * cached for a whole day, and mail goes as if the domain had none.
   */
  @Test
  void section3_3_aFailureDatedAheadOfTheClockDoesNotStretchTheBackoff() {
    fx.fetcher.fail(DOMAIN, FailureType.STS_POLICY_FETCH_ERROR, "HTTP 503");
    MtaStsResolver sts = fx.sts();
    fx.clock.advance(Duration.ofDays(1));
    assertThat(await(sts.lookupAsync(POLICY_DOMAIN))).isInstanceOf(MtaStsLookup.Failed.class);
    fx.clock.set(FakeClock.START); // stepped back a day
    fx.fetcher.serve(DOMAIN, MtaStsMode.ENFORCE, MAX_AGE, "mx1.example.test");
    fx.clock.advance(Duration.ofMinutes(10));

    MtaStsLookup result = await(sts.lookupAsync(POLICY_DOMAIN));

    assertThat(fx.fetcher.count(DOMAIN)).isEqualTo(2);
    assertThat(found(result).policy().mode()).isEqualTo(MtaStsMode.ENFORCE);
  }

  @Test
  void section3_3_theBackoffIsConfigurable() {
    fx.fetcher.fail(DOMAIN, FailureType.STS_POLICY_FETCH_ERROR, "HTTP 503");
    MtaStsResolver sts = fx.sts(b -> b.failureBackoff(Duration.ofMinutes(30)));
    await(sts.lookupAsync(POLICY_DOMAIN));
    fx.clock.advance(Duration.ofMinutes(29));
    await(sts.lookupAsync(POLICY_DOMAIN));
    assertThat(fx.fetcher.count(DOMAIN)).isEqualTo(1);
    fx.clock.advance(Duration.ofMinutes(1));
    await(sts.lookupAsync(POLICY_DOMAIN));
    assertThat(fx.fetcher.count(DOMAIN)).isEqualTo(2);
  }

  // ---------------------------------------------------------------- §5.1 step 3: recheck

  @Test
  void section5_1_recheckFindsANewIdAndFetchesIt() {
    MtaStsResolver sts = fx.sts();
    await(sts.lookupAsync(POLICY_DOMAIN));
    fx.publish("v=STSv1; id=2");
    fx.fetcher.serve(DOMAIN, MtaStsMode.ENFORCE, MAX_AGE, "mx-new.example.test");

    MtaStsLookup.Found result = found(await(sts.recheckAsync(POLICY_DOMAIN)));

    assertThat(result.fromCache()).isFalse();
    assertThat(result.policy().id()).isEqualTo("2");
    assertThat(result.policy().mxPatterns()).containsExactly("mx-new.example.test");
    assertThat(sts.store().get(POLICY_DOMAIN).orElseThrow().policy().id()).isEqualTo("2");
  }

  @Test
  void section5_1_recheckWithAnUnchangedIdQueriesDnsAndReturnsTheCachedPolicy() {
    MtaStsResolver sts = fx.sts();
    await(sts.lookupAsync(POLICY_DOMAIN));

    MtaStsLookup.Found result = found(await(sts.recheckAsync(POLICY_DOMAIN)));

    assertThat(result.fromCache()).isTrue();
    assertThat(fx.txtQueries()).isEqualTo(2);
    assertThat(fx.fetcher.count(DOMAIN)).isEqualTo(1);
  }

  @Test
  void section5_1_recheckIsSubjectToTheBackoff() {
    MtaStsResolver sts = fx.sts();
    await(sts.lookupAsync(POLICY_DOMAIN));
    fx.publish("v=STSv1; id=2");
    fx.fetcher.fail(DOMAIN, FailureType.STS_POLICY_FETCH_ERROR, "timeout");
    assertThat(found(await(sts.recheckAsync(POLICY_DOMAIN))).policy().id()).isEqualTo("1");

    MtaStsLookup.Found again = found(await(sts.recheckAsync(POLICY_DOMAIN)));

    assertThat(again.policy().id()).isEqualTo("1");
    assertThat(fx.fetcher.count(DOMAIN)).isEqualTo(2);
    assertThat(fx.txtQueries()).isEqualTo(3);
  }

  @Test
  void section5_1_recheckDoesNotJoinALookupInFlight() {
    MtaStsResolver sts = fx.sts();
    CompletableFuture<Void> gate = fx.fetcher.hold();
    CompletableFuture<MtaStsLookup> lookup = sts.lookupAsync(POLICY_DOMAIN);
    StsFixture.eventually("the lookup's fetch", () -> fx.fetcher.count(DOMAIN) == 1);

    CompletableFuture<MtaStsLookup> recheck = sts.recheckAsync(POLICY_DOMAIN);
    StsFixture.eventually("the recheck's fetch", () -> fx.fetcher.count(DOMAIN) == 2);
    gate.complete(null);

    assertThat(found(await(lookup)).policy().id()).isEqualTo("1");
    assertThat(found(await(recheck)).policy().id()).isEqualTo("1");
    assertThat(fx.txtQueries()).isEqualTo(2);
  }

  // ---------------------------------------------------------------- contract

  @Test
  void stagesCompleteNormallyWhenTheResolverOrFetcherThrows() {
    DnsResolver throwing =
        (name, type) -> {
          throw new IllegalStateException("resolver bug");
        };
    MtaStsResolver brokenDns =
        MtaStsResolver.builder().dns(throwing).fetcher(fx.fetcher).clock(fx.clock).build();
    MtaStsLookup r1 = await(brokenDns.lookupAsync(POLICY_DOMAIN));
    assertThat(r1).isInstanceOf(MtaStsLookup.Failed.class);
    assertThat(((MtaStsLookup.Failed) r1).type()).isEqualTo(FailureType.DNS_FAILURE);

    DnsResolver failing =
        (name, type) ->
            CompletableFuture.failedFuture(new IllegalStateException("async resolver bug"));
    MtaStsLookup r2 =
        await(
            MtaStsResolver.builder()
                .dns(failing)
                .fetcher(fx.fetcher)
                .clock(fx.clock)
                .build()
                .lookupAsync(POLICY_DOMAIN));
    assertThat(((MtaStsLookup.Failed) r2).type()).isEqualTo(FailureType.DNS_FAILURE);

    PolicyFetcher throwingFetcher =
        (domain, id) -> {
          throw new IllegalStateException("fetcher bug");
        };
    MtaStsLookup r3 =
        await(
            MtaStsResolver.builder()
                .dns(fx.resolver)
                .fetcher(throwingFetcher)
                .clock(fx.clock)
                .build()
                .lookupAsync(POLICY_DOMAIN));
    assertThat(r3).isInstanceOf(MtaStsLookup.Failed.class);
    assertThat(((MtaStsLookup.Failed) r3).type()).isEqualTo(FailureType.STS_POLICY_FETCH_ERROR);
    assertThat(((MtaStsLookup.Failed) r3).reason()).contains("fetcher bug");
  }

  @Test
  void aPolicyWhoseIdDiffersFromTheTxtRecordIsRefused() {
    PolicyFetcher wrongId = (domain, id) -> fx.fetcher.fetchAsync(domain, "other");
    MtaStsResolver sts =
        MtaStsResolver.builder().dns(fx.resolver).fetcher(wrongId).clock(fx.clock).build();

    MtaStsLookup result = await(sts.lookupAsync(POLICY_DOMAIN));

    assertThat(result).isInstanceOf(MtaStsLookup.Failed.class);
    assertThat(((MtaStsLookup.Failed) result).type()).isEqualTo(FailureType.STS_POLICY_INVALID);
    assertThat(sts.store().get(POLICY_DOMAIN)).isEmpty();
  }

  @Test
  void aStoreThatThrowsDoesNotBreakLookups() {
    PolicyStore broken =
        new PolicyStore() {
          @Override
          public java.util.Optional<CachedPolicy> get(DomainName policyDomain) {
            throw new IllegalStateException("disk on fire");
          }

          @Override
          public void put(DomainName policyDomain, CachedPolicy entry) {
            throw new IllegalStateException("disk on fire");
          }

          @Override
          public void remove(DomainName policyDomain) {
            throw new IllegalStateException("disk on fire");
          }
        };
    MtaStsResolver sts = fx.sts(b -> b.store(broken));

    assertThat(found(await(sts.lookupAsync(POLICY_DOMAIN))).policy().id()).isEqualTo("1");
  }

  @Test
  void aPolicyDomainTooLongForAnMtaStsLabelHasProvablyNoPolicy() {
    String label = "a".repeat(60);
    DomainName longName =
        DomainName.of(String.join(".", List.of(label, label, label, "b".repeat(60), "test")));
    MtaStsLookup result = await(fx.sts().lookupAsync(longName));

    assertThat(result).isInstanceOf(MtaStsLookup.NoPolicy.class);
    assertThat(((MtaStsLookup.NoPolicy) result).provablyAbsent()).isTrue();
  }

  @Test
  void theReturnedStageCannotCompleteTheSharedOne() {
    MtaStsResolver sts = fx.sts();
    CompletableFuture<Void> gate = fx.fetcher.hold();
    CompletableFuture<MtaStsLookup> first = sts.lookupAsync(POLICY_DOMAIN);
    CompletableFuture<MtaStsLookup> second = sts.lookupAsync(POLICY_DOMAIN);
    first.complete(new MtaStsLookup.NoPolicy(POLICY_DOMAIN, true, "forged by a caller"));
    StsFixture.eventually("the fetch", () -> fx.fetcher.count(DOMAIN) == 1);
    gate.complete(null);

    assertThat(found(await(second)).policy().id()).isEqualTo("1");
  }

  // ---------------------------------------------------------------- newBuilder()

  /**
   * A derived resolver fetches with the fetcher it was given and keeps the original's DNS and
   * clock; without a store of its own it starts with an empty cache of its own.
   */
  @Test
  void aDerivedResolverOverridesTheFetcherAndKeepsEveryOtherSetting() {
    MtaStsResolver original = fx.sts();
    MapPolicyFetcher testing =
        new MapPolicyFetcher()
            .serve(DOMAIN, MtaStsMode.TESTING, Duration.ofDays(1), "mx1.example.test");
    MtaStsResolver derived = original.newBuilder().fetcher(testing).build();

    MtaStsLookup.Found viaDerived = found(await(derived.lookupAsync(POLICY_DOMAIN)));
    assertThat(viaDerived.policy().mode()).isEqualTo(MtaStsMode.TESTING);
    // the original's DNS found id 1; its clock dated the fetch
    assertThat(testing.calls()).containsExactly(new MapPolicyFetcher.Call(POLICY_DOMAIN, "1"));
    assertThat(derived.store().get(POLICY_DOMAIN).orElseThrow().fetchedAt())
        .isEqualTo(FakeClock.START);
    assertThat(derived.store()).isNotSameAs(original.store());
    assertThat(original.store().get(POLICY_DOMAIN)).isEmpty();

    MtaStsLookup.Found viaOriginal = found(await(original.lookupAsync(POLICY_DOMAIN)));
    assertThat(viaOriginal.policy().mode()).isEqualTo(MtaStsMode.ENFORCE);
    assertThat(viaOriginal.fromCache()).isFalse();
  }

  /** A store given to the original is shared: what the derived resolver caches, it finds. */
  @Test
  void aGivenStoreIsShared() {
    InMemoryPolicyStore store = new InMemoryPolicyStore(100, Duration.ofDays(7), fx.clock);
    MtaStsResolver original = fx.sts(b -> b.store(store));
    MtaStsResolver derived = original.newBuilder().failureBackoff(Duration.ZERO).build();
    assertThat(derived.store()).isSameAs(store);

    assertThat(found(await(derived.lookupAsync(POLICY_DOMAIN))).fromCache()).isFalse();
    assertThat(found(await(original.lookupAsync(POLICY_DOMAIN))).fromCache()).isTrue();
    assertThat(fx.fetcher.calls()).hasSize(1);
    assertThatThrownBy(() -> original.newBuilder().clock(fx.clock).clock(fx.clock))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("clock already set");
  }
}
