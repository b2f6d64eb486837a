package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.testkit.TestDnsServer;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.stream.Stream;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The MTA-STS and TLSA lookup events of a plan ({@link TransportPolicyResolver#plan(NextHop,
 * TlsLevel, EventListener)}): every start has exactly one end, for every way a provider can answer,
 * and all of them have arrived when the plan completes; a listener, even one that throws
 * everywhere, changes no plan.
 *
 * <p>The providers here are stand-ins for the SPIs, answering as each case needs (a value at once
 * or later on another thread, a throw, a failed stage, no value); the DNS is the testkit's real
 * server. {@code mailtls-dane}'s tests cover the events with the real providers.
 */
class PolicyLookupEventsTest {

  private static final NextHop DOMAIN = NextHop.parse("example.test");

  /** How a provider answers one lookup. */
  enum Answer {
    /** A completed stage with a value. */
    NOW,
    /** A value a little later, on a provider thread. */
    LATER,
    /** Throws from the lookup method itself. */
    THROWS,
    /** A stage already failed. */
    FAILS,
    /** A stage that fails a little later, on a provider thread. */
    FAILS_LATER,
    /** A completed stage whose value is null. */
    NULL
  }

  private static TestDnsServer dns;
  private static DnsResolver resolver;

  @BeforeAll
  static void start() {
    // mx1 and mx2 have addresses (two TLSA lookups); gone has none (no lookup)
    dns =
        TestDnsServer.builder()
            .zone(
                "example.test",
                z ->
                    z.mx("example.test", 10, "mx1.example.test")
                        .a("mx1.example.test", "127.0.0.2")
                        .mx("example.test", 20, "mx2.example.test")
                        .a("mx2.example.test", "127.0.0.3")
                        .mx("example.test", 30, "gone.example.test"))
            .start();
    resolver =
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .queryTimeout(Duration.ofSeconds(2))
            .build();
  }

  @AfterAll
  static void stop() {
    dns.close();
  }

  /** Every MTA-STS answer against every answer for the second MX host's TLSA lookup. */
  static Stream<Arguments> answers() {
    List<Arguments> out = new ArrayList<>();
    for (Answer sts : Answer.values()) {
      for (Answer tlsa : Answer.values()) {
        out.add(Arguments.of(sts, tlsa));
      }
    }
    return out.stream();
  }

  /** {@code value} answered as {@code answer} says, later ones on {@code threads}. */
  private static <T> CompletableFuture<T> answer(
      Answer answer, Supplier<T> value, ExecutorService threads) {
    IllegalStateException bug = new IllegalStateException("provider bug (" + answer + ")");
    var later = CompletableFuture.delayedExecutor(50, TimeUnit.MILLISECONDS, threads);
    return switch (answer) {
      case NOW -> CompletableFuture.completedFuture(value.get());
      case LATER -> CompletableFuture.supplyAsync(value, later);
      case THROWS -> throw bug;
      case FAILS -> CompletableFuture.failedFuture(bug);
      case FAILS_LATER ->
          CompletableFuture.supplyAsync(
              () -> {
                throw bug;
              },
              later);
      case NULL -> CompletableFuture.completedFuture(null);
    };
  }

  private static MtaStsPolicySource source(Answer a, ExecutorService threads) {
    return new MtaStsPolicySource() {
      @Override
      public CompletableFuture<MtaStsLookup> lookupAsync(DomainName d) {
        return answer(a, () -> new MtaStsLookup.NoPolicy(d, true, "none published"), threads);
      }

      @Override
      public CompletableFuture<MtaStsLookup> recheckAsync(DomainName d) {
        return lookupAsync(d);
      }
    };
  }

