package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.Attempt;
import io.mailtls.core.DeliveryCall;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DomainName;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.Envelope;
import io.mailtls.core.EventListener;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.MtaStsLookup;
import io.mailtls.core.MxHost;
import io.mailtls.core.NextHop;
import io.mailtls.core.PolicyFailure;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.TlsDetails;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.TlsaLookup;
import io.mailtls.core.internal.Values;
import io.mailtls.testkit.MockSmtpServer;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * {@link EventListener.Factory}: one listener per call, which sees every event of that call and
 * none of another's, also when calls run at the same time (docs/design.md §5).
 */
class EventListenerFactoryTest {

  private static final MessageContent CONTENT =
      MessageContent.of(Fixture.MESSAGE.getBytes(StandardCharsets.UTF_8));

  /** Records every event with the subject it names, so that a stray event shows whose it is. */
  static class Trace implements EventListener {
    final DeliveryCall call;
    final List<String> events = new CopyOnWriteArrayList<>();

    Trace(DeliveryCall call) {
      this.call = call;
    }

    private static String host(Optional<DomainName> host) {
      return host.map(DomainName::toString).orElse("[literal]");
    }

    @Override
    public void deliveryStart(Envelope envelope) {
      events.add("deliveryStart " + envelope.recipients());
    }

    @Override
    public void deliveryEnd(Envelope envelope, DeliveryReport report) {
      events.add("deliveryEnd " + envelope.recipients());
    }

    @Override
    public void planStart(NextHop nextHop, TlsLevel level) {
      events.add("planStart " + nextHop);
    }

    @Override
    public void planEnd(DeliveryPlan plan) {
      events.add("planEnd " + plan.nextHop() + " " + plan.hosts().size());
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
    public void connectStart(Optional<DomainName> host, InetSocketAddress address) {
      events.add("connectStart " + host(host));
    }

    @Override
    public void connectEnd(
        Optional<DomainName> host, InetSocketAddress address, Optional<FailureType> failure) {
      events.add("connectEnd " + host(host) + " " + failure.map(Enum::name).orElse("ok"));
    }

    @Override
    public void startTlsStart(Optional<DomainName> host, InetSocketAddress address) {
      events.add("startTlsStart " + host(host));
    }

    @Override
    public void startTlsEnd(
        Optional<DomainName> host, InetSocketAddress address, Optional<SmtpReply> reply) {
      events.add("startTlsEnd " + host(host) + " " + reply.map(SmtpReply::code).orElse(0));
    }

    @Override
    public void handshakeStart(
        Optional<DomainName> host, InetSocketAddress address, TlsRequirement requirement) {
      events.add("handshakeStart " + host(host));
    }

    @Override
    public void handshakeEnd(
        Optional<DomainName> host,
        InetSocketAddress address,
        Optional<TlsDetails> tls,
        Optional<FailureType> failure,
        String detail) {
      events.add("handshakeEnd " + host(host) + " " + (tls.isPresent() ? "ok" : "failed"));
    }

    @Override
    public void policyFailure(PolicyFailure failure) {
      events.add("policyFailure " + failure.policyDomain());
    }

    @Override
    public void attemptEnd(Attempt attempt) {
      events.add("attemptEnd " + host(attempt.host()));
    }

    @Override
    public void recipientStart(EmailAddress recipient) {
      events.add("recipientStart " + recipient);
    }

    @Override
    public void recipientEnd(RecipientResult result) {
      events.add("recipientEnd " + result.recipient() + " " + result.status());
    }
  }

  /** The events one delivery of two recipients at {@code domain}'s one MX host makes. */
  private static List<String> expected(String domain) {
    String mx = "mx." + domain;
    List<String> rcpts = List.of("r1@" + domain, "r2@" + domain);
    return List.of(
        "deliveryStart " + rcpts,
        "recipientStart " + rcpts.get(0),
        "recipientStart " + rcpts.get(1),
        "planStart " + domain,
        "mtaStsLookupStart " + domain,
        "mtaStsLookupEnd " + domain + " NoPolicy",
        "tlsaLookupStart " + mx,
        "tlsaLookupEnd " + mx + " None",
        "planEnd " + domain + " 1",
        "connectStart " + mx,
        "connectEnd " + mx + " ok",
        "startTlsStart " + mx,
        "startTlsEnd " + mx + " 220",
        "handshakeStart " + mx,
        "handshakeEnd " + mx + " ok",
        "attemptEnd " + mx,
        "recipientEnd " + rcpts.get(0) + " DELIVERED",
        "recipientEnd " + rcpts.get(1) + " DELIVERED",
        "deliveryEnd " + rcpts);
  }

