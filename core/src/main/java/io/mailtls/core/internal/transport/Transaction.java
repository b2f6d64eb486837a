package io.mailtls.core.internal.transport;

import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DsnRequest;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.EnhancedStatus;
import io.mailtls.core.FailureType;
import io.mailtls.core.MessageContent;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.internal.smtp.BdatOutputStream;
import io.mailtls.core.internal.smtp.DotStuffingOutputStream;
import io.mailtls.core.internal.smtp.EhloCapabilities;
import io.mailtls.core.internal.smtp.EsmtpParameter;
import io.mailtls.core.internal.smtp.PeerText;
import io.mailtls.core.internal.smtp.PipelineGroups;
import io.mailtls.core.internal.smtp.SmtpCommand;
import io.mailtls.core.internal.smtp.SmtpReplyReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * One mail transaction on a ready connection: MAIL, RCPT, DATA or BDAT (RFC 5321 §3.3, RFC 2920,
 * RFC 3030), with the local checks that must come first (SIZE, 8BITMIME). Decides each recipient it
 * can; a session failure leaves the rest undecided for the next MX. What needs SMTPUTF8 comes only
 * where the server offers it ({@link Utf8Session}, RFC 6531 §3.2).
 */
final class Transaction {

  /** A decided recipient: its status and the reply that decided it. */
  record Decided(DeliveryStatus status, SmtpReply reply) {}

  /**
   * What the transaction established.
   *
   * @param decided the recipients decided on this connection
   * @param undecided the recipients to try elsewhere
   * @param failure the session failure that stopped the transaction, if any
   * @param contentFailure a failure after content started to flow (connection lost mid-DATA):
   *     recorded for the report, but the recipients it touched are decided (deferred)
   * @param stale whether a pooled connection turned out closed before the server took any command
   *     of this transaction (the RSET ahead of it went unanswered before any of the message left,
   *     or got 421): nothing is decided, and the transaction may run again on another connection
   * @param dsnPassedOn the recipients whose {@code RCPT TO} carried the envelope's DSN request to a
   *     server that advertises DSN (RFC 3461 §4) and was answered within an open transaction
   */
  record Outcome(
      Map<EmailAddress, Decided> decided,
      List<EmailAddress> undecided,
      Optional<SessionFailure> failure,
      Optional<SessionFailure> contentFailure,
      boolean stale,
      Set<EmailAddress> dsnPassedOn) {}

  /** Messages at least this large use BDAT when the server offers CHUNKING (RFC 3030). */
  static final long BDAT_THRESHOLD = 1 << 20;

  /**
   * Messages of known size up to this many octets go in one round trip where the server offers
   * PIPELINING and CHUNKING: MAIL, the RCPTs and the whole message as one {@code BDAT n LAST} chunk
   * in one write (RFC 3030 §4.2), held in memory first.
   */
  static final long ONE_TRIP_MAX = 256 * 1024;

  /**
   * A pooled session idle longer than this does not carry its next message in one round trip: the
   * reply to its RSET (RFC 5321 §4.1.1.5, pipelined with the envelope, RFC 2920 §3.1) is read
   * before any of the message leaves, as Postfix verifies a cached session with RSET. A server may
   * close an idle session without a word (a bare FIN: no 421, no octet), which no look at the idle
   * socket can see; a write into it still succeeds, so in one round trip the message would have
   * left before the end of the stream shows, and a lost verdict is deferred. Seen before the
   * content, the session is stale and the transaction runs on a new connection.
   *
   * <p>One second: sessions reused back to back, the pool's hot path, come back within milliseconds
   * and keep the one round trip. A server closes an idle session on its idle timeout (RFC 5321
   * §4.5.3.2.7 asks for at least 5 minutes; some close far sooner), when it shuts down or on a
   * limit of its own, which a session idle for longer has had time to meet; its second round trip
   * costs little against that idle time. A close within the second still costs a deferral, never a
   * duplicate.
   */
  static final Duration ONE_TRIP_IDLE_MAX = Duration.ofSeconds(1);

  private static final long ONE_TRIP_IDLE_MAX_NANOS = ONE_TRIP_IDLE_MAX.toNanos();

  private final SmtpConnection conn;
  private final Optional<EmailAddress> sender;
  private final MessageContent content;
  private final ContentFacts scan;

  /** Whether MAIL FROM carries REQUIRETLS (RFC 8689 §4.2.1; checked advertised before). */
  private final boolean requireTls;

  /** The envelope's DSN request (RFC 3461), passed on where the server advertises DSN. */
  private final Optional<DsnRequest> dsn;

  /** The recipients whose RCPT TO went out with the DSN parameters. */
  private final Set<EmailAddress> dsnPassedOn = new HashSet<>();

  /** Whether this transaction's MAIL and RCPT carry the DSN parameters. */
  private boolean dsnParameters;

  private final Map<EmailAddress, Decided> decided = new LinkedHashMap<>();

  /** The recipients decided by a server reply (not by a local check). */
  private final Set<EmailAddress> fromServer = new HashSet<>();

  /** Set once message content (or the dot of an abandoned DATA) may have started to flow. */
  private boolean contentStarted;

  /** Whether a RSET goes ahead of MAIL, pipelined: the connection came from the pool. */
  private final boolean rset;

  /**
   * Whether the RSET's reply must come before any of the message leaves: the session was idle in
   * the pool longer than {@link #ONE_TRIP_IDLE_MAX}.
   */
  private final boolean rsetFirst;

  /** Whether the server refused that RSET: the connection is not pooled again. */
  private boolean rsetRefused;

  /**
   * Whether the envelope's commands went pipelined (RFC 2920): then a reply that never came shifts
   * every later one onto the wrong command, and a timeout leaves the replies read unmatched.
   */
  private boolean pipelined;

  /**
   * Whether the server puts enhanced status codes in its replies (RFC 2034 §4: advertised, and the
   * reply to MAIL carried one): then a BDAT reply without one, or with an address's status, is not
   * the reply it stands for (see {@link #requireMessageStatus}).
   */
  private boolean statusCodesInUse;

  private Transaction(
      SmtpConnection conn,
      Optional<EmailAddress> sender,
      MessageContent content,
      ContentFacts scan,
      boolean requireTls,
      Optional<DsnRequest> dsn) {
    this.conn = conn;
    this.sender = sender;
    this.content = content;
    this.scan = scan;
    this.requireTls = requireTls;
    this.dsn = dsn;
    this.rset = conn.rsetPending();
    this.rsetFirst = rset && conn.idledFor() > ONE_TRIP_IDLE_MAX_NANOS;
  }

  static Outcome run(
      SmtpConnection conn,
      Optional<EmailAddress> sender,
      List<EmailAddress> recipients,
      MessageContent content,
      ContentFacts scan) {
    return run(conn, sender, recipients, content, scan, false, Optional.empty());
  }

  static Outcome run(
      SmtpConnection conn,
      Optional<EmailAddress> sender,
      List<EmailAddress> recipients,
      MessageContent content,
      ContentFacts scan,
      boolean requireTls,
      Optional<DsnRequest> dsn) {
    return new Transaction(conn, sender, content, scan, requireTls, dsn).run(recipients);
  }

