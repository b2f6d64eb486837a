package io.mailtls.testkit.internal.smtp;

import io.mailtls.testkit.SmtpContentFault;
import io.mailtls.testkit.SmtpFaultContext;
import io.mailtls.testkit.SmtpFaultInjector;
import io.mailtls.testkit.SmtpReply;
import io.mailtls.testkit.SmtpStep;
import java.io.IOException;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The SMTP state machine of one connection (RFC 5321 §4.1, with STARTTLS per RFC 3207, AUTH per RFC
 * 4954, PIPELINING per RFC 2920, SIZE per RFC 1870 and CHUNKING per RFC 3030), asking the {@link
 * ActionScript} at every step whether to behave or misbehave.
 *
 * <p>Not thread-safe: runs on the connection's own thread.
 */
final class SessionHandler {

  private static final Logger log = LoggerFactory.getLogger(SessionHandler.class);

  private final ServerRuntime server;
  private final Socket socket;
  private final SessionRecorder record;
  private final ServerConfig config;

  @SuppressWarnings("NullAway.Init") // made first thing in run(), before anything uses it
  private Connection c;

  /** EHLO or HELO accepted since the last reset. */
  private boolean greeted;

  /** The accepted greeting was EHLO: service extensions are in effect. */
  private boolean esmtp;

  /** The greeting refused service: RFC 5321 §3.1, only QUIT is served. */
  private boolean serviceRefused;

  private @Nullable String authenticatedUser;
  private @Nullable Transaction tx;
  private int messageCount;

  SessionHandler(ServerRuntime server, Socket socket, SessionRecorder record) {
    this.server = server;
    this.socket = socket;
    this.record = record;
    this.config = server.config();
  }

  void run() {
    try {
      c = new Connection(server, socket, record);
      if (config.implicitTls() && !TlsUpgrade.run(c)) {
        return;
      }
      greet();
      while (!c.closing()) {
        String line = c.readLine();
        if (line == null) {
          break;
        }
        if (SmtpInput.isTooLong(line)) {
          // RFC 5321 §4.5.3.1.4 sets 512 octets; this server tolerates far more, but not this.
          c.send(SmtpReply.of(500, "5.5.6", "line too long"), enhanced());
          continue;
        }
        dispatch(line);
      }
    } catch (SocketTimeoutException e) {
      // RFC 5321 §4.5.3.2.7: the server may close an idle session, with a 421.
      try {
        c.send(SmtpReply.of(421, "4.4.2", config.hostname() + " idle timeout"), enhanced());
      } catch (IOException ignored) {
        // The client is gone anyway.
      }
    } catch (IOException e) {
      log.debug("mock SMTP session {} ended: {}", record.id(), e.toString());
    } finally {
      if (c != null) {
        c.close();
      } else {
        ServerRuntime.closeQuietly(socket);
      }
    }
  }

  /** RFC 2034: enhanced codes on every reply after EHLO, except the greeting and EHLO/HELO. */
  private boolean enhanced() {
    return esmtp && config.advertises("ENHANCEDSTATUSCODES");
  }

  private @Nullable SmtpReply perform(SmtpStep step, SmtpReply normal) throws IOException {
    boolean enhanced = enhanced() && step != SmtpStep.EHLO && step != SmtpStep.HELO;
    return c.perform(c.action(step, null), normal, enhanced);
  }

  private void send(int code, String enhancedCode, String text) throws IOException {
    c.send(SmtpReply.of(code, enhancedCode, text), enhanced());
  }

  private void greet() throws IOException {
    SmtpReply normal = SmtpReply.of(220, config.hostname() + " ESMTP mailtls testkit");
    SmtpReply sent = c.perform(c.action(SmtpStep.GREETING, null), normal, false);
    if (sent != null && !sent.isPositiveCompletion()) {
      serviceRefused = true;
    }
  }

