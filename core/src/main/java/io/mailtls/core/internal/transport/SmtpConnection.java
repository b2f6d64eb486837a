package io.mailtls.core.internal.transport;

import io.mailtls.core.Authentication;
import io.mailtls.core.DaneProvider;
import io.mailtls.core.DomainName;
import io.mailtls.core.FailureType;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsDetails;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.internal.Values;
import io.mailtls.core.internal.smtp.EhloCapabilities;
import io.mailtls.core.internal.smtp.PeerText;
import io.mailtls.core.internal.smtp.SmtpCommand;
import io.mailtls.core.internal.smtp.SmtpProtocolException;
import io.mailtls.core.internal.smtp.SmtpReplyReader;
import io.mailtls.core.internal.tls.CertificateFailure;
import io.mailtls.core.internal.tls.TlsSupport;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ScheduledExecutorService;
import javax.net.SocketFactory;
import javax.net.ssl.SSLPeerUnverifiedException;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.X509ExtendedTrustManager;
import org.jspecify.annotations.Nullable;

/**
 * One SMTP client connection: socket, bounded reply reader, capabilities, TLS state. Drives the
 * session steps up to a ready-for-MAIL state; the transaction itself is {@link Transaction}'s. Not
 * thread-safe: one thread uses a connection at a time (the pool hands it over).
 */
final class SmtpConnection implements AutoCloseable {

  private static final int OUT_BUFFER = 64 * 1024;

  /**
   * How long the client waits for the reply to QUIT (RFC 5321 §4.1.1.10) before it closes the
   * connection all the same, for one connection or for several closed together ({@link #quitAll}).
   */
  static final Duration QUIT_TIMEOUT = Duration.ofSeconds(5);

  final Optional<DomainName> host;
  final InetSocketAddress address;
  final TlsRequirement requirement;
  final SmtpTimeouts timeouts;
  private final String heloName;
  private final SmtpReplyReader.Limits limits;
  private final SocketWatch watch;

  private Socket socket;

  /** The TCP socket under any TLS layer. */
  private final Socket tcp;

  private OutputStream out;

  /** The bounded stream under {@link #out}. */
  private DeadlineOutputStream writes;

  /**
   * The time budget of a message's content while it goes out (SmtpTimeouts#minDataRate, as
   * Postfix's smtp_min_data_rate): bounds each write and each reply to a BDAT chunk beyond their
   * own timeouts.
   */
  private final TransferBudget transfer;

  private SmtpReplyReader reader;
  private @Nullable EhloCapabilities capabilities;
  private @Nullable TlsDetails tls;
  private Optional<String> announcedName = Optional.empty();
  private final Optional<InetSocketAddress> localAddress;
  private final List<String> notes = new ArrayList<>();
  private boolean broken;
  private boolean rsetPending;

  /** The failure of opportunistic TLS that this plaintext session was opened after, if any. */
  private @Nullable SessionFailure plaintextAfter;

  /** Whether the server did not offer STARTTLS, or refused it, and this session went on. */
  private boolean starttlsUnsupported;

  private int transactions;

  /** The next hops this session has carried mail for: at most a few in its reuse time. */
  private final Set<DomainName> nextHops = new HashSet<>();

  private long idleSince;

  /** How long the session had been idle when last taken from the pool, on the pool's clock. */
  private long idledFor;

  private long openedAt;
  private boolean openedAtSet;

  private SmtpConnection(
      Optional<DomainName> host,
      InetSocketAddress address,
      TlsRequirement requirement,
      SmtpTimeouts timeouts,
      String heloName,
      SmtpReplyReader.Limits limits,
      SocketWatch watch,
      Socket s)
      throws SessionFailure {
    this.host = host;
    this.address = address;
    this.requirement = requirement;
    this.timeouts = timeouts;
    this.transfer = new TransferBudget(timeouts.dataBlock(), timeouts.minDataRate());
    this.heloName = heloName;
    this.limits = limits;
    this.watch = watch;
    // Taken while connected: a closed socket reports the wildcard address.
    this.localAddress =
        s.getLocalSocketAddress() instanceof InetSocketAddress a
                && a.getAddress() != null
                && !a.getAddress().isAnyLocalAddress()
            ? Optional.of(a)
            : Optional.empty();
    this.tcp = s;
    attach(s);
  }

