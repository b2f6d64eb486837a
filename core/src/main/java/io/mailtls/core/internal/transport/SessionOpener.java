package io.mailtls.core.internal.transport;

import io.mailtls.core.Credentials;
import io.mailtls.core.DomainName;
import io.mailtls.core.FailureType;
import io.mailtls.core.SmartHost;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.internal.smtp.EhloCapabilities;
import io.mailtls.core.internal.smtp.SmtpCommand;
import io.mailtls.core.internal.smtp.SmtpReplyReader;
import io.mailtls.core.internal.tls.TlsSupport;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import javax.net.SocketFactory;

/**
 * Opens one SMTP session to one address under one {@link TlsRequirement}: connects (with implicit
 * TLS for a relay that asks for it, RFC 8314), reads the greeting, says EHLO, applies the
 * requirement with STARTTLS (RFC 3207) and authenticates to a relay (RFC 4954). The result is a
 * connection ready for MAIL, or a value saying why there is none; nothing is thrown, and the caller
 * decides what to try next (another address, or plaintext after opportunistic TLS failed).
 *
 * <p>Fires the connect, STARTTLS and handshake events of the session. Thread-safe: it holds no
 * per-session state, and the connection it hands out belongs to the caller.
 */
final class SessionOpener {

  /**
   * What opening a session needs from the transport.
   *
   * @param relay when present, its implicit-TLS mode and credentials apply to every session
   */
  record Settings(
      TlsSupport tls,
      SocketFactory sockets,
      SmtpTimeouts timeouts,
      String heloName,
      SmtpReplyReader.Limits limits,
      Optional<SmartHost> relay,
      ScheduledExecutorService watchdog) {}

  /**
   * Where a session goes and what it requires.
   *
   * @param host the MX host (or relay) name; empty for an address literal
   * @param address the address and port to connect to
   * @param requirement the TLS requirement the session must meet
   */
  record Target(Optional<DomainName> host, InetSocketAddress address, TlsRequirement requirement) {}

  /** How opening a session ended. Each outcome carries the notes the session made, in order. */
  sealed interface Outcome permits Ready, Failed, TlsFailed {
    /** What the session noted (plaintext chosen, octets discarded, a TLSA match), in order. */
    List<String> notes();
  }

  /** The session is ready for MAIL; the connection is the caller's to use and close. */
  record Ready(SmtpConnection connection, List<String> notes) implements Outcome {
    Ready {
      notes = List.copyOf(notes);
    }
  }

  /**
   * The session failed at {@code step}; its connection is closed.
   *
   * @param step where it failed
   * @param failure why
   */
  record Failed(SmtpStep step, SessionFailure failure, List<String> notes) implements Outcome {
    Failed {
      notes = List.copyOf(notes);
    }
  }

  /**
   * Opportunistic TLS failed at {@code step} (STARTTLS, the handshake, or the EHLO over TLS), and
   * the requirement allows plaintext: RFC 7435 lets the caller try again in plaintext, on a fresh
   * connection ({@link #openPlaintext}), since this one is in an unknown state. It is closed.
   *
   * @param step where TLS failed
   * @param failure why
   */
  record TlsFailed(SmtpStep step, SessionFailure failure, List<String> notes) implements Outcome {
    TlsFailed {
      notes = List.copyOf(notes);
    }
  }

  private final Settings settings;
  private final SafeListener listener;

  SessionOpener(Settings settings, SafeListener listener) {
    this.settings = settings;
    this.listener = listener;
  }

  /** Opens a session with TLS as {@code target}'s requirement says. */
  Outcome open(Target target) {
    return open(target, SessionObserver.NONE);
  }

  /** The same, with {@code observer} seeing the session (it never changes the outcome). */
  Outcome open(Target target, SessionObserver observer) {
    return new Session(target, false, observer, Optional.empty(), AttemptTimer.unused()).open();
  }

