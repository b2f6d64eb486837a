package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Attempt;
import io.mailtls.core.DaneProvider;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DomainName;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.Envelope;
import io.mailtls.core.EventListener;
import io.mailtls.core.FailureType;
import io.mailtls.core.MtaStsLookup;
import io.mailtls.core.MtaStsPolicySource;
import io.mailtls.core.MxHost;
import io.mailtls.core.MxResolution;
import io.mailtls.core.NextHop;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SmartHost;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.TlsContextFactory;
import io.mailtls.core.TlsDetails;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.TlsaLookup;
import io.mailtls.testkit.MockSmtpServer;
import java.lang.reflect.Method;
import java.lang.reflect.Modifier;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.X509ExtendedTrustManager;
import org.junit.jupiter.api.Test;

/**
 * The event listener (docs/design.md §5): paired events, and a throwing listener changes nothing.
 */
class EventListenerTest {

  /** Records event names with a short detail. */
  static class Recorder implements EventListener {
    final List<String> events = new CopyOnWriteArrayList<>();

    @Override
    public void deliveryStart(Envelope envelope) {
      events.add("deliveryStart");
    }

    @Override
    public void deliveryEnd(Envelope envelope, DeliveryReport report) {
      events.add("deliveryEnd");
    }

    @Override
    public void planStart(NextHop nextHop, TlsLevel level) {
      events.add("planStart " + nextHop);
    }

    @Override
    public void planEnd(DeliveryPlan plan) {
      events.add("planEnd " + plan.hosts().size());
    }

    @Override
    public void connectStart(Optional<DomainName> host, InetSocketAddress address) {
      events.add("connectStart " + host.orElseThrow());
    }

    @Override
    public void connectEnd(
        Optional<DomainName> host, InetSocketAddress address, Optional<FailureType> failure) {
      events.add("connectEnd " + failure.map(Enum::name).orElse("ok"));
    }

    @Override
    public void startTlsStart(Optional<DomainName> host, InetSocketAddress address) {
      events.add("startTlsStart");
    }

    @Override
    public void startTlsEnd(
        Optional<DomainName> host, InetSocketAddress address, Optional<SmtpReply> reply) {
      events.add("startTlsEnd " + reply.map(SmtpReply::code).orElse(0));
    }

    @Override
    public void handshakeStart(
        Optional<DomainName> host, InetSocketAddress address, TlsRequirement requirement) {
      events.add("handshakeStart");
    }

    @Override
    public void handshakeEnd(
        Optional<DomainName> host,
        InetSocketAddress address,
        Optional<TlsDetails> tls,
        Optional<FailureType> failure,
        String detail) {
      events.add("handshakeEnd " + tls.map(TlsDetails::protocol).orElse("none"));
    }

    @Override
    public void mtaStsLookupStart(DomainName policyDomain) {
      events.add("mtaStsLookupStart " + policyDomain);
    }

    @Override
    public void mtaStsLookupEnd(DomainName policyDomain, MtaStsLookup result) {
      events.add("mtaStsLookupEnd " + policyDomain + " " + result.getClass().getSimpleName());
    }

    @Override
    public void tlsaLookupStart(MxHost host) {
      events.add("tlsaLookupStart " + host.name());
    }

    @Override
    public void tlsaLookupEnd(MxHost host, TlsaLookup result) {
      events.add("tlsaLookupEnd " + host.name() + " " + result.getClass().getSimpleName());
    }

    @Override
    public void attemptEnd(Attempt attempt) {
      events.add("attemptEnd");
    }

    @Override
    public void recipientStart(EmailAddress recipient) {
      events.add("recipientStart " + recipient);
    }

    @Override
    public void recipientEnd(RecipientResult result) {
      events.add("recipientEnd " + result.status());
    }
  }