  /**
   * Opens a TCP connection, with TCP_NODELAY: a command or the last segment of a message never
   * waits for a delayed ACK (Nagle's algorithm, RFC 896).
   *
   * <p>The connect, like every later operation, is bounded by the connection's {@link SocketWatch}
   * and the socket stays in blocking mode without {@code SO_TIMEOUT}: a JDK socket given a connect
   * or read timeout switches to non-blocking mode for good, and then every read that finds no data
   * costs two more system calls (a failed read and a poll) than a blocking read does.
   */
  static SmtpConnection connect(
      SocketFactory factory,
      Optional<DomainName> host,
      InetSocketAddress address,
      TlsRequirement requirement,
      SmtpTimeouts timeouts,
      String heloName,
      SmtpReplyReader.Limits limits,
      ScheduledExecutorService watchdog)
      throws SessionFailure {
    Socket s = null;
    SocketWatch watch = null;
    try {
      s = factory.createSocket();
      s.setTcpNoDelay(true);
      watch = SocketWatch.of(watchdog, s);
      SocketWatch.Deadline deadline = watch.start(timeouts.connect());
      try {
        s.connect(address);
      } catch (IOException e) {
        if (deadline.fired()) {
          SocketTimeoutException t =
              new SocketTimeoutException("no connection within " + timeouts.connect());
          t.initCause(e);
          throw t;
        }
        throw e;
      } finally {
        deadline.close();
      }
    } catch (IOException e) {
      if (watch != null) {
        watch.close();
      }
      closeQuietly(s);
      throw new SessionFailure(
          FailureType.CONNECTION_FAILED,
          "cannot connect to " + address + ": " + e.getMessage(),
          null,
          e);
    }
    try {
      return new SmtpConnection(host, address, requirement, timeouts, heloName, limits, watch, s);
    } catch (SessionFailure f) {
      watch.close();
      closeQuietly(s);
      throw f;
    }
  }

  private void attach(Socket s) throws SessionFailure {
    this.socket = s;
    try {
      // RFC 5321 §4.5.3.2.5: every write is bounded too, not only reads (DeadlineOutputStream).
      this.writes =
          new DeadlineOutputStream(s.getOutputStream(), watch, timeouts.dataBlock(), transfer);
      this.out = new BufferedOutputStream(writes, OUT_BUFFER);
      // The reader wraps the raw stream so that buffered() sees every unread byte (RFC 3207 §4.2).
      this.reader = new SmtpReplyReader(s.getInputStream(), limits);
    } catch (IOException e) {
      throw lost("cannot use the connection", e);
    }
  }

  /**
   * Implicit TLS (RFC 8314 §3): the handshake comes before the greeting. {@code observer} may watch
   * the trust manager's decision; it never changes it.
   */
  void implicitTls(TlsSupport tlsSupport, SessionObserver observer) throws SessionFailure {
    handshake(tlsSupport, observer);
  }

  /** Reads the greeting; anything but 220 fails the session (RFC 5321 §3.1, §4.3.2). */
  SmtpReply greeting() throws SessionFailure {
    SmtpReply r = readFinal(timeouts.greeting(), SmtpStep.GREETING);
    if (r.code() == 421) {
      throw new SessionFailure(FailureType.SERVICE_CLOSING, "server closing: " + r, r, null);
    }
    if (r.code() != 220) {
      throw new SessionFailure(
          FailureType.GREETING_REJECTED, "greeting was not 220: " + r, r, null);
    }
    announcedName = AnnouncedName.of(r);
    return r;
  }

