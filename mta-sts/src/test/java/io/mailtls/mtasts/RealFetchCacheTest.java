package io.mailtls.mtasts;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsLookup;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Type;

/**
 * The cache with the real fetcher: counts are taken at the fixtures themselves (the DNS server's
 * query log and the HTTPS server's request log), not at a test double.
 */
class RealFetchCacheTest {

  private static final TestPki PKI = TestPki.create();
  private static final String DOMAIN = "example.test";

  private MtaStsServer sts;
  private TestDnsServer dns;
  private DnsResolver resolver;

  @BeforeEach
  void start() {
    sts =
        MtaStsServer.builder()
            .pki(PKI)
            .domain(DOMAIN, MtaStsServer.policyText("enforce", 86400, "mx1." + DOMAIN))
            .start();
    sts.policy("cname." + DOMAIN, MtaStsServer.policyText("enforce", 86400, "mx1." + DOMAIN));
    dns =
        TestDnsServer.builder()
            .zone(
                DOMAIN,
                z -> {
                  sts.publish(z, DOMAIN, "id1");
                  // The TXT record delegated by CNAME to a name the policy provider runs.
                  sts.publishHost(z, "cname." + DOMAIN);
                  z.cname("_mta-sts.cname." + DOMAIN, "sts.provider." + DOMAIN)
                      .txt("sts.provider." + DOMAIN, MtaStsServer.stsRecord("delegated1"));
                })
            .start();
    resolver =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .queryTimeout(Duration.ofSeconds(2))
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
  void hundredConcurrentLookupsMakeOneTxtQueryAndOneFetch() throws Exception {
    try (MtaStsResolver r = resolver(new InMemoryPolicyStore())) {
      dns.clearQueryLog();
      List<CompletableFuture<MtaStsLookup>> all = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        // each lookup starts on a pool thread, all at about the same time
        all.add(
            CompletableFuture.supplyAsync(() -> DomainName.of(DOMAIN)).thenCompose(r::lookupAsync));
      }
      for (CompletableFuture<MtaStsLookup> f : all) {
        assertThat(f.get(20, TimeUnit.SECONDS)).isInstanceOf(MtaStsLookup.Found.class);
      }
      assertThat(dns.queryCount("_mta-sts." + DOMAIN, Type.TXT)).isEqualTo(1);
      assertThat(sts.requestCount(DOMAIN)).isEqualTo(1);
    }
  }

  /** Publishes {@code id} as the domain's only MTA-STS TXT record. */
  private void publishId(String id) {
    dns.update(
        DOMAIN,
        z ->
            z.remove("_mta-sts." + DOMAIN, Type.TXT)
                .txt("_mta-sts." + DOMAIN, MtaStsServer.stsRecord(id)));
  }

  /**
   * RFC 8461 §3.3: after a failed fetch, "limit further attempts to a period of five minutes or
   * longer per version ID". While a domain changes its policy, its name servers may answer with the
   * old id and the new one in turn; with the policy host down, each id is fetched once in the
   * back-off period, however the answers alternate, not once per lookup.
   */
  @Test
  void section3_3TheBackoffHoldsForEachIdWhenTheTxtRecordAlternates() throws Exception {
    sts.fault(DOMAIN, MtaStsServer.Fault.SERVER_ERROR);
    DnsResolver uncached =
        DnssecResolver.builder()
            .cacheSize(0) // each lookup sees the record as the server has it now
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .queryTimeout(Duration.ofSeconds(2))
            .build();
    OkHttpClient client =
        new OkHttpClient.Builder()
            .sslSocketFactory(PKI.clientSslContext().getSocketFactory(), PKI.trustManager())
            .build();
    try (MtaStsResolver r =
        MtaStsResolver.builder()
            .dns(uncached)
            .store(new InMemoryPolicyStore())
            .fetcher(
                OkHttpPolicyFetcher.builder().dns(uncached).client(client).port(sts.port()).build())
            .build()) {
      for (String id : List.of("id1", "id2", "id1", "id2", "id1")) {
        publishId(id);
        assertThat(r.lookupAsync(DomainName.of(DOMAIN)).get(20, TimeUnit.SECONDS))
            .isInstanceOf(MtaStsLookup.Failed.class);
      }
      assertThat(sts.requestCount(DOMAIN))
          .as("fetches of the policy host for ids id1, id2, id1, id2, id1")
          .isEqualTo(2);
    }
  }