  /**
   * Opens a session with TLS as {@code target}'s requirement says, failing it with {@link
   * FailureType#DOWNGRADE_DETECTED} before AUTH when it has no TLS and {@code plaintextRefused}
   * gives the downgrade memory's reason (so no credentials go out in plaintext either).
   */
  Outcome open(Target target, Optional<String> plaintextRefused) {
    return open(target, plaintextRefused, AttemptTimer.unused());
  }

  /** The same, marking the TLS parts of the session on {@code timer}. */
  Outcome open(Target target, Optional<String> plaintextRefused, AttemptTimer timer) {
    return new Session(target, false, SessionObserver.NONE, plaintextRefused, timer).open();
  }

  /**
   * Opens a session that never tries STARTTLS: after {@link TlsFailed}, for a requirement that
   * allows plaintext. Never returns {@link TlsFailed}.
   */
  Outcome openPlaintext(Target target) {
    return openPlaintext(target, AttemptTimer.unused());
  }

  /** The same, on {@code timer}. */
  Outcome openPlaintext(Target target, AttemptTimer timer) {
    return new Session(target, true, SessionObserver.NONE, Optional.empty(), timer).open();
  }

  /** One session being opened; confined to the calling thread. */
  private final class Session {
    private final Optional<DomainName> name;
    private final InetSocketAddress address;
    private final TlsRequirement requirement;
    private final boolean plaintextOnly;
    private final SessionObserver observer;
    private final Optional<String> plaintextRefused;
    private final AttemptTimer timer;
    private final List<String> notes = new ArrayList<>();
    private SmtpStep step = SmtpStep.CONNECT;

    Session(
        Target target,
        boolean plaintextOnly,
        SessionObserver observer,
        Optional<String> plaintextRefused,
        AttemptTimer timer) {
      this.plaintextRefused = plaintextRefused;
      this.timer = timer;
      this.name = target.host();
      this.address = target.address();
      this.requirement = target.requirement();
      this.plaintextOnly = plaintextOnly;
      this.observer = observer;
    }

    Outcome open() {
      listener.fire(l -> l.connectStart(name, address));
      SmtpConnection c = null;
      try {
        c =
            SmtpConnection.connect(
                settings.sockets(),
                name,
                address,
                requirement,
                settings.timeouts(),
                settings.heloName(),
                settings.limits(),
                settings.watchdog());
        if (settings.relay().map(SmartHost::implicitTls).orElse(false)) {
          listener.fire(l -> l.handshakeStart(name, address, requirement));
          timer.tlsStart();
          try {
            handshakeImplicit(c);
          } finally {
            timer.tlsEnd();
          }
        }
        step = SmtpStep.GREETING;
        observer.greeting(c.greeting());
        listener.fire(l -> l.connectEnd(name, address, Optional.empty()));
      } catch (SessionFailure | RuntimeException f) {
        if (c != null) {
          c.close();
        }
        FailureType t = f instanceof SessionFailure sf ? sf.type() : FailureType.PROTOCOL_ERROR;
        listener.fire(l -> l.connectEnd(name, address, Optional.of(t)));
        SessionFailure failure = failure(f);
        if (c != null) {
          failure.seenOn(c);
        }
        return new Failed(step, failure, notes);
      }
      try {
        step = SmtpStep.EHLO;
        EhloCapabilities caps = c.ehlo();
        observer.capabilities(caps);
        if (c.tls().isEmpty() && !plaintextOnly) {
          Optional<SessionFailure> tlsFailed;
          try {
            tlsFailed = negotiateTls(c, caps);
          } finally {
            timer.tlsEnd();
          }
          if (tlsFailed.isPresent()) {
            notes.addAll(c.drainNotes());
            c.close();
            return new TlsFailed(step, tlsFailed.get().seenOn(c), notes);
          }
        }
        notes.addAll(c.drainNotes());
        if (plaintextRefused.isPresent() && c.tls().isEmpty()) {
          c.quit();
          return new Failed(
              step,
              new SessionFailure(
                      FailureType.DOWNGRADE_DETECTED,
                      "no TLS in this session; closed before AUTH and MAIL: "
                          + plaintextRefused.get())
                  .seenOn(c),
              notes);
        }
        step = SmtpStep.AUTH;
        authenticate(c);
        return new Ready(c, notes);
      } catch (SessionFailure | RuntimeException e) {
        notes.addAll(c.drainNotes());
        c.close();
        return new Failed(step, failure(e).seenOn(c), notes);
      }
    }