  private Outcome run(List<EmailAddress> recipients) {
    EhloCapabilities caps = Objects.requireNonNull(conn.capabilities(), "MAIL follows EHLO");
    List<EmailAddress> sendable = localChecks(caps, recipients);
    if (sendable.isEmpty()) {
      return done(List.of(), null, null);
    }
    try {
      return exchange(caps, sendable);
    } catch (SessionFailure f) {
      return stopped(sendable, f);
    } catch (RuntimeException e) {
      // No peer input may escape (nor a failing content source): a protocol error of this
      // attempt, the cause kept, and the connection is never used again.
      conn.markBroken();
      SessionFailure f =
          new SessionFailure(
              FailureType.PROTOCOL_ERROR, "transaction failed unexpectedly: " + e, null, e);
      if (contentStarted) {
        // Content may have reached the server: deferred, never tried elsewhere in this call.
        for (EmailAddress r : sendable) {
          decided.putIfAbsent(r, new Decided(DeliveryStatus.DEFERRED, lostReply(f)));
        }
        return done(List.of(), null, f);
      }
      return stopped(sendable, f);
    }
  }

  /**
   * A session failure before any content went out: what is not decided goes elsewhere. After a
   * protocol error, or a timeout among pipelined commands (a reply that never came shifts the ones
   * after it onto other commands, RFC 2920 §3.1), the server's replies in this transaction cannot
   * be trusted to belong to the commands they seem to answer, so its refusals are dropped too (fail
   * closed: the recipients are tried elsewhere or deferred); after a 421, a lost connection or a
   * timeout in lock step they stand.
   */
  private Outcome stopped(List<EmailAddress> sendable, SessionFailure f) {
    if (f.type() == FailureType.PROTOCOL_ERROR || (f.type() == FailureType.TIMEOUT && pipelined)) {
      fromServer.forEach(decided::remove);
    }
    List<EmailAddress> undecided = new ArrayList<>();
    for (EmailAddress r : sendable) {
      if (!decided.containsKey(r)) {
        undecided.add(r);
      }
    }
    return done(undecided, f, null);
  }

  /**
   * Refusals that need no server: RFC 1870 SIZE, RFC 6152 8BITMIME. UTF-8 addresses (RFC 6531)
   * never reach a transaction on a server without SMTPUTF8: {@link Utf8Session} leaves them for the
   * next MX host first.
   */
  private List<EmailAddress> localChecks(EhloCapabilities caps, List<EmailAddress> recipients) {
    long max = caps.size().orElse(0);
    long size = scan.dataSize().orElse(0); // unknown: the server judges it at the end of data
    if (max > 0 && size > max) {
      return decideAll(
          recipients,
          DeliveryStatus.BOUNCED,
          SmtpReply.local(
              552,
              EnhancedStatus.MESSAGE_TOO_BIG,
              "message of "
                  + size
                  + " octets exceeds the server's SIZE limit of "
                  + max
                  + " (RFC 1870)"));
    }
    if (scan.eightBit() && !caps.eightBitMime()) {
      return decideAll(
          recipients,
          DeliveryStatus.BOUNCED,
          SmtpReply.local(
              554,
              EnhancedStatus.CONVERSION_NOT_SUPPORTED,
              "8-bit content, and the server does not offer 8BITMIME (RFC 6152)"));
    }
    return recipients;
  }

  private List<EmailAddress> decideAll(
      List<EmailAddress> recipients, DeliveryStatus status, SmtpReply reply) {
    for (EmailAddress r : recipients) {
      decided.put(r, new Decided(status, reply));
    }
    return List.of();
  }

