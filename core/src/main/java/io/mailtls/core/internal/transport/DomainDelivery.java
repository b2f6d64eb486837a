package io.mailtls.core.internal.transport;

import io.mailtls.core.Attempt;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DomainName;
import io.mailtls.core.DsnRequest;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.EnhancedStatus;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.NextHop;
import io.mailtls.core.PlannedHost;
import io.mailtls.core.PolicyFailure;
import io.mailtls.core.PolicySource;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SmartHost;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.internal.Values;
import io.mailtls.core.internal.policy.MessageTlsOption;
import io.mailtls.core.internal.policy.MessageTlsPolicy;
import io.mailtls.core.internal.smtp.ContentScanner;
import io.mailtls.core.internal.smtp.EhloCapabilities;
import io.mailtls.core.internal.smtp.PeerText;
import io.mailtls.core.internal.smtp.SmtpCommand;
import io.mailtls.core.internal.smtp.SmtpReplyReader;
import io.mailtls.core.internal.tls.CertificateFailure;
import io.mailtls.core.internal.tls.TlsSupport;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import javax.net.SocketFactory;
import org.jspecify.annotations.Nullable;

/**
 * Delivers one message to the recipients of one next hop along a {@link DeliveryPlan}: tries the
 * planned hosts and their addresses in order (RFC 5321 §5.1), each session opened under the host's
 * TLS requirement by {@link SessionOpener} (or reused from the pool), runs the transaction, reports
 * policy failures, and decides every recipient. Thread-safe (holds no per-delivery state).
 */
public final class DomainDelivery {

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(DomainDelivery.class);

  /**
   * Everything a delivery needs from the transport.
   *
   * @param relay when present, the relay's credentials and TLS mode apply to every host
   */
  public record Settings(
      TlsSupport tls,
      SocketFactory sockets,
      SmtpTimeouts timeouts,
      String heloName,
      SmtpReplyReader.Limits limits,
      int port,
      int maxAttempts,
      Optional<SmartHost> relay,
      ScheduledExecutorService watchdog) {}

  private final Settings settings;
  private final ConnectionPool pool;
  private final SafeListener listener;
  private final SessionOpener opener;

  public DomainDelivery(Settings settings, ConnectionPool pool, SafeListener listener) {
    this.settings = settings;
    this.pool = pool;
    this.listener = listener;
    this.opener =
        new SessionOpener(
            new SessionOpener.Settings(
                settings.tls(),
                settings.sockets(),
                settings.timeouts(),
                settings.heloName(),
                settings.limits(),
                settings.relay(),
                settings.watchdog()),
            listener);
  }

  /**
   * Delivers to {@code recipients} (all of {@code plan}'s next hop); one result each. Never throws:
   * whatever goes wrong, each recipient still gets exactly one result, so the caller keeps the
   * results of every other domain of the message.
   */
  public List<RecipientResult> deliver(
      DeliveryPlan plan,
      Optional<EmailAddress> sender,
      List<EmailAddress> recipients,
      MessageContent content,
      ContentFacts scan) {
    return deliver(
        plan, sender, recipients, content, scan, MessageTlsOption.DEFAULT, Optional.empty());
  }

  /**
   * {@link #deliver(DeliveryPlan, Optional, List, MessageContent, ContentFacts)} for a message that
   * asks for REQUIRETLS or carries {@code TLS-Required: No} (RFC 8689): the plan is first made the
   * message's ({@link MessageTlsPolicy}), and the results carry that plan. Every session that has
   * no TLS is refused when {@code plaintextRefused} gives a reason (the downgrade memory's, {@link
   * DowngradeGuard.Verdict#plaintextRefused()}): such a session is closed before AUTH and MAIL and
   * the host fails with {@link FailureType#DOWNGRADE_DETECTED}, and a failed opportunistic
   * handshake is not retried in plaintext.
   */
  public List<RecipientResult> deliver(
      DeliveryPlan nextHopPlan,
      Optional<EmailAddress> sender,
      List<EmailAddress> recipients,
      MessageContent content,
      ContentFacts scan,
      MessageTlsOption option,
      Optional<String> plaintextRefused) {
    return deliver(
        nextHopPlan, sender, recipients, content, scan, option, plaintextRefused, Optional.empty());
  }

