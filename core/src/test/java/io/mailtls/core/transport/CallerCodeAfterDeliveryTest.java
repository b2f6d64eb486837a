package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DomainName;
import io.mailtls.core.DowngradeMemory;
import io.mailtls.core.DowngradeProtection;
import io.mailtls.core.Envelope;
import io.mailtls.core.EventListener;
import io.mailtls.core.MessageContent;
import io.mailtls.core.MtaStsLookup;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.MtaStsPolicySource;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Caller code that throws undeclared checked exceptions (Kotlin, {@code @SneakyThrows}) after a
 * recipient was delivered must never have that recipient reported otherwise; an interrupt a
 * listener's exception carries must not be lost.
 */
class CallerCodeAfterDeliveryTest {

  /**
   * RFC 8461 §5.1 step 3: the re-check of an {@code enforce} policy runs after the first round
   * delivered some recipients of the domain. Here mx1 (no SMTPUTF8) delivers the ASCII recipient
   * and leaves the UTF-8 one for mx2 (RFC 6531 §3.2), whose certificate names another host: that
   * recipient is deferred by the policy, and the re-check runs. A policy source whose re-check
   * throws an undeclared checked exception must not turn the delivered recipient into a deferred
   * one (a retry would deliver it twice).
   */
  @Test
  void aRecheckThrowingACheckedExceptionKeepsTheDeliveredRecipientDelivered() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx1 =
          f.server(
              "127.0.0.2",
              b ->
                  b.hostname("mx1.example.test")
                      .tls(Fixture.certFor("mx1.example.test"))
                      .capabilities("PIPELINING", "8BITMIME", "ENHANCEDSTATUSCODES"));
      MockSmtpServer mx2 =
          f.server(
              "127.0.0.3",
              b -> b.hostname("mx2.example.test").tls(Fixture.certFor("other.example.net")));
      f.dns(
          d ->
              d.zone(
                  "example.test",
                  z ->
                      z.mailHost("example.test", 10, "mx1.example.test", mx1)
                          .mailHost("example.test", 20, "mx2.example.test", mx2)));
      f.mtaSts =
          new MtaStsPolicySource() {
            @Override
            public CompletableFuture<MtaStsLookup> lookupAsync(DomainName d) {
              return CompletableFuture.completedFuture(
                  new MtaStsLookup.Found(
                      d,
                      new MtaStsPolicy(
                          "p1", MtaStsMode.ENFORCE, List.of("*.example.test"), Duration.ofDays(1)),
                      false,
                      ""));
            }

            @Override
            public CompletableFuture<MtaStsLookup> recheckAsync(DomainName d) {
              throw ListenerCheckedExceptionTest.<RuntimeException>sneaky(
                  new IOException("policy store down"));
            }
          };
      SecureSmtpTransport t =
          f.transport(TlsLevel.OPPORTUNISTIC, b -> b.trustStore(Fixture.PKI.trustStore()));
      DeliveryReport report =
          t.send(
              Envelope.of("a@sender.test", "jose@example.test", "josé@example.test"),
              MessageContent.of(Fixture.MESSAGE.getBytes(StandardCharsets.UTF_8)));

      assertThat(mx1.messages()).hasSize(1);
      assertThat(mx1.messages().get(0).recipients()).containsExactly("jose@example.test");
      assertThat(report.result("josé@example.test").status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(report.result("jose@example.test").status())
          .as("%s", report.result("jose@example.test"))
          .isEqualTo(DeliveryStatus.DELIVERED);
    }
  }

  /**
   * A listener (Kotlin, say) that blocks in an interruptible call when the sending thread has been
   * interrupted gets an InterruptedException, which clears the thread's interrupt status, and
   * throws it on undeclared. Swallowing it, as "never changes a delivery" asks, must still leave
   * the thread interrupted: otherwise the interrupt (an executor's shutdownNow, a cancelled task)
   * is lost to the caller of send().
   */
  @Test
  void aListenersInterruptedExceptionKeepsTheThreadInterrupted() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = f.server("127.0.0.2", b -> b.hostname("mx.example.test"));
      f.dns(
          d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
      EventListener blocking =
          new EventListener() {
            @Override
            public void deliveryEnd(Envelope envelope, DeliveryReport report) {
              Thread.currentThread().interrupt(); // as if interrupted by another thread
              try {
                Thread.sleep(10);
              } catch (InterruptedException e) {
                throw ListenerCheckedExceptionTest.<RuntimeException>sneaky(e);
              }
            }
          };
      SecureSmtpTransport t = f.transport(TlsLevel.OPPORTUNISTIC, b -> b.eventListener(blocking));
      DeliveryReport report;
      boolean interrupted;
      try {
        report = Fixture.send(t, "rcpt@example.test");
      } finally {
        interrupted = Thread.interrupted(); // clears it for the rest of the test
      }
      assertThat(report.result("rcpt@example.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(interrupted).as("the thread's interrupt status after send()").isTrue();
    }
  }

  /**
   * Whatever caller code fails after the domain's recipients were decided (here the downgrade
   * memory's clock, read again to record what the delivery achieved), the results already decided
   * stand: only what is not decided yet is deferred.
   */
  @Test
  void aFailureAfterTheResultsWereDecidedKeepsThem() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = f.server("127.0.0.2", b -> b.hostname("mx.example.test"));
      f.dns(
          d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
      AtomicInteger reads = new AtomicInteger();
      Clock once =
          new Clock() {
            @Override
            public ZoneId getZone() {
              return ZoneOffset.UTC;
            }

            @Override
            public Clock withZone(ZoneId zone) {
              return this;
            }

            @Override
            public Instant instant() {
              if (reads.incrementAndGet() > 1) {
                throw new IllegalStateException("clock source gone");
              }
              return Instant.now();
            }
          };
      SecureSmtpTransport t =
          f.transport(
              TlsLevel.OPPORTUNISTIC,
              b ->
                  b.downgradeProtection(
                      DowngradeProtection.builder(DowngradeMemory.inMemory(100))
                          .clock(once)
                          .build()));
      DeliveryReport report = Fixture.send(t, "rcpt@example.test");
      assertThat(mx.messages()).hasSize(1);
      assertThat(reads.get()).as("the clock was read again after the delivery").isGreaterThan(1);
      assertThat(report.result("rcpt@example.test").status())
          .as("%s", report.result("rcpt@example.test"))
          .isEqualTo(DeliveryStatus.DELIVERED);
    }
  }
}