  /**
   * EHLO, falling back to HELO when EHLO gets a 5xx (RFC 5321 §4.1.4, §3.2); HELO gives no
   * extensions. RFC 5321 §4.3.2: 250 is the only positive reply to either; any other 2xx or a 3xx
   * is a protocol error.
   */
  EhloCapabilities ehlo() throws SessionFailure {
    SmtpReply r = command(SmtpCommand.ehlo(heloName), timeouts.command(), SmtpStep.EHLO);
    if (r.code() == 250) {
      capabilities = EhloCapabilities.parse(r);
      announcedName = AnnouncedName.of(r).or(() -> announcedName);
      return capabilities;
    }
    failOnClosing(r, SmtpStep.EHLO);
    requireCompletion(r, SmtpStep.EHLO, "250");
    if (r.isPermanentFailure()) {
      SmtpReply h = command(SmtpCommand.helo(heloName), timeouts.command(), SmtpStep.HELO);
      if (h.code() == 250) {
        // RFC 5321 §4.1.1.1: extensions are offered in the reply to EHLO only; whatever more lines
        // a HELO reply has, the session has none (no PIPELINING, SIZE, STARTTLS, ...).
        EhloCapabilities helo = EhloCapabilities.parse(h);
        capabilities = new EhloCapabilities(helo.domain(), helo.greeting(), Map.of());
        announcedName = AnnouncedName.of(h).or(() -> announcedName);
        note("EHLO refused (" + r.code() + "); HELO used, no extensions");
        return capabilities;
      }
      failOnClosing(h, SmtpStep.HELO);
      requireCompletion(h, SmtpStep.HELO, "250");
      r = h;
    }
    throw new SessionFailure(FailureType.PROTOCOL_ERROR, "EHLO/HELO refused: " + r, r, null);
  }

  /**
   * Fails with a protocol error unless {@code r} is a 4xx or 5xx, i.e. the server answered with a
   * positive code that {@code step} does not have (RFC 5321 §4.3.2 lists each command's replies).
   */
  void requireCompletion(SmtpReply r, SmtpStep step, String expected) throws SessionFailure {
    if (!r.isTransientFailure() && !r.isPermanentFailure()) {
      throw unexpected(r, step, expected);
    }
  }

  /**
   * A reply that RFC 5321 §4.3.2 does not allow at {@code step}: a protocol error, and the
   * connection is never used again (its replies can no longer be matched to commands).
   */
  SessionFailure unexpected(SmtpReply r, SmtpStep step, String expected) {
    broken = true;
    return new SessionFailure(
        FailureType.PROTOCOL_ERROR,
        step
            + ": reply "
            + r.code()
            + " where RFC 5321 §4.3.2 allows "
            + expected
            + " or 4xx/5xx: "
            + PeerText.quote(r.toString()),
        r,
        null);
  }

  /**
   * Sends STARTTLS (RFC 3207 §4) and returns the server's reply; on 220 the caller goes on with
   * {@link #upgrade}, otherwise it decides (a 421 fails the session here).
   */
  SmtpReply startTls() throws SessionFailure {
    write(SmtpCommand.starttls(), SmtpStep.STARTTLS);
    flush(SmtpStep.STARTTLS);
    // Octets after a 220 are handled by upgrade() (RFC 3207 §4.2), so no check for them here.
    SmtpReply r = read(timeouts.startTls(), SmtpStep.STARTTLS);
    if (r.code() == 220) {
      return r;
    }
    requireNoBufferedInput(SmtpStep.STARTTLS);
    failOnClosing(r, SmtpStep.STARTTLS);
    // RFC 3207 §4: 220, or 501/454 (and other refusals); another positive code is an error.
    requireCompletion(r, SmtpStep.STARTTLS, "220");
    return r;
  }