  private void dispatch(String line) throws IOException {
    int space = line.indexOf(' ');
    String verb = (space < 0 ? line : line.substring(0, space)).toUpperCase(Locale.ROOT);
    String args = space < 0 ? "" : line.substring(space + 1).trim();
    if (serviceRefused && !verb.equals("QUIT")) {
      send(503, "5.5.1", "no SMTP service here");
      return;
    }
    switch (verb) {
      case "EHLO":
        hello(args, true);
        break;
      case "HELO":
        hello(args, false);
        break;
      case "STARTTLS":
        starttls(args);
        break;
      case "AUTH":
        auth(args);
        break;
      case "MAIL":
        mail(args);
        break;
      case "RCPT":
        rcpt(args);
        break;
      case "DATA":
        data(args);
        break;
      case "BDAT":
        bdat(args);
        break;
      case "RSET":
        tx = null; // RFC 5321 §4.1.1.5
        c.mailFrom = null;
        perform(SmtpStep.RSET, SmtpReply.of(250, "2.0.0", "Ok"));
        break;
      case "NOOP":
        perform(SmtpStep.NOOP, SmtpReply.of(250, "2.0.0", "Ok"));
        break;
      case "QUIT":
        perform(SmtpStep.QUIT, SmtpReply.of(221, "2.0.0", config.hostname() + " closing"));
        c.markClosing();
        break;
      case "VRFY":
        send(252, "2.5.2", "cannot VRFY user, but will accept message"); // RFC 5321 §3.5.3
        break;
      default:
        send(500, "5.5.2", "command not recognized");
    }
  }

  private void hello(String args, boolean extended) throws IOException {
    if (args.isEmpty()) {
      send(501, "5.5.4", (extended ? "EHLO" : "HELO") + " needs a domain or address literal");
      return;
    }
    SmtpReply normal;
    if (extended) {
      List<String> lines = new ArrayList<>();
      lines.add(config.hostname() + " greets " + args);
      lines.addAll(config.ehloKeywords(c.tls()));
      normal = SmtpReply.multiline(250, null, lines);
    } else {
      normal = SmtpReply.of(250, config.hostname());
    }
    SmtpReply sent = perform(extended ? SmtpStep.EHLO : SmtpStep.HELO, normal);
    if (sent != null && sent.isPositiveCompletion()) {
      // RFC 5321 §4.1.4: EHLO/HELO also resets any transaction.
      greeted = true;
      esmtp = extended;
      tx = null;
      c.mailFrom = null;
      record.clientName(args);
    }
  }

  private void starttls(String args) throws IOException {
    if (!args.isEmpty()) {
      send(501, "5.5.4", "Syntax: STARTTLS"); // RFC 3207 §4: no parameters
      return;
    }
    if (c.tls()) {
      send(503, "5.5.1", "TLS already active");
      return;
    }
    SmtpReply normal =
        config.starttlsAvailable()
            ? SmtpReply.of(220, "2.0.0", "Ready to start TLS")
            : SmtpReply.of(502, "5.5.1", "STARTTLS not available");
    SmtpReply sent = perform(SmtpStep.STARTTLS, normal);
    if (sent == null || sent.code() != 220 || c.closing()) {
      return;
    }
    if (!config.starttlsAvailable()) {
      c.markClosing(); // a scripted 220 without a TLS context: nothing can follow
      return;
    }
    c.flush();
    // RFC 3207 §4.2 (CVE-2011-0411): plaintext pipelined after STARTTLS must not be read as TLS.
    record.discardedAtStarttls(c.input().discardBuffered());
    if (!TlsUpgrade.run(c)) {
      c.markClosing();
      return;
    }
    // RFC 3207 §4.2: discard all knowledge obtained from the client before TLS; expect EHLO again.
    greeted = false;
    esmtp = false;
    tx = null;
    c.mailFrom = null;
    authenticatedUser = null;
  }

  private void auth(String args) throws IOException {
    if (config.credentials().isEmpty()) {
      send(502, "5.5.1", "AUTH not available");
    } else if (!esmtp) {
      send(503, "5.5.1", "send EHLO first");
    } else if (authenticatedUser != null) {
      send(503, "5.5.1", "already authenticated"); // RFC 4954 §4
    } else if (tx != null) {
      send(503, "5.5.1", "AUTH not permitted during a mail transaction"); // RFC 4954 §4
    } else if (args.isEmpty()) {
      send(501, "5.5.4", "Syntax: AUTH mechanism [initial-response]");
    } else {
      String user = AuthExchange.run(c, args, enhanced());
      if (user != null) {
        authenticatedUser = user;
        record.authenticated(user);
      }
    }
  }