    /** Peer input must never escape: anything unexpected is this session's protocol error. */
    private SessionFailure failure(Exception e) {
      return e instanceof SessionFailure f
          ? f
          : new SessionFailure(FailureType.PROTOCOL_ERROR, "unexpected failure: " + e, null, e);
    }

    private void handshakeImplicit(SmtpConnection c) throws SessionFailure {
      try {
        c.implicitTls(settings.tls(), observer);
        listener.fire(
            l -> l.handshakeEnd(name, address, c.tls(), Optional.empty(), "implicit TLS"));
      } catch (SessionFailure | RuntimeException e) {
        // Every handshakeStart gets its handshakeEnd, whatever went wrong.
        SessionFailure f = failure(e);
        listener.fire(
            l ->
                l.handshakeEnd(
                    name, address, Optional.empty(), Optional.of(f.type()), f.getMessage()));
        throw f;
      }
    }

    /**
     * STARTTLS per the requirement (RFC 3207): required, or opportunistic with a fallback. Returns
     * the failure when opportunistic TLS failed and plaintext may be tried instead.
     */
    private Optional<SessionFailure> negotiateTls(SmtpConnection c, EhloCapabilities caps)
        throws SessionFailure {
      if (!caps.starttls()) {
        if (requirement.requiresTls()) {
          c.quit();
          throw new SessionFailure(
              FailureType.STARTTLS_NOT_SUPPORTED,
              "TLS required but the server does not offer STARTTLS");
        }
        notes.add("server does not offer STARTTLS; plaintext");
        c.starttlsUnsupported();
        return Optional.empty();
      }
      step = SmtpStep.STARTTLS;
      timer.tlsStart(); // ended by the caller, however this ends
      listener.fire(l -> l.startTlsStart(name, address));
      SmtpReply reply;
      try {
        reply = c.startTls();
      } catch (SessionFailure | RuntimeException e) {
        listener.fire(l -> l.startTlsEnd(name, address, Optional.empty()));
        return plaintextAllowed(failure(e));
      }
      observer.startTls(reply);
      listener.fire(l -> l.startTlsEnd(name, address, Optional.of(reply)));
      if (reply.code() != 220) {
        if (requirement.requiresTls()) {
          c.quit();
          throw new SessionFailure(
              FailureType.STARTTLS_NOT_SUPPORTED,
              "TLS required but STARTTLS was refused: " + reply,
              reply,
              null);
        }
        // RFC 3207 §4: the server refused STARTTLS; no handshake took place (RFC 8460 §4.3.1
        // starttls-not-supported, as when it is not offered).
        notes.add("STARTTLS refused (" + reply + "); continuing in plaintext");
        c.starttlsUnsupported();
        return Optional.empty();
      }
      step = SmtpStep.TLS_HANDSHAKE;
      listener.fire(l -> l.handshakeStart(name, address, requirement));
      try {
        c.upgrade(settings.tls(), observer);
      } catch (SessionFailure | RuntimeException e) {
        SessionFailure f = failure(e);
        if (c.tls().isPresent()) {
          step = SmtpStep.EHLO; // the handshake completed; the EHLO over TLS failed
        }
        listener.fire(
            l ->
                l.handshakeEnd(
                    name, address, Optional.empty(), Optional.of(f.type()), f.getMessage()));
        return plaintextAllowed(f);
      }
      listener.fire(l -> l.handshakeEnd(name, address, c.tls(), Optional.empty(), "STARTTLS"));
      return Optional.empty();
    }