  /**
   * {@link #deliver(DeliveryPlan, Optional, List, MessageContent, ContentFacts, MessageTlsOption,
   * Optional)} for a message with a request for delivery status notifications (RFC 3461), passed on
   * to servers that advertise DSN; each result says whether it was ({@link RecipientResult#dsn()}:
   * here only {@code PASSED_ON} or {@code NOT_REQUESTED}, which the transport turns into {@code
   * NOT_PASSED_ON} for an envelope that asked).
   */
  public List<RecipientResult> deliver(
      DeliveryPlan nextHopPlan,
      Optional<EmailAddress> sender,
      List<EmailAddress> recipients,
      MessageContent content,
      ContentFacts scan,
      MessageTlsOption option,
      Optional<String> plaintextRefused,
      Optional<DsnRequest> dsn) {
    DeliveryPlan plan = MessageTlsPolicy.apply(nextHopPlan, option, settings.relay().isPresent());
    boolean requireTls = option == MessageTlsOption.REQUIRETLS;
    Map<EmailAddress, Decision> decided = new LinkedHashMap<>();
    List<Attempt> attempts = new ArrayList<>();
    try {
      deliver(
          plan,
          !nextHopPlan.skipped().isEmpty(),
          sender,
          recipients,
          content,
          scan,
          requireTls,
          plaintextRefused,
          dsn,
          decided,
          attempts);
    } catch (Exception e) {
      // A bug, not peer input (attempts catch that), or caller-supplied code that threw a checked
      // exception it did not declare (Kotlin, @SneakyThrows): what is not decided yet is
      // deferred, never delivered, cause logged; what was decided stands.
      SafeListener.keepInterrupt(e);
      log.warn("delivery to {} failed unexpectedly", plan.nextHop(), e);
      // RFC 3463 4.3.0: other or undefined mail system status.
      SmtpReply reply =
          SmtpReply.local(451, "4.3.0", PeerText.clean("delivery failed unexpectedly: " + e));
      for (EmailAddress r : recipients) {
        decided.putIfAbsent(
            r,
            new Decision(
                DeliveryStatus.DEFERRED,
                reply,
                attempts.isEmpty() ? null : attempts.get(attempts.size() - 1)));
      }
    }
    return results(plan, recipients, decided, attempts);
  }

  /**
   * @param othersSkipped whether the next hop's plan skipped hosts (for reasons that may pass): a
   *     recipient that no tried server could take for lack of REQUIRETLS, or of SMTPUTF8 for UTF-8
   *     header fields or addresses, is then deferred, not returned
   */
  private void deliver(
      DeliveryPlan plan,
      boolean othersSkipped,
      Optional<EmailAddress> sender,
      List<EmailAddress> recipients,
      MessageContent content,
      ContentFacts scan,
      boolean requireTls,
      Optional<String> plaintextRefused,
      Optional<DsnRequest> dsn,
      Map<EmailAddress, Decision> decided,
      List<Attempt> attempts) {
    if (scan.hasOverlongLines()) {
      // Decided before any connection: no server could take the message as it is.
      SmtpReply refusal = overlongLines(scan);
      for (EmailAddress r : recipients) {
        decided.put(r, new Decision(DeliveryStatus.BOUNCED, refusal, null));
      }
      return;
    }
    if (plan.failure().isPresent()) {
      DeliveryPlan.Failure f = plan.failure().get();
      for (EmailAddress r : recipients) {
        decided.put(r, new Decision(f.status(), f.reply(), null));
      }
      return;
    }
    List<EmailAddress> pending = new ArrayList<>(recipients);
    SmtpReply lastFailure = null;
    boolean untried = false; // the attempt limit left an address of a planned host untried
    // The recipients that every host tried so far could not take for lack of an extension the
    // message needs of it: REQUIRETLS (RFC 8689 §4.2.1) or SMTPUTF8 (RFC 6531 §3.2).
    Set<EmailAddress> lacking = new HashSet<>(recipients);
    hosts:
    for (PlannedHost host : plan.hosts()) {
      for (InetAddress address : host.addresses()) {
        if (pending.isEmpty()) {
          break hosts;
        }
        if (attempts.size() >= settings.maxAttempts()) {
          untried = true;
          break hosts;
        }
        AttemptResult result =
            attempt(
                plan,
                host,
                address,
                sender,
                pending,
                content,
                scan,
                requireTls,
                plaintextRefused,
                dsn);
        attempts.add(result.attempt);
        listener.fire(l -> l.attemptEnd(result.attempt));
        decided.putAll(result.decided);
        pending = result.undecided;
        Optional<FailureType> failure = result.attempt.failure();
        if (failure.isPresent()) {
          lastFailure = deferralFor(result.attempt);
        } else if (!result.refused.isEmpty()) {
          lastFailure = Utf8Session.leftForAnotherHost(); // they are all that is pending
        }
        // A host without REQUIRETLS or SMTPUTF8 failed before MAIL FROM for every recipient; one
        // that took the message for some refused only the UTF-8 addresses.
        if (!failure.equals(Optional.of(FailureType.REQUIRETLS_UNAVAILABLE))
            && !failure.equals(Optional.of(FailureType.SMTPUTF8_UNAVAILABLE))) {
          lacking.retainAll(result.refused);
        }
      }
    }
    // No host is left: what every tried host lacked an extension for is returned. Not while the
    // attempt limit left a host untried, or the plan skipped hosts for reasons that may pass (as
    // when no host qualified for REQUIRETLS, MessageTlsPolicy): that defers.
    boolean returned = !untried && !othersSkipped;
    Utf8Session.Need need = Utf8Session.Need.of(scan, sender);
    // RFC 5321 §4.5.4.1: what no host took is deferred, with the last failure as the reason.
    SmtpReply deferral =
        lastFailure != null
            ? lastFailure
            : SmtpReply.local(451, EnhancedStatus.NO_ANSWER_FROM_HOST, "no MX host could be tried");
    for (EmailAddress r : pending) {
      Attempt last = attempts.isEmpty() ? null : attempts.get(attempts.size() - 1);
      if (last != null && lacking.contains(r)) {
        decided.put(
            r,
            new Decision(
                returned ? DeliveryStatus.BOUNCED : DeliveryStatus.DEFERRED,
                lackingExtension(attempts, need, returned, untried),
                last));
      } else {
        decided.put(r, new Decision(DeliveryStatus.DEFERRED, deferral, last));
      }
    }
  }