  private Outcome exchange(EhloCapabilities caps, List<EmailAddress> rcpts) throws SessionFailure {
    boolean utf8Addresses =
        sender.map(EmailAddress::needsSmtpUtf8).orElse(false)
            || rcpts.stream().anyMatch(EmailAddress::needsSmtpUtf8);
    // RFC 6531 §3.4: SMTPUTF8 for UTF-8 addresses, or UTF-8 header fields (RFC 6532), declared or
    // found by the scan. A server without the extension never gets such header fields or
    // addresses (Utf8Session, RFC 6531 §3.2): they are left for the next MX host before this.
    boolean utf8 = caps.smtpUtf8() && (utf8Addresses || scan.utf8Headers());
    List<EsmtpParameter> params = new ArrayList<>();
    if (caps.size().isPresent() && scan.dataSize().isPresent()) {
      params.add(EsmtpParameter.size(scan.dataSize().getAsLong())); // RFC 1870 §6
    }
    if (scan.eightBit()) {
      params.add(EsmtpParameter.body(EsmtpParameter.Body.EIGHT_BIT_MIME)); // RFC 6152 §3
    }
    if (utf8) {
      params.add(EsmtpParameter.smtpUtf8()); // RFC 6531 §3.4
    }
    if (requireTls) {
      params.add(EsmtpParameter.requireTls()); // RFC 8689 §4.2.1
    }
    // RFC 3461 §4: the DSN parameters only to a server that advertises DSN (§5.2.2 otherwise:
    // the message goes without them, and the result says the request was not passed on).
    DsnRequest request = caps.dsn() ? dsn.orElse(null) : null;
    dsnParameters = request != null;
    if (request != null) {
      request.ret().ifPresent(r -> params.add(EsmtpParameter.ret(ret(r)))); // RFC 3461 §4.3
      request.envelopeId().ifPresent(id -> params.add(EsmtpParameter.envid(id))); // §4.4
    }
    // BDAT only where its replies can be told apart (RFC 2034 §4): unlike DATA's 354, nothing in
    // RFC 3030 shows that replies and commands still match before the message is judged, so a
    // surplus reply from a server without enhanced status codes would be taken for the verdict.
    boolean chunking = caps.chunking() && caps.enhancedStatusCodes();
    boolean bdat = chunking && scan.dataSize().orElse(0) >= BDAT_THRESHOLD;
    SmtpCommand mail = SmtpCommand.mailFrom(sender.map(EmailAddress::toPath).orElse(""), params);
    // The first group carries the RSET of a reused session too.
    int ahead = rset ? SmtpCommand.rset().toBytes().length : 0;
    List<SmtpCommand> rcptCommands = new ArrayList<>();
    for (EmailAddress r : rcpts) {
      rcptCommands.add(
          SmtpCommand.rcptTo(r.toPath(), utf8, request == null ? List.of() : rcptDsn(request, r)));
    }
    // A session idle for a while goes the usual way, where the RSET's reply comes before any of
    // the message (ONE_TRIP_IDLE_MAX).
    if (caps.pipelining()
        && chunking
        && !rsetFirst
        && scan.dataSize().isPresent()
        && scan.dataSize().getAsLong() <= ONE_TRIP_MAX
        && PipelineGroups.sizes(ahead, mail, rcptCommands, null).size() == 1) {
      Outcome oneTrip = oneTrip(caps, mail, rcptCommands, rcpts);
      if (oneTrip != null) {
        return oneTrip;
      }
      // Larger than it said: nothing went out, and the message goes the usual way.
    }
    SmtpReply mailReply;
    List<EmailAddress> accepted = new ArrayList<>();
    SmtpReply dataReply = null;
    if (caps.pipelining()) {
      pipelined = true;
      // RFC 2920 §3.1: MAIL, the RCPTs and DATA in groups that fit the TCP window
      // (PipelineGroups); each group's replies are read, in order, before the next is sent.
      SmtpCommand data = bdat ? null : SmtpCommand.data();
      List<Integer> groups = PipelineGroups.sizes(ahead, mail, rcptCommands, data);
      mailReply = null;
      int next = 0;
      for (int g = 0; g < groups.size(); g++) {
        int end = next + groups.get(g);
        boolean closesWithData = data != null && g == groups.size() - 1;
        if (g == 0) {
          if (rset) {
            conn.write(SmtpCommand.rset(), SmtpStep.RSET); // RFC 2920 §3.1: anywhere in a group
            conn.rsetPending(false);
          }
          conn.write(mail, SmtpStep.MAIL);
        }
        for (int i = next; i < end; i++) {
          conn.write(rcptCommands.get(i), SmtpStep.RCPT);
        }
        if (closesWithData && data != null) {
          conn.write(data, SmtpStep.DATA);
        }
        try {
          conn.flush(g == 0 ? SmtpStep.MAIL : SmtpStep.RCPT);
        } catch (SessionFailure f) {
          if (rset && g == 0) {
            return stale(rcpts, f);
          }
          throw f;
        }
        // A 421 ends the session at once (RFC 5321 §3.8): stop reading at the first one; what
        // was decided before it stands.
        if (g == 0) {
          if (rset) {
            Outcome gone = rsetReply(rcpts, conn.timeouts.command(), false);
            if (gone != null) {
              return gone;
            }
          }
          mailReply = conn.read(conn.timeouts.command(), SmtpStep.MAIL);
          checkCompletion(mailReply, SmtpStep.MAIL, "250");
          noteStatusCodes(caps, mailReply);
        }
        Objects.requireNonNull(mailReply, "read with the first group");
        for (int i = next; i < end; i++) {
          // The last reply of a group must be all the server sent (RFC 2920 §3.1).
          boolean groupEnd = i == end - 1 && !closesWithData;
          SmtpReply r =
              groupEnd
                  ? conn.readFinal(conn.timeouts.command(), SmtpStep.RCPT)
                  : conn.read(conn.timeouts.command(), SmtpStep.RCPT);
          checkCompletion(r, SmtpStep.RCPT, "250/251");
          if (mailReply.isPositiveCompletion()) {
            dsnSent(rcpts.get(i));
            rcptReply(rcpts.get(i), r, accepted);
          } else {
            requireNoTransaction(mailReply, r);
          }
        }
        if (closesWithData) {
          dataReply = conn.readFinal(conn.timeouts.dataInitiation(), SmtpStep.DATA);
          checkDataReply(dataReply);
        }
        next = end;
        if (!mailReply.isPositiveCompletion()) {
          break; // no transaction: the remaining groups would only collect 503s
        }
      }
    } else {
      mailReply = conn.command(mail, conn.timeouts.command(), SmtpStep.MAIL);
      checkCompletion(mailReply, SmtpStep.MAIL, "250");
      noteStatusCodes(caps, mailReply);
      if (mailReply.isPositiveCompletion()) {
        for (int i = 0; i < rcptCommands.size(); i++) {
          SmtpReply r = conn.command(rcptCommands.get(i), conn.timeouts.command(), SmtpStep.RCPT);
          checkCompletion(r, SmtpStep.RCPT, "250/251");
          dsnSent(rcpts.get(i));
          rcptReply(rcpts.get(i), r, accepted);
        }
      }
    }
    if (!Objects.requireNonNull(mailReply).isPositiveCompletion()) {
      abandonData(dataReply);
      mailRefused();
      decideAll(rcpts, statusOf(mailReply), mailReply);
      fromServer.addAll(rcpts);
      return done(List.of(), null, null);
    }
    if (accepted.isEmpty()) {
      abandonData(dataReply);
      return done(List.of(), null, null);
    }
    if (bdat) {
      return sendBdat(accepted);
    }
    if (dataReply == null) {
      dataReply = conn.command(SmtpCommand.data(), conn.timeouts.dataInitiation(), SmtpStep.DATA);
      checkDataReply(dataReply);
    }
    if (dataReply.code() != 354) {
      requireInStep(dataReply);
      decideAll(accepted, statusOf(dataReply), dataReply);
      return done(List.of(), null, null);
    }
    return sendData(accepted);
  }

  /**
   * A refusal of DATA after an accepted RCPT decides the accepted recipients only once the replies
   * are known to answer their commands. Nothing shows that in the refusal itself: RFC 2920 §3.1
   * matches replies to commands by order alone, and a surplus reply that came early (or, in lock
   * step, late) puts every later one a place further on, so that the last RCPT's refusal stands
   * where DATA's reply is due, the accepted recipients read as refused by it, and DATA's real reply
   * (a 354, since the server accepted a recipient) is still to come. Only a 354 proves the replies
   * in step, as a 2xx there proves them out of step ({@link #checkDataReply}); a refusal needs the
   * reply after it. So RSET (RFC 5321 §4.1.1.5, which also ends the refused transaction) goes out
   * and its reply is read: a 250 is RSET's own, and the refusal stands; so it does when the server
   * hung up after its refusal, for then it had nothing more to say. Any other reply (the 354 still
   * due, or another refusal) shows the replies out of step: a protocol error, which decides nobody.
   *
   * @throws SessionFailure a protocol error, the connection never used again; or the failure that
   *     ended the wait for RSET's reply (a timeout), which decides nobody either
   */
  private void requireInStep(SmtpReply dataReply) throws SessionFailure {
    confirmRefusal(dataReply, SmtpStep.DATA, SmtpCommand.rset(), SmtpStep.RSET, 250);
  }

  /**
   * A permanent refusal of a BDAT chunk or of BDAT LAST (RFC 3030 §2) after an accepted RCPT
   * decides the accepted recipients only once the replies are known to answer their commands. As
   * with DATA ({@link #requireInStep}), a surplus reply early (RFC 2920 §3.1 matches replies by
   * order alone) puts the last RCPT's refusal where the chunk's reply, or the verdict on the
   * message, is due, while that reply is still to come. Unlike DATA, whose reply still due is a
   * 354, the reply still due here is a 250 as often as not, which RSET's 250 cannot be told from.
   * QUIT's reply can: RFC 5321 §4.1.1.10 has the server answer 221 and close. So QUIT goes out and
   * its reply is read: a 221 (and nothing after it) is QUIT's own, and the refusal stands; so it
   * does when the server hung up after its refusal, for then it had nothing more to say. Any other
   * reply (the chunk's or the message's own reply still due), or none in time, shows the replies
   * out of step: a protocol error, which decides nobody. The connection is closed either way: only
   * a refused message pays for the check, never a delivered one.
   *
   * @throws SessionFailure a protocol error, the connection never used again
   */
  private void requireInStepBeforeQuit(SmtpReply refusal, SmtpStep step) throws SessionFailure {
    conn.markBroken(); // QUIT ends the session; nothing else goes on it
    confirmRefusal(refusal, step, SmtpCommand.quit(), SmtpStep.QUIT, 221);
  }