    /**
     * {@code f}, a failure of the TLS negotiation, when the requirement allows plaintext after it
     * (RFC 7435); else throws it. Either way, a failure the negotiation can have (a TLS failure, a
     * timeout, a lost connection, a protocol error) is marked as ending it: RFC 8460 §4.4 counts it
     * as a failure to negotiate TLS, whether the session then goes on in plaintext or a policy
     * stops it.
     */
    private Optional<SessionFailure> plaintextAllowed(SessionFailure f) throws SessionFailure {
      if (isTlsFailure(f.type())) {
        f.inTlsNegotiation();
        if (!requirement.requiresTls()) {
          return Optional.of(f);
        }
      }
      throw f;
    }

    /** SMTP AUTH for a relay (RFC 4954): PLAIN, else LOGIN; never over plaintext unless allowed. */
    private void authenticate(SmtpConnection c) throws SessionFailure {
      Optional<SmartHost> relay = settings.relay();
      if (relay.isEmpty() || relay.get().credentials().isEmpty()) {
        return;
      }
      Credentials creds = relay.get().credentials().get();
      if (c.tls().isEmpty() && !relay.get().allowPlaintextAuth()) {
        c.quit();
        throw new SessionFailure(
            FailureType.STARTTLS_NOT_SUPPORTED,
            "refusing to send credentials without TLS (RFC 4954 §4)");
      }
      Set<String> mechanisms =
          Objects.requireNonNull(c.capabilities(), "AUTH follows EHLO").authMechanisms();
      SmtpReply r;
      if (mechanisms.contains("PLAIN")) {
        r =
            c.command(
                SmtpCommand.authPlain("", creds.username(), creds.password()),
                settings.timeouts().command(),
                SmtpStep.AUTH);
      } else if (mechanisms.contains("LOGIN")) {
        r = c.command(SmtpCommand.authLogin(), settings.timeouts().command(), SmtpStep.AUTH);
        if (r.code() == 334) {
          r =
              c.command(
                  SmtpCommand.authLoginUsername(creds.username()),
                  settings.timeouts().command(),
                  SmtpStep.AUTH);
        }
        if (r.code() == 334) {
          r =
              c.command(
                  SmtpCommand.authLoginPassword(creds.password()),
                  settings.timeouts().command(),
                  SmtpStep.AUTH);
        }
      } else {
        c.quit();
        throw new SessionFailure(
            FailureType.AUTHENTICATION_FAILED,
            "relay offers no AUTH mechanism mailtls supports (PLAIN, LOGIN): " + mechanisms);
      }
      if (r.code() == 334) {
        // A challenge the mechanism does not have (PLAIN has none after its initial response,
        // LOGIN none after the password): the exchange is still open, and every line the client
        // sends in it is a SASL response, so QUIT would be decoded and judged as credentials.
        // RFC 4954 §4: "*" cancels it (the server answers 501); then the session ends.
        cancelExchange(c);
        c.quit();
        throw new SessionFailure(
            FailureType.AUTHENTICATION_FAILED,
            "AUTH abandoned: unexpected challenge " + r + "; exchange cancelled (RFC 4954 §4)",
            r,
            null);
      }
      if (r.code() != 235) {
        c.quit();
        throw new SessionFailure(FailureType.AUTHENTICATION_FAILED, "AUTH refused: " + r, r, null);
      }
    }

    /** Sends {@code *} and reads the server's answer, whatever it is (the session ends next). */
    private void cancelExchange(SmtpConnection c) {
      try {
        c.command(SmtpCommand.saslCancel(), settings.timeouts().command(), SmtpStep.AUTH);
      } catch (SessionFailure | RuntimeException e) {
        // the session is closed next either way
      }
    }
  }

  private static boolean isTlsFailure(FailureType t) {
    return t.tlsRptResultType().isPresent()
        || t == FailureType.TIMEOUT
        || t == FailureType.CONNECTION_LOST
        || t == FailureType.PROTOCOL_ERROR;
  }
}
