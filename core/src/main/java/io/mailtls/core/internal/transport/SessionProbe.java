package io.mailtls.core.internal.transport;

import io.mailtls.core.Authentication;
import io.mailtls.core.DaneProvider;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DomainName;
import io.mailtls.core.FailureType;
import io.mailtls.core.ProbeResult;
import io.mailtls.core.ProbeVerdict;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsDetails;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.internal.Values;
import io.mailtls.core.internal.smtp.EhloCapabilities;
import io.mailtls.core.internal.smtp.PeerText;
import io.mailtls.core.internal.smtp.SmtpReplyReader;
import io.mailtls.core.internal.tls.CertificateFailure;
import io.mailtls.core.internal.tls.ServerTrustManager;
import io.mailtls.core.internal.tls.TlsSupport;
import io.mailtls.core.internal.tls.UnauthenticatedTrustManager;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import java.util.stream.Collectors;
import javax.net.SocketFactory;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedTrustManager;
import org.jspecify.annotations.Nullable;

/**
 * The STARTTLS probe behind {@link io.mailtls.core.StarttlsProbe}: one session opened by {@link
 * SessionOpener}, exactly as delivery opens it (the same steps, TLS versions, SNI and trust
 * managers), then QUIT; never a mail transaction. It watches the session through a {@link
 * SessionObserver} (the greeting, the EHLO offer, the STARTTLS reply, and the chain the server
 * presents, also when the requirement's trust manager refuses it) and adds the PKIX check that
 * MTA-STS would make, which decides nothing. Thread-safe: each probe has its own session and
 * observer. Never throws for anything a peer does.
 */