  /**
   * Sends {@code probe} after {@code refusal}, the reply read for {@code step}, and reads its
   * reply: {@code expected} is the probe's own and shows the replies in step, and so does a server
   * that hung up after its refusal. Anything else, or no reply in time, is a protocol error, the
   * connection never used again.
   */
  private void confirmRefusal(
      SmtpReply refusal, SmtpStep step, SmtpCommand probe, SmtpStep probeStep, int expected)
      throws SessionFailure {
    SmtpReply r;
    try {
      r = conn.command(probe, conn.timeouts.command(), probeStep);
    } catch (SessionFailure f) {
      conn.markBroken();
      if (f.type() == FailureType.CONNECTION_LOST) {
        return; // the server closed after its refusal: nothing was left to come
      }
      throw new SessionFailure(
          FailureType.PROTOCOL_ERROR,
          step
              + ": refused ("
              + PeerText.quote(refusal.toString())
              + "), and no reply to the "
              + probeStep
              + " after it showed the replies in step: "
              + f.getMessage(),
          null,
          f);
    }
    if (r.code() != expected) {
      conn.markBroken();
      throw new SessionFailure(
          FailureType.PROTOCOL_ERROR,
          step
              + ": refused ("
              + PeerText.quote(refusal.toString())
              + "), then "
              + PeerText.quote(r.toString())
              + " where the reply to "
              + probeStep
              + " was due: the replies do not match the commands (RFC 2920 §3.1)",
          r,
          null);
    }
  }

  /** The one chunk of a one-trip transaction, held until the envelope goes with it. */
  private static final class HeldChunk implements BdatOutputStream.ChunkSink {
    private @Nullable SmtpCommand command;
    private byte[] octets = new byte[0];
    private int offset;
    private int length;
    private boolean overflow;

    /** The outcome when the content could not go (unreadable, or breaking its declaration). */
    private @Nullable Outcome refusal;

    @Override
    public void chunk(SmtpCommand cmd, byte[] bytes, int off, int len) throws IOException {
      if (!cmd.equals(SmtpCommand.bdat(len, true))) {
        overflow = true;
        throw new IOException("the content is larger than its size said");
      }
      // The chunker's own buffer: it is not written to again after the last chunk.
      hold(cmd, bytes, off, len);
    }

    void hold(SmtpCommand cmd, byte[] bytes, int off, int len) {
      command = cmd;
      octets = bytes;
      offset = off;
      length = len;
    }
  }

  /**
   * The whole transaction in one round trip (RFC 3030 §4.2, RFC 2920 §3.1): the content is
   * normalised into one chunk in memory and checked against its declaration before anything goes
   * out, so content that fails or breaks its declaration sends nothing and leaves the connection
   * clean; a caller's array whose measuring found only CRLF line breaks is the chunk itself. Then
   * MAIL, the RCPTs and {@code BDAT n LAST} with the chunk go in one write, and the replies are
   * read in order. Returns null, having sent nothing, when the content turned out larger than its
   * size said.
   *
   * <p>From that write on the server may have the message, so whatever its replies do not decide is
   * deferred, never tried at another host in this call; replies that cannot be matched to the
   * commands (a protocol error) decide nothing. Only a 2xx to {@code BDAT LAST} after an accepted
   * MAIL and RCPT delivers (RFC 3030 §2). Not for a pooled session idle longer than {@link
   * #ONE_TRIP_IDLE_MAX}, which may have been closed without a word.
   */
  private @Nullable Outcome oneTrip(
      EhloCapabilities caps,
      SmtpCommand mail,
      List<SmtpCommand> rcptCommands,
      List<EmailAddress> rcpts)
      throws SessionFailure {
    HeldChunk held = new HeldChunk();
    if (content instanceof BytesContent bytes && scan.crlfOnly()) {
      // The caller's array, measured, and unchanged by normalisation: it goes out as it is.
      byte[] octets = bytes.octets();
      held.hold(SmtpCommand.bdat(octets.length, true), octets, 0, octets.length);
    } else if (!normaliseInto(held, rcpts)) {
      return held.refusal; // null when the content was larger than its size said
    }
    SmtpCommand bdatLast = Objects.requireNonNull(held.command, "the LAST chunk is held");

    contentStarted = true;
    pipelined = true;
    ContentOutput.Wire wire = new ContentOutput.Wire(conn.contentStream());
    conn.startTransfer(); // the one write shares the content's budget (SmtpTimeouts#minDataRate)
    try {
      if (rset) {
        SmtpCommand.rset().writeTo(wire);
        conn.rsetPending(false);
      }
      mail.writeTo(wire);
      for (SmtpCommand rcpt : rcptCommands) {
        rcpt.writeTo(wire);
      }
      bdatLast.writeTo(wire);
      wire.write(held.octets, held.offset, held.length);
      wire.flush();
    } catch (IOException e) {
      if (rset) {
        // The last chunk never arrived whole, so the server cannot have taken the message.
        return stale(rcpts, conn.lost(SmtpStep.BDAT_LAST, e));
      }
      return contentLost(rcpts, e, SmtpStep.BDAT_LAST);
    } finally {
      conn.endTransfer();
    }

    SmtpReply mailReply;
    List<EmailAddress> accepted = new ArrayList<>();
    SmtpReply last;
    // Every reply with the bound of the verdict (RFC 5321 §4.5.3.2.6): a server may hold its
    // replies to MAIL and RCPT until it has taken in, and judged, the whole message.
    Duration bound = conn.timeouts.dataTermination();
    try {
      if (rset) {
        Outcome gone = rsetReply(rcpts, bound, true);
        if (gone != null) {
          return gone;
        }
      }
      mailReply = conn.read(bound, SmtpStep.MAIL);
      checkCompletion(mailReply, SmtpStep.MAIL, "250");
      noteStatusCodes(caps, mailReply);
      if (rsetRefused && !mailReply.isPositiveCompletion()) {
        // The refusal may be of the state the refused RSET left (a 503 to a nested MAIL), not of
        // this message: never a bounce on its word.
        throw new SessionFailure(
            FailureType.PROTOCOL_ERROR,
            SmtpStep.MAIL + ": refused after a refused RSET: " + mailReply,
            mailReply,
            null);
      }
      for (EmailAddress rcpt : rcpts) {
        SmtpReply r = conn.read(bound, SmtpStep.RCPT);
        checkCompletion(r, SmtpStep.RCPT, "250/251");
        if (mailReply.isPositiveCompletion()) {
          dsnSent(rcpt);
          rcptReply(rcpt, r, accepted);
        } else {
          requireNoTransaction(mailReply, r);
        }
      }
      // The last reply of the group must be all the server sent (RFC 2920 §3.1): with the
      // content already out there is no 354 to show that replies and commands still match.
      last = conn.readFinal(bound, SmtpStep.BDAT_LAST);
      if (!isVerdict(last)) {
        throw conn.unexpected(last, SmtpStep.BDAT_LAST, "250");
      }
      requireMessageStatus(last, SmtpStep.BDAT_LAST);
    } catch (SessionFailure f) {
      if (f.type() == FailureType.SERVICE_CLOSING) {
        // A 421 to MAIL or RCPT (RFC 5321 §3.8): the server ends the session before any
        // transaction could take the message, so the undecided recipients may go elsewhere.
        return stopped(rcpts, f);
      }
      return unconfirmed(rcpts, f);
    }
    if (!mailReply.isPositiveCompletion() || accepted.isEmpty()) {
      if (last.isPositiveCompletion()) {
        // A message taken with no transaction or no recipient: the replies do not add up. Not
        // ignored as after DATA's empty message (abandonData): here the whole message has left
        // and no 354 showed the refusals in step, so the 2xx may be an accepted RCPT's, shifted
        // by a surplus refusal, with the server holding the message; a bounce could be false.
        return unconfirmed(
            rcpts, conn.unexpected(last, SmtpStep.BDAT_LAST, "5xx without a recipient"));
      }
      if (!mailReply.isPositiveCompletion()) {
        mailRefused();
        decideAll(rcpts, statusOf(mailReply), mailReply);
        fromServer.addAll(rcpts);
      }
      endRefused(last);
      return done(List.of(), null, null);
    }
    if (last.isPermanentFailure()) {
      try {
        requireInStepBeforeQuit(last, SmtpStep.BDAT_LAST);
      } catch (SessionFailure f) {
        return unconfirmed(rcpts, f);
      }
    }
    if (last.code() == 421) {
      conn.markBroken();
    }
    DeliveryStatus status = last.isPositiveCompletion() ? DeliveryStatus.DELIVERED : statusOf(last);
    decideAll(accepted, status, last);
    if (status == DeliveryStatus.DELIVERED) {
      conn.transactionDone();
    }
    return done(List.of(), null, null);
  }

