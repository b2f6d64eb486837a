package io.mailtls.core.memory;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsOutcome;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.TestDnsServer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The validated-answer cache is bounded in octets, not only in entries: a zone whose every name
 * holds a 30 KB TXT RRset (one wildcard, so the server holds it once) fills a cache of 10,000
 * entries with 300 MB of peer data otherwise. Runs only in the {@code bounded-memory} surefire
 * execution of core/pom.xml (-Xmx64m).
 */
class AnswerCacheMemoryTest {

  /** 120 character-strings of 250 octets: about 30 KB of RDATA in one TXT record. */
  private static final String[] BIG_TXT = bigTxt();

  private static final int NAMES = 2_500;

  @BeforeAll
  static void heapIsBounded() {
    Peers.assertHeapLimitInForce();
  }

  private static String[] bigTxt() {
    String[] strings = new String[120];
    for (int i = 0; i < strings.length; i++) {
      strings[i] = String.format("%03d", i) + "x".repeat(247);
    }
    return strings;
  }

  @Test
  @Timeout(300)
  void answersOfAttackerChosenNamesWithHugeRrsetsStayWithinABoundOfOctets() throws Exception {
    try (TestDnsServer dns =
        TestDnsServer.builder()
            .zone("big.test", z -> z.ttl(Duration.ofHours(1)).txt("*.big.test", BIG_TXT))
            .start()) {
      DnssecResolver resolver =
          DnssecResolver.builder()
              .upstream(dns.socketAddress())
              .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
              .cacheSize(10_000)
              .queryTimeout(Duration.ofSeconds(5))
              .retries(1)
              .build();
      for (int from = 0; from < NAMES; from += 50) {
        List<CompletableFuture<DnsAnswer>> batch = new ArrayList<>();
        for (int i = from; i < from + 50; i++) {
          batch.add(resolver.resolveAsync(DomainName.of("n" + i + ".big.test"), DnsRecordType.TXT));
        }
        for (CompletableFuture<DnsAnswer> f : batch) {
          DnsAnswer a = f.get();
          assertThat(a.outcome()).as("%s", a).isEqualTo(DnsOutcome.DATA);
        }
      }
      System.gc();
      Runtime rt = Runtime.getRuntime();
      long used = rt.totalMemory() - rt.freeMemory();
      // 2,500 answers of 30 KB would be 75 MB: more than the whole heap.
      assertThat(used).isLessThan(48L << 20);
    }
  }
}