  /**
   * The reply for a recipient that no tried host could take, each for lack of an extension the
   * message needs of it: {@code returned} (permanent) when no host is left, else transient. Only
   * REQUIRETLS lacking: RFC 8689 §4.2.1's 5.7.30. Only SMTPUTF8: RFC 6531 §3.5's 5.6.7 for an
   * address, 5.6.9 for header fields. Both (some hosts lacked one, the others the other): no host
   * could ever take the message as it is, so it is returned too, with 5.7.30 (RFC 8689 §4.2.1
   * returns a message whose REQUIRETLS cannot be met on the path with that status; the message's
   * sender asked for REQUIRETLS, and a sender that took 5.6.x alone for the reason and sent it
   * again in ASCII would still find no host for its REQUIRETLS), the text naming both.
   */
  private static SmtpReply lackingExtension(
      List<Attempt> attempts, Utf8Session.Need need, boolean returned, boolean untried) {
    long requireTls =
        attempts.stream()
            .filter(a -> a.failure().orElse(null) == FailureType.REQUIRETLS_UNAVAILABLE)
            .count();
    if (requireTls == attempts.size()) {
      return returned
          ? RequireTlsSession.bounce(attempts)
          : RequireTlsSession.later(attempts, untried);
    }
    if (requireTls == 0) {
      return returned
          ? Utf8Session.bounce(attempts, need)
          : Utf8Session.later(attempts, need, untried);
    }
    String text =
        "none of the "
            + attempts.size()
            + " server(s) tried could take the message: "
            + requireTls
            + " did not advertise REQUIRETLS after STARTTLS (RFC 8689 §4.2.1), and "
            + (attempts.size() - requireTls)
            + " did not offer SMTPUTF8, which it needs since "
            + need.what()
            + " (RFC 6531 §3.2); "
            + (returned
                ? "message not sent"
                : (untried ? "the attempt limit left MX hosts untried" : "other hosts were skipped")
                    + "; not sent");
    return returned
        ? SmtpReply.local(550, EnhancedStatus.REQUIRETLS_NEEDED, text)
        : SmtpReply.local(451, EnhancedStatus.REQUIRETLS_NEEDED.withStatusClass(4), text);
  }

  /**
   * RFC 5321 §4.5.3.1.6: a text line is at most 1000 octets with its CRLF, and a line is never
   * folded or cut in transit, so a message with a longer one is refused, permanently, here: RFC
   * 3463 5.6.3, "conversion required but not supported". mailtls does not re-encode it itself,
   * since that would break a signature (DKIM, S/MIME) over the content; the sender's MIME library
   * must choose a transfer encoding (RFC 2045 §6) that keeps lines short.
   */
  private static SmtpReply overlongLines(ContentFacts scan) {
    return SmtpReply.local(
        554,
        EnhancedStatus.CONVERSION_NOT_SUPPORTED,
        "message not sent: it"
            + " has a line of "
            + scan.longestLine()
            + " octets, and RFC 5321 §4.5.3.1.6 allows "
            + ContentScanner.MAX_LINE_OCTETS
            + " (1000 with CRLF); fold a long header field at its white space (RFC 5322"
            + " §2.2.3) and encode the content with a transfer encoding, quoted-printable or"
            + " base64 (RFC 2045 §6), so that no line is longer");
  }

