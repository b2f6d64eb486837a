package io.mailtls.examples;

import io.mailtls.core.Attempt;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DomainName;
import io.mailtls.core.EventListener;
import io.mailtls.core.FailureType;
import io.mailtls.core.PlannedHost;
import io.mailtls.core.PolicyFailure;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SkippedHost;
import io.mailtls.core.TlsDetails;
import io.mailtls.core.TlsRequirement;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * An {@link EventListener} that logs the transport's security decisions, one line each: per
 * recipient domain the sender level, the MTA-STS policy and every MX host's requirement and why (or
 * why nothing can be tried); skipped hosts; recipient-policy failures (the TLS-RPT input); each TLS
 * handshake; and each recipient's outcome with how its peer was authenticated.
 *
 * <pre>{@code
 * SecureSmtpTransport transport = StandardTransport.builder(stateDirectory)
 *     .heloName("mail.example.com")
 *     .eventListener(new DecisionLogger(log::info))   // any Consumer<String>, e.g. SLF4J
 *     .build();
 * }</pre>
 *
 * <p>Thread-safe when the sink is (SLF4J loggers are); never throws, as the {@link EventListener}
 * contract asks: a sink that throws loses its line, never a delivery.
 */
public final class DecisionLogger implements EventListener {

  private final Consumer<String> sink;

  /** A logger writing each line to {@code sink}. */
  public DecisionLogger(Consumer<String> sink) {
    this.sink = Objects.requireNonNull(sink, "sink");
  }

  private void log(String line) {
    try {
      // One line per decision: multi-line diagnostics (DANE lists every record tried) are joined.
      sink.accept(line.replaceAll("\\s*\\R\\s*", " | "));
    } catch (RuntimeException e) {
      // EventListener contract: never disturb a delivery.
    }
  }

  @Override
  public void planEnd(DeliveryPlan plan) {
    String sts =
        plan.mtaSts()
            .map(
                p -> "MTA-STS " + p.mode().name().toLowerCase(Locale.ROOT) + " (id " + p.id() + ")")
            .orElse("no MTA-STS policy");
    log(
        "plan "
            + plan.nextHop()
            + ": sender level "
            + plan.senderLevel().map(String::valueOf).orElse("unknown")
            + ", "
            + sts);
    for (PlannedHost h : plan.hosts()) {
      log(
          "  "
              + h.name().map(DomainName::toString).orElse(plan.nextHop().toString())
              + " -> "
              + kind(h.requirement())
              + " by "
              + source(h)
              + ": "
              + h.why());
    }
    for (SkippedHost s : plan.skipped()) {
      log("  " + s.host() + " skipped, " + s.failure() + ": " + s.reason());
    }
    plan.failure().ifPresent(f -> log("  nothing to try: " + f.status() + " " + f.reply()));
  }

  @Override
  public void policyFailure(PolicyFailure f) {
    log(
        "policy failure "
            + f.source()
            + " "
            + f.type()
            + f.type().tlsRptResultType().map(t -> " (TLS-RPT " + t + ")").orElse("")
            + (f.enforced() ? ", enforced" : ", reported only")
            + f.host().map(h -> " at " + h).orElse("")
            + ": "
            + f.detail());
  }

  @Override
  public void handshakeEnd(
      Optional<DomainName> host,
      InetSocketAddress address,
      Optional<TlsDetails> tls,
      Optional<FailureType> failure,
      String detail) {
    String who = host.map(DomainName::toString).orElse("") + " [" + ip(address.getAddress()) + "]";
    if (failure.isPresent()) {
      log("TLS " + who + " failed, " + failure.get() + ": " + detail);
    } else {
      log("TLS " + who + " " + tls.map(t -> t.protocol() + " " + t.cipherSuite()).orElse(""));
    }
  }

  @Override
  public void attemptEnd(Attempt a) {
    log(
        "attempt "
            + a.host().map(DomainName::toString).orElse("")
            + " ["
            + ip(a.address().getAddress())
            + "] "
            + kind(a.requirement())
            + ": "
            + a.failure()
                .map(f -> "failed " + f)
                .orElse(a.authentication().map(Enum::name).orElse("done")));
  }

  @Override
  public void recipientEnd(RecipientResult r) {
    log(
        r.recipient()
            + " "
            + r.status()
            + " "
            + r.reply()
            + r.mxHost().map(h -> " via " + h).orElse("")
            + r.authentication().map(a -> " " + a).orElse(""));
  }

  private static String ip(InetAddress a) {
    return a.getHostAddress();
  }

  private static String source(PlannedHost h) {
    return h.source().name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  private static String kind(TlsRequirement r) {
    if (r instanceof TlsRequirement.Dane) {
      return "dane";
    } else if (r instanceof TlsRequirement.Pkix) {
      return "pkix";
    } else if (r instanceof TlsRequirement.Fingerprint) {
      return "fingerprint";
    }
    return r instanceof TlsRequirement.Encrypted ? "encrypted" : "opportunistic";
  }
}
