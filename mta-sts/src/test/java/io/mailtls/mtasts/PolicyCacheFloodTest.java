package io.mailtls.mtasts;

import static io.mailtls.mtasts.StsFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DnsResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsLookup;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.TestDnsServer;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Type;

/**
 * RFC 8461 §10.2 against a cache flood: an attacker makes the sender look up more domains than the
 * cache holds (their own subdomains, each with a freshly fetched {@code enforce} policy of the
 * longest {@code max_age}, the worst case), hoping to evict the policies of real recipients so that
 * a DNS spoofer can then strip {@code _mta-sts} unnoticed. Every policy a sender used recently must
 * survive, the store must stay within its bound, and it must keep working.
 */
class PolicyCacheFloodTest {

  private static final Instant T0 = FakeClock.START;
  private static final Duration YEAR = MtaStsPolicy.MAX_AGE_LIMIT;

  @TempDir Path dir;

  private static CachedPolicy enforce(Duration maxAge) {
    return CachedPolicy.fetched(
        new MtaStsPolicy("1", MtaStsMode.ENFORCE, List.of("mx.example.test"), maxAge), T0);
  }

  private static DomainName real(int i) {
    return DomainName.of("recipient" + i + ".example");
  }

  private static DomainName attacker(int i) {
    return DomainName.of("s" + i + ".attacker.example");
  }

  @Test
  void recentlyUsedEnforcePoliciesSurviveAFloodOfMoreThanTheCapacity() {
    InMemoryPolicyStore store = new InMemoryPolicyStore();
    int capacity = store.maxEntries();
    int realDomains = 500;
    // Real recipients' policies, with a shorter max_age than the attacker's (a day: the first to
    // go when eviction prefers the longest-lived), each fetched, then used by later deliveries.
    for (int i = 0; i < realDomains; i++) {
      store.put(real(i), enforce(Duration.ofDays(1)));
    }
    for (int delivery = 0; delivery < 3; delivery++) {
      for (int i = 0; i < realDomains; i++) {
        assertThat(store.get(real(i))).isPresent();
      }
    }

    // The flood: more freshly fetched policies than the store holds, each only fetched.
    int flood = 2 * capacity + 1;
    for (int i = 0; i < flood; i++) {
      store.put(attacker(i), enforce(YEAR));
      if (i % 997 == 0) {
        assertThat(store.size()).as("after %d flood entries", i + 1).isLessThanOrEqualTo(capacity);
      }
    }

    assertThat(store.size()).isEqualTo(capacity);
    for (int i = 0; i < realDomains; i++) {
      assertThat(store.get(real(i))).as("%s", real(i)).isPresent();
    }
    // Still a working store: a new domain is stored and read back, a removal takes effect.
    DomainName fresh = DomainName.of("new-recipient.example");
    store.put(fresh, enforce(Duration.ofDays(7)));
    assertThat(store.get(fresh)).isPresent();
    store.remove(fresh);
    assertThat(store.get(fresh)).isEmpty();
    assertThat(store.size()).isLessThanOrEqualTo(capacity);
  }

  @Test
  void aFloodOfRepeatedlyUsedAttackerPoliciesStillCannotEvictRecentlyUsedOnes() {
    // Looking each attacker domain up many times raises its W-TinyLFU frequency to the maximum,
    // where Caffeine admits candidates at random to resist hash flooding: frequency alone would
    // now let the flood evict real policies. The pin does not.
    InMemoryPolicyStore store = new InMemoryPolicyStore(1_000);
    int realDomains = 100;
    for (int i = 0; i < realDomains; i++) {
      store.put(real(i), enforce(Duration.ofDays(1)));
      store.get(real(i));
    }

    for (int i = 0; i < 5 * store.maxEntries(); i++) {
      store.put(attacker(i), enforce(YEAR));
      for (int use = 0; use < 20; use++) {
        store.get(attacker(i));
      }
    }

    assertThat(store.size()).isEqualTo(store.maxEntries());
    for (int i = 0; i < realDomains; i++) {
      assertThat(store.get(real(i))).as("%s", real(i)).isPresent();
    }
  }

  @Test
  void throughTheResolverAStrippedRecordAfterAFloodStillMeetsTheCachedPolicy() {
    int capacity = 60;
    int realDomains = 10;
    int flood = 3 * capacity;
    try (World w = new World(realDomains, flood)) {
      TestDnsServer dns = w.dns;
      FakeClock clock = new FakeClock();
      MapPolicyFetcher fetcher = w.fetcher;
      List<DomainName> recipients = w.recipients;
      DnsResolver resolver = StsFixture.dnsResolver(dns);
      InMemoryPolicyStore store = new InMemoryPolicyStore(capacity);
      MtaStsResolver sts =
          MtaStsResolver.builder().dns(resolver).fetcher(fetcher).clock(clock).store(store).build();

      // Mail to the real recipients: the first delivery fetches, the next ones use the cache.
      for (int delivery = 0; delivery < 3; delivery++) {
        for (DomainName r : recipients) {
          assertThat(await(sts.lookupAsync(r))).isInstanceOf(MtaStsLookup.Found.class);
        }
        clock.advance(Duration.ofHours(1));
      }
      // The attacker's mail: one lookup, so one fetch, per subdomain.
      for (int i = 0; i < flood; i++) {
        DomainName d = DomainName.of("s" + i + ".attacker.example");
        assertThat(await(sts.lookupAsync(d))).isInstanceOf(MtaStsLookup.Found.class);
        assertThat(store.size()).isLessThanOrEqualTo(capacity);
      }
      // The spoofer strips _mta-sts for every real recipient.
      for (int i = 0; i < realDomains; i++) {
        dns.removeRecords("_mta-sts.r" + i + ".recipients.example", Type.TXT);
      }

      for (DomainName r : recipients) {
        MtaStsLookup result = await(sts.lookupAsync(r));
        assertThat(result)
            .as("%s", r)
            .isInstanceOfSatisfying(
                MtaStsLookup.Found.class,
                f -> {
                  assertThat(f.fromCache()).isTrue();
                  assertThat(f.policy().mode()).isEqualTo(MtaStsMode.ENFORCE);
                });
      }
      for (DomainName r : recipients) {
        assertThat(fetcher.count(r.toString())).as("fetches of %s", r).isEqualTo(1);
      }
      assertThat(store.size()).isEqualTo(capacity);
    }
  }