  /**
   * The reply that defers what a failed attempt left undecided: always a 4xx. The server's own
   * reply when it was a 4xx (a 421, say); a local 451 otherwise, quoting the server's reply if
   * there was one (a 554 greeting defers: another host, or a later try, may take the message), with
   * the status of the failure ({@link #statusOf}); mailtls's own 5xx refusal keeps its status as a
   * 4xx. A protocol error is RFC 3463 4.5.0, whatever code the server sent: a 250 to DATA delivers
   * nothing, and a 354 greeting is no deferral.
   */
  private static SmtpReply deferralFor(Attempt a) {
    FailureType type = a.failure().orElseThrow();
    if (type == FailureType.DOWNGRADE_DETECTED) {
      return DowngradeGuard.refusal(a.detail());
    }
    if (type == FailureType.PROTOCOL_ERROR) {
      return SmtpReply.local(451, EnhancedStatus.PROTOCOL_ERROR, "protocol error: " + a.detail());
    }
    if (a.reply().isEmpty()) {
      return SmtpReply.local(451, statusOf(type), type + ": " + a.detail());
    }
    SmtpReply reply = a.reply().get();
    if (reply.isTransientFailure()) {
      return reply;
    }
    if (reply.locallyGenerated() && reply.enhancedStatus().isPresent()) {
      // mailtls's own refusal of the session (REQUIRETLS lacking, RFC 8689 §4.2.1: 5.7.30): its
      // status, made transient, since another host or a later try may meet it.
      return SmtpReply.local(451, reply.enhancedStatus().get().withStatusClass(4), reply.text());
    }
    if (type == FailureType.AUTHENTICATION_FAILED) {
      return SmtpReply.local(451, authenticationStatus(reply), reply.toString());
    }
    return SmtpReply.local(451, statusOf(type), reply.toString());
  }

  /**
   * The status of a deferral after the relay did not take the credentials: the relay's own status,
   * made transient (RFC 4954 §6: 535 5.7.8 credentials invalid, 534 5.7.9 mechanism too weak, 538
   * 5.7.11 encryption required); a 535 without one is 4.7.8; anything else (an unexpected
   * challenge) 4.7.0. Never 4.4.1, "no answer from host" (RFC 3463 §3.5): the relay answered.
   */
  private static EnhancedStatus authenticationStatus(SmtpReply reply) {
    if (reply.enhancedStatus().isPresent()) {
      return reply.enhancedStatus().get().withStatusClass(4);
    }
    return reply.code() == 535 ? new EnhancedStatus(4, 7, 8) : SECURITY_OTHER;
  }

  /** {@code 4.7.0}: other or undefined security status (RFC 3463 §3.8). */
  private static final EnhancedStatus SECURITY_OTHER = new EnhancedStatus(4, 7, 0);

  /**
   * The enhanced status (RFC 3463) of a deferral after a failed attempt of {@code type}: a TLS or
   * authentication failure is a security matter (§3.8: 4.7.4 when STARTTLS was missing or refused,
   * 4.7.5 when the handshake or the peer's authentication failed, 4.7.0 when a relay offers no AUTH
   * mechanism mailtls can use; {@link #authenticationStatus} when it refused), a dropped connection
   * a bad connection (§3.5, 4.4.2), anything else no answer from the host (4.4.1).
   */
  private static EnhancedStatus statusOf(FailureType type) {
    if (type == FailureType.AUTHENTICATION_FAILED) {
      // the relay offers no mechanism mailtls can use: a security matter, not a missing answer
      return SECURITY_OTHER;
    }
    if (type == FailureType.STARTTLS_NOT_SUPPORTED) {
      return EnhancedStatus.SECURITY_FEATURES_NOT_SUPPORTED;
    }
    if (type.tlsRptResultType().isPresent()) {
      return EnhancedStatus.CRYPTOGRAPHIC_FAILURE;
    }
    if (type == FailureType.CONNECTION_LOST) {
      return EnhancedStatus.BAD_CONNECTION;
    }
    return EnhancedStatus.NO_ANSWER_FROM_HOST;
  }

  /**
   * @param dsnPassedOn whether the recipient's RCPT TO carried the DSN request to a server that
   *     advertises DSN (RFC 3461 §4)
   */
  private record Decision(
      DeliveryStatus status, SmtpReply reply, @Nullable Attempt attempt, boolean dsnPassedOn) {

    Decision(DeliveryStatus status, SmtpReply reply, @Nullable Attempt attempt) {
      this(status, reply, attempt, false);
    }
  }