  /** A path in angle brackets after {@code prefix}, and the parameters after it. */
  private static @Nullable List<String> parsePath(String args, String prefix) {
    if (!args.regionMatches(true, 0, prefix, 0, prefix.length())) {
      return null;
    }
    String rest = args.substring(prefix.length()).stripLeading();
    int close = rest.indexOf('>');
    if (!rest.startsWith("<") || close < 0) {
      return null;
    }
    List<String> result = new ArrayList<>();
    result.add(rest.substring(1, close));
    for (String param : rest.substring(close + 1).trim().split(" +", -1)) {
      if (!param.isEmpty()) {
        result.add(param);
      }
    }
    return result;
  }

  private void mail(String args) throws IOException {
    if (!greeted) {
      send(503, "5.5.1", "send EHLO or HELO first");
      return;
    }
    if (tx != null) {
      send(503, "5.5.1", "nested MAIL command");
      return;
    }
    List<String> path = parsePath(args, "FROM:");
    if (path == null) {
      send(501, "5.5.4", "Syntax: MAIL FROM:<address> [parameters]"); // RFC 5321 §4.1.1.2
      return;
    }
    List<String> params = path.subList(1, path.size());
    SmtpReply normal = SmtpReply.of(250, "2.1.0", "Sender <" + path.get(0) + "> OK");
    long limit = config.sizeLimit();
    for (String param : params) {
      if (limit > 0 && param.regionMatches(true, 0, "SIZE=", 0, 5)) {
        try {
          if (Long.parseLong(param.substring(5)) > limit) {
            // RFC 1870 §6.1: the declared size exceeds the fixed maximum.
            normal = SmtpReply.of(552, "5.3.4", "message size exceeds fixed maximum " + limit);
          }
        } catch (NumberFormatException e) {
          normal = SmtpReply.of(501, "5.5.4", "bad SIZE parameter");
        }
      }
    }
    c.mailFrom = path.get(0);
    c.transactions++;
    SmtpReply sent = perform(SmtpStep.MAIL, normal);
    if (sent != null && sent.isPositiveCompletion()) {
      tx = new Transaction(path.get(0), params, config.dropAfterMessageBytes());
    } else {
      c.mailFrom = null;
    }
  }

  private void rcpt(String args) throws IOException {
    if (tx == null) {
      send(503, "5.5.1", "need MAIL before RCPT");
      return;
    }
    List<String> path = parsePath(args, "TO:");
    if (path == null) {
      send(501, "5.5.4", "Syntax: RCPT TO:<address> [parameters]"); // RFC 5321 §4.1.1.3
      return;
    }
    String address = path.get(0);
    SmtpReply normal = SmtpReply.of(250, "2.1.5", "Recipient <" + address + "> OK");
    SmtpReply sent = c.perform(c.action(SmtpStep.RCPT, address), normal, enhanced());
    if (sent != null && sent.isPositiveCompletion()) {
      tx.recipients.add(address);
    }
  }

  /** Null if the transaction may take message content, else the reply that refuses it. */
  private @Nullable SmtpReply contentRefusal() {
    if (tx == null) {
      return SmtpReply.of(503, "5.5.1", "need MAIL command");
    }
    if (tx.recipients.isEmpty()) {
      return SmtpReply.of(554, "5.5.1", "no valid recipients"); // RFC 2920 §3.1
    }
    return null;
  }

  /** The transaction content goes to: there is one once contentRefusal() has said null. */
  private Transaction current() {
    return Objects.requireNonNull(tx, "no transaction");
  }