  /**
   * {@code events} are {@link #expected} for {@code domain}: exactly, in order, except that the
   * lookups (which run concurrently, on the providers' threads) may interleave between planStart
   * and planEnd, each start before its end.
   */
  private static void assertOneDelivery(List<String> events, String domain) {
    List<String> want = expected(domain);
    List<String> lookups = want.subList(4, 8);
    assertThat(events)
        .as("events of the call to %s", domain)
        .containsExactlyInAnyOrderElementsOf(want);
    assertThat(events.subList(0, 4)).isEqualTo(want.subList(0, 4));
    assertThat(events.subList(4, 8)).containsExactlyInAnyOrderElementsOf(lookups);
    assertThat(events.indexOf(lookups.get(0))).isLessThan(events.indexOf(lookups.get(1)));
    assertThat(events.indexOf(lookups.get(2))).isLessThan(events.indexOf(lookups.get(3)));
    assertThat(events.subList(8, events.size())).isEqualTo(want.subList(8, want.size()));
  }

  /**
   * Deliveries running at the same time, two through send() on threads of their own and two through
   * sendAsync(), each to two recipients of its own domain with its own MX server: each call's
   * listener sees exactly its own recipients' events, paired and in order, and the lookup events
   * that arrived on the providers' threads. A barrier in planStart holds every delivery until all
   * have started, so they do overlap.
   */
  @Test
  void concurrentDeliveriesEachTellOnlyTheirOwnListener() throws Exception {
    int calls = 4;
    ExecutorService providers = Executors.newFixedThreadPool(2);
    ExecutorService callers = Executors.newFixedThreadPool(2);
    try (Fixture f = new Fixture()) {
      List<String> domains = new ArrayList<>();
      List<MockSmtpServer> servers = new ArrayList<>();
      for (int i = 1; i <= calls; i++) {
        String domain = "d" + i + ".test";
        String mx = "mx." + domain;
        domains.add(domain);
        servers.add(f.server("127.0.0." + (20 + i), b -> b.hostname(mx).tls(Fixture.certFor(mx))));
      }
      f.dns(
          d -> {
            for (int i = 0; i < calls; i++) {
              String domain = domains.get(i);
              MockSmtpServer s = servers.get(i);
              d.zone(domain, z -> z.mailHost(domain, 10, "mx." + domain, s));
            }
            return d;
          });
      f.mtaSts = EventListenerTest.noPolicy(providers);
      f.dane = EventListenerTest.noTlsa(providers);
      CyclicBarrier allStarted = new CyclicBarrier(calls);
      Map<Long, Trace> traces = new ConcurrentHashMap<>();
      List<String> factoryThreads = new CopyOnWriteArrayList<>();
      SecureSmtpTransport transport =
          f.transport(
              TlsLevel.ENFORCED,
              b ->
                  b.eventListenerFactory(
                      call -> {
                        factoryThreads.add(Thread.currentThread().getName());
                        Trace t =
                            new Trace(call) {
                              @Override
                              public void planStart(NextHop nextHop, TlsLevel level) {
                                super.planStart(nextHop, level);
                                try {
                                  allStarted.await(20, TimeUnit.SECONDS);
                                } catch (Exception e) {
                                  events.add("not concurrent: " + e);
                                }
                              }
                            };
                        traces.put(call.id(), t);
                        return t;
                      }));

      List<CompletableFuture<DeliveryReport>> reports = new ArrayList<>();
      for (int i = 0; i < calls; i++) {
        Envelope envelope =
            Envelope.of("a@sender.test", "r1@" + domains.get(i), "r2@" + domains.get(i));
        if (i % 2 == 0) {
          reports.add(
              CompletableFuture.supplyAsync(() -> transport.send(envelope, CONTENT), callers));
        } else {
          reports.add(transport.sendAsync(envelope, CONTENT));
        }
      }
      for (CompletableFuture<DeliveryReport> r : reports) {
        assertThat(r.get(60, TimeUnit.SECONDS).allDelivered()).isTrue();
      }

      assertThat(traces.keySet()).containsExactlyInAnyOrder(1L, 2L, 3L, 4L);
      // sendAsync makes the listener on the caller's thread, not the executor's
      assertThat(factoryThreads).noneMatch(n -> n.startsWith("mailtls-send-"));
      for (Trace t : traces.values()) {
        Envelope envelope = t.call.envelope().orElseThrow();
        String domain = envelope.recipients().get(0).domain().toString();
        assertOneDelivery(t.events, domain);
      }
      assertThat(
              traces.values().stream()
                  .map(t -> t.call.envelope().orElseThrow().recipients().get(0).domain().toString())
                  .collect(Collectors.toSet()))
          .containsExactlyInAnyOrderElementsOf(domains);
      for (int i = 0; i < calls; i++) {
        String domain = domains.get(i);
        assertThat(servers.get(i).messages())
            .singleElement()
            .satisfies(
                m -> assertThat(m.recipients()).containsExactly("r1@" + domain, "r2@" + domain));
      }
    } finally {
      callers.shutdownNow();
      providers.shutdownNow();
    }
  }

