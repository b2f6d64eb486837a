package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.Attempt;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.Timings;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpStep;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * Each {@link Attempt} and {@link RecipientResult} carries its {@link Timings}, measured during
 * real deliveries to the testkit's servers: which phases are present says what happened, and the
 * phases never add up to more than the total. Nothing here asserts how fast anything was.
 */
class TimingsTest {

  /** Non-negative phases whose sum is at most the total. */
  private static void assertConsistent(Timings t) {
    for (Optional<Duration> phase : java.util.List.of(t.plan(), t.connect(), t.tls(), t.data())) {
      phase.ifPresent(d -> assertThat(d).isGreaterThanOrEqualTo(Duration.ZERO));
    }
    assertThat(t.total()).isGreaterThanOrEqualTo(Duration.ZERO);
    assertThat(t.phases()).isLessThanOrEqualTo(t.total());
  }

  private static MockSmtpServer mx(Fixture f, String ip, String name, boolean tls) {
    return f.server(
        ip,
        b -> {
          b.hostname(name);
          if (tls) {
            b.tls(Fixture.certFor(name));
          }
          return b;
        });
  }

  @Test
  void aDeliveryOverStarttlsHasEveryPhase() {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = mx(f, "127.0.0.2", "mx.example.test", true);
      f.dns(
          d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
      RecipientResult r = f.send(TlsLevel.OPPORTUNISTIC, "b@example.test").result("b@example.test");
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.tls()).isPresent();

      Attempt a = r.attempt().orElseThrow();
      Timings at = a.timings();
      assertThat(at.plan()).isEmpty();
      assertThat(at.connect()).isPresent();
      assertThat(at.tls()).isPresent();
      assertThat(at.data()).isPresent();
      assertConsistent(at);

      Timings rt = r.timings();
      assertThat(rt.plan()).isPresent();
      assertThat(rt.connect()).isEqualTo(at.connect());
      assertThat(rt.tls()).isEqualTo(at.tls());
      assertThat(rt.data()).isEqualTo(at.data());
      assertConsistent(rt);
      // The recipient's total runs from the start of the call: it holds the whole attempt.
      assertThat(rt.total()).isGreaterThanOrEqualTo(at.total());
      assertThat(rt.toString()).startsWith("delay=").contains(", delays=");
    }
  }

  @Test
  void aPlaintextSessionHasNoTlsPhaseAndAReusedOneNoHandshake() {
    try (Fixture f = new Fixture()) {
      MockSmtpServer plain = mx(f, "127.0.0.2", "mx.plain.example.test", false);
      MockSmtpServer tls = mx(f, "127.0.0.3", "mx.tls.example.test", true);
      f.dns(
          d ->
              d.zone(
                  "example.test",
                  z ->
                      z.mailHost("plain.example.test", 10, "mx.plain.example.test", plain)
                          .mailHost("tls.example.test", 10, "mx.tls.example.test", tls)));
      var transport = f.transport(TlsLevel.OPPORTUNISTIC);
      RecipientResult p =
          Fixture.send(transport, "b@plain.example.test").result("b@plain.example.test");
      assertThat(p.status()).as("%s", p).isEqualTo(DeliveryStatus.DELIVERED);
      Timings pt = p.attempt().orElseThrow().timings();
      assertThat(pt.connect()).isPresent();
      assertThat(pt.tls()).isEmpty();
      assertThat(pt.data()).isPresent();
      assertConsistent(pt);
      assertConsistent(p.timings());

      RecipientResult first =
          Fixture.send(transport, "b@tls.example.test").result("b@tls.example.test");
      RecipientResult second =
          Fixture.send(transport, "c@tls.example.test").result("c@tls.example.test");
      assertThat(second.status()).as("%s", second).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(first.attempt().orElseThrow().timings().tls()).isPresent();
      // The second message went over the pooled session: RSET, no new handshake.
      assertThat(second.attempt().orElseThrow().detail()).contains("reused connection");
      Timings reused = second.attempt().orElseThrow().timings();
      assertThat(reused.connect()).isPresent();
      assertThat(reused.tls()).isEmpty();
      assertThat(reused.data()).isPresent();
      assertConsistent(reused);
    }
  }

  @Test
  void aRecipientSumsTheAttemptsUpToTheDecidingOne() {
    try (Fixture f = new Fixture()) {
      MockSmtpServer good = mx(f, "127.0.0.3", "mx2.example.test", true);
      // mx1 at 127.0.0.2: nothing listens on the shared port there.
      f.dns(
          d ->
              d.zone(
                  "example.test",
                  z ->
                      z.mx("example.test", 10, "mx1.example.test")
                          .a("mx1.example.test", "127.0.0.2")
                          .mailHost("example.test", 20, "mx2.example.test", good)));
      RecipientResult r = f.send(TlsLevel.OPPORTUNISTIC, "b@example.test").result("b@example.test");
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.attempts()).hasSize(2);
      Timings refused = r.attempts().get(0).timings();
      Timings delivered = r.attempts().get(1).timings();
      assertThat(refused.connect()).isPresent();
      assertThat(refused.tls()).isEmpty();
      assertThat(refused.data()).isEmpty();
      assertConsistent(refused);
      assertConsistent(delivered);
      Timings rt = r.timings();
      assertThat(rt.connect())
          .contains(refused.connect().orElseThrow().plus(delivered.connect().orElseThrow()));
      assertThat(rt.tls()).isEqualTo(delivered.tls());
      assertThat(rt.data()).isEqualTo(delivered.data());
      assertConsistent(rt);
    }
  }

  @Test
  void aBouncedRecipientHadATransaction() {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          f.server(
              "127.0.0.2",
              b ->
                  b.hostname("mx.example.test")
                      .tls(Fixture.certFor("mx.example.test"))
                      .on(SmtpStep.RCPT, SmtpAction.reply(550, "5.1.1", "no such user")));
      f.dns(
          d -> d.zone("example.test", z -> z.mailHost("example.test", 10, "mx.example.test", mx)));
      DeliveryReport report = f.send(TlsLevel.OPPORTUNISTIC, "b@example.test");
      RecipientResult r = report.result("b@example.test");
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(r.timings().data()).isPresent();
      assertThat(r.timings().tls()).isPresent();
      assertConsistent(r.timings());
    }
  }

  @Test
  void timingsRefuseNegativePhasesAndPhasesBeyondTheTotal() {
    Optional<Duration> second = Optional.of(Duration.ofSeconds(1));
    assertThatThrownBy(
            () ->
                Timings.of(
                    Optional.of(Duration.ofSeconds(-1)),
                    Optional.empty(),
                    Optional.empty(),
                    Optional.empty(),
                    Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                Timings.of(
                    second, second, Optional.empty(), Optional.empty(), Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class);
    Timings t =
        Timings.of(
            Optional.of(Duration.ofMillis(10)),
            Optional.of(Duration.ofMillis(120)),
            Optional.empty(),
            Optional.of(Duration.ofMillis(5)),
            Duration.ofMillis(1500));
    assertThat(t.phases()).isEqualTo(Duration.ofMillis(135));
    assertThat(t).hasToString("delay=1.50, delays=0.01/0.12/0/0.005");
    assertThat(Timings.NONE.phases()).isEqualTo(Duration.ZERO);
  }
}