  private void data(String args) throws IOException {
    if (!args.isEmpty()) {
      send(501, "5.5.4", "Syntax: DATA");
      return;
    }
    SmtpReply refusal = contentRefusal();
    if (refusal == null && current().chunked) {
      refusal = SmtpReply.of(503, "5.5.1", "DATA after BDAT"); // RFC 3030 §2: no mixing
    }
    if (refusal != null) {
      c.send(refusal, enhanced());
      return;
    }
    SmtpReply sent = perform(SmtpStep.DATA, SmtpReply.of(354, "End data with <CR><LF>.<CR><LF>"));
    if (sent == null || sent.code() != 354 || c.closing()) {
      return;
    }
    MessageSink sink = new MessageSink(config.keepMessageBytes(), config.keepHeaders());
    DotUnstuffer unstuffer = new DotUnstuffer(sink);
    SmtpInput in = c.input();
    Duration readPause = contentFaults(SmtpStep.DATA);
    while (!unstuffer.isDone()) {
      int available = in.fill();
      if (available < 0) {
        c.markClosing(); // the client left mid-message; nothing was delivered
        return;
      }
      int allowed = allowance(available);
      if (allowed == 0) {
        if (!breakContent()) {
          return;
        }
        continue;
      }
      int used = unstuffer.process(in.buffer(), in.position(), allowed);
      in.consume(used);
      current().contentOctets += used;
      if (!readPause.isZero() && !unstuffer.isDone() && !c.pause(readPause, false)) {
        c.markClosing(); // the server is closing
        return;
      }
    }
    finishMessage(sink);
  }

  private void bdat(String args) throws IOException {
    // RFC 3030 §2: BDAT SP chunk-size [ SP end-marker ]
    String[] words = args.split(" +", -1);
    long size = -1;
    boolean last = false;
    if (words.length >= 1 && words.length <= 2 && words[0].matches("[0-9]{1,18}")) {
      size = Long.parseLong(words[0]);
      last = words.length == 2 && words[1].equalsIgnoreCase("LAST");
      if (words.length == 2 && !last) {
        size = -1;
      }
    }
    if (size < 0) {
      // Where the chunk ends is unknown, so the session cannot go on.
      send(501, "5.5.4", "Syntax: BDAT chunk-size [LAST]");
      c.markClosing();
      return;
    }
    SmtpReply refusal;
    if (!esmtp || !config.advertises("CHUNKING")) {
      refusal = SmtpReply.of(502, "5.5.1", "BDAT not available");
    } else {
      refusal = contentRefusal();
      if (refusal == null && current().chunkRefused) {
        refusal = SmtpReply.of(503, "5.5.1", "an earlier chunk was refused; send RSET");
      }
    }
    if (refusal == null && current().chunks == null) {
      current().chunked = true;
      current().chunks = new MessageSink(config.keepMessageBytes(), config.keepHeaders());
      current().readPause = contentFaults(SmtpStep.BDAT);
    }
    // RFC 3030 §2: the chunk is read in full even when the command is refused.
    if (!readChunk(size, refusal == null ? current().chunks : null)) {
      return;
    }
    if (refusal != null) {
      c.send(refusal, enhanced());
    } else if (last) {
      finishMessage(Objects.requireNonNull(current().chunks)); // made for the first chunk
    } else {
      SmtpReply sent =
          perform(SmtpStep.BDAT, SmtpReply.of(250, "2.0.0", size + " octets received"));
      if (sent != null && !sent.isPositiveCompletion()) {
        current().chunkRefused = true;
      }
    }
  }

  /** Reads a chunk of {@code size} octets into {@code sink} (or nowhere); false if cut off. */
  private boolean readChunk(long size, @Nullable MessageSink sink) throws IOException {
    SmtpInput in = c.input();
    long left = size;
    while (left > 0) {
      int available = in.fill();
      if (available < 0) {
        c.markClosing();
        return false;
      }
      int n = (int) Math.min(available, left);
      if (sink != null) {
        n = allowance(n);
        if (n == 0) {
          if (!breakContent()) {
            return false;
          }
          continue;
        }
        sink.write(in.buffer(), in.position(), n);
        current().contentOctets += n;
      }
      in.consume(n);
      left -= n;
      Duration pause = sink != null ? current().readPause : Duration.ZERO;
      if (!pause.isZero() && left > 0 && !c.pause(pause, false)) {
        c.markClosing();
        return false;
      }
    }
    return true;
  }