  /**
   * @param undecided the recipients left for the next host, {@code refused} among them
   * @param refused the recipients with UTF-8 addresses that a server without SMTPUTF8 could not
   *     take while it took others (RFC 6531 §3.2, {@link Utf8Session#refused})
   */
  private record AttemptResult(
      Attempt attempt,
      Map<EmailAddress, Decision> decided,
      List<EmailAddress> undecided,
      List<EmailAddress> refused) {

    AttemptResult(
        Attempt attempt, Map<EmailAddress, Decision> decided, List<EmailAddress> undecided) {
      this(attempt, decided, undecided, List.of());
    }
  }

  private AttemptResult attempt(
      DeliveryPlan plan,
      PlannedHost host,
      InetAddress address,
      Optional<EmailAddress> sender,
      List<EmailAddress> pending,
      MessageContent content,
      ContentFacts scan,
      boolean requireTls,
      Optional<String> plaintextRefused,
      Optional<DsnRequest> dsn) {
    int port =
        host.port().orElseGet(() -> settings.relay().map(SmartHost::port).orElse(settings.port()));
    InetSocketAddress target = new InetSocketAddress(address, port);
    ConnectionPool.Key key = ConnectionPool.Key.of(target, host.name(), host.requirement());
    List<String> notes = new ArrayList<>();
    listener.fire(l -> l.attemptStart(host.name(), target));
    AttemptTimer timer = new AttemptTimer(pool.ticker());
    boolean retried = false;
    while (true) {
      SmtpConnection conn = null;
      try {
        try {
          // After a stale pooled session, a new one in its slot: other threads may keep handing
          // stale ones back to the pool.
          conn = retried ? null : reuse(key, notes);
          if (conn == null) {
            conn = open(host, target, key, notes, plaintextRefused, timer);
          }
          refuseDowngrade(conn, plaintextRefused);
        } catch (RuntimeException e) {
          // Peer input must never escape: anything unexpected is this attempt's protocol error.
          throw new SessionFailure(FailureType.PROTOCOL_ERROR, "unexpected failure: " + e, null, e);
        }
      } catch (SessionFailure f) {
        Attempt a = attemptRecord(plan, host, target, conn, Optional.of(f), notes, timer);
        if (conn != null) {
          pool.discard(key, conn);
        }
        reportEnforced(plan, host, target, f);
        return new AttemptResult(a, Map.of(), pending);
      }
      if (!retried) {
        auditReportOnly(plan, host, target, conn); // one report per attempt
      }
      Optional<SessionFailure> lacking =
          requireTls ? RequireTlsSession.check(conn) : Optional.empty();
      if (lacking.isEmpty()) {
        lacking = Utf8Session.check(conn, sender, pending, scan);
      }
      if (lacking.isPresent()) {
        // RFC 8689 §4.2.1, RFC 6531 §3.2: not a byte of the message, not even MAIL FROM; the
        // connection stays usable for other messages (which both RFCs allow before QUIT).
        notes.addAll(conn.drainNotes());
        Attempt a = attemptRecord(plan, host, target, conn, lacking, notes, timer);
        pool.release(key, conn);
        return new AttemptResult(a, Map.of(), pending);
      }
      // RFC 6531 §3.2: UTF-8 addresses never go to a server without SMTPUTF8; the others do.
      List<EmailAddress> refused = Utf8Session.refused(conn, pending);
      List<EmailAddress> sendable = new ArrayList<>(pending);
      sendable.removeAll(new HashSet<>(refused));
      Transaction.Outcome outcome;
      timer.dataStart();
      try {
        outcome = Transaction.run(conn, sender, sendable, content, scan, requireTls, dsn);
        timer.dataEnd();
      } catch (Throwable e) {
        // Transaction.run decides on its own failures; this is a bug (or the content's undeclared
        // checked exception). Never leak the connection or its slot, whatever escapes.
        pool.discard(key, conn);
        throw e;
      }
      notes.addAll(conn.drainNotes());
      if (outcome.stale()) {
        // A pooled session found unusable before it could have taken the message: the
        // transaction goes on a new connection, whose time counts as set-up.
        notes.add(
            "pooled connection had ended ("
                + outcome.failure().map(SessionFailure::getMessage).orElse("")
                + "); the transaction goes on a new one");
        conn.close(); // its slot stays reserved, for the new one
        retried = true;
        timer.setupAgain();
        continue;
      }
      if (!refused.isEmpty()) {
        notes.add(
            refused.size()
                + " recipient(s) with a non-ASCII address not sent here: the server does not offer"
                + " SMTPUTF8 (RFC 6531 §3.2); left for the domain's other MX hosts");
      }
      if (dsn.isPresent() && !sendable.isEmpty() && outcome.dsnPassedOn().isEmpty()) {
        EhloCapabilities caps = conn.capabilities();
        if (caps != null && !caps.dsn()) {
          notes.add(
              "DSN requested, but the server does not offer DSN (RFC 3461 §5.2.2): the message"
                  + " goes without NOTIFY, RET, ENVID and ORCPT, and no notification will come"
                  + " from beyond it");
        }
      }
      Optional<SessionFailure> failure = outcome.failure().or(outcome::contentFailure);
      Attempt a = attemptRecord(plan, host, target, conn, failure, notes, timer);
      Map<EmailAddress, Decision> decided = new LinkedHashMap<>();
      outcome
          .decided()
          .forEach(
              (r, d) ->
                  decided.put(
                      r,
                      new Decision(d.status(), d.reply(), a, outcome.dsnPassedOn().contains(r))));
      if (conn.isBroken() || failure.isPresent()) {
        pool.discard(key, conn);
      } else {
        pool.release(key, conn);
      }
      // In the order they came: the next host gets them as the caller listed them.
      Set<EmailAddress> left = new HashSet<>(outcome.undecided());
      left.addAll(refused);
      List<EmailAddress> undecided = new ArrayList<>(pending);
      undecided.retainAll(left);
      return new AttemptResult(a, decided, undecided, refused);
    }
  }