  /** RFC 8461 §3.1: the TXT record found through a CNAME chain is the domain's record. */
  @Test
  void aTxtRecordReachedThroughACnameIsTheDomainsRecord() throws Exception {
    try (MtaStsResolver r = resolver(new InMemoryPolicyStore())) {
      MtaStsLookup l = r.lookupAsync(DomainName.of("cname." + DOMAIN)).get(20, TimeUnit.SECONDS);
      assertThat(l)
          .isInstanceOfSatisfying(
              MtaStsLookup.Found.class,
              f -> {
                assertThat(f.policy().id()).isEqualTo("delegated1");
                assertThat(f.policy().mode()).isEqualTo(MtaStsMode.ENFORCE);
              });
      assertThat(sts.requestCount("cname." + DOMAIN)).isEqualTo(1);
    }
  }

  @Test
  void maxAgeAboveLimitIsClampedSoTheFetchedPolicyStillProtects() throws Exception {
    // RFC 8461 §3.2 allows max_age up to 31557600; a policy asking for more is kept, for that long,
    // rather than refused (which would leave the domain without a policy).
    sts.policy(DOMAIN, MtaStsServer.policyText("enforce", 9_999_999_999L, "mx1." + DOMAIN));
    InMemoryPolicyStore store = new InMemoryPolicyStore();
    try (MtaStsResolver r = resolver(store)) {
      MtaStsLookup l = r.lookupAsync(DomainName.of(DOMAIN)).get(20, TimeUnit.SECONDS);

      assertThat(l)
          .isInstanceOfSatisfying(
              MtaStsLookup.Found.class,
              f -> {
                assertThat(f.policy().mode()).isEqualTo(MtaStsMode.ENFORCE);
                assertThat(f.policy().maxAge()).isEqualTo(MtaStsPolicy.MAX_AGE_LIMIT);
              });
      CachedPolicy cached = store.get(DomainName.of(DOMAIN)).orElseThrow();
      assertThat(Duration.between(cached.fetchedAt(), cached.expiresAt()))
          .isEqualTo(MtaStsPolicy.MAX_AGE_LIMIT);
    }
  }

  @Test
  void aRestartedSenderKeepsItsPoliciesWithoutFetching(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("policies.json");
    try (MtaStsResolver first = resolver(new FilePolicyStore(file))) {
      assertThat(first.lookupAsync(DomainName.of(DOMAIN)).get())
          .isInstanceOf(MtaStsLookup.Found.class);
    }
    assertThat(Files.exists(file)).isTrue();
    assertThat(sts.requestCount(DOMAIN)).isEqualTo(1);
    // The policy host is now down: only the persisted policy can answer.
    sts.fault(DOMAIN, MtaStsServer.Fault.SERVER_ERROR);
    try (MtaStsResolver second = resolver(new FilePolicyStore(file))) {
      MtaStsLookup l = second.lookupAsync(DomainName.of(DOMAIN)).get();
      assertThat(l)
          .isInstanceOfSatisfying(
              MtaStsLookup.Found.class,
              f -> {
                assertThat(f.fromCache()).isTrue();
                assertThat(f.policy().id()).isEqualTo("id1");
              });
    }
    assertThat(sts.requestCount(DOMAIN)).isEqualTo(1);
  }

  /**
   * RFC 8460 §4.4, §4.5: a report names the policy as the domain declared it, so the text fetched
   * is kept with the policy, and a restarted sender reads it back from the file (RFC 8461 §5.1).
   */
  @Test
  void thePolicyTextAsFetchedSurvivesARestart(@TempDir Path dir) throws Exception {
    String served =
        "mode: enforce\r\nx-note: kept as served\nmx: MX1.example.test\r\n"
            + "version: STSv1\nmax_age: 0086400\n";
    sts.policy(DOMAIN, served);
    Path file = dir.resolve("policies.json");
    try (MtaStsResolver first = resolver(new FilePolicyStore(file))) {
      MtaStsLookup l = first.lookupAsync(DomainName.of(DOMAIN)).get(20, TimeUnit.SECONDS);
      assertThat(l)
          .isInstanceOfSatisfying(
              MtaStsLookup.Found.class,
              f -> assertThat(f.policy().text()).as("%s", f.policy()).contains(served));
    }
    FilePolicyStore reopened = new FilePolicyStore(file);
    assertThat(reopened.loadWarnings()).isEmpty();
    MtaStsPolicy policy = reopened.peek(DomainName.of(DOMAIN)).orElseThrow().policy();
    assertThat(policy.text()).as("%s", policy).contains(served);
    assertThat(policy.mxPatterns()).containsExactly("mx1.example.test");
    assertThat(policy.maxAge()).isEqualTo(Duration.ofDays(1));
  }
}
