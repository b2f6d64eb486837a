package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Attempt;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DomainName;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.Envelope;
import io.mailtls.core.EventListener;
import io.mailtls.core.FailureType;
import io.mailtls.core.NextHop;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.TlsDetails;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import io.mailtls.testkit.MockSmtpServer;
import java.lang.reflect.Proxy;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** The event listener (docs/design.md §5): paired events, and a throwing listener changes nothing. */
class EventListenerTest {

  /** Records event names with a short detail. */
  static final class Recorder implements EventListener {
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
    public void connectEnd(Optional<DomainName> host, InetSocketAddress address,
        Optional<FailureType> failure) {
      events.add("connectEnd " + failure.map(Enum::name).orElse("ok"));
    }

    @Override
    public void startTlsStart(Optional<DomainName> host, InetSocketAddress address) {
      events.add("startTlsStart");
    }

    @Override
    public void startTlsEnd(Optional<DomainName> host, InetSocketAddress address,
        Optional<SmtpReply> reply) {
      events.add("startTlsEnd " + reply.map(SmtpReply::code).orElse(0));
    }

    @Override
    public void handshakeStart(Optional<DomainName> host, InetSocketAddress address,
        TlsRequirement requirement) {
      events.add("handshakeStart");
    }

    @Override
    public void handshakeEnd(Optional<DomainName> host, InetSocketAddress address,
        Optional<TlsDetails> tls, Optional<FailureType> failure, String detail) {
      events.add("handshakeEnd " + tls.map(TlsDetails::protocol).orElse("none"));
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
    MockSmtpServer mx = f.server("127.0.0.2", b -> b.hostname("mx.example.test")
        .tls(Fixture.certFor("mx.example.test")));
    f.dns(d -> d.zone("example.test",
        z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
    return f.transport(TlsLevel.ENFORCED, b -> b.eventListener(listener))
        .send(Envelope.of("a@sender.test", "rcpt@example.test"),
            io.mailtls.core.MessageContent.of(Fixture.MESSAGE.getBytes()));
  }

  @Test
  void eventsArePairedAndInOrder() throws Exception {
    try (Fixture f = new Fixture()) {
      Recorder rec = new Recorder();
      assertThat(send(f, rec).allDelivered()).isTrue();
      assertThat(rec.events).containsExactly(
          "deliveryStart",
          "recipientStart rcpt@example.test",
          "planStart example.test",
          "planEnd 1",
          "connectStart mx.example.test",
          "connectEnd ok",
          "startTlsStart",
          "startTlsEnd 220",
          "handshakeStart",
          "handshakeEnd " + rec.events.stream().filter(e -> e.startsWith("handshakeEnd"))
              .findFirst().orElseThrow().substring("handshakeEnd ".length()),
          "attemptEnd",
          "recipientEnd DELIVERED",
          "deliveryEnd");
      assertThat(rec.events.stream().filter(e -> e.startsWith("handshakeEnd")).findFirst()
          .orElseThrow()).matches("handshakeEnd TLSv1\\.[23]");
    }
  }

  @Test
  void allPassesEveryEventToEachListenerInOrder() throws Exception {
    try (Fixture f = new Fixture()) {
      Recorder first = new Recorder();
      Recorder second = new Recorder();
      List<String> order = new CopyOnWriteArrayList<>();
      EventListener marker = new EventListener() {
        @Override
        public void recipientEnd(RecipientResult result) {
          order.add("marker saw " + first.events.get(first.events.size() - 1));
        }
      };
      assertThat(send(f, EventListener.all(first, marker, second)).allDelivered()).isTrue();
      assertThat(first.events).hasSize(13).isEqualTo(second.events);
      // every one of the 14 methods is forwarded (policyFailure is covered by the CLI tests)
      assertThat(first.events).first().isEqualTo("deliveryStart");
      assertThat(order).containsExactly("marker saw recipientEnd DELIVERED");
    }
  }

  @Test
  void aListenerThatThrowsEverywhereChangesNothing() throws Exception {
    EventListener throwing = (EventListener) Proxy.newProxyInstance(
        EventListener.class.getClassLoader(), new Class<?>[] {EventListener.class},
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
