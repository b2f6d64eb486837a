package io.mailtls.interop;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Attempt;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.Envelope;
import io.mailtls.core.EventListener;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.PlannedHost;
import io.mailtls.core.PolicyFailure;
import io.mailtls.core.PolicySource;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SkippedHost;
import io.mailtls.core.TlsLevel;
import io.mailtls.dane.DaneResolver;
import io.mailtls.interop.InteropEnv.TestMessage;
import io.mailtls.interop.Scenario.Expect;
import io.mailtls.mtasts.MtaStsResolver;
import io.mailtls.mtasts.OkHttpPolicyFetcher;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;

/** mailtls through its public API, configured for the interop environment. */
final class Library {

  static final String SENDER = "sender@interop.mailtls.test";

  private Library() {}

  /** One delivery and what it reported. */
  record Outcome(TestMessage message, RecipientResult result, List<PolicyFailure> events) {

    /** The observed outcome in the shape of {@link Expect}. */
    Expect observed() {
      Set<FailureType> failures = new TreeSet<>();
      RecipientResult r = result;
      if (r.status() == DeliveryStatus.DELIVERED) {
        r.attempts().stream()
            .map(Attempt::failure)
            .flatMap(Optional::stream)
            .forEach(failures::add);
        r.plan().skipped().stream().map(SkippedHost::failure).forEach(failures::add);
        r.plan().policyFailures().stream().map(PolicyFailure::type).forEach(failures::add);
        events.stream().map(PolicyFailure::type).forEach(failures::add);
      } else {
        decisive(r).ifPresent(failures::add);
      }
      return new Expect(r.status(), r.authentication(), source(r), Set.copyOf(failures));
    }
  }

  /** The failure that decided a DEFERRED or BOUNCED result. */
  static Optional<FailureType> decisive(RecipientResult r) {
    Optional<FailureType> planned = r.plan().failure().map(DeliveryPlan.Failure::type);
    if (planned.isPresent()) {
      return planned;
    }
    Optional<FailureType> deciding = r.attempt().flatMap(Attempt::failure);
    if (deciding.isPresent()) {
      return deciding;
    }
    for (int i = r.attempts().size() - 1; i >= 0; i--) {
      if (r.attempts().get(i).failure().isPresent()) {
        return r.attempts().get(i).failure();
      }
    }
    return r.plan().skipped().stream().map(SkippedHost::failure).findFirst();
  }

  /**
   * The policy source: of the deciding connection, else of the first planned host, else the rule
   * docs/cli-json.md documents for {@code policy.source} when nothing could be tried.
   */
  static PolicySource source(RecipientResult r) {
    if (r.attempt().isPresent()) {
      return r.attempt().get().source();
    }
    DeliveryPlan plan = r.plan();
    if (!plan.hosts().isEmpty()) {
      PlannedHost h = plan.hosts().get(0);
      return h.source();
    }
    FailureType type = plan.failure().map(DeliveryPlan.Failure::type).orElse(null);
    if (type == FailureType.DNSSEC_INVALID || type == FailureType.TLSA_INVALID) {
      return PolicySource.DANE;
    }
    if (plan.mtaSts().map(p -> p.mode() == MtaStsMode.ENFORCE).orElse(false)) {
      return PolicySource.MTA_STS;
    }
    return plan.senderLevel().orElseThrow() == TlsLevel.OPPORTUNISTIC
        ? PolicySource.NONE
        : PolicySource.SENDER;
  }

  /** OkHttp trusting only the private CA, as a sender configured for this environment would. */
  static MtaStsResolver mtaSts(DnsResolver dns) {
    try {
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(InteropEnv.caTrustStore());
      X509TrustManager tm = (X509TrustManager) tmf.getTrustManagers()[0];
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new TrustManager[] {tm}, null);
      OkHttpClient client =
          new OkHttpClient.Builder()
              .sslSocketFactory(ctx.getSocketFactory(), tm)
              .callTimeout(Duration.ofSeconds(10))
              .build();
      return MtaStsResolver.builder()
          .dns(dns)
          .fetcher(OkHttpPolicyFetcher.builder().dns(dns).client(client).port(443).build())
          .build();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * Sends a fresh message to the scenario's domain at {@code level}: DNS from Unbound (validated in
   * process, or Unbound's AD bit trusted), MTA-STS with the private CA, DANE, PKIX trust = the
   * private CA only.
   */
  static Outcome send(Scenario s, TlsLevel level, DnsResolver dns, String tag) {
    TestMessage m = InteropEnv.message(s.domain, tag + "-" + s.name() + "-" + level.token());
    List<PolicyFailure> events = new CopyOnWriteArrayList<>();
    EventListener listener =
        new EventListener() {
          @Override
          public void policyFailure(PolicyFailure failure) {
            events.add(failure);
          }
        };
    try (MtaStsResolver sts = mtaSts(dns);
        SecureSmtpTransport t =
            SecureSmtpTransport.builder()
                .dns(dns)
                .dane(DaneResolver.builder().dns(dns).build())
                .mtaSts(sts)
                .trustStore(InteropEnv.caTrustStore())
                .senderPolicy(SenderPolicy.uniform(level))
                .heloName("client.interop.mailtls.test")
                .port(25)
                .eventListener(listener)
                .noConnectionReuse()
                .build()) {
      DeliveryReport report =
          t.send(Envelope.of(SENDER, m.recipient()), MessageContent.of(m.wire()));
      assertThat(report.recipients()).hasSize(1);
      return new Outcome(m, report.recipients().get(0), List.copyOf(events));
    }
  }
}