  /** mx1's lookup answers later, on a provider thread; mx2's as {@code second} says. */
  private static DaneProvider dane(Answer second, ExecutorService threads) {
    return new DaneProvider() {
      @Override
      public CompletableFuture<TlsaLookup> lookupAsync(MxHost host, MxResolution mx) {
        Answer a = host.name().equals(DomainName.of("mx1.example.test")) ? Answer.LATER : second;
        return answer(a, () -> new TlsaLookup.None(host.name(), "no TLSA published"), threads);
      }

      @Override
      public X509ExtendedTrustManager trustManager(TlsRequirement.Dane requirement) {
        throw new AssertionError("no lookup here is usable, so no DANE session is opened");
      }
    };
  }

  private static TransportPolicyResolver planner(Answer sts, Answer tlsa, ExecutorService threads) {
    return TransportPolicyResolver.builder()
        .dns(resolver)
        .random(new Random(3))
        .mtaSts(source(sts, threads))
        .dane(dane(tlsa, threads))
        .build();
  }

  /** What a plan came to: the plan's hosts, failure and reasons, or the exception. */
  private record Outcome(
      String thrown,
      List<PlannedHost> hosts,
      Optional<DeliveryPlan.Failure> failure,
      List<String> reasons) {}

  private static Outcome outcome(Supplier<CompletionStage<DeliveryPlan>> plan) {
    try {
      DeliveryPlan p = plan.get().toCompletableFuture().join();
      return new Outcome(null, p.hosts(), p.failure(), p.reasons());
    } catch (RuntimeException e) {
      return new Outcome(e.toString(), List.of(), Optional.empty(), List.of());
    }
  }

  /**
   * Records the lookup events, each with the subject it names; an end whose result is about another
   * subject is recorded with that subject too (an assertion here would be swallowed, as anything a
   * listener throws is).
   */
  static final class Recorder implements EventListener {
    final List<String> events = new CopyOnWriteArrayList<>();

    @Override
    public void mtaStsLookupStart(DomainName policyDomain) {
      events.add("mtaStsLookupStart " + policyDomain);
    }

    @Override
    public void mtaStsLookupEnd(DomainName policyDomain, MtaStsLookup result) {
      events.add(
          "mtaStsLookupEnd "
              + policyDomain
              + " "
              + result.getClass().getSimpleName()
              + (result.policyDomain().equals(policyDomain) ? "" : " of " + result.policyDomain()));
    }

    @Override
    public void tlsaLookupStart(MxHost host) {
      events.add("tlsaLookupStart " + host.name());
    }

    @Override
    public void tlsaLookupEnd(MxHost host, TlsaLookup result) {
      events.add(
          "tlsaLookupEnd "
              + host.name()
              + " "
              + result.getClass().getSimpleName()
              + (result.host().equals(host.name()) ? "" : " of " + result.host()));
    }
  }

  private static final EventListener THROWING =
      (EventListener)
          Proxy.newProxyInstance(
              EventListener.class.getClassLoader(),
              new Class<?>[] {EventListener.class},
              (proxy, method, args) -> {
                throw new IllegalStateException("listener bug in " + method.getName());
              });

  private static String expectedEnd(Answer a, String subject, String value) {
    return subject + " " + (a == Answer.NOW || a == Answer.LATER ? value : "Failed");
  }

