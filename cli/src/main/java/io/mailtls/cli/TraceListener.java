package io.mailtls.cli;

import io.mailtls.core.Attempt;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DomainName;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.Envelope;
import io.mailtls.core.EventListener;
import io.mailtls.core.FailureType;
import io.mailtls.core.MtaStsLookup;
import io.mailtls.core.MxHost;
import io.mailtls.core.NextHop;
import io.mailtls.core.PlannedHost;
import io.mailtls.core.PolicyFailure;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SkippedHost;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.TlsDetails;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.TlsaLookup;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.Locale;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * The {@code -v} event trace: every {@link EventListener} event as one line on stderr, with the
 * milliseconds since the command started, e.g. {@code mailtls: [ 12 ms] handshake end
 * mx.example.test [127.0.0.1]:25 TLSv1.3 TLS_AES_128_GCM_SHA256}.
 *
 * <p>Thread-safe (lines are written whole, under a lock) and never throws, as the {@link
 * EventListener} contract asks.
 */
final class TraceListener implements EventListener {

  private final PrintWriter err;
  private final LongSupplier nanos;
  private final long start;

  /** A trace on {@code err}, timed by {@link System#nanoTime()}. */
  TraceListener(PrintWriter err) {
    this(err, System::nanoTime);
  }

  /** A trace on {@code err}, timed by {@code nanos} (tests pass a fixed one). */
  TraceListener(PrintWriter err, LongSupplier nanos) {
    this.err = err;
    this.nanos = nanos;
    this.start = nanos.getAsLong();
  }

  /** Writes one trace line; used by the commands for their own steps too. */
  void line(String text) {
    try {
      long ms = (nanos.getAsLong() - start) / 1_000_000;
      synchronized (err) {
        err.println(
            String.format(
                Locale.ROOT,
                "mailtls: [%5d ms] %s",
                ms,
                CheckText.printable(Mailtls.oneLine(text))));
        err.flush();
      }
    } catch (RuntimeException e) {
      // EventListener contract: a trace must never disturb a delivery.
    }
  }

  private static String host(Optional<DomainName> host, InetSocketAddress address) {
    String a = "[" + address.getAddress().getHostAddress() + "]:" + address.getPort();
    return host.map(h -> h + " " + a).orElse(a);
  }

  @Override
  public void deliveryStart(Envelope envelope) {
    line(
        "delivery start from "
            + envelope.sender().map(EmailAddress::toString).orElse("<>")
            + " to "
            + envelope.recipients());
  }

  @Override
  public void deliveryEnd(Envelope envelope, DeliveryReport report) {
    line(
        "delivery end: "
            + report.withStatus(DeliveryStatus.DELIVERED).size()
            + " of "
            + report.recipients().size()
            + " delivered");
  }

  @Override
  public void planStart(NextHop nextHop, TlsLevel level) {
    line("plan start " + nextHop + " at level " + level);
  }

  @Override
  public void planEnd(DeliveryPlan plan) {
    line(
        "plan end "
            + plan.nextHop()
            + " ("
            + plan.senderLevel().map(TlsLevel::token).orElse("level unknown")
            + "): "
            + plan.failure()
                .map(f -> f.status() + " " + f.reply())
                .orElse(plan.hosts().size() + " host(s) to try"));
    plan.reasons().forEach(r -> line("  decision: " + r));
    for (PlannedHost h : plan.hosts()) {
      line(
          "  try "
              + h.name().map(DomainName::toString).orElse("[literal]")
              + " "
              + h.addresses().stream().map(InetAddress::getHostAddress).toList()
              + " "
              + requirement(h.requirement())
              + " ("
              + DomainChecker.source(h.source())
              + "): "
              + h.why());
    }
    for (SkippedHost s : plan.skipped()) {
      line("  skip " + s.host() + " " + s.failure() + ": " + s.reason());
    }
  }

  @Override
  public void connectStart(Optional<DomainName> host, InetSocketAddress address) {
    line("connect " + host(host, address));
  }