  private static DeliveryReport send(Fixture f, EventListener listener) {
    MockSmtpServer mx =
        f.server(
            "127.0.0.2",
            b -> b.hostname("mx.example.test").tls(Fixture.certFor("mx.example.test")));
    f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
    return f.transport(TlsLevel.ENFORCED, b -> b.eventListener(listener))
        .send(
            Envelope.of("a@sender.test", "rcpt@example.test"),
            io.mailtls.core.MessageContent.of(Fixture.MESSAGE.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void eventsArePairedAndInOrder() throws Exception {
    try (Fixture f = new Fixture()) {
      Recorder rec = new Recorder();
      assertThat(send(f, rec).allDelivered()).isTrue();
      assertThat(rec.events)
          .containsExactly(
              "deliveryStart",
              "recipientStart rcpt@example.test",
              "planStart example.test",
              "planEnd 1",
              "connectStart mx.example.test",
              "connectEnd ok",
              "startTlsStart",
              "startTlsEnd 220",
              "handshakeStart",
              "handshakeEnd "
                  + rec.events.stream()
                      .filter(e -> e.startsWith("handshakeEnd"))
                      .findFirst()
                      .orElseThrow()
                      .substring("handshakeEnd ".length()),
              "attemptEnd",
              "recipientEnd DELIVERED",
              "deliveryEnd");
      assertThat(
              rec.events.stream()
                  .filter(e -> e.startsWith("handshakeEnd"))
                  .findFirst()
                  .orElseThrow())
          .matches("handshakeEnd TLSv1\\.[23]");
    }
  }

  /**
   * A TLS context factory that throws (a bug, not a handshake failure) still ends the STARTTLS
   * handshake it started: the recipient is deferred as a protocol error of that session.
   */
  @Test
  void aThrowingTlsContextFactoryStillEndsTheHandshake() throws Exception {
    try (Fixture f = new Fixture()) {
      // a relay, PKIX-verified by default: its session needs a context of its own
      MockSmtpServer relay =
          f.server(
              "127.0.0.2",
              b -> b.hostname("relay.example.test").tls(Fixture.certFor("relay.example.test")));
      f.dns(d -> d.zone("example.test", z -> z.a("relay.example.test", "127.0.0.2")));
      SmartHost host = SmartHost.builder("relay.example.test").port(relay.port()).build();
      Recorder rec = new Recorder();
      // the transport builds its unauthenticated context at construction; the relay session's
      // PKIX context is the second call
      AtomicInteger calls = new AtomicInteger();
      TlsContextFactory broken =
          tm -> {
            if (calls.incrementAndGet() == 1) {
              return TlsContextFactory.JDK.create(tm);
            }
            throw new IllegalStateException("factory bug");
          };
      DeliveryReport report =
          f.transport(
                  TlsLevel.ENFORCED,
                  b -> b.eventListener(rec).relay(host).tlsContextFactory(broken))
              .send(
                  Envelope.of("a@sender.test", "rcpt@elsewhere.invalid"),
                  io.mailtls.core.MessageContent.of(
                      Fixture.MESSAGE.getBytes(StandardCharsets.UTF_8)));
      assertThat(calls).hasValueGreaterThan(1);
      assertThat(report.recipients())
          .singleElement()
          .satisfies(
              r -> {
                assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
                assertThat(r.attempt().flatMap(Attempt::failure))
                    .contains(FailureType.PROTOCOL_ERROR);
              });
      assertThat(rec.events)
          .containsSubsequence(
              "startTlsStart",
              "startTlsEnd 220",
              "handshakeStart",
              "handshakeEnd none",
              "attemptEnd",
              "recipientEnd DEFERRED",
              "deliveryEnd");
      assertThat(rec.events.stream().filter(e -> e.startsWith("handshakeStart")).count())
          .isEqualTo(rec.events.stream().filter(e -> e.startsWith("handshakeEnd")).count());
      assertThat(relay.messages()).isEmpty();
    }
  }

  /**
   * Content whose {@code open()} throws (a bug in the caller's {@code MessageContent}) defers the
   * recipient with its result and events; {@code send} does not throw.
   */
  @Test
  void contentThatThrowsOnOpenDefersWithEveryEvent() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          f.server(
              "127.0.0.2",
              b -> b.hostname("mx.example.test").tls(Fixture.certFor("mx.example.test")));
      f.dns(
          d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
      Recorder rec = new Recorder();
      io.mailtls.core.MessageContent broken =
          () -> {
            throw new IllegalStateException("content bug");
          };
      DeliveryReport report =
          f.transport(TlsLevel.ENFORCED, b -> b.eventListener(rec))
              .send(Envelope.of("a@sender.test", "rcpt@example.test"), broken);
      assertThat(report.recipients())
          .singleElement()
          .satisfies(
              r -> {
                assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
                assertThat(r.reply().text()).contains("content bug");
              });
      assertThat(rec.events)
          .containsExactly(
              "deliveryStart",
              "recipientStart rcpt@example.test",
              "recipientEnd DEFERRED",
              "deliveryEnd");
      assertThat(mx.sessions()).isEmpty();
    }
  }

  /**
   * An MTA-STS source that finds no policy, and a DANE provider that finds no TLSA records, both
   * answering on {@code threads} (as real ones answer on their resolver's and fetcher's threads).
   * Stand-ins for the SPIs: mailtls-dane's tests send with the real providers.
   */
  static MtaStsPolicySource noPolicy(ExecutorService threads) {
    return new MtaStsPolicySource() {
      @Override
      public CompletableFuture<MtaStsLookup> lookupAsync(DomainName d) {
        return CompletableFuture.supplyAsync(
            () -> new MtaStsLookup.NoPolicy(d, true, "none"), threads);
      }

      @Override
      public CompletableFuture<MtaStsLookup> recheckAsync(DomainName d) {
        return lookupAsync(d);
      }
    };
  }

  static DaneProvider noTlsa(ExecutorService threads) {
    return new DaneProvider() {
      @Override
      public CompletableFuture<TlsaLookup> lookupAsync(MxHost host, MxResolution mx) {
        return CompletableFuture.supplyAsync(
            () -> new TlsaLookup.None(host.name(), "none"), threads);
      }

      @Override
      public X509ExtendedTrustManager trustManager(TlsRequirement.Dane requirement) {
        throw new AssertionError("no lookup here is usable, so no DANE session is opened");
      }
    };
  }

  /**
   * The MTA-STS lookup and the TLSA lookup of each MX host come after planStart and before planEnd,
   * each start before its end, though they arrive on the providers' threads.
   */
  @Test
  void policyLookupsComeBetweenPlanStartAndPlanEnd() throws Exception {
    ExecutorService threads = Executors.newFixedThreadPool(2);
    try (Fixture f = new Fixture()) {
      f.mtaSts = noPolicy(threads);
      f.dane = noTlsa(threads);
      Recorder rec = new Recorder();
      assertThat(send(f, rec).allDelivered()).isTrue();
      int planStart = rec.events.indexOf("planStart example.test");
      int planEnd = rec.events.indexOf("planEnd 1");
      assertThat(rec.events.subList(0, planStart + 1))
          .containsExactly(
              "deliveryStart", "recipientStart rcpt@example.test", "planStart example.test");
      List<String> lookups = rec.events.subList(planStart + 1, planEnd);
      assertThat(lookups)
          .containsExactlyInAnyOrder(
              "mtaStsLookupStart example.test", "mtaStsLookupEnd example.test NoPolicy",
              "tlsaLookupStart mx.example.test", "tlsaLookupEnd mx.example.test None");
      assertThat(lookups.indexOf("mtaStsLookupStart example.test"))
          .isLessThan(lookups.indexOf("mtaStsLookupEnd example.test NoPolicy"));
      assertThat(lookups.indexOf("tlsaLookupStart mx.example.test"))
          .isLessThan(lookups.indexOf("tlsaLookupEnd mx.example.test None"));
      assertThat(rec.events.subList(planEnd, rec.events.size()))
          .startsWith("planEnd 1", "connectStart mx.example.test")
          .endsWith("recipientEnd DELIVERED", "deliveryEnd");
    } finally {
      threads.shutdownNow();
    }
  }

  /**
   * A policy source that throws still ends its lookup, with a failure naming the exception, and the
   * plan still ends, with the failed plan the delivery goes on with: it is deferred as it is
   * without a listener (TransportRobustnessTest).
   */
  @Test
  void aPolicySourceThatThrowsStillEndsItsLookup() throws Exception {
    try (Fixture f = new Fixture()) {
      f.mtaSts =
          new MtaStsPolicySource() {
            @Override
            public CompletableFuture<MtaStsLookup> lookupAsync(DomainName d) {
              throw new IllegalStateException("provider bug");
            }

            @Override
            public CompletableFuture<MtaStsLookup> recheckAsync(DomainName d) {
              throw new IllegalStateException("provider bug");
            }
          };
      List<MtaStsLookup> ends = new CopyOnWriteArrayList<>();
      List<DeliveryPlan> plans = new CopyOnWriteArrayList<>();
      Recorder rec =
          new Recorder() {
            @Override
            public void mtaStsLookupEnd(DomainName policyDomain, MtaStsLookup result) {
              super.mtaStsLookupEnd(policyDomain, result);
              ends.add(result);
            }

            @Override
            public void planEnd(DeliveryPlan plan) {
              super.planEnd(plan);
              plans.add(plan);
            }
          };
      DeliveryReport report = send(f, rec);
      assertThat(report.result("rcpt@example.test").status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(report.result("rcpt@example.test").reply().text()).contains("provider bug");
      assertThat(rec.events)
          .containsExactly(
              "deliveryStart",
              "recipientStart rcpt@example.test",
              "planStart example.test",
              "mtaStsLookupStart example.test",
              "mtaStsLookupEnd example.test Failed",
              "planEnd 0",
              "recipientEnd DEFERRED",
              "deliveryEnd");
      assertThat(ends)
          .singleElement()
          .isInstanceOfSatisfying(
              MtaStsLookup.Failed.class,
              e -> {
                assertThat(e.type()).isEqualTo(FailureType.STS_POLICY_FETCH_ERROR);
                assertThat(e.reason())
                    .isEqualTo(
                        "the MTA-STS policy source failed:"
                            + " java.lang.IllegalStateException: provider bug");
              });
      assertThat(plans).containsExactly(report.result("rcpt@example.test").plan());
    }
  }

  /** {@link EventListener#all} forwards every method of the interface, in order. */
  @Test
  void allForwardsEveryMethod() throws Exception {
    List<String> calls = new CopyOnWriteArrayList<>();
    EventListener first = recording("first", calls);
    EventListener second = recording("second", calls);
    EventListener both = EventListener.all(first, second);
    List<String> expected = new ArrayList<>();
    for (Method m : EventListener.class.getMethods()) {
      if (Modifier.isStatic(m.getModifiers())) {
        continue;
      }
      m.invoke(both, new Object[m.getParameterCount()]);
      expected.add("first " + m.getName());
      expected.add("second " + m.getName());
    }
    assertThat(expected).hasSize(2 * 19);
    assertThat(calls).isEqualTo(expected);
  }

  private static EventListener recording(String name, List<String> calls) {
    return (EventListener)
        Proxy.newProxyInstance(
            EventListener.class.getClassLoader(),
            new Class<?>[] {EventListener.class},
            (proxy, method, args) -> {
              calls.add(name + " " + method.getName());
              return null;
            });
  }

  @Test
  void allPassesEveryEventToEachListenerInOrder() throws Exception {
    try (Fixture f = new Fixture()) {
      Recorder first = new Recorder();
      Recorder second = new Recorder();
      List<String> order = new CopyOnWriteArrayList<>();
      EventListener marker =
          new EventListener() {
            @Override
            public void recipientEnd(RecipientResult result) {
              order.add("marker saw " + first.events.get(first.events.size() - 1));
            }
          };
      assertThat(send(f, EventListener.all(first, marker, second)).allDelivered()).isTrue();
      assertThat(first.events).hasSize(13).isEqualTo(second.events);
      // allForwardsEveryMethod checks the methods this delivery does not call
      assertThat(first.events).first().isEqualTo("deliveryStart");
      assertThat(order).containsExactly("marker saw recipientEnd DELIVERED");
    }
  }

  @Test
  void aListenerThatThrowsEverywhereChangesNothing() throws Exception {
    EventListener throwing =
        (EventListener)
            Proxy.newProxyInstance(
                EventListener.class.getClassLoader(),
                new Class<?>[] {EventListener.class},
                (proxy, method, args) -> {
                  throw new IllegalStateException("listener bug in " + method.getName());
                });
    try (Fixture f = new Fixture()) {
      DeliveryReport report = send(f, throwing);
      assertThat(report.allDelivered()).isTrue();
      assertThat(f.lastServer().messages()).hasSize(1);
    }
  }
}
