package io.mailtls.reliability.concurrency;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsLookup;
import io.mailtls.core.TrustAnchors;
import io.mailtls.mtasts.FilePolicyStore;
import io.mailtls.mtasts.InMemoryPolicyStore;
import io.mailtls.mtasts.MtaStsResolver;
import io.mailtls.mtasts.OkHttpPolicyFetcher;
import io.mailtls.mtasts.PolicyStore;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Type;

/**
 * The MTA-STS policy cache and its single flight under many threads, against the testkit's HTTPS
 * policy hosts and signed zones: threads look up a dozen domains at once in random orders, then
 * again after every domain's policy id changed; each domain's policy is fetched once per id (RFC
 * 8461 §3.3: a new id means one new fetch), every lookup gets its own domain's policy (never
 * another domain's), and with the file store, the file that the concurrent writes left behind loads
 * to the same policies in a new store.
 */
class MtaStsSingleFlightStressTest {

  private static final TestPki PKI = TestPki.create();
  private static final int DOMAINS = 12;

  private MtaStsServer sts;
  private TestDnsServer dns;
  private DnsResolver resolver;

  private static String domain(int i) {
    return "s" + i + ".test";
  }

  private static String mx(int i) {
    return "mx." + domain(i);
  }

  @BeforeEach
  void start() {
    MtaStsServer.Builder b = MtaStsServer.builder().pki(PKI);
    for (int i = 0; i < DOMAINS; i++) {
      b.domain(domain(i), MtaStsServer.policyText("enforce", 86400, mx(i)));
    }
    sts = b.start();
    TestDnsServer.Builder d = TestDnsServer.builder();
    for (int i = 0; i < DOMAINS; i++) {
      String zone = domain(i);
      d.zone(zone, z -> sts.publish(z, zone, "id1"));
    }
    dns = d.start();
    resolver =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .queryTimeout(Duration.ofSeconds(10))
            .lookupTimeout(Duration.ofSeconds(30))
            // no answer cache: the second round must see the new ids at once
            .cacheSize(0)
            .build();
  }

  @AfterEach
  void stop() {
    sts.close();
    dns.close();
  }

  private MtaStsResolver resolver(PolicyStore store) {
    OkHttpClient client =
        new OkHttpClient.Builder()
            .sslSocketFactory(PKI.clientSslContext().getSocketFactory(), PKI.trustManager())
            .build();
    return MtaStsResolver.builder()
        .dns(resolver)
        .store(store)
        .fetcher(
            OkHttpPolicyFetcher.builder().dns(resolver).client(client).port(sts.port()).build())
        .build();
  }

  @Test
  void inMemoryStore() throws Exception {
    try (MtaStsResolver r = resolver(new InMemoryPolicyStore())) {
      stress(r);
    }
  }

  @Test
  void fileStore(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("policies.json");
    try (MtaStsResolver r = resolver(new FilePolicyStore(file))) {
      stress(r);
    }
    FilePolicyStore reloaded = new FilePolicyStore(file);
    assertThat(reloaded.loadWarnings()).isEmpty();
    for (int i = 0; i < DOMAINS; i++) {
      var cached = reloaded.get(DomainName.of(domain(i))).orElseThrow();
      assertThat(cached.policy().mxPatterns()).containsExactly(mx(i));
      assertThat(cached.policy().id()).isEqualTo("id2");
    }
  }

  private void stress(MtaStsResolver r) throws Exception {
    long seed = Long.getLong("mailtls.stress.seed", System.nanoTime());
    System.out.println("MtaStsSingleFlightStressTest seed " + seed);
    Random random = new Random(seed);
    int threads = 8;
    int repeats = StressBudget.scaled(3);
    lookUpEverywhere(r, random, threads, repeats);
    for (int i = 0; i < DOMAINS; i++) {
      assertThat(sts.requestCount(domain(i))).as("fetches of " + domain(i)).isEqualTo(1);
    }
    // every domain announces a new id: the next lookups fetch each policy once more
    for (int i = 0; i < DOMAINS; i++) {
      String zone = domain(i);
      dns.update(
          zone,
          z ->
              z.remove("_mta-sts." + zone, Type.TXT)
                  .txt("_mta-sts." + zone, MtaStsServer.stsRecord("id2")));
    }
    lookUpEverywhere(r, random, threads, repeats);
    for (int i = 0; i < DOMAINS; i++) {
      assertThat(sts.requestCount(domain(i))).as("fetches of " + domain(i)).isEqualTo(2);
    }
  }

  private void lookUpEverywhere(MtaStsResolver r, Random random, int threads, int repeats)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    ConcurrentLinkedQueue<String> wrong = new ConcurrentLinkedQueue<>();
    List<Future<?>> tasks = new ArrayList<>();
    try {
      for (int t = 0; t < threads; t++) {
        long s = random.nextLong();
        tasks.add(
            pool.submit(
                () -> {
                  Random tr = new Random(s);
                  List<Integer> order = new ArrayList<>();
                  for (int k = 0; k < repeats; k++) {
                    for (int i = 0; i < DOMAINS; i++) {
                      order.add(i);
                    }
                  }
                  Collections.shuffle(order, tr);
                  List<CompletableFuture<MtaStsLookup>> mine = new ArrayList<>();
                  for (int i : order) {
                    mine.add(r.lookupAsync(DomainName.of(domain(i))));
                  }
                  for (int k = 0; k < order.size(); k++) {
                    MtaStsLookup l = mine.get(k).get(60, TimeUnit.SECONDS);
                    int i = order.get(k);
                    if (!(l instanceof MtaStsLookup.Found f)
                        || !f.policy().mxPatterns().equals(List.of(mx(i)))) {
                      wrong.add(domain(i) + ": " + l);
                    }
                  }
                  return null;
                }));
      }
      for (Future<?> f : tasks) {
        f.get(120, TimeUnit.SECONDS);
      }
    } finally {
      pool.shutdownNow();
    }
    assertThat(wrong).as("lookups without their own domain's policy").isEmpty();
  }
}
