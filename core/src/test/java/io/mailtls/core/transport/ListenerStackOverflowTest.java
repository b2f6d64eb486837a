package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DomainName;
import io.mailtls.core.EventListener;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * A listener that overflows its stack (a recursive {@code toString}, a logging framework that logs
 * itself) has thrown like any other: its frames are gone when the error reaches the transport, so
 * it changes no delivery (EventListener's promise), never makes {@code send} throw after the
 * message was delivered (a retry would deliver it twice), and never leaves {@code send} waiting for
 * a domain whose task it ended.
 */
class ListenerStackOverflowTest {

  /** Recurses until the stack overflows, as a listener's own bug does. */
  private static long recurse(long depth) {
    return depth == Long.MAX_VALUE ? depth : recurse(depth + 1) + 1;
  }

  private static EventListener overflowingIn(String event) {
    return new EventListener() {
      @Override
      public void attemptStart(Optional<DomainName> host, InetSocketAddress address) {
        if (event.equals("attemptStart")) {
          recurse(0);
        }
      }

      @Override
      public void recipientEnd(RecipientResult result) {
        if (event.equals("recipientEnd")) {
          recurse(0);
        }
      }
    };
  }

  private static void twoDomains(Fixture f) {
    MockSmtpServer mx1 = f.server("127.0.0.21", b -> b.hostname("mx.d1.test"));
    MockSmtpServer mx2 = f.server("127.0.0.22", b -> b.hostname("mx.d2.test"));
    f.dns(
        d ->
            d.zone("d1.test", z -> z.mailHost("d1.test", 10, "mx.d1.test", mx1))
                .zone("d2.test", z -> z.mailHost("d2.test", 10, "mx.d2.test", mx2)));
  }

  /** One message to a@d1.test (on the executor) and b@d2.test; send() must return, in 30 s. */
  private static DeliveryReport sendToBoth(SecureSmtpTransport t, String what) {
    return assertTimeoutPreemptively(
        Duration.ofSeconds(30),
        () -> {
          try {
            return Fixture.send(t, "a@d1.test", "b@d2.test");
          } catch (Throwable e) {
            throw new AssertionError("send() must not throw for " + what, e);
          }
        });
  }

  @Test
  void aListenerOverflowingItsStackOnTheExecutorNeverHangsSend() throws Exception {
    try (Fixture f = new Fixture()) {
      twoDomains(f);
      SecureSmtpTransport t =
          f.transport(TlsLevel.OPPORTUNISTIC, b -> b.eventListener(overflowingIn("attemptStart")));
      DeliveryReport report = sendToBoth(t, "a listener's StackOverflowError in attemptStart");
      assertThat(report.result("a@d1.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(report.result("b@d2.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
    }
  }

  @Test
  void aListenerOverflowingItsStackAfterTheDeliveryLosesNoResult() throws Exception {
    try (Fixture f = new Fixture()) {
      twoDomains(f);
      SecureSmtpTransport t =
          f.transport(TlsLevel.OPPORTUNISTIC, b -> b.eventListener(overflowingIn("recipientEnd")));
      DeliveryReport report = sendToBoth(t, "a listener's StackOverflowError in recipientEnd");
      assertThat(report.result("a@d1.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(report.result("b@d2.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
    }
  }
}