  /**
   * A failure under a recipient policy (MTA-STS or DANE) that stopped the session: RFC 8460 reports
   * it, enforced when the recipient's policy required what failed ({@link
   * MessageTlsPolicy#enforcedByRecipient}), not when a REQUIRETLS message raised a host that an
   * MTA-STS {@code testing} policy lists to PKIX (RFC 8461 §5, RFC 8689 §4.2.1): that failure is
   * counted under the policy all the same (RFC 8460 §4.3). A TLS negotiation that the server
   * accepted and that then ended without a TLS failure of its own (a timeout, a lost connection, a
   * protocol error: {@link SessionFailure#endedTlsNegotiation}) is a failure to negotiate TLS all
   * the same (RFC 8460 §4.4), reported as the general {@code TLS_HANDSHAKE_FAILED} ({@code
   * validation-failure}, §4.3.1), as it is when the session goes on in plaintext (docs/tls-rpt.md
   * row 4b) and when a testing policy audits it. A failure before STARTTLS is no TLS negotiation
   * and is not reported.
   */
  private void reportEnforced(
      DeliveryPlan plan, PlannedHost host, InetSocketAddress target, SessionFailure f) {
    boolean policy = host.source() == PolicySource.MTA_STS || host.source() == PolicySource.DANE;
    if (!policy) {
      return;
    }
    FailureType type;
    if (f.type().tlsRptResultType().isPresent()) {
      type = f.type();
    } else if (f.endedTlsNegotiation()) {
      type = FailureType.TLS_HANDSHAKE_FAILED;
    } else {
      return;
    }
    boolean enforced = MessageTlsPolicy.enforcedByRecipient(plan, host);
    PolicyFailure pf =
        Values.policyFailure(
            policyDomain(plan),
            host.source(),
            enforced,
            host.name(),
            Optional.of(target),
            type,
            enforced
                ? f.getMessage()
                : f.getMessage()
                    + " (REQUIRETLS required PKIX for this message; the recipient's MTA-STS"
                    + " policy does not enforce it)");
    listener.fire(l -> l.policyFailure(pf));
  }