  /**
   * Normalises the content into {@code held} and checks it against its declaration. Returns false
   * when nothing may be sent: {@code held.refusal} then holds the outcome for the recipients, or
   * null when the content turned out larger than its size said.
   */
  private boolean normaliseInto(HeldChunk held, List<EmailAddress> rcpts) {
    long size = scan.dataSize().orElse(0);
    // A measured size is the chunk's own (RFC 1870 §4 counts no doubled dots, and BDAT stuffs
    // none); some room for a declared size that was a little low.
    int capacity = (int) Math.min(ONE_TRIP_MAX, size + size / 8 + 64);
    BdatOutputStream chunker = BdatOutputStream.normalizing(held, capacity);
    ContentOutput out = new ContentOutput(chunker, scan.declared());
    try {
      content.writeTo(out);
      out.drain();
    } catch (IOException | RuntimeException e) {
      if (!held.overflow) {
        held.refusal =
            notSent(rcpts, PeerText.clean("message content could not be read: " + e.getMessage()));
      }
      return false;
    }
    if (held.overflow) {
      return false; // the content swallowed the overflow: never send what it left in the chunk
    }
    Optional<String> broken = out.measured().flatMap(scan::brokenPromise);
    if (broken.isPresent()) {
      held.refusal =
          notSent(
              rcpts, "message not sent: the content broke its declaration (" + broken.get() + ")");
      return false;
    }
    try {
      chunker.finish();
    } catch (IOException e) {
      if (held.overflow) {
        return false;
      }
      throw new IllegalStateException("the last chunk stays in memory", e);
    }
    return !held.overflow;
  }

  /**
   * After the one-trip write, a failure before the verdict (a lost connection, a timeout, a
   * protocol error), or after any BDAT a verdict that turned out not to answer its command: every
   * recipient is deferred ({@code rcpts}, and those whose RCPT read as refused), the refusals read
   * before it too, since they may belong to other commands.
   */
  private Outcome unconfirmed(List<EmailAddress> rcpts, SessionFailure f) {
    conn.markBroken();
    Decided deferred = new Decided(DeliveryStatus.DEFERRED, lostReply(f));
    for (EmailAddress r : fromServer) {
      decided.put(r, deferred);
    }
    for (EmailAddress r : rcpts) {
      decided.putIfAbsent(r, deferred);
    }
    return done(List.of(), null, f);
  }

  /**
   * A one-trip transaction the server refused (MAIL, or every RCPT): its BDAT LAST was refused too
   * and the data discarded (RFC 3030 §2). RSET clears any state left (RFC 5321 §4.1.1.5); a server
   * that does not take it, or that is closing, is not used again.
   */
  private void endRefused(SmtpReply last) {
    if (last.code() == 421) {
      conn.markBroken();
      return;
    }
    try {
      SmtpReply rset = conn.command(SmtpCommand.rset(), conn.timeouts.command(), SmtpStep.RSET);
      if (!rset.isPositiveCompletion()) {
        conn.markBroken();
      }
    } catch (SessionFailure f) {
      conn.markBroken(); // the verdicts stand: each came with its own reply
    }
  }

  /**
   * A 552 to RCPT taken as temporary: a local 452 4.5.3 (too many recipients, RFC 3463 §3.6) that
   * quotes the server's reply, so that a deferred recipient never carries a permanent reply and the
   * report never attributes the reclassification to the server.
   */
  private static SmtpReply asTooManyRecipients(SmtpReply r) {
    return SmtpReply.local(
        452,
        EnhancedStatus.parse("4.5.3"),
        PeerText.clean(
            "the server's "
                + r
                + " to RCPT, taken as temporary: a 552 may mean too many recipients (RFC 5321"
                + " §4.5.3.1.10)"));
  }

  /** Content that never went out: every recipient deferred with a local 451 4.3.0 (RFC 3463). */
  private Outcome notSent(List<EmailAddress> rcpts, String text) {
    decideAll(rcpts, DeliveryStatus.DEFERRED, SmtpReply.local(451, "4.3.0", text));
    return done(List.of(), null, null);
  }

  /**
   * Records one RCPT reply: a 2xx accepts the recipient, a 4xx/5xx decides it. A 552 is deferred,
   * not bounced, unless its enhanced status names another cause than too many recipients: RFC 821
   * gave 552 for "too many recipients", which RFC 5321 §4.5.3.1.10 corrects to 452 and asks clients
   * to treat as temporary ("SHOULD"), so that the recipient goes in a later transaction. A 552 with
   * X.5.3 (too many recipients, RFC 3463 §3.6) or with no enhanced status may be that; a 552 5.2.2
   * (mailbox full) is the server's own permanent verdict and bounces.
   */
  private void rcptReply(EmailAddress rcpt, SmtpReply r, List<EmailAddress> accepted) {
    if (r.isPositiveCompletion()) {
      accepted.add(rcpt);
    } else {
      boolean tooManyRecipients =
          r.code() == 552
              && r.enhancedStatus().map(e -> e.subject() == 5 && e.detail() == 3).orElse(true);
      decided.put(
          rcpt,
          tooManyRecipients
              ? new Decided(DeliveryStatus.DEFERRED, asTooManyRecipients(r))
              : new Decided(statusOf(r), r));
      fromServer.add(rcpt);
    }
  }