  /**
   * After a 220 to STARTTLS: the handshake, then EHLO again. {@code observer} may watch the trust
   * manager's decision; it never changes it.
   */
  void upgrade(TlsSupport tlsSupport, SessionObserver observer) throws SessionFailure {
    // RFC 3207 §4.2: anything the server sent after its 220 and before the handshake was sent in
    // plaintext and may be an attacker's; it is discarded, never read as a reply after TLS.
    int injected = reader.discardBuffered();
    if (injected > 0) {
      note(injected + " octets of plaintext after the STARTTLS 220 discarded (RFC 3207 §4.2)");
    }
    handshake(tlsSupport, observer);
    // RFC 3207 §4.2: forget everything learned before TLS, the name the server announced too (an
    // attacker may have put it there); EHLO again. A handshake that failed keeps the plaintext
    // name: it is all there is to report of that session.
    capabilities = null;
    announcedName = Optional.empty();
    ehlo();
  }

  /**
   * The SNI name of a handshake under {@code requirement} with {@code host} (RFC 7672 §8.1: with
   * DANE the TLSA base domain; otherwise the MX host name; none for an address literal).
   */
  static Optional<DomainName> serverName(TlsRequirement requirement, Optional<DomainName> host) {
    return requirement instanceof TlsRequirement.Dane d ? Optional.of(d.baseDomain()) : host;
  }

  private void handshake(TlsSupport tlsSupport, SessionObserver observer) throws SessionFailure {
    SSLSocket ssl;
    Optional<DomainName> sni = serverName(requirement, host);
    // Delivery resumes TLS sessions verified under the same key (TlsSupport.resumable); an
    // observer that watches the trust manager (the probe) gets a full handshake of its own.
    boolean resumable = observer == SessionObserver.NONE;
    X509ExtendedTrustManager trustManager =
        resumable ? null : tlsSupport.trustManagerFor(requirement);
    TlsSupport.Handshake handshake = null;
    Optional<TlsSupport.Checked> checked = Optional.empty();
    SocketWatch.Deadline deadline = watch.start(timeouts.startTls());
    try {
      if (resumable) {
        handshake = tlsSupport.resumable(socket, address, sni, requirement);
        ssl = handshake.socket();
      } else {
        ssl = tlsSupport.layer(socket, address, sni, observer.trustManager(trustManager));
      }
      ssl.startHandshake();
    } catch (IOException e) {
      broken = true;
      if (deadline.fired()) {
        throw new SessionFailure(
            FailureType.TIMEOUT,
            "TLS handshake not complete within " + timeouts.startTls(),
            null,
            e);
      }
      CertificateFailure cf = CertificateFailure.find(e);
      if (cf != null) {
        throw new SessionFailure(cf.type(), cf.getMessage(), null, e);
      }
      throw new SessionFailure(
          e instanceof SocketTimeoutException
              ? FailureType.TIMEOUT
              : FailureType.TLS_HANDSHAKE_FAILED,
          "TLS handshake failed: " + e.getMessage(),
          null,
          e);
    } finally {
      deadline.close();
      if (handshake != null) {
        checked = handshake.finish(); // forgets the handshake, whatever happened
      }
    }
    SSLSession session = ssl.getSession();
    if (!TlsSupport.meetsFloor(session.getProtocol())) {
      broken = true;
      closeQuietly(ssl);
      throw new SessionFailure(
          FailureType.TLS_HANDSHAKE_FAILED,
          "negotiated " + session.getProtocol() + ", below the TLS 1.2 floor");
    }
    List<X509Certificate> chain = new ArrayList<>();
    try {
      for (Certificate c : session.getPeerCertificates()) {
        if (c instanceof X509Certificate x) {
          chain.add(x);
        }
      }
    } catch (SSLPeerUnverifiedException e) {
      // no certificate: anonymous suites are never enabled (TlsSupport.authenticatedSuites)
    }
    if (chain.isEmpty() && requirement.requiresAuthentication()) {
      // Fail closed should a provider negotiate without a certificate all the same: no check ran,
      // and a missing check must never read as a resumed, verified session.
      broken = true;
      closeQuietly(ssl);
      throw new SessionFailure(
          FailureType.CERTIFICATE_NOT_TRUSTED,
          "the server presented no certificate (" + session.getCipherSuite() + ")");
    }
    // In a resuming context, a handshake that completed without a certificate check resumed a
    // session that a full handshake under the same key verified (TlsSupport's class comment), and
    // presents the leaf that handshake checked. A leaf never checked in the context means no check
    // ran at all (a TlsContextFactory that set the trust manager it was given aside): fail closed.
    boolean resumed = resumable && checked.isEmpty();
    if (resumed
        && requirement.requiresAuthentication()
        && !Objects.requireNonNull(handshake, "resumable").checkedBefore(chain)) {
      broken = true;
      closeQuietly(ssl);
      throw new SessionFailure(
          FailureType.CERTIFICATE_NOT_TRUSTED,
          "no certificate check ran in this handshake, and it resumed no session mailtls verified:"
              + " the TlsContextFactory must build its context with the trust manager it is given");
    }
    tls =
        Values.tlsDetails(
            session.getProtocol(),
            session.getCipherSuite(),
            chain,
            sni.map(DomainName::toString),
            resumed);
    if (resumed) {
      note(
          "TLS session resumed (RFC 8446 §2.2): the peer was "
              + (requirement.requiresAuthentication()
                  ? "verified under the same requirement at its full handshake"
                  : "not authenticated, as at its full handshake"));
    }
    checked.flatMap(TlsSupport.Checked::matched).ifPresent(r -> note("DANE: matched TLSA " + r));
    if (trustManager instanceof DaneProvider.Matched m) {
      m.matchedRecord().ifPresent(r -> note("DANE: matched TLSA " + r));
    }
    attach(ssl);
  }