  /**
   * MTA-STS testing mode (RFC 8461 §5): the session went ahead under the sender's level; report
   * what the policy would have refused.
   */
  private void auditReportOnly(
      DeliveryPlan plan, PlannedHost host, InetSocketAddress target, SmtpConnection conn) {
    if (host.reportOnly().isEmpty() || !host.reportOnly().get().requiresAuthentication()) {
      return;
    }
    TlsRequirement audited = host.reportOnly().get();
    // A report-only requirement comes from an MTA-STS testing policy, or from a recipient policy
    // that a TLS-Required: No header field lowered (RFC 8689 §4.2.2).
    String suffix =
        host.why().startsWith("TLS-Required: No")
            ? " (TLS-Required: No: delivered anyway)"
            : " (MTA-STS testing mode: delivered anyway)";
    FailureType type;
    String detail;
    if (conn.tls().isEmpty() && conn.plaintextAfter().isPresent()) {
      // RFC 8460 §4.3.2.1: the server offered STARTTLS and TLS failed; plaintext came after, so
      // this is no starttls-not-supported. A failure without a result type of its own (a lost
      // connection, a timeout in the handshake) is the general validation-failure.
      SessionFailure tlsFailure = conn.plaintextAfter().get();
      type =
          tlsFailure.type().tlsRptResultType().isPresent()
              ? tlsFailure.type()
              : FailureType.TLS_HANDSHAKE_FAILED;
      detail =
          "TLS with "
              + host.name().map(DomainName::toString).orElse("the host")
              + " failed ("
              + tlsFailure.getMessage()
              + "); plaintext"
              + suffix;
    } else if (conn.tls().isEmpty()) {
      type = FailureType.STARTTLS_NOT_SUPPORTED;
      detail = "no TLS with " + host.name().map(DomainName::toString).orElse("the host") + suffix;
    } else {
      CertificateFailure f =
          audited instanceof TlsRequirement.Pkix pkix
              ? settings.tls().audit(conn.tls().get().peerChain(), pkix)
              : RequireTlsSession.audit(settings.tls(), conn.tls().get().peerChain(), audited);
      if (f == null) {
        return;
      }
      type = f.type();
      detail = f.getMessage() + suffix;
    }
    PolicyFailure pf =
        Values.policyFailure(
            policyDomain(plan),
            audited instanceof TlsRequirement.Dane ? PolicySource.DANE : PolicySource.MTA_STS,
            false,
            host.name(),
            Optional.of(target),
            type,
            detail);
    listener.fire(l -> l.policyFailure(pf));
  }

  private static DomainName policyDomain(DeliveryPlan plan) {
    return plan.nextHop() instanceof NextHop.Domain d ? d.name() : DomainName.ROOT;
  }

  /**
   * An idle pooled connection, or null. RSET (RFC 5321 §4.1.1.5) checks that the session is still
   * there and clears it: under PIPELINING it goes ahead of the next MAIL in the same write (RFC
   * 2920 §3.1) and {@link Transaction} reads its reply, sparing a round trip (before any of the
   * message leaves, for a session idle longer than {@link Transaction#ONE_TRIP_IDLE_MAX}); without,
   * it is a command of its own here.
   */
  private @Nullable SmtpConnection reuse(ConnectionPool.Key key, List<String> notes)
      throws SessionFailure {
    while (true) {
      Optional<SmtpConnection> idle = pool.checkout(key);
      if (idle.isEmpty()) {
        return null; // a permit is held for a new connection
      }
      SmtpConnection c = idle.get();
      if (c.inputWaiting()) {
        // The server said something to a session that was idle: a 421 on its idle timeout, a TLS
        // close_notify, or more than its last reply. Replies could no longer be matched to
        // commands (RFC 2920 §3.1), so the session is never used again; seen before a byte of
        // the next transaction leaves.
        notes.add(
            "pooled connection had ended (the server sent input to an idle pooled session);"
                + " not used again");
        pool.discard(key, c);
        continue;
      }
      EhloCapabilities caps = c.capabilities();
      if (caps != null && caps.pipelining()) {
        c.rsetPending(true);
        notes.add("reused connection (transaction " + (c.transactions() + 1) + ")");
        return c;
      }
      try {
        SmtpReply r = c.command(SmtpCommand.rset(), settings.timeouts().command(), SmtpStep.RSET);
        // A 221, like a 421, says the server is closing and takes no command after it (RFC 5321
        // §3.8; RSET gets 250, §4.1.1.5): the session is stale, as under PIPELINING.
        if (r.isPositiveCompletion() && r.code() != 221) {
          notes.add("reused connection (transaction " + (c.transactions() + 1) + ")");
          return c;
        }
      } catch (SessionFailure f) {
        // stale connection: drop it and look again
      }
      pool.discard(key, c);
    }
  }

  /**
   * Downgrade memory: a session without TLS is closed (QUIT) before MAIL when plaintext is refused,
   * so nothing of the message goes out in plaintext.
   */
  private static void refuseDowngrade(SmtpConnection conn, Optional<String> plaintextRefused)
      throws SessionFailure {
    if (plaintextRefused.isPresent() && conn.tls().isEmpty()) {
      conn.quit();
      throw new SessionFailure(
          FailureType.DOWNGRADE_DETECTED,
          "no TLS in this session; closed before MAIL: " + plaintextRefused.get());
    }
  }

