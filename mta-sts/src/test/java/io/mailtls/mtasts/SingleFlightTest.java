package io.mailtls.mtasts;

import static io.mailtls.mtasts.StsFixture.DOMAIN;
import static io.mailtls.mtasts.StsFixture.POLICY_DOMAIN;
import static io.mailtls.mtasts.StsFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.MtaStsLookup;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Concurrent lookups of one domain share one TXT query and one fetch, counted where they happen: at
 * the DNS server and at the fetcher.
 */
class SingleFlightTest {

  private static final int CALLERS = 100;

  private final StsFixture fx = new StsFixture();
  private final ExecutorService pool = Executors.newFixedThreadPool(16);

  @AfterEach
  void close() throws InterruptedException {
    pool.shutdownNow();
    pool.awaitTermination(10, TimeUnit.SECONDS);
    fx.close();
  }

  private List<CompletionStage<MtaStsLookup>> lookUpConcurrently(MtaStsResolver sts)
      throws Exception {
    CountDownLatch start = new CountDownLatch(1);
    List<Future<CompletionStage<MtaStsLookup>>> calls = new ArrayList<>();
    for (int i = 0; i < CALLERS; i++) {
      calls.add(
          pool.submit(
              () -> {
                start.await();
                return sts.lookupAsync(POLICY_DOMAIN);
              }));
    }
    start.countDown();
    List<CompletionStage<MtaStsLookup>> stages = new ArrayList<>();
    for (Future<CompletionStage<MtaStsLookup>> call : calls) {
      stages.add(call.get(10, TimeUnit.SECONDS));
    }
    return stages;
  }

  @Test
  void hundredConcurrentLookupsMakeOneTxtQueryAndOneFetch() throws Exception {
    MtaStsResolver sts = fx.sts();
    // The fetch is held until every caller has its stage, so none can start a second flight.
    CompletableFuture<Void> gate = fx.fetcher.hold();

    List<CompletionStage<MtaStsLookup>> stages = lookUpConcurrently(sts);
    StsFixture.eventually("the fetch", () -> fx.fetcher.count(DOMAIN) >= 1);
    gate.complete(null);

    for (CompletionStage<MtaStsLookup> stage : stages) {
      MtaStsLookup result = await(stage);
      assertThat(result).isInstanceOf(MtaStsLookup.Found.class);
      assertThat(((MtaStsLookup.Found) result).policy().id()).isEqualTo("1");
    }
    assertThat(fx.txtQueries()).isEqualTo(1);
    assertThat(fx.fetcher.count(DOMAIN)).isEqualTo(1);
  }

  @Test
  void aFlightEndsWithItsLookupSoTheNextLookupAsksAgain() throws Exception {
    MtaStsResolver sts = fx.sts();
    CompletableFuture<Void> gate = fx.fetcher.hold();
    List<CompletionStage<MtaStsLookup>> stages = lookUpConcurrently(sts);
    StsFixture.eventually("the fetch", () -> fx.fetcher.count(DOMAIN) >= 1);
    gate.complete(null);
    stages.forEach(StsFixture::await);

    MtaStsLookup later = await(sts.lookupAsync(POLICY_DOMAIN));

    assertThat(((MtaStsLookup.Found) later).fromCache()).isTrue();
    assertThat(fx.txtQueries()).isEqualTo(2);
    assertThat(fx.fetcher.count(DOMAIN)).isEqualTo(1);
  }
}