  /** Sends one command and reads its reply, which must be all the server sent. */
  SmtpReply command(SmtpCommand cmd, Duration timeout, SmtpStep step) throws SessionFailure {
    write(cmd, step);
    flush(step);
    return readFinal(timeout, step);
  }

  void write(SmtpCommand cmd, SmtpStep step) throws SessionFailure {
    try {
      cmd.writeTo(out);
    } catch (IOException e) {
      throw lost(step, e);
    }
  }

  void flush(SmtpStep step) throws SessionFailure {
    try {
      out.flush();
    } catch (IOException e) {
      throw lost(step, e);
    }
  }

  SmtpReply read(Duration timeout, SmtpStep step) throws SessionFailure {
    // The deadline bounds the whole reply, not each read (a peer dripping one octet at a time must
    // not hold the session open indefinitely, RFC 5321 §4.5.3.2). A reply within a content
    // transfer (to a BDAT chunk) is bounded by what is left of the transfer's budget too.
    boolean paced = transfer.active();
    if (paced && transfer.leftNanos() <= 0) {
      broken = true;
      throw new SessionFailure(FailureType.TIMEOUT, step + ": " + transfer.slower(), null, null);
    }
    Duration bound = transfer.bound(timeout);
    long begin = System.nanoTime();
    SocketWatch.Deadline deadline = watch.start(bound);
    try {
      return reader.read();
    } catch (IOException e) {
      if (deadline.fired()) {
        broken = true;
        throw new SessionFailure(
            FailureType.TIMEOUT,
            step
                + ": "
                + (bound.compareTo(timeout) < 0
                    ? transfer.slower()
                    : "no complete reply within " + timeout),
            null,
            e);
      }
      throw classify(e, step);
    } catch (RuntimeException e) {
      // Whatever the reply did to the reader, it is the peer's doing: a protocol error.
      broken = true;
      throw new SessionFailure(
          FailureType.PROTOCOL_ERROR, step + ": unreadable reply: " + e, null, e);
    } finally {
      deadline.close();
      if (paced) {
        transfer.spent(System.nanoTime() - begin, 0);
      }
    }
  }

  /**
   * The message's content starts to go out (DATA's, after the 354, or BDAT's first chunk): from
   * here to {@link #endTransfer} the writes, and the replies to BDAT chunks, share the transfer's
   * budget ({@link TransferBudget}).
   */
  void startTransfer() {
    transfer.start();
  }

