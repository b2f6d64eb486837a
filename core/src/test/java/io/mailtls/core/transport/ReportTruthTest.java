package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DomainName;
import io.mailtls.core.EnhancedStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.EventListener;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.MtaStsLookup;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.MtaStsPolicySource;
import io.mailtls.core.PolicyFailure;
import io.mailtls.core.PolicySource;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** Whether what a delivery reports is what happened (docs/design.md §1, the report). */
class ReportTruthTest {

  private static final String HOST = "mx.example.test";

  /** An MTA-STS source that always finds a {@code testing} policy naming {@link #HOST}. */
  static MtaStsPolicySource testingPolicy() {
    return testingPolicy(HOST);
  }

  /** An MTA-STS source that always finds a {@code testing} policy with {@code pattern}. */
  static MtaStsPolicySource testingPolicy(String pattern) {
    return new MtaStsPolicySource() {
      @Override
      public CompletableFuture<MtaStsLookup> lookupAsync(DomainName d) {
        return CompletableFuture.completedFuture(
            new MtaStsLookup.Found(
                d,
                new MtaStsPolicy("t1", MtaStsMode.TESTING, List.of(pattern), Duration.ofDays(1)),
                false,
                ""));
      }

      @Override
      public CompletableFuture<MtaStsLookup> recheckAsync(DomainName d) {
        return lookupAsync(d);
      }
    };
  }

  /**
   * RFC 8460 §4.3.2.1: under an MTA-STS {@code testing} policy, a server that offered STARTTLS but
   * whose handshake failed (TLS 1.0 only) is not "starttls-not-supported". The opportunistic
   * delivery falls back to plaintext on a fresh connection, and the report-only audit of that
   * plaintext session must not tell the domain's TLS-RPT that STARTTLS was missing.
   */
  @Test
  void testingPolicyAuditAfterAFailedHandshakeDoesNotClaimStarttlsWasMissing() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          f.server(
              "127.0.0.2", b -> b.hostname(HOST).tls(Fixture.certFor(HOST)).tlsProtocols("TLSv1"));
      f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, HOST, mx)));
      f.mtaSts = testingPolicy();
      List<PolicyFailure> failures = new CopyOnWriteArrayList<>();
      f.transport(
          TlsLevel.OPPORTUNISTIC,
          b ->
              b.eventListener(
                  new EventListener() {
                    @Override
                    public void policyFailure(PolicyFailure failure) {
                      failures.add(failure);
                    }
                  }));
      RecipientResult r =
          Fixture.send(f.transport, "rcpt@example.test").result("rcpt@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.authentication()).contains(Authentication.PLAINTEXT);
      assertThat(r.attempt().orElseThrow().detail()).contains("retrying in plaintext");
      assertThat(mx.sessions()).hasSize(2);
      assertThat(failures)
          .filteredOn(p -> p.source() == PolicySource.MTA_STS && p.host().isPresent())
          .singleElement()
          .satisfies(
              p -> {
                assertThat(p.enforced()).isFalse();
                assertThat(p.type()).isNotEqualTo(FailureType.STARTTLS_NOT_SUPPORTED);
              });
    }
  }

  /**
   * RFC 3463 §3.5, §3.8: a server that answered but did not offer STARTTLS at {@code enforced} is
   * not "no answer from host" (4.4.1); the deferral is a security matter (4.7.x), as the plan's own
   * TLS deferrals say (4.7.5).
   */
  @Test
  void aTlsFailureDefersWithASecurityStatusNotNoAnswerFromHost() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = f.server("127.0.0.2", b -> b.hostname(HOST));
      f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, HOST, mx)));
      RecipientResult r =
          f.send(TlsLevel.ENFORCED, "rcpt@example.test").result("rcpt@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.attempt().orElseThrow().failure()).contains(FailureType.STARTTLS_NOT_SUPPORTED);
      assertThat(r.reply().code()).isEqualTo(451);
      assertThat(r.reply().enhancedStatus().orElseThrow())
          .isNotEqualTo(EnhancedStatus.NO_ANSWER_FROM_HOST);
      assertThat(r.reply().enhancedStatus().orElseThrow().toString()).startsWith("4.7.");
    }
  }

  /**
   * RFC 8689 §4.2.1: REQUIRETLS, the first MX unreachable, the second without REQUIRETLS: deferred
   * (the first may come back), and the reply that names REQUIRETLS carries its status, 4.7.30, not
   * 4.4.1 ("no answer from host") wrapped around a local 550 5.7.30.
   */
  @Test
  void aRequireTlsDeferralAfterFailoverKeepsTheRequireTlsStatus() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx2 =
          f.server(
              "127.0.0.3",
              b -> b.hostname("mx2.example.test").tls(Fixture.certFor("mx2.example.test")));
      f.dns(
          d ->
              d.zone(
                  "example.test",
                  z ->
                      z.mx("example.test", 10, "mx1.example.test")
                          .a("mx1.example.test", "127.0.0.5") // nothing listens there
                          .mailHost("example.test", 20, "mx2.example.test", mx2)));
      f.mtaSts = testingPolicy("*.example.test");
      f.transport(TlsLevel.OPPORTUNISTIC, b -> b.trustStore(Fixture.PKI.trustStore()));
      RecipientResult r =
          f.transport
              .send(
                  Envelope.of("a@sender.test", "rcpt@example.test").requireTls(true),
                  MessageContent.of(Fixture.MESSAGE.getBytes(StandardCharsets.UTF_8)))
              .result("rcpt@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.attempts()).hasSize(2);
      assertThat(r.attempts().get(0).failure()).contains(FailureType.CONNECTION_FAILED);
      assertThat(r.attempts().get(1).failure()).contains(FailureType.REQUIRETLS_UNAVAILABLE);
      assertThat(r.attempts().get(1).authentication()).contains(Authentication.VERIFIED);
      assertThat(mx2.messages()).isEmpty();
      assertThat(r.reply().code()).isEqualTo(451);
      assertThat(r.reply().enhancedStatus().map(Object::toString)).contains("4.7.30");
    }
  }

  /**
   * A message whose content cannot be read is deferred before any DNS lookup or connection. The
   * report must not say a TCP connection failed ({@link FailureType#CONNECTION_FAILED}: "TCP
   * connection refused, unreachable or timed out") nor that the MX lookup failed ({@link
   * io.mailtls.core.MxResolution.Kind#TEMPORARY_FAILURE}: SERVFAIL, timeout, bogus).
   */
  @Test
  void unreadableContentIsNotReportedAsAConnectionOrMxFailure() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx = f.server("127.0.0.2", b -> b.hostname(HOST));
      f.dns(d -> d.zone("example.test", z -> z.mailHost("example.test", 10, HOST, mx)));
      MessageContent broken =
          () -> {
            throw new java.io.IOException("spool file vanished");
          };
      RecipientResult r =
          f.transport(TlsLevel.OPPORTUNISTIC)
              .send(Envelope.of("a@sender.test", "rcpt@example.test"), broken)
              .result("rcpt@example.test");
      assertThat(r.status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(r.attempts()).isEmpty();
      assertThat(mx.sessions()).isEmpty();
      assertThat(r.plan().failure().orElseThrow().type())
          .isNotEqualTo(FailureType.CONNECTION_FAILED);
      assertThat(r.plan().mx().kind())
          .isNotEqualTo(io.mailtls.core.MxResolution.Kind.TEMPORARY_FAILURE);
    }
  }
}