  /**
   * Opens a session for {@code host} at {@code target} (the pool permit is held), retrying in
   * plaintext on a fresh connection when opportunistic TLS failed, unless plaintext is refused.
   */
  private SmtpConnection open(
      PlannedHost host,
      InetSocketAddress target,
      ConnectionPool.Key key,
      List<String> notes,
      Optional<String> plaintextRefused,
      AttemptTimer timer)
      throws SessionFailure {
    // Whatever goes wrong, the slot reserved for this connection is given back exactly once.
    boolean opened = false;
    try {
      SessionOpener.Target t = new SessionOpener.Target(host.name(), target, host.requirement());
      pool.requireOpen(key);
      SessionOpener.Outcome outcome = opener.open(t, plaintextRefused, timer);
      notes.addAll(outcome.notes());
      if (outcome instanceof SessionOpener.TlsFailed tlsFailed && plaintextRefused.isPresent()) {
        throw new SessionFailure(
                FailureType.DOWNGRADE_DETECTED,
                "TLS failed ("
                    + tlsFailed.failure().getMessage()
                    + "); no plaintext retry: "
                    + plaintextRefused.get())
            .seenAs(tlsFailed.failure())
            .plaintextReason(tlsFailed.failure().type());
      }
      if (outcome instanceof SessionOpener.TlsFailed tlsFailed) {
        // RFC 7435 (opportunistic security): TLS that failed is retried in plaintext on a fresh
        // connection; the old one is in an unknown state.
        notes.add(
            "TLS failed ("
                + tlsFailed.failure().getMessage()
                + "); retrying in plaintext on a new connection");
        pool.requireOpen(key);
        outcome = opener.openPlaintext(t, timer);
        notes.addAll(outcome.notes());
        if (outcome instanceof SessionOpener.Ready ready) {
          ready.connection().plaintextAfter(tlsFailed.failure());
        }
      }
      if (outcome instanceof SessionOpener.Ready ready) {
        opened = true;
        pool.opened(ready.connection());
        return ready.connection();
      }
      if (outcome instanceof SessionOpener.Failed failed) {
        throw failed.failure();
      }
      // openPlaintext never tries TLS, so TLS cannot fail twice; closed should that change.
      throw new SessionFailure(
          FailureType.TLS_HANDSHAKE_FAILED,
          ((SessionOpener.TlsFailed) outcome).failure().getMessage());
    } finally {
      if (!opened) {
        pool.discard(key, null);
      }
    }
  }

  private Attempt attemptRecord(
      DeliveryPlan plan,
      PlannedHost host,
      InetSocketAddress target,
      @Nullable SmtpConnection c,
      Optional<SessionFailure> failure,
      List<String> notes,
      AttemptTimer timer) {
    List<String> detail = new ArrayList<>(notes);
    failure.ifPresent(f -> detail.add(f.getMessage()));
    // Notes and failure messages are clean already (SessionFailure, SmtpConnection.note); this
    // is where text enters the report, so it is checked once more.
    boolean established = c != null && c.capabilities() != null;
    return Values.attempt(
        host.name(),
        target,
        host.requirement(),
        host.source(),
        c == null ? Optional.empty() : c.tls(),
        established && c != null ? Optional.of(c.authentication()) : Optional.empty(),
        failure.map(SessionFailure::type),
        failure.flatMap(SessionFailure::reply),
        PeerText.clean(String.join("; ", detail)),
        c != null ? c.announcedName() : failure.flatMap(SessionFailure::announcedName),
        c != null ? c.localAddress() : failure.flatMap(SessionFailure::localAddress),
        timer.finish(true),
        plan.mtaSts(),
        c != null && !c.firstUseFor(policyDomain(plan)),
        c != null ? c.plaintextReason() : failure.flatMap(SessionFailure::plaintextReason),
        failure.map(SessionFailure::endedTlsNegotiation).orElse(false));
  }

  private List<RecipientResult> results(
      DeliveryPlan plan,
      List<EmailAddress> recipients,
      Map<EmailAddress, Decision> decided,
      List<Attempt> attempts) {
    List<RecipientResult> out = new ArrayList<>();
    for (EmailAddress r : recipients) {
      Decision d = decided.get(r);
      if (d == null) {
        // Cannot happen: every path decides every recipient. Fail closed if it ever does.
        d =
            new Decision(
                DeliveryStatus.DEFERRED,
                SmtpReply.local(451, "4.3.0", "no outcome was recorded for this recipient"),
                null);
      }
      out.add(
          Values.recipientResult(
              r,
              d.status(),
              d.reply(),
              Optional.ofNullable(d.attempt()),
              plan,
              attempts,
              d.dsnPassedOn()));
    }
    return out;
  }
}