  /** The content is out (or failed): the wait for its verdict has its own bound. */
  void endTransfer() {
    transfer.end();
  }

  /**
   * Reads the last reply the client waits for (of a single command, or of a pipelined group): the
   * server must have sent nothing beyond it (see {@link #requireNoBufferedInput}).
   */
  SmtpReply readFinal(Duration timeout, SmtpStep step) throws SessionFailure {
    SmtpReply r = read(timeout, step);
    requireNoBufferedInput(step);
    return r;
  }

  /**
   * Fails with a protocol error when the server sent more than the replies the client waits for,
   * e.g. more replies than a pipelined group had commands (RFC 2920 §3.1), or a reply before the
   * command it would answer: replies could no longer be matched to commands. Only what has already
   * arrived can be seen; the connection is never used again after a failure.
   */
  void requireNoBufferedInput(SmtpStep step) throws SessionFailure {
    try {
      reader.requireNoBufferedInput("after the reply to " + step);
    } catch (SmtpProtocolException e) {
      throw classify(e, step);
    }
  }

  /**
   * After a reply whose verdict stands whatever follows (a 2xx to the final dot): if the server
   * sent more, the octets are dropped, the connection is marked broken (never pooled) and a note
   * says so. Returns whether there were any.
   */
  boolean discardUnsolicited(SmtpStep step) {
    if (!reader.hasBufferedInput()) {
      return false;
    }
    int n = reader.discardBuffered();
    broken = true;
    note(
        step
            + ": server sent "
            + n
            + " unsolicited octets after its reply; connection not"
            + " reused");
    return true;
  }

  private SessionFailure classify(IOException error, SmtpStep step) {
    try {
      throw error;
    } catch (SmtpProtocolException e) {
      broken = true;
      FailureType t =
          switch (e.kind()) {
            case TIMEOUT -> FailureType.TIMEOUT;
            case CONNECTION_CLOSED -> FailureType.CONNECTION_LOST;
            default -> FailureType.PROTOCOL_ERROR;
          };
      return new SessionFailure(t, step + ": " + e.getMessage(), null, e);
    } catch (IOException e) {
      return lost(step, e);
    }
  }

  /** The raw output for message content; callers wrap it and flush. */
  OutputStream contentStream() {
    // DeadlineOutputStream bounds each write by the data block timeout (RFC 5321 §4.5.3.2.5).
    return out;
  }

  SessionFailure lost(SmtpStep step, IOException e) {
    return lost(step.toString(), e);
  }

  /** The connection failed while doing {@code what} (a step, or setting up its streams). */
  private SessionFailure lost(String what, IOException e) {
    broken = true;
    return new SessionFailure(
        e instanceof SocketTimeoutException ? FailureType.TIMEOUT : FailureType.CONNECTION_LOST,
        what + ": " + e.getMessage(),
        null,
        e);
  }

  private void failOnClosing(SmtpReply r, SmtpStep step) throws SessionFailure {
    if (r.code() == 421) {
      broken = true;
      throw new SessionFailure(
          FailureType.SERVICE_CLOSING, step + ": server closing: " + r, r, null);
    }
  }

  /** What the last EHLO said; null before it, and again after STARTTLS until the next. */
  @Nullable EhloCapabilities capabilities() {
    return capabilities;
  }

  Optional<TlsDetails> tls() {
    return Optional.ofNullable(tls);
  }

  /**
   * The name the server announced for itself: in its last EHLO (or HELO) reply, else its greeting
   * ({@link AnnouncedName}); empty before the greeting.
   */
  Optional<String> announcedName() {
    return announcedName;
  }

  /** The local end of the connection (RFC 8460's {@code sending-mta-ip}). */
  Optional<InetSocketAddress> localAddress() {
    return localAddress;
  }