  /**
   * After a refused MAIL there is no transaction, and a RCPT gets 503 (RFC 5321 §3.3), or another
   * refusal. A 2xx there means the replies no longer answer the commands they stand for (one that
   * came early, or one that never came, shifts the rest: RFC 2920 §3.1 matches them by order
   * alone), so the refusal read for MAIL may be another command's: a protocol error, which decides
   * nobody.
   *
   * @throws SessionFailure a protocol error, the connection never used again
   */
  private void requireNoTransaction(SmtpReply mailReply, SmtpReply rcptReply)
      throws SessionFailure {
    if (rcptReply.isPositiveCompletion()) {
      conn.markBroken();
      throw new SessionFailure(
          FailureType.PROTOCOL_ERROR,
          SmtpStep.RCPT
              + ": reply "
              + PeerText.quote(rcptReply.toString())
              + " after MAIL was refused ("
              + PeerText.quote(mailReply.toString())
              + "), where RFC 5321 §3.3 has a 503: the replies do not match the commands",
          rcptReply,
          null);
    }
  }

  /**
   * Notes whether the server, which advertised them, puts enhanced status codes in its replies. A
   * code whose class contradicts the reply code is no status of the reply, but it shows all the
   * same that the server writes codes into its replies ({@link SmtpReplyReader#writtenStatus}).
   */
  private void noteStatusCodes(EhloCapabilities caps, SmtpReply mailReply) {
    statusCodesInUse =
        caps.enhancedStatusCodes() && SmtpReplyReader.writtenStatus(mailReply).isPresent();
  }

  /**
   * A positive reply to BDAT from a server that puts enhanced status codes in its replies must
   * carry one (RFC 2034 §4), and not the status of an address (X.1.Y, RFC 3463 §3.3: the answer to
   * MAIL or RCPT). Either means a surplus reply came before it, so that it answers another command:
   * BDAT has no 354 to show that replies and commands still match, and only a 2xx that is the
   * verdict on the message may deliver it. Refusals are taken as they come.
   *
   * <p>This looks at the form of the reply, not at what it means: a code whose class contradicts
   * the reply code (say {@code 250 5.0.0 queued}) counts as the code the server wrote there, its
   * class ignored. What the reply means is its reply code's alone (RFC 5321 §4.2.1), on this path
   * as after the final dot of DATA, so such a 250 is the same verdict on both.
   *
   * @throws SessionFailure a protocol error, the connection never used again
   */
  private void requireMessageStatus(SmtpReply r, SmtpStep step) throws SessionFailure {
    if (!statusCodesInUse || !r.isPositiveCompletion()) {
      return;
    }
    Optional<EnhancedStatus> status = SmtpReplyReader.writtenStatus(r);
    if (status.isEmpty() || status.get().subject() == 1) {
      throw conn.unexpected(r, step, "250 with a status of the message");
    }
  }

  /**
   * RFC 5321 §4.3.2: MAIL, RCPT, the final dot (and BDAT, RFC 3030 §2) get a 2xx or a 4xx/5xx; a
   * 3xx is a protocol error. A 421 ends the session (RFC 5321 §3.8).
   */
  private void checkCompletion(SmtpReply r, SmtpStep step, String expected) throws SessionFailure {
    closingCheck(r, step);
    if (r.isIntermediate()) {
      throw conn.unexpected(r, step, expected);
    }
  }

  /** RFC 5321 §4.3.2: 354 is the only positive reply to DATA; any other is a protocol error. */
  private void checkDataReply(SmtpReply r) throws SessionFailure {
    closingCheck(r, SmtpStep.DATA);
    if (r.code() != 354) {
      conn.requireCompletion(r, SmtpStep.DATA, "354");
    }
  }

  /**
   * After a failed MAIL or no accepted RCPT, a pipelined DATA that nevertheless got 354 is ended
   * with an empty message (RFC 2920 §3.1), whose reply is read (and must be all the server sent)
   * and ignored, then RSET. Even a 2xx: the 354 came where DATA's reply was due, so the refusals
   * before it answered their commands, and none of the message left (Postfix ignores it too).
   * Unlike a 2xx to BDAT LAST in one round trip without a recipient (see {@link #oneTrip}).
   */
  private void abandonData(@Nullable SmtpReply dataReply) throws SessionFailure {
    if (dataReply != null && dataReply.code() == 354) {
      contentStarted = true;
      try {
        conn.contentStream().write(".\r\n".getBytes(StandardCharsets.US_ASCII));
      } catch (IOException e) {
        throw conn.lost(SmtpStep.DATA, e);
      }
      conn.flush(SmtpStep.DATA);
      SmtpReply end = conn.readFinal(conn.timeouts.dataTermination(), SmtpStep.DATA);
      if (end.code() == 421 || end.isIntermediate()) {
        conn.markBroken(); // closing, or out of step: not worth an RSET
        return;
      }
      SmtpReply rset = conn.command(SmtpCommand.rset(), conn.timeouts.command(), SmtpStep.RSET);
      if (!rset.isPositiveCompletion()) {
        conn.markBroken(); // RFC 5321 §4.1.1.5: RSET gets 250; anything else, start afresh
      }
    }
  }

  private Outcome sendData(List<EmailAddress> accepted) throws SessionFailure {
    contentStarted = true;
    // The content's writes share one time budget (SmtpTimeouts#minDataRate), not the final reply.
    conn.startTransfer();
    try {
      ContentOutput.Wire wire = new ContentOutput.Wire(conn.contentStream());
      // RFC 5321 §4.5.2: dot-stuffing and CRLF line ends, streamed; the content writes itself into
      // the encoder, never whole in memory.
      DotStuffingOutputStream data = new DotStuffingOutputStream(wire);
      ContentOutput out = new ContentOutput(data, scan.declared());
      Outcome failed = write(accepted, out, wire, null, SmtpStep.DATA);
      if (failed != null) {
        return failed;
      }
      try {
        // RFC 5321 §4.3.2: the server says nothing between 354 and the final dot. Anything that
        // arrived by now (the real reply to DATA after a forged 354, say) means replies and
        // commands no longer match: stop before the dot, so that no reply can be taken for its.
        try {
          conn.requireNoBufferedInput(SmtpStep.DATA);
        } catch (SessionFailure f) {
          conn.markBroken();
          decideAll(
              accepted,
              DeliveryStatus.DEFERRED,
              SmtpReply.local(
                  451, EnhancedStatus.PROTOCOL_ERROR, "protocol error: " + f.getMessage()));
          return done(List.of(), null, f);
        }
        data.finish();
        wire.flush();
      } catch (IOException e) {
        return contentLost(accepted, e, SmtpStep.DATA);
      }
    } finally {
      conn.endTransfer();
    }
    return finalReply(accepted, SmtpStep.END_OF_DATA);
  }