  /**
   * Asks the fault injector, if any, how to read the content of the transaction's message: sets its
   * drop point and the most octets of one read, and returns the pause after each read.
   */
  private Duration contentFaults(SmtpStep step) {
    SmtpFaultInjector injector = config.faultInjector();
    if (injector == null) {
      return Duration.ZERO;
    }
    SmtpFaultContext context = c.faultContext(step, null);
    long drop = injector.dropAfterContentOctets(context);
    if (drop >= 0) {
      current().dropAfter = drop;
    }
    current().contentFault = injector.contentFault(context).orElse(null);
    current().readSize = Math.max(0, injector.contentReadSize(context));
    Duration pause = injector.contentReadPause(context);
    return pause.isNegative() ? Duration.ZERO : pause;
  }

  /**
   * How many of {@code available} content octets may be read before the scripted drop or the
   * content fault.
   */
  private int allowance(int available) {
    int size = current().readSize;
    if (size > 0) {
      available = Math.min(available, size); // a reader of a set pace
    }
    long stop = current().dropAfter;
    SmtpContentFault fault = current().contentFault;
    if (fault != null && (stop < 0 || fault.afterOctets() < stop)) {
      stop = fault.afterOctets();
    }
    return stop < 0
        ? available
        : (int) Math.min(available, Math.max(0, stop - current().contentOctets));
  }

  /**
   * Carries out what stopped the reading of content ({@link #allowance} said 0): the scripted drop,
   * or the transaction's content fault. Returns whether the content is read on (after a stop in
   * reading); otherwise the session ends.
   */
  private boolean breakContent() throws IOException {
    Transaction t = current();
    SmtpContentFault fault = t.contentFault;
    long drop = t.dropAfter;
    if (fault == null || (drop >= 0 && t.contentOctets >= drop)) {
      dropMidMessage();
      return false;
    }
    t.contentFault = null; // once per transaction
    switch (fault.kind()) {
      case RESET:
        c.reset();
        return false;
      case CLOSE_NOTIFY:
        c.closeMidContent(true);
        return false;
      case CLOSE_WITHOUT_CLOSE_NOTIFY:
        c.closeMidContent(false);
        return false;
      case STOP_READING:
        if (!c.pause(fault.duration(), false)) {
          c.markClosing(); // the server is closing
          return false;
        }
        return true;
      default:
        throw new IllegalStateException("unknown content fault " + fault.kind());
    }
  }

  private void dropMidMessage() throws IOException {
    // A crash, not a shutdown: no reply, no TLS close_notify, a TCP reset.
    socket.setSoLinger(true, 0);
    socket.close();
    c.markClosing();
  }

  private void finishMessage(MessageSink sink) throws IOException {
    long limit = config.sizeLimit();
    String queueId = String.format(Locale.ROOT, "S%dM%d", record.id(), ++messageCount);
    SmtpReply normal =
        limit > 0 && sink.size() > limit
            ? SmtpReply.of(552, "5.3.4", "message exceeds fixed maximum size " + limit)
            : SmtpReply.of(250, "2.0.0", "Ok: queued as " + queueId);
    Transaction done = current();
    tx = null; // c.mailFrom stays until the reply is chosen, for the fault injector
    boolean[] recorded = {false};
    try {
      // Recorded once the reply is chosen and before it can leave (a thenDisconnect or a 421
      // flushes at once), so a client holding the reply always finds the message.
      c.perform(
          c.action(SmtpStep.DATA_END, null),
          normal,
          enhanced(),
          sent -> {
            recorded[0] = true;
            @SuppressWarnings("ReferenceEquality") // RAW_SENT is a sentinel, compared by identity
            boolean replied = sent != null && sent != Connection.RAW_SENT;
            record.message(
                new RecordedMessage(record.id(), done, c.tls(), sink, replied ? sent : null));
          });
    } finally {
      c.mailFrom = null;
      // The data arrived in full: record it even if no reply was chosen (the server closed).
      if (!recorded[0]) {
        record.message(new RecordedMessage(record.id(), done, c.tls(), sink, null));
      }
    }
  }
}