  /** How the peer is authenticated on this connection. */
  Authentication authentication() {
    if (tls == null) {
      return Authentication.PLAINTEXT;
    }
    if (requirement instanceof TlsRequirement.Dane d && !d.mxSecure()) {
      return Authentication.TRUSTED; // RFC 7672 §2.2.1: DANE reached through an insecure MX
    }
    return requirement.requiresAuthentication()
        ? Authentication.VERIFIED
        : Authentication.ENCRYPTED;
  }

  /** A note for the attempt's detail; peer text in it is {@linkplain PeerText#clean cleaned}. */
  void note(String text) {
    notes.add(PeerText.clean(text));
  }

  List<String> drainNotes() {
    List<String> n = List.copyOf(notes);
    notes.clear();
    return n;
  }

  /**
   * Records that this plaintext session was opened after opportunistic TLS failed with {@code f} on
   * an earlier connection to the same host (RFC 7435): the server offered STARTTLS.
   */
  void plaintextAfter(SessionFailure f) {
    plaintextAfter = f;
  }

  /** The TLS failure this plaintext session was opened after, if it was. */
  Optional<SessionFailure> plaintextAfter() {
    return Optional.ofNullable(plaintextAfter);
  }

  /**
   * Records that the server did not offer STARTTLS, or refused it with a reply other than 220 (RFC
   * 3207 §4), and that this session goes on in plaintext.
   */
  void starttlsUnsupported() {
    starttlsUnsupported = true;
  }

  /**
   * Why this session, allowed to go on without TLS, has none ({@link
   * io.mailtls.core.Attempt#plaintextReason()}): {@code STARTTLS_NOT_SUPPORTED} after {@link
   * #starttlsUnsupported()}, the earlier connection's TLS failure after {@link #plaintextAfter};
   * empty with TLS.
   */
  Optional<FailureType> plaintextReason() {
    if (tls != null) {
      return Optional.empty();
    }
    if (plaintextAfter != null) {
      return Optional.of(plaintextAfter.type());
    }
    return starttlsUnsupported ? Optional.of(FailureType.STARTTLS_NOT_SUPPORTED) : Optional.empty();
  }

  void markBroken() {
    broken = true;
  }

  /**
   * Whether the server has sent anything the client has not read: on an idle session, where it
   * should have sent nothing, the sign of a server closing it (a 421 on its idle timeout, a TLS
   * close_notify). Counts what the reply reader holds, what TLS has decrypted, and what waits in
   * the TCP socket; a close without any octet (a bare FIN) is not seen: a session idle long enough
   * for that to be likely has its RSET answered before any of the message leaves instead (see
   * {@link Transaction#ONE_TRIP_IDLE_MAX}). Never blocks.
   */
  boolean inputWaiting() {
    if (reader.hasBufferedInput()) {
      return true;
    }
    try {
      return socket.getInputStream().available() > 0 || tcp.getInputStream().available() > 0;
    } catch (IOException e) {
      return true; // closed or failed: not usable either
    }
  }

  /**
   * Whether the next transaction must begin with RSET, pipelined ahead of its MAIL: set when a
   * pooled connection is taken again (see DomainDelivery), cleared when the RSET is written.
   */
  boolean rsetPending() {
    return rsetPending;
  }

  void rsetPending(boolean pending) {
    rsetPending = pending;
  }

  boolean isBroken() {
    return broken || socket == null || socket.isClosed();
  }

  int transactions() {
    return transactions;
  }

  void transactionDone() {
    transactions++;
  }

  /**
   * Records that an attempt to next hop {@code hop} uses this session; false when an earlier one
   * did (the session is reused for that hop: RFC 8460 §4.3 counted it then).
   */
  boolean firstUseFor(DomainName hop) {
    return nextHops.add(hop);
  }

  long idleSince() {
    return idleSince;
  }

  void idleFrom(long nanos) {
    idleSince = nanos;
  }

  /**
   * How long the session had been idle when the pool last handed it out, in nanoseconds on the
   * pool's clock; 0 for a session never pooled.
   */
  long idledFor() {
    return idledFor;
  }

