package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DomainName;
import io.mailtls.core.DowngradeMemory;
import io.mailtls.core.DowngradeProtection;
import io.mailtls.core.EventListener;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TransportSecurity;
import io.mailtls.testkit.MockSmtpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * EventListener's promise, "an exception from a listener is caught and logged, and never changes a
 * delivery", for the exceptions a listener written in Kotlin (which has no checked exceptions) or
 * with Lombok's {@code @SneakyThrows} throws: checked ones that no {@code throws} clause declares.
 */
class ListenerCheckedExceptionTest {

  /** Throws {@code t} without declaring it, as Kotlin and {@code @SneakyThrows} code does. */
  @SuppressWarnings({"unchecked", "TypeParameterUnusedInFormals"})
  static <T extends Throwable> RuntimeException sneaky(Throwable t) throws T {
    throw (T) t;
  }

  /** A listener whose attemptStart throws an undeclared IOException for {@code host}. */
  private static EventListener throwingAt(String host) {
    return new EventListener() {
      @Override
      public void attemptStart(Optional<DomainName> h, InetSocketAddress address) {
        if (h.map(DomainName::toString).orElse("").equals(host)) {
          throw ListenerCheckedExceptionTest.<RuntimeException>sneaky(
              new IOException("listener's own I/O failed"));
        }
      }
    };
  }

  /** d1.test and d2.test, each with its own MX host. */
  private static void twoDomains(Fixture f) {
    MockSmtpServer mx1 = f.server("127.0.0.21", b -> b.hostname("mx.d1.test"));
    MockSmtpServer mx2 = f.server("127.0.0.22", b -> b.hostname("mx.d2.test"));
    f.dns(
        d ->
            d.zone("d1.test", z -> z.mailHost("d1.test", 10, "mx.d1.test", mx1))
                .zone("d2.test", z -> z.mailHost("d2.test", 10, "mx.d2.test", mx2)));
  }

  /** One message to a@d1.test and b@d2.test; a hang fails the test after 30 s. */
  private static DeliveryReport sendToBoth(SecureSmtpTransport t) {
    return assertTimeoutPreemptively(
        Duration.ofSeconds(30), () -> Fixture.send(t, "a@d1.test", "b@d2.test"));
  }

  /** Sends to rcpt@example.test; fails the test if send() throws (for {@code what}). */
  private static DeliveryReport sendNeverThrowing(SecureSmtpTransport t, String what) {
    try {
      return Fixture.send(t, "rcpt@example.test");
    } catch (Throwable e) {
      throw new AssertionError("send() must not throw for " + what, e);
    }
  }

  @Test
  void anUndeclaredCheckedExceptionFromAListenerChangesNothing() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = f.server("127.0.0.2", b -> b.hostname("mx.example.test"));
      f.dns(
          d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
      SecureSmtpTransport t =
          f.transport(TlsLevel.OPPORTUNISTIC, b -> b.eventListener(throwingAt("mx.example.test")));
      DeliveryReport report = sendNeverThrowing(t, "a listener's exception");
      assertThat(report.result("rcpt@example.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
    }
  }

  /**
   * The domain delivered on the transport's executor: its task ended by the exception would leave
   * its part of the report, and so send(), waiting for ever.
   */
  @Test
  void anUndeclaredCheckedExceptionOnTheExecutorNeverHangsSend() throws Exception {
    try (Fixture f = new Fixture()) {
      twoDomains(f);
      // d1.test, the first domain, goes to the executor; d2.test stays on the caller's thread.
      SecureSmtpTransport t =
          f.transport(TlsLevel.OPPORTUNISTIC, b -> b.eventListener(throwingAt("mx.d1.test")));
      DeliveryReport report = sendToBoth(t);
      assertThat(report.result("a@d1.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(report.result("b@d2.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
    }
  }

  /**
   * The same for any other caller-supplied code the domain's delivery runs, here the downgrade
   * memory's exemption predicate: whatever it throws, send() returns a result per recipient.
   */
  @Test
  void anUndeclaredCheckedExceptionFromOtherCallerCodeNeverHangsSend() throws Exception {
    try (Fixture f = new Fixture()) {
      twoDomains(f);
      DowngradeProtection protection =
          DowngradeProtection.builder(DowngradeMemory.inMemory(100))
              .exempt(
                  domain -> {
                    if (domain.toString().equals("d1.test")) {
                      throw ListenerCheckedExceptionTest.<RuntimeException>sneaky(
                          new IOException("exemption list unreadable"));
                    }
                    return false;
                  })
              .build();
      SecureSmtpTransport t =
          f.transport(TlsLevel.OPPORTUNISTIC, b -> b.downgradeProtection(protection));
      DeliveryReport report = sendToBoth(t);
      assertThat(report.recipients()).hasSize(2);
      assertThat(report.result("b@d2.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
    }
  }

  /**
   * A downgrade memory whose {@code raise} (recording what a delivered message achieved) throws an
   * undeclared checked exception: the message has been delivered, and must be reported so, never
   * deferred (a retry would deliver it twice).
   */
  @Test
  void aDowngradeMemoryFailingAfterTheDeliveryLeavesItDelivered() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = f.server("127.0.0.2", b -> b.hostname("mx.example.test"));
      f.dns(
          d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
      DowngradeMemory inMemory = DowngradeMemory.inMemory(100);
      DowngradeMemory failingToRecord =
          new DowngradeMemory() {
            @Override
            public Seen seen(DomainName domain) {
              return inMemory.seen(domain);
            }

            @Override
            public void raise(DomainName domain, TransportSecurity achieved, Instant at) {
              throw ListenerCheckedExceptionTest.<RuntimeException>sneaky(
                  new IOException("memory store unwritable"));
            }
          };
      SecureSmtpTransport t =
          f.transport(
              TlsLevel.OPPORTUNISTIC,
              b -> b.downgradeProtection(DowngradeProtection.builder(failingToRecord).build()));
      DeliveryReport report = Fixture.send(t, "rcpt@example.test");
      assertThat(mx.messages()).hasSize(1);
      assertThat(report.result("rcpt@example.test").status())
          .as("%s", report.result("rcpt@example.test"))
          .isEqualTo(DeliveryStatus.DELIVERED);
    }
  }

  /**
   * SenderPolicy.of: "a function that throws ... the transport defers the message"; a function in
   * Kotlin whose configuration store fails with an IOException throws it undeclared.
   */
  @Test
  void aSenderLevelFunctionThatThrowsACheckedExceptionDefersTheMessage() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = f.server("127.0.0.2", b -> b.hostname("mx.example.test"));
      f.dns(
          d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
      SenderPolicy levels =
          SenderPolicy.of(
              domain -> {
                throw ListenerCheckedExceptionTest.<RuntimeException>sneaky(
                    new IOException("configuration store unreachable"));
              },
              TlsLevel.OPPORTUNISTIC);
      SecureSmtpTransport t =
          SecureSmtpTransport.builder()
              .dns(Fixture.resolver(f.dns))
              .heloName("client.sender.test")
              .port(f.port())
              .senderPolicy(levels)
              .withoutDane()
              .withoutMtaSts()
              .build();
      f.closeLater(t);
      DeliveryReport report = sendNeverThrowing(t, "the level lookup's exception");
      assertThat(report.result("rcpt@example.test").status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(mx.sessions()).isEmpty();
    }
  }
}