  /**
   * Each call gets a new id, in the order the calls are made; send and sendAsync carry their
   * envelope, a plan on its own none, and its listener sees the plan's events.
   */
  @Test
  void callsAreNumberedAndCarryTheirEnvelope() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = f.server("127.0.0.2", b -> b.hostname("mx.example.test"));
      f.dns(
          d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
      List<Trace> traces = new CopyOnWriteArrayList<>();
      SecureSmtpTransport transport =
          f.transport(
              TlsLevel.OPPORTUNISTIC,
              b ->
                  b.eventListenerFactory(
                      call -> {
                        Trace t = new Trace(call);
                        traces.add(t);
                        return t;
                      }));
      Envelope first = Envelope.of("a@sender.test", "x@example.test");
      Envelope third = Envelope.of("a@sender.test", "y@example.test");
      transport.send(first, CONTENT);
      DeliveryPlan plan = transport.plan(NextHop.parse("example.test"), TlsLevel.OPPORTUNISTIC);
      transport.sendAsync(third, CONTENT).get(30, TimeUnit.SECONDS);

      assertThat(traces)
          .extracting(t -> t.call)
          .containsExactly(
              Values.deliveryCall(1, Optional.of(first)),
              Values.deliveryCall(2, Optional.empty()),
              Values.deliveryCall(3, Optional.of(third)));
      assertThat(traces.get(1).events)
          .containsExactly("planStart example.test", "planEnd example.test " + plan.hosts().size());
      assertThat(traces.get(0).events).first().isEqualTo("deliveryStart [x@example.test]");
      assertThat(traces.get(2).events).first().isEqualTo("deliveryStart [y@example.test]");
    }
  }

  /**
   * A factory that throws, or returns null, costs that call its events and nothing else: the
   * message is delivered, and the next call's listener sees all of its own events.
   */
  @Test
  void aBrokenFactoryCostsOnlyThatCallsEvents() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = f.server("127.0.0.2", b -> b.hostname("mx.example.test"));
      f.dns(
          d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
      List<Trace> made = new CopyOnWriteArrayList<>();
      SecureSmtpTransport transport =
          f.transport(
              TlsLevel.OPPORTUNISTIC,
              b ->
                  b.eventListenerFactory(
                      call -> {
                        if (call.id() == 1) {
                          throw new IllegalStateException("factory bug");
                        }
                        if (call.id() == 2) {
                          return null;
                        }
                        Trace t = new Trace(call);
                        made.add(t);
                        return t;
                      }));
      assertThat(Fixture.send(transport, "a@example.test").allDelivered()).isTrue();
      assertThat(Fixture.send(transport, "b@example.test").allDelivered()).isTrue();
      assertThat(Fixture.send(transport, "c@example.test").allDelivered()).isTrue();
      assertThat(mx.messages()).hasSize(3);
      assertThat(made)
          .singleElement()
          .satisfies(
              t -> {
                assertThat(t.call.id()).isEqualTo(3);
                assertThat(t.events).first().isEqualTo("deliveryStart [c@example.test]");
                assertThat(t.events).last().isEqualTo("deliveryEnd [c@example.test]");
                assertThat(t.events).contains("recipientEnd c@example.test DELIVERED");
              });
    }
  }

  /** A transport takes a shared listener or a factory, once: anything more is a mistake. */
  @Test
  void aListenerAndAFactoryAreOneChoice() {
    EventListener.Factory factory = call -> EventListener.NONE;
    assertThatThrownBy(
            () ->
                SecureSmtpTransport.builder()
                    .eventListener(EventListener.NONE)
                    .eventListenerFactory(factory))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("eventListenerFactory(...) after eventListener(...)");
    assertThatThrownBy(
            () ->
                SecureSmtpTransport.builder()
                    .eventListenerFactory(factory)
                    .eventListener(EventListener.NONE))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("eventListener(...) after eventListenerFactory(...)");
    assertThatThrownBy(
            () ->
                SecureSmtpTransport.builder()
                    .eventListenerFactory(factory)
                    .eventListenerFactory(factory))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("eventListenerFactory already set");
    assertThatThrownBy(
            () ->
                SecureSmtpTransport.builder()
                    .eventListener(EventListener.NONE)
                    .eventListener(EventListener.NONE))
        .isInstanceOf(IllegalStateException.class)
        .hasMessage("eventListener already set");
  }

  @Test
  void aCallIdIsPositive() {
    assertThatThrownBy(() -> Values.deliveryCall(0, Optional.empty()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("0");
  }
}