  /** Notes, as the pool hands the session out at {@code now}, how long it had been idle. */
  void takenFromPool(long now) {
    idledFor = now - idleSince;
  }

  /** When the session was opened, on the pool's clock (see {@link #hasOpenedAt()}). */
  long openedAt() {
    return openedAt;
  }

  /** Whether {@link #openedAt(long)} was called. */
  boolean hasOpenedAt() {
    return openedAtSet;
  }

  void openedAt(long nanos) {
    openedAt = nanos;
    openedAtSet = true;
  }

  /** QUIT politely (bounded), then close (RFC 5321 §4.1.1.10): {@link #quitAll} of one. */
  void quit() {
    quitAll(List.of(this));
  }

  /**
   * QUITs each connection (RFC 5321 §4.1.1.10) and closes it, all within one {@link #QUIT_TIMEOUT}
   * from the call, not one each: QUIT is written on every connection first, then the replies are
   * read one connection after another under that shared deadline, and the connections not read by
   * then are closed without reading their replies, which may have come meanwhile (RFC 5321 §3.8: a
   * server that does not answer may be dropped; closing after QUIT loses nothing). So closing a
   * pool of sessions to servers that stopped answering (a tarpit, a host gone silent) takes one
   * bound, not one per session: the wait an application's shutdown sees. Writing QUIT shares the
   * deadline too, though on an idle session it does not wait (the server read all that came before
   * its last reply). Never throws for a failed QUIT; every connection is closed on return, answered
   * or not.
   */
  static void quitAll(Collection<SmtpConnection> connections) {
    long deadline = System.nanoTime() + QUIT_TIMEOUT.toNanos();
    List<SmtpConnection> sent = new ArrayList<>(connections.size());
    try {
      for (SmtpConnection c : connections) {
        if (c.sendQuit(deadline)) {
          sent.add(c);
        } else {
          c.close();
        }
      }
      // The servers answer at the same time; the replies that came while an earlier one was
      // awaited wait in their sockets.
      for (SmtpConnection c : sent) {
        c.awaitQuitReply(deadline);
        c.close();
      }
    } finally {
      connections.forEach(SmtpConnection::close); // closing twice does nothing
    }
  }

  /** Whether QUIT went out before {@code deadline} (on {@link System#nanoTime()}). */
  private boolean sendQuit(long deadline) {
    Duration left = Duration.ofNanos(deadline - System.nanoTime());
    if (isBroken() || left.isNegative() || left.isZero()) {
      return false;
    }
    try {
      writes.limit(left);
      write(SmtpCommand.quit(), SmtpStep.QUIT);
      flush(SmtpStep.QUIT);
      return true;
    } catch (SessionFailure | RuntimeException e) {
      // closing anyway (a RejectedExecutionException: the transport's timer has stopped)
      return false;
    }
  }

  /**
   * Reads the reply to QUIT until {@code deadline} at the latest; whatever it is, it is the end.
   */
  private void awaitQuitReply(long deadline) {
    Duration left = Duration.ofNanos(deadline - System.nanoTime());
    if (left.isNegative() || left.isZero()) {
      return; // unanswered within the bound: dropped (RFC 5321 §3.8)
    }
    try {
      read(left, SmtpStep.QUIT);
    } catch (SessionFailure | RuntimeException e) {
      // closing anyway: a timeout, a server that closed first, or a stopped timer
    }
  }

  @Override
  public void close() {
    broken = true;
    watch.close();
    closeQuietly(socket);
  }

  private static void closeQuietly(@Nullable Socket s) {
    if (s != null) {
      try {
        s.close();
      } catch (IOException ignored) {
        // closing
      }
    }
  }

  @Override
  public String toString() {
    return "SmtpConnection{"
        + host.map(DomainName::toString).orElse("")
        + " "
        + address
        + (tls == null ? " plaintext" : " " + tls.protocol())
        + "}";
  }
}
