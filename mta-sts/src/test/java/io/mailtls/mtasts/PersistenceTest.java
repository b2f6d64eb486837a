package io.mailtls.mtasts;

import static io.mailtls.mtasts.StsFixture.DOMAIN;
import static io.mailtls.mtasts.StsFixture.MAX_AGE;
import static io.mailtls.mtasts.StsFixture.POLICY_DOMAIN;
import static io.mailtls.mtasts.StsFixture.TXT_NAME;
import static io.mailtls.mtasts.StsFixture.await;
import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.MtaStsLookup;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.xbill.DNS.Type;

/**
 * RFC 8461 §5.1 and §10.2 across a restart: a new {@link MtaStsResolver} on a new {@link
 * FilePolicyStore} over the same file applies the policy cached before, without fetching it.
 */
class PersistenceTest {

  private final StsFixture fx = new StsFixture();

  @TempDir Path dir;

  @AfterEach
  void close() {
    fx.close();
  }

  private MtaStsResolver resolverOnFile(MapPolicyFetcher fetcher) {
    return MtaStsResolver.builder()
        .dns(fx.resolver)
        .fetcher(fetcher)
        .clock(fx.clock)
        .store(new FilePolicyStore(dir.resolve("sts.json")))
        .build();
  }

  @Test
  void section5_1_aRestartedResolverUsesThePersistedPolicyWithoutFetching() {
    await(resolverOnFile(fx.fetcher).lookupAsync(POLICY_DOMAIN));
    fx.clock.advance(Duration.ofDays(2));
    MapPolicyFetcher afterRestart = new MapPolicyFetcher();

    MtaStsLookup result = await(resolverOnFile(afterRestart).lookupAsync(POLICY_DOMAIN));

    assertThat(result).isInstanceOf(MtaStsLookup.Found.class);
    MtaStsLookup.Found found = (MtaStsLookup.Found) result;
    assertThat(found.fromCache()).isTrue();
    assertThat(found.policy().id()).isEqualTo("1");
    assertThat(found.policy().mxPatterns())
        .containsExactly("mx1.example.test", "*.mx.example.test");
    assertThat(afterRestart.calls()).isEmpty();
  }

  @Test
  void section10_2_aRestartDuringADnsOutageKeepsThePolicy() {
    await(resolverOnFile(fx.fetcher).lookupAsync(POLICY_DOMAIN));
    fx.dns.servfail(TXT_NAME, Type.TXT);
    fx.clock.advance(MAX_AGE.minusMinutes(1));

    MtaStsLookup result = await(resolverOnFile(new MapPolicyFetcher()).lookupAsync(POLICY_DOMAIN));

    assertThat(result).isInstanceOf(MtaStsLookup.Found.class);
    assertThat(((MtaStsLookup.Found) result).note()).contains("TXT lookup failed");
  }

  @Test
  void section5_1_aPersistedPolicyExpiresOnScheduleAfterARestart() {
    await(resolverOnFile(fx.fetcher).lookupAsync(POLICY_DOMAIN));
    fx.dns.removeRecords(TXT_NAME, Type.TXT);
    fx.clock.advance(MAX_AGE);

    MtaStsLookup result = await(resolverOnFile(new MapPolicyFetcher()).lookupAsync(POLICY_DOMAIN));

    assertThat(result).isInstanceOf(MtaStsLookup.NoPolicy.class);
    assertThat(new FilePolicyStore(dir.resolve("sts.json")).get(POLICY_DOMAIN)).isEmpty();
  }

  @Test
  void aCorruptStoreFileMeansAColdCacheNotACrash() throws Exception {
    Files.writeString(dir.resolve("sts.json"), "{\"format\": \"mailtls-mta-sts-pol");

    MtaStsLookup result = await(resolverOnFile(fx.fetcher).lookupAsync(POLICY_DOMAIN));

    assertThat(((MtaStsLookup.Found) result).fromCache()).isFalse();
    assertThat(fx.fetcher.count(DOMAIN)).isEqualTo(1);
    assertThat(new FilePolicyStore(dir.resolve("sts.json")).get(POLICY_DOMAIN)).isPresent();
  }
}
