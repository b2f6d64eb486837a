package io.mailtls.mtasts;

import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsLookup;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.TestDnsServer;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import org.xbill.DNS.Type;

/**
 * Real DNS for cache tests: the testkit's signed DNS server on loopback publishing {@code
 * _mta-sts.example.test}, a validating {@link DnssecResolver} pointed at it, a fake clock, and a
 * {@link MapPolicyFetcher} serving an {@code enforce} policy for {@code example.test} with a {@code
 * max_age} of one week.
 */
final class StsFixture implements AutoCloseable {

  static final String DOMAIN = "example.test";
  static final DomainName POLICY_DOMAIN = DomainName.of(DOMAIN);
  static final String TXT_NAME = "_mta-sts." + DOMAIN;
  static final Duration MAX_AGE = Duration.ofDays(7);

  final FakeClock clock = new FakeClock();
  final MapPolicyFetcher fetcher =
      new MapPolicyFetcher()
          .serve(DOMAIN, MtaStsMode.ENFORCE, MAX_AGE, "mx1.example.test", "*.mx.example.test");
  final TestDnsServer dns;
  final DnsResolver resolver;

  StsFixture() {
    this("v=STSv1; id=1");
  }

  /** Publishes one TXT record of these strings at {@code _mta-sts.example.test}. */
  StsFixture(String... txtStrings) {
    dns =
        TestDnsServer.builder()
            .zone(DOMAIN, z -> z.txt(TXT_NAME, txtStrings).a("mx1.example.test", "127.0.0.2"))
            .start();
    resolver = new TrackingDns(dnsResolver(dns));
  }

  /**
   * Decorates the real resolver so that a test can wait until every answer has been processed: the
   * answer is handed on by completing our own stage, which runs the resolver's callbacks (and the
   * synchronous fetch after them) before the lookup counts as settled.
   */
  static final class TrackingDns implements DnsResolver {
    private final DnsResolver delegate;
    private final AtomicInteger outstanding = new AtomicInteger();

    TrackingDns(DnsResolver delegate) {
      this.delegate = delegate;
    }

    @Override
    public CompletableFuture<DnsAnswer> resolveAsync(DomainName name, DnsRecordType type) {
      outstanding.incrementAndGet();
      CompletableFuture<DnsAnswer> handedOn = new CompletableFuture<>();
      var unused =
          delegate
              .resolveAsync(name, type)
              .whenComplete(
                  (answer, error) -> {
                    try {
                      if (error != null) {
                        handedOn.completeExceptionally(error);
                      } else {
                        handedOn.complete(answer);
                      }
                    } finally {
                      outstanding.decrementAndGet();
                    }
                  });
      return handedOn;
    }
  }

  /** Waits until every DNS answer asked for so far has been processed. */
  void awaitDnsIdle() {
    eventually("DNS answers processed", () -> ((TrackingDns) resolver).outstanding.get() == 0);
  }

  /**
   * A validating resolver for {@code server}, with short time bounds and without an answer cache:
   * these tests change the TXT record between lookups to see what the MTA-STS layer makes of each
   * answer (the answer cache, which would hand back the old record until its TTL, is core's
   * DnsCacheTest's subject; dane's PlanCacheTest has both together).
   */
  static DnsResolver dnsResolver(TestDnsServer server) {
    return DnssecResolver.builder()
        .cacheSize(0)
        .upstream(server.socketAddress())
        .trustAnchors(TrustAnchors.parse(server.trustAnchor()))
        .queryTimeout(Duration.ofMillis(500))
        .retries(0)
        .lookupTimeout(Duration.ofSeconds(5))
        .build();
  }

  /** A resolver on this fixture's DNS, fetcher and clock, configured further by {@code extra}. */
  MtaStsResolver sts(UnaryOperator<MtaStsResolver.Builder> extra) {
    return extra
        .apply(MtaStsResolver.builder().dns(resolver).fetcher(fetcher).clock(clock))
        .build();
  }

  /** A resolver with the defaults (in-memory store, no scheduler). */
  MtaStsResolver sts() {
    return sts(b -> b);
  }

  /** Replaces the TXT record at {@code _mta-sts.example.test}. */
  void publish(String... txtStrings) {
    dns.update(DOMAIN, z -> z.remove(TXT_NAME, Type.TXT).txt(TXT_NAME, txtStrings));
  }

  /** How many TXT queries for {@code _mta-sts.example.test} the server received. */
  int txtQueries() {
    return dns.queryCount(TXT_NAME, Type.TXT);
  }

  /** Waits for a stage (at most ten seconds). */
  static MtaStsLookup await(CompletionStage<MtaStsLookup> stage) {
    try {
      return stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new AssertionError("lookup did not complete normally", e);
    }
  }

  /** Polls until {@code condition} holds (at most ten seconds). */
  static void eventually(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for: " + what);
      }
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for: " + what, e);
      }
    }
  }

  @Override
  public void close() {
    dns.close();
  }
}