  @ParameterizedTest(name = "MTA-STS {0}, mx2 TLSA {1}")
  @MethodSource("answers")
  void everyLookupStartedHasEndedWhenThePlanCompletes(Answer sts, Answer tlsa) throws Exception {
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try {
      Recorder rec = new Recorder();
      Outcome observed =
          outcome(() -> planner(sts, tlsa, threads).planAsync(DOMAIN, TlsLevel.OPPORTUNISTIC, rec));
      List<String> atCompletion = List.copyOf(rec.events);

      List<String> expected =
          new ArrayList<>(
              List.of(
                  "mtaStsLookupStart example.test",
                  expectedEnd(sts, "mtaStsLookupEnd example.test", "NoPolicy")));
      if (sts != Answer.THROWS) {
        // a source that throws fails the plan before the MX hosts are known
        expected.addAll(
            List.of(
                "tlsaLookupStart mx1.example.test",
                "tlsaLookupEnd mx1.example.test None",
                "tlsaLookupStart mx2.example.test",
                expectedEnd(tlsa, "tlsaLookupEnd mx2.example.test", "None")));
      }
      assertThat(atCompletion).containsExactlyInAnyOrderElementsOf(expected);
      for (String subject :
          List.of(
              "mtaStsLookup example.test",
              "tlsaLookup mx1.example.test",
              "tlsaLookup mx2.example.test")) {
        String[] s = subject.split(" ", -1);
        int started = atCompletion.indexOf(s[0] + "Start " + s[1]);
        int ended = indexOfPrefix(atCompletion, s[0] + "End " + s[1]);
        assertThat(ended)
            .as("%s ends after it starts in %s", subject, atCompletion)
            .isGreaterThanOrEqualTo(started);
      }

      // the listener changes nothing, not even when it throws from every event
      Outcome without =
          outcome(() -> planner(sts, tlsa, threads).planAsync(DOMAIN, TlsLevel.OPPORTUNISTIC));
      Outcome throwing =
          outcome(
              () ->
                  planner(sts, tlsa, threads).planAsync(DOMAIN, TlsLevel.OPPORTUNISTIC, THROWING));
      assertThat(observed).isEqualTo(without).isEqualTo(throwing);
      boolean fails =
          (sts != Answer.NOW && sts != Answer.LATER)
              || (tlsa != Answer.NOW && tlsa != Answer.LATER);
      assertThat(observed.thrown() != null).as("%s", observed).isEqualTo(fails);

      threads.shutdown();
      assertThat(threads.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
      assertThat(rec.events).as("nothing arrives after the plan completed").isEqualTo(atCompletion);
    } finally {
      threads.shutdownNow();
    }
  }

  private static int indexOfPrefix(List<String> events, String prefix) {
    for (int i = 0; i < events.size(); i++) {
      if (events.get(i).startsWith(prefix)) {
        return i;
      }
    }
    return -1;
  }

  /** The end event names what the provider threw, so that a trace says why the plan failed. */
  @ParameterizedTest(name = "{0}")
  @MethodSource("failures")
  void aFailedLookupsEndSaysWhy(Answer a) {
    ExecutorService threads = Executors.newFixedThreadPool(1);
    try {
      List<MtaStsLookup> sts = new CopyOnWriteArrayList<>();
      List<TlsaLookup> tlsa = new CopyOnWriteArrayList<>();
      EventListener listener =
          new EventListener() {
            @Override
            public void mtaStsLookupEnd(DomainName policyDomain, MtaStsLookup result) {
              sts.add(result);
            }

            @Override
            public void tlsaLookupEnd(MxHost host, TlsaLookup result) {
              tlsa.add(result);
            }
          };
      outcome(
          () ->
              planner(a, Answer.NOW, threads).planAsync(DOMAIN, TlsLevel.OPPORTUNISTIC, listener));
      outcome(
          () ->
              planner(Answer.NOW, a, threads).planAsync(DOMAIN, TlsLevel.OPPORTUNISTIC, listener));
      String why =
          a == Answer.NULL
              ? "completed with no result"
              : "failed: java.lang.IllegalStateException: provider bug (" + a + ")";
      assertThat(sts)
          .filteredOn(r -> r instanceof MtaStsLookup.Failed)
          .singleElement()
          .satisfies(
              r -> {
                MtaStsLookup.Failed f = (MtaStsLookup.Failed) r;
                assertThat(f.type()).isEqualTo(FailureType.STS_POLICY_FETCH_ERROR);
                assertThat(f.reason()).isEqualTo("the MTA-STS policy source " + why);
              });
      assertThat(tlsa)
          .filteredOn(r -> r instanceof TlsaLookup.Failed)
          .singleElement()
          .satisfies(
              r ->
                  assertThat(((TlsaLookup.Failed) r).reason())
                      .isEqualTo("the DANE provider " + why));
    } finally {
      threads.shutdownNow();
    }
  }

  static Stream<Answer> failures() {
    return Stream.of(Answer.THROWS, Answer.FAILS, Answer.FAILS_LATER, Answer.NULL);
  }
}