  @Override
  public void connectEnd(
      Optional<DomainName> host, InetSocketAddress address, Optional<FailureType> failure) {
    line(
        "connect end "
            + host(host, address)
            + failure.map(f -> " failed: " + f).orElse(": greeted"));
  }

  @Override
  public void startTlsStart(Optional<DomainName> host, InetSocketAddress address) {
    line("STARTTLS " + host(host, address));
  }

  @Override
  public void startTlsEnd(
      Optional<DomainName> host, InetSocketAddress address, Optional<SmtpReply> reply) {
    line(
        "STARTTLS reply "
            + host(host, address)
            + ": "
            + reply.map(SmtpReply::toString).orElse("none"));
  }

  @Override
  public void handshakeStart(
      Optional<DomainName> host, InetSocketAddress address, TlsRequirement requirement) {
    line("handshake " + host(host, address) + " requiring " + requirement(requirement));
  }

  @Override
  public void handshakeEnd(
      Optional<DomainName> host,
      InetSocketAddress address,
      Optional<TlsDetails> tls,
      Optional<FailureType> failure,
      String detail) {
    line(
        "handshake end "
            + host(host, address)
            + " "
            + tls.map(t -> t.protocol() + " " + t.cipherSuite()).orElse("no session")
            + failure.map(f -> " failed: " + f).orElse("")
            + (detail.isEmpty() ? "" : " (" + detail + ")"));
  }

  @Override
  public void policyFailure(PolicyFailure f) {
    line(
        "policy failure "
            + f.source()
            + (f.enforced() ? " enforced " : " reported ")
            + f.type()
            + f.host().map(h -> " at " + h).orElse("")
            + ": "
            + f.detail());
  }

  @Override
  public void mtaStsLookupStart(DomainName policyDomain) {
    line("mta-sts lookup start " + policyDomain);
  }

  @Override
  public void mtaStsLookupEnd(DomainName policyDomain, MtaStsLookup result) {
    String what;
    if (result instanceof MtaStsLookup.Found f) {
      what =
          "policy "
              + f.policy().id()
              + " "
              + f.policy().mode()
              + (f.fromCache() ? " (cached)" : "");
    } else if (result instanceof MtaStsLookup.NoPolicy n) {
      what = "no policy: " + n.reason();
    } else {
      MtaStsLookup.Failed f = (MtaStsLookup.Failed) result;
      what = "failed " + f.type() + ": " + f.reason();
    }
    line("mta-sts lookup end " + policyDomain + ": " + what);
  }

  @Override
  public void tlsaLookupStart(MxHost host) {
    line("tlsa lookup start " + host.name());
  }

  @Override
  public void tlsaLookupEnd(MxHost host, TlsaLookup result) {
    String what;
    if (result instanceof TlsaLookup.Usable u) {
      what = "usable " + requirement(u.requirement());
    } else if (result instanceof TlsaLookup.Unusable u) {
      what = u.records().size() + " records, none usable";
    } else if (result instanceof TlsaLookup.None n) {
      what = "none: " + n.reason();
    } else {
      what = "failed: " + ((TlsaLookup.Failed) result).reason();
    }
    line("tlsa lookup end " + host.name() + ": " + what);
  }

  @Override
  public void attemptEnd(Attempt attempt) {
    line("attempt end " + attempt);
  }

  @Override
  public void recipientStart(EmailAddress recipient) {
    line("recipient " + recipient);
  }

  @Override
  public void recipientEnd(RecipientResult result) {
    line(
        "recipient end "
            + result.recipient()
            + ": "
            + result.status()
            + " "
            + result.reply()
            + result.authentication().map(a -> " " + a).orElse(""));
  }

  /** A requirement in one word, as the JSON output names it (docs/cli-json.md). */
  static String requirement(TlsRequirement r) {
    if (r instanceof TlsRequirement.Dane) {
      return "dane";
    } else if (r instanceof TlsRequirement.Pkix) {
      return "pkix";
    } else if (r instanceof TlsRequirement.Fingerprint) {
      return "fingerprint";
    } else if (r instanceof TlsRequirement.Encrypted) {
      return "encrypted";
    }
    return "opportunistic";
  }
}