  private Outcome sendBdat(List<EmailAddress> accepted) throws SessionFailure {
    contentStarted = true;
    // The chunks and their replies share one time budget (SmtpTimeouts#minDataRate), not the
    // reply to BDAT LAST.
    conn.startTransfer();
    try {
      ContentOutput.Wire wire = new ContentOutput.Wire(conn.contentStream());
      SmtpReply[] failed = new SmtpReply[1];
      SessionFailure[] chunkFailure = new SessionFailure[1];
      // RFC 3030 §2: each BDAT chunk is acknowledged; content goes as is after normalisation.
      BdatOutputStream.ChunkSink sink =
          (cmd, bytes, off, len) -> {
            if (failed[0] != null) {
              return;
            }
            cmd.writeTo(wire);
            wire.write(bytes, off, len);
            wire.flush();
            if (!cmd.equals(SmtpCommand.bdat(len, true))) {
              SmtpReply r;
              try {
                // One reply per chunk (RFC 3030 §2), and nothing after it.
                r = conn.readFinal(conn.timeouts.dataBlock(), SmtpStep.BDAT);
                if (r.isIntermediate()) {
                  throw conn.unexpected(r, SmtpStep.BDAT, "250");
                }
                requireMessageStatus(r, SmtpStep.BDAT);
              } catch (SessionFailure f) {
                chunkFailure[0] = f;
                throw new IOException(f.getMessage(), f);
              }
              if (!r.isPositiveCompletion()) {
                failed[0] = r;
              }
            }
          };
      BdatOutputStream bdat = BdatOutputStream.normalizing(sink);
      ContentOutput out = new ContentOutput(bdat, scan.declared());
      Outcome stopped = write(accepted, out, wire, chunkFailure, SmtpStep.BDAT);
      if (stopped != null) {
        return stopped;
      }
      try {
        bdat.finish();
      } catch (IOException e) {
        if (chunkFailure[0] != null) {
          conn.markBroken();
          decideAll(accepted, DeliveryStatus.DEFERRED, lostReply(chunkFailure[0]));
          return done(List.of(), null, chunkFailure[0]);
        }
        return contentLost(accepted, e, SmtpStep.BDAT);
      }
      if (failed[0] != null) {
        conn.markBroken(); // the server refused a chunk mid-message; start afresh elsewhere
        if (failed[0].isPermanentFailure()) {
          try {
            requireInStepBeforeQuit(failed[0], SmtpStep.BDAT);
          } catch (SessionFailure f) {
            return unconfirmed(accepted, f);
          }
        }
        decideAll(accepted, statusOf(failed[0]), failed[0]);
        return done(List.of(), null, null);
      }
    } finally {
      conn.endTransfer();
    }
    return finalReply(accepted, SmtpStep.BDAT_LAST);
  }

  /**
   * Has the content write itself into {@code out}, short of the end of data. Returns the outcome
   * when the message cannot be completed: the connection failed (the wire's own exception, however
   * the content passed it on), the content failed (unreadable), or broke its declaration. Returns
   * null when the end of data may follow.
   */
  private @Nullable Outcome write(
      List<EmailAddress> accepted,
      ContentOutput out,
      ContentOutput.Wire wire,
      SessionFailure @Nullable [] chunkFailure,
      SmtpStep step)
      throws SessionFailure {
    Exception contentFailure = null;
    try {
      content.writeTo(out);
      out.drain();
    } catch (IOException | RuntimeException e) {
      contentFailure = e;
    }
    // The connection's failures first: a content may wrap them, or even swallow them.
    if (chunkFailure != null && chunkFailure[0] != null) {
      SessionFailure f = chunkFailure[0];
      conn.markBroken();
      decideAll(accepted, DeliveryStatus.DEFERRED, lostReply(f));
      return done(List.of(), null, f);
    }
    IOException lost = wire.failure();
    if (lost != null) {
      return contentLost(accepted, lost, step);
    }
    if (contentFailure instanceof RuntimeException e) {
      throw e; // a bug in the content: run() defers, the connection unused again
    }
    if (contentFailure != null) {
      return contentUnreadable(accepted, (IOException) contentFailure);
    }
    Optional<String> broken = out.measured().flatMap(scan::brokenPromise);
    if (broken.isPresent()) {
      // Sent without the end of data, and the connection is never used again: the server
      // discards what it received (RFC 5321 §4.1.1.4, RFC 3030 §2), so nothing is delivered.
      conn.markBroken();
      decideAll(
          accepted,
          DeliveryStatus.DEFERRED,
          SmtpReply.local(
              451,
              "4.3.0",
              "message not sent: the content broke its declaration (" + broken.get() + ")"));
      return done(List.of(), null, null);
    }
    return null;
  }

  private Outcome finalReply(List<EmailAddress> accepted, SmtpStep step) {
    SmtpReply r;
    try {
      r = conn.read(conn.timeouts.dataTermination(), step);
    } catch (SessionFailure f) {
      // The content went out but no verdict came: deferred, never delivered.
      decideAll(accepted, DeliveryStatus.DEFERRED, lostReply(f));
      return done(List.of(), null, f);
    }
    if (!isVerdict(r)) {
      // RFC 5321 §4.3.2: the final dot gets 250 or a 4xx/5xx. Never delivered on a 3xx, nor on
      // another 2xx (a 221 answers QUIT); the connection's state is unknown, so it is discarded.
      SessionFailure f = conn.unexpected(r, step, "250");
      decideAll(accepted, DeliveryStatus.DEFERRED, lostReply(f));
      return done(List.of(), null, f);
    }
    if (step == SmtpStep.BDAT_LAST) {
      try {
        requireMessageStatus(r, step);
        if (r.isPermanentFailure()) {
          requireInStepBeforeQuit(r, step);
        }
      } catch (SessionFailure f) {
        return unconfirmed(accepted, f);
      }
    }
    if (r.code() == 421) {
      conn.markBroken();
    }
    DeliveryStatus status = r.isPositiveCompletion() ? DeliveryStatus.DELIVERED : statusOf(r);
    decideAll(accepted, status, r);
    // The verdict stands (a 2xx means the server took the message: deferring would send it
    // twice), but a server that says more than its reply is not talked to again.
    conn.discardUnsolicited(step);
    if (status == DeliveryStatus.DELIVERED) {
      conn.transactionDone();
    }
    return done(List.of(), null, null);
  }

  /**
   * Whether {@code r} may be the verdict on a message: 250, or a 4xx/5xx (RFC 5321 §4.3.2 for the
   * final dot, RFC 3030 §2 for BDAT). Any other 2xx, or a 3xx, answers some other command.
   */
  private static boolean isVerdict(SmtpReply r) {
    return r.code() == 250 || r.isTransientFailure() || r.isPermanentFailure();
  }

  private Outcome contentLost(List<EmailAddress> accepted, IOException e, SmtpStep step) {
    SessionFailure f = conn.lost(step, e);
    decideAll(accepted, DeliveryStatus.DEFERRED, lostReply(f));
    return done(List.of(), null, f);
  }

  private Outcome contentUnreadable(List<EmailAddress> accepted, IOException e) {
    conn.markBroken();
    decideAll(
        accepted,
        DeliveryStatus.DEFERRED,
        SmtpReply.local(
            451, "4.3.0", PeerText.clean("message content could not be read: " + e.getMessage())));
    return done(List.of(), null, null);
  }