  @Test
  void throughTheResolverAFloodRightAfterARestartStillMeetsThePoliciesUsedBeforeIt() {
    // The restart is the attacker's chance: whatever the store pinned was in memory. The file
    // store keeps the uses, so the restarted store pins the same policies before the flood.
    int capacity = 30;
    int realDomains = 5;
    int flood = 3 * capacity;
    try (World w = new World(realDomains, flood)) {
      TestDnsServer dns = w.dns;
      FakeClock clock = new FakeClock();
      MapPolicyFetcher fetcher = w.fetcher;
      List<DomainName> recipients = w.recipients;
      DnsResolver resolver = StsFixture.dnsResolver(dns);
      Path file = dir.resolve("mta-sts.json");
      MtaStsResolver beforeRestart =
          MtaStsResolver.builder()
              .dns(resolver)
              .fetcher(fetcher)
              .clock(clock)
              .store(
                  new FilePolicyStore(
                      file, capacity, InMemoryPolicyStore.DEFAULT_RECENT_USE, clock))
              .build();
      // Mail to the real recipients: the first delivery fetches, the second uses the cache.
      for (int delivery = 0; delivery < 2; delivery++) {
        for (DomainName r : recipients) {
          assertThat(await(beforeRestart.lookupAsync(r))).isInstanceOf(MtaStsLookup.Found.class);
        }
        clock.advance(Duration.ofHours(1));
      }

      FilePolicyStore store =
          new FilePolicyStore(file, capacity, InMemoryPolicyStore.DEFAULT_RECENT_USE, clock);
      MtaStsResolver sts =
          MtaStsResolver.builder().dns(resolver).fetcher(fetcher).clock(clock).store(store).build();
      // Right after the restart, the attacker's mail: two messages per subdomain, so each of
      // their policies is fetched, then used (and pinned).
      for (int i = 0; i < flood; i++) {
        DomainName d = DomainName.of("s" + i + ".attacker.example");
        for (int message = 0; message < 2; message++) {
          assertThat(await(sts.lookupAsync(d))).isInstanceOf(MtaStsLookup.Found.class);
        }
        assertThat(store.size()).isLessThanOrEqualTo(capacity);
      }
      for (int i = 0; i < realDomains; i++) {
        dns.removeRecords("_mta-sts.r" + i + ".recipients.example", Type.TXT);
      }

      for (DomainName r : recipients) {
        MtaStsLookup result = await(sts.lookupAsync(r));
        assertThat(result)
            .as("%s", r)
            .isInstanceOfSatisfying(
                MtaStsLookup.Found.class,
                f -> {
                  assertThat(f.fromCache()).isTrue();
                  assertThat(f.policy().mode()).isEqualTo(MtaStsMode.ENFORCE);
                });
        assertThat(fetcher.count(r.toString())).as("fetches of %s", r).isEqualTo(1);
      }
      assertThat(store.size()).isEqualTo(capacity);
    }
  }

  /**
   * The flood's world: {@code realDomains} recipients {@code r<i>.recipients.example} with
   * week-long enforce policies, {@code flood} attacker subdomains {@code s<i>.attacker.example}
   * with year-long ones, each with its {@code _mta-sts} record in the testkit's signed DNS.
   */
  private static final class World implements AutoCloseable {
    final TestDnsServer dns;
    final MapPolicyFetcher fetcher = new MapPolicyFetcher();
    final List<DomainName> recipients = new ArrayList<>();

    World(int realDomains, int flood) {
      dns =
          TestDnsServer.builder()
              .zone(
                  "recipients.example",
                  z -> {
                    for (int i = 0; i < realDomains; i++) {
                      z.txt("_mta-sts.r" + i + ".recipients.example", "v=STSv1; id=1");
                    }
                  })
              .zone(
                  "attacker.example",
                  z -> {
                    for (int i = 0; i < flood; i++) {
                      z.txt("_mta-sts.s" + i + ".attacker.example", "v=STSv1; id=1");
                    }
                  })
              .start();
      for (int i = 0; i < realDomains; i++) {
        String name = "r" + i + ".recipients.example";
        recipients.add(DomainName.of(name));
        fetcher.serve(name, MtaStsMode.ENFORCE, Duration.ofDays(7), "mx." + name);
      }
      for (int i = 0; i < flood; i++) {
        fetcher.serve(
            "s" + i + ".attacker.example", MtaStsMode.ENFORCE, YEAR, "mx.attacker.example");
      }
    }

    @Override
    public void close() {
      dns.close();
    }
  }
}