public final class SessionProbe {

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SessionProbe.class);

  /**
   * What a probe needs.
   *
   * @param tls the TLS set-up (trust store, context factory, DANE provider) the transport uses
   * @param sockets creates the TCP sockets
   * @param timeouts the time bounds of each step
   * @param heloName the EHLO name
   * @param port the SMTP port
   * @param watchdog runs the deadlines of blocking socket operations
   */
  public record Settings(
      TlsSupport tls,
      SocketFactory sockets,
      SmtpTimeouts timeouts,
      String heloName,
      int port,
      ScheduledExecutorService watchdog) {}

  private final Settings settings;
  private final SessionOpener opener;

  public SessionProbe(Settings settings, SafeListener listener) {
    this.settings = settings;
    this.opener =
        new SessionOpener(
            new SessionOpener.Settings(
                settings.tls(),
                settings.sockets(),
                settings.timeouts(),
                settings.heloName(),
                SmtpReplyReader.Limits.DEFAULT,
                Optional.empty(),
                settings.watchdog()),
            listener);
  }

  /** Probes {@code address} of {@code host} under {@code requirement}. Never throws. */
  public ProbeResult probe(
      Optional<DomainName> host, InetAddress address, TlsRequirement requirement) {
    long start = System.nanoTime();
    InetSocketAddress target = new InetSocketAddress(address, settings.port());
    Optional<String> sni = SmtpConnection.serverName(requirement, host).map(DomainName::toString);
    try {
      return new Run(host, target, requirement, sni).run(start);
    } catch (RuntimeException e) {
      // A bug, not peer input (the opener turns that into outcomes): a failed probe, logged.
      log.warn("probe of {} failed unexpectedly", target, e);
      return Values.probeResult(
          host,
          target,
          requirement,
          sni,
          false,
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          ProbeVerdict.FAILED,
          PeerText.clean("probe failed unexpectedly: " + e),
          List.of(),
          elapsed(start));
    }
  }

  private static Duration elapsed(long start) {
    return Duration.ofNanos(System.nanoTime() - start);
  }

  /** One probe; confined to the calling thread. */
  private final class Run {
    private final Optional<DomainName> host;
    private final InetSocketAddress target;
    private final TlsRequirement requirement;
    private final Optional<String> sni;
    private final Observed seen = new Observed();

    Run(
        Optional<DomainName> host,
        InetSocketAddress target,
        TlsRequirement requirement,
        Optional<String> sni) {
      this.host = host;
      this.target = target;
      this.requirement = requirement;
      this.sni = sni;
    }

    ProbeResult run(long start) {
      if (!settings.tls().supports(requirement)) {
        return Values.probeResult(
            host,
            target,
            requirement,
            sni,
            false,
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Optional.empty(),
            Optional.of(FailureType.POLICY_UNAVAILABLE),
            ProbeVerdict.FAILED,
            "a DANE requirement, and this probe has no DANE provider: not connected",
            List.of(),
            elapsed(start));
      }
      SessionOpener.Outcome outcome =
          opener.open(new SessionOpener.Target(host, target, requirement), seen);
      Optional<TlsDetails> tls = Optional.empty();
      Optional<Authentication> authentication = Optional.empty();
      if (outcome instanceof SessionOpener.Ready ready) {
        SmtpConnection c = ready.connection();
        tls = c.tls();
        authentication = Optional.of(c.authentication());
        c.quit(); // no mail: the session was all the probe wanted
      }
      boolean tlsUp = tls.isPresent();
      Witness w = seen.witness;
      if (!tlsUp && w != null && w.chain != null && w.protocol != null && w.cipher != null) {
        tls = Optional.of(Values.tlsDetails(w.protocol, w.cipher, w.chain, sni));
      }
      Optional<ProbeResult.Verification> pkix = Optional.empty();
      Optional<ProbeResult.Verification> dane = Optional.empty();
      Optional<DnsRecord.Tlsa> matched = Optional.empty();
      if (w != null && w.chain != null) { // a certificate was seen
        List<DomainName> names = pkixNames();
        pkix =
            Optional.of(
                requirement instanceof TlsRequirement.Pkix
                    ? w.verification("PKIX verified for " + names(names))
                    : audit(w.chain, names));
        if (requirement instanceof TlsRequirement.Dane) {
          dane = Optional.of(w.verification("DANE verified"));
          matched = w.matched;
        }
      }
      Optional<SessionFailure> failure = Optional.empty();
      SmtpStep step = null;
      if (outcome instanceof SessionOpener.Failed f) {
        failure = Optional.of(f.failure());
        step = f.step();
      } else if (outcome instanceof SessionOpener.TlsFailed f) {
        failure = Optional.of(f.failure());
        step = f.step();
      }
      SmtpStep failedAt = step;
      Optional<SmtpReply> failureReply = failure.flatMap(SessionFailure::reply);
      Optional<SmtpReply> greeting =
          Optional.ofNullable(seen.greeting)
              .or(() -> failedAt == SmtpStep.GREETING ? failureReply : Optional.empty());
      Optional<SmtpReply> startTlsReply =
          Optional.ofNullable(seen.startTls)
              .or(() -> failedAt == SmtpStep.STARTTLS ? failureReply : Optional.empty());

      ProbeVerdict verdict;
      String explanation;
      if (outcome instanceof SessionOpener.Ready) {
        if (!tlsUp) {
          verdict = ProbeVerdict.PLAINTEXT;
          explanation =
              "the "
                  + words(requirement)
                  + " requirement allows plaintext: the"
                  + " transport would deliver without TLS";
        } else if (requirement instanceof TlsRequirement.Dane d) {
          verdict = ProbeVerdict.VERIFIED_DANE;
          explanation =
              "DANE authenticated the server"
                  + (d.mxSecure()
                      ? ""
                      : " (through an insecure MX answer: trusted, RFC 7672 §2.2.1)")
                  + "; "
                  + pkixWords(pkix);
        } else if (requirement instanceof TlsRequirement.Pkix) {
          verdict = ProbeVerdict.VERIFIED_PKIX;
          explanation = pkixWords(pkix) + ", as the pkix requirement demands";
        } else if (pkix.isPresent() && pkix.get().verified()) {
          verdict = ProbeVerdict.VERIFIED_PKIX;
          explanation =
              pkixWords(pkix)
                  + ", though the "
                  + words(requirement)
                  + " requirement does not ask for it";
        } else {
          verdict = ProbeVerdict.ENCRYPTED;
          explanation =
              "TLS; "
                  + pkixWords(pkix)
                  + ", which the "
                  + words(requirement)
                  + " requirement does not ask for";
        }
      } else {
        verdict = ProbeVerdict.FAILED;
        explanation =
            failureWords(step, failure.orElseThrow(), pkix, dane)
                + (outcome instanceof SessionOpener.TlsFailed
                    ? " (opportunistic: the transport"
                        + " would retry in plaintext on a fresh connection)"
                    : "");
      }
      List<String> reason = new ArrayList<>(outcome.notes());
      reason.add(explanation);
      boolean reachable =
          !(outcome instanceof SessionOpener.Failed f && f.step() == SmtpStep.CONNECT);
      return Values.probeResult(
          host,
          target,
          requirement,
          sni,
          reachable,
          greeting,
          Optional.ofNullable(seen.capabilities).map(EhloCapabilities::starttls),
          startTlsReply,
          tls,
          pkix,
          dane,
          matched,
          authentication,
          failure.map(SessionFailure::type),
          verdict,
          PeerText.clean(String.join("; ", reason)),
          outcome.notes(),
          elapsed(start));
    }

    /** The names PKIX checks: the requirement's, else the MX host name (RFC 8461 §4.2). */
    private List<DomainName> pkixNames() {
      if (requirement instanceof TlsRequirement.Pkix p) {
        return p.referenceNames();
      }
      return host.map(List::of).orElse(List.of());
    }

    /** PKIX on a chain that no requirement asked to verify, as MTA-STS testing mode audits. */
    private ProbeResult.Verification audit(List<X509Certificate> chain, List<DomainName> names) {
      CertificateFailure f = settings.tls().audit(chain, names);
      if (f == null) {
        return Values.verification(true, Optional.empty(), "PKIX verified for " + names(names));
      }
      String detail = PeerText.clean(f.getMessage());
      if (names.isEmpty() && f.type() == FailureType.CERTIFICATE_HOST_MISMATCH) {
        detail = "no host name to match (an address literal): " + detail;
      }
      return Values.verification(false, Optional.of(f.type()), detail);
    }

    private String failureWords(
        @Nullable SmtpStep step,
        SessionFailure f,
        Optional<ProbeResult.Verification> pkix,
        Optional<ProbeResult.Verification> dane) {
      if (step == SmtpStep.CONNECT) {
        return "connection failed: " + f.getMessage();
      }
      if (step == SmtpStep.TLS_HANDSHAKE && dane.isPresent() && !dane.get().verified()) {
        return "DANE required: " + dane.get().detail() + "; " + pkixWords(pkix);
      }
      if (step == SmtpStep.TLS_HANDSHAKE
          && requirement instanceof TlsRequirement.Pkix
          && pkix.isPresent()
          && !pkix.get().verified()) {
        return "PKIX required: " + pkix.get().detail();
      }
      return (f.type() == FailureType.PROTOCOL_ERROR ? "protocol error: " : "") + f.getMessage();
    }
  }

  private static String pkixWords(Optional<ProbeResult.Verification> pkix) {
    if (pkix.isEmpty()) {
      return "certificate not verified";
    }
    ProbeResult.Verification v = pkix.get();
    return v.verified() ? v.detail() : "PKIX not verified (" + v.detail() + ")";
  }

  private static String names(List<DomainName> names) {
    return names.isEmpty()
        ? "no name"
        : names.stream().map(DomainName::toString).collect(Collectors.joining(", "));
  }

  /** The requirement as the CLI and the docs name it. */
  private static String words(TlsRequirement r) {
    if (r instanceof TlsRequirement.Opportunistic) {
      return "opportunistic";
    }
    if (r instanceof TlsRequirement.Encrypted) {
      return "encrypted";
    }
    if (r instanceof TlsRequirement.Fingerprint) {
      return "fingerprint";
    }
    return r instanceof TlsRequirement.Pkix ? "pkix" : "dane";
  }

  /** What one session showed; written and read on the probing thread. */
  private static final class Observed implements SessionObserver {
    private @Nullable SmtpReply greeting;
    private @Nullable EhloCapabilities capabilities;
    private @Nullable SmtpReply startTls;
    private @Nullable Witness witness;

    @Override
    public void greeting(SmtpReply reply) {
      greeting = reply;
    }

    @Override
    public void capabilities(EhloCapabilities caps) {
      capabilities = caps;
    }

    @Override
    public void startTls(SmtpReply reply) {
      startTls = reply;
    }

    @Override
    public X509ExtendedTrustManager trustManager(@Nullable X509ExtendedTrustManager required) {
      // The shared unauthenticated context (null) is the unauthenticated trust manager. Wrapped,
      // it gets a context of its own: a session resumed from the shared one would show no chain.
      witness = new Witness(required != null ? required : UnauthenticatedTrustManager.INSTANCE);
      return witness;
    }
  }

  /**
   * Delegates every decision to the requirement's own trust manager and records what it was shown
   * and what it said: the chain, the negotiated protocol and suite, the refusal, the TLSA record
   * that matched.
   */
  private static final class Witness extends ServerTrustManager {
    private final X509ExtendedTrustManager required;
    private volatile @Nullable List<X509Certificate> chain;
    private volatile @Nullable String protocol;
    private volatile @Nullable String cipher;
    private volatile @Nullable Exception refusal;
    private volatile Optional<DnsRecord.Tlsa> matched = Optional.empty();

    Witness(X509ExtendedTrustManager required) {
      this.required = required;
    }

    private void seen(X509Certificate[] presented, @Nullable SSLSession handshake) {
      chain = presented == null ? List.of() : List.of(presented);
      if (handshake != null) {
        protocol = handshake.getProtocol();
        cipher = handshake.getCipherSuite();
      }
    }

    private void accepted() {
      if (required instanceof DaneProvider.Matched m) {
        matched = m.matchedRecord();
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] presented, String authType, Socket socket)
        throws CertificateException {
      seen(presented, socket instanceof SSLSocket s ? s.getHandshakeSession() : null);
      try {
        required.checkServerTrusted(presented, authType, socket);
      } catch (CertificateException | RuntimeException e) {
        refusal = e;
        throw e;
      }
      accepted();
    }

    @Override
    public void checkServerTrusted(X509Certificate[] presented, String authType, SSLEngine engine)
        throws CertificateException {
      seen(presented, engine == null ? null : engine.getHandshakeSession());
      try {
        required.checkServerTrusted(presented, authType, engine);
      } catch (CertificateException | RuntimeException e) {
        refusal = e;
        throw e;
      }
      accepted();
    }

    @Override
    public void checkServerTrusted(X509Certificate[] presented, String authType)
        throws CertificateException {
      seen(presented, null);
      try {
        required.checkServerTrusted(presented, authType);
      } catch (CertificateException | RuntimeException e) {
        refusal = e;
        throw e;
      }
      accepted();
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return required.getAcceptedIssuers();
    }

    /** What the requirement's trust manager decided, as a check. */
    ProbeResult.Verification verification(String passed) {
      Exception e = refusal;
      if (e == null) {
        return Values.verification(true, Optional.empty(), passed);
      }
      CertificateFailure f = CertificateFailure.find(e);
      return Values.verification(
          false,
          Optional.of(f != null ? f.type() : FailureType.VALIDATION_FAILURE),
          PeerText.clean(f != null ? f.getMessage() : String.valueOf(e.getMessage())));
    }
  }
}