  /**
   * The reply for recipients whose content went out without a verdict: the server's own when it was
   * a 4xx (a 421 closing), else a local 451 (RFC 3463 4.5.0 after a protocol error, 4.4.2 for a
   * lost connection). Never a positive code: nothing is delivered without 250 to the final dot.
   */
  private static SmtpReply lostReply(SessionFailure f) {
    Optional<SmtpReply> transientReply = f.reply().filter(SmtpReply::isTransientFailure);
    if (transientReply.isPresent()) {
      return transientReply.get();
    }
    if (f.type() == FailureType.PROTOCOL_ERROR) {
      return SmtpReply.local(
          451,
          EnhancedStatus.PROTOCOL_ERROR,
          "protocol error before the server confirmed the message: " + f.getMessage());
    }
    return SmtpReply.local(
        451,
        EnhancedStatus.BAD_CONNECTION,
        "connection lost before the server confirmed the message: " + f.getMessage());
  }

  private void closingCheck(SmtpReply r, SmtpStep step) throws SessionFailure {
    if (r.code() == 421) {
      conn.markBroken();
      throw new SessionFailure(
          FailureType.SERVICE_CLOSING, step + ": server closing: " + r, r, null);
    }
  }

  /**
   * MAIL FROM was refused: no transaction took the RCPT TOs pipelined with it (each gets 503, RFC
   * 5321 §4.1.4), so none of them passed the DSN request on, as in lock step, where no RCPT TO goes
   * at all.
   */
  private void mailRefused() {
    dsnPassedOn.clear();
  }

  /**
   * Notes that the server answered {@code r}'s RCPT TO within a transaction its MAIL FROM opened,
   * the RCPT carrying the DSN parameters if the transaction has them. Only a reply shows that the
   * server read the request: a RCPT written into a session that was lost before its reply, or
   * answered 503 after a refused MAIL, passed nothing on.
   */
  private void dsnSent(EmailAddress r) {
    if (dsnParameters) {
      dsnPassedOn.add(r);
    }
  }

  /**
   * The DSN parameters of one RCPT TO (RFC 3461 §4.1, §4.2), in Postfix's order: {@code NOTIFY},
   * then {@code ORCPT} naming the recipient ({@code rfc822;} xtext, or RFC 6533's {@code utf-8;}
   * for an address that needs SMTPUTF8). An ORCPT value over RFC 3461 §4.2's 500 characters is left
   * out: the parameter is optional, and the message still goes.
   */
  private static List<EsmtpParameter> rcptDsn(DsnRequest request, EmailAddress r) {
    List<EsmtpParameter> params = new ArrayList<>(2);
    if (!request.notifyOn().isEmpty()) {
      Set<EsmtpParameter.Notify> on = EnumSet.noneOf(EsmtpParameter.Notify.class);
      for (DsnRequest.Notify n : request.notifyOn()) {
        switch (n) {
          case NEVER -> {} // alone (DsnRequest checks): the empty set is NEVER
          case SUCCESS -> on.add(EsmtpParameter.Notify.SUCCESS);
          case FAILURE -> on.add(EsmtpParameter.Notify.FAILURE);
          case DELAY -> on.add(EsmtpParameter.Notify.DELAY);
        }
      }
      params.add(EsmtpParameter.notify(on));
    }
    if (request.originalRecipients()) {
      try {
        params.add(
            r.needsSmtpUtf8()
                ? EsmtpParameter.orcptUtf8(r.toPath())
                : EsmtpParameter.orcpt(r.toPath()));
      } catch (IllegalArgumentException tooLong) {
        // Over 500 characters encoded: sent without ORCPT, which RFC 3461 §4.2 makes optional.
      }
    }
    return params;
  }

  private static EsmtpParameter.Ret ret(DsnRequest.Ret ret) {
    return switch (ret) {
      case FULL -> EsmtpParameter.Ret.FULL;
      case HDRS -> EsmtpParameter.Ret.HDRS;
    };
  }

  static DeliveryStatus statusOf(SmtpReply r) {
    if (r.isPositiveCompletion()) {
      return DeliveryStatus.DELIVERED;
    }
    return r.isPermanentFailure() ? DeliveryStatus.BOUNCED : DeliveryStatus.DEFERRED;
  }

  private Outcome done(
      List<EmailAddress> undecided,
      @Nullable SessionFailure failure,
      @Nullable SessionFailure contentFailure) {
    if (rsetRefused) {
      conn.markBroken(); // RFC 5321 §4.1.1.5: RSET gets 250; anything else, start afresh
    }
    return new Outcome(
        Map.copyOf(decided),
        undecided,
        Optional.ofNullable(failure),
        Optional.ofNullable(contentFailure),
        false,
        Set.copyOf(dsnPassedOn));
  }

  /**
   * The pooled session the transaction was to use turned out unusable before the server could have
   * taken the message: nothing is decided, the connection is never used again, and the transaction
   * may run on another connection. See {@link #rsetReply} for when.
   */
  private Outcome stale(List<EmailAddress> rcpts, SessionFailure f) {
    conn.markBroken();
    return new Outcome(Map.of(), rcpts, Optional.of(f), Optional.empty(), true, Set.of());
  }

  /**
   * Reads the reply to the RSET pipelined ahead of the transaction on a pooled session; returns
   * null when the transaction may go on, or the {@link #stale} outcome.
   *
   * <p>Before any of the message has left ({@code contentSent} false: DATA, or BDAT after the
   * envelope's replies), every failure is stale: a lost connection, a timeout, a reply that is not
   * 250 (RFC 5321 §4.1.1.5); the commands after RSET are abandoned with the connection. In a
   * one-round-trip transaction the whole message has left with the RSET, and a server may hold its
   * replies until it has taken the message (RFC 2920 §3.1), so only a 421 or 221 (the server is
   * closing, RFC 5321 §3.8, and takes no command after it) is stale; a lost connection or a timeout
   * before the reply is thrown, to be deferred like any lost verdict, and a refused RSET lets the
   * transaction go on by its own replies (MAIL starts a new one anyway, RFC 5321 §3.3) but keeps
   * the session from being pooled again. That is why only sessions reused within {@link
   * #ONE_TRIP_IDLE_MAX} go in one round trip: a server that closed a session idle for longer with a
   * bare FIN is seen here before the message leaves, and the transaction runs on a new connection.
   *
   * @throws SessionFailure after the message has left, when the reply did not come or was not a
   *     reply to RSET
   */
  private @Nullable Outcome rsetReply(List<EmailAddress> rcpts, Duration bound, boolean contentSent)
      throws SessionFailure {
    SmtpReply r;
    try {
      r = conn.read(bound, SmtpStep.RSET);
    } catch (SessionFailure f) {
      if (!contentSent) {
        return stale(rcpts, f);
      }
      throw f;
    }
    if (r.code() == 421 || r.code() == 221) {
      return stale(
          rcpts,
          new SessionFailure(
              FailureType.SERVICE_CLOSING, SmtpStep.RSET + ": server closing: " + r, r, null));
    }
    if (r.isIntermediate() || (!r.isPositiveCompletion() && !contentSent)) {
      SessionFailure f = conn.unexpected(r, SmtpStep.RSET, "250");
      if (!contentSent) {
        return stale(rcpts, f);
      }
      throw f;
    }
    if (!r.isPositiveCompletion()) {
      rsetRefused = true;
    }
    return null;
  }
}
