package io.mailtls.interop;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DnssecMode;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.TrustAnchors;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The running interop environment (interop/up.sh), configured by system properties set in the
 * module's surefire configuration. {@link #requireUp()} fails (never skips) when it is not up.
 */
final class InteropEnv {

  static final Path STATE =
      Path.of(System.getProperty("interop.state", "../interop/state")).toAbsolutePath().normalize();
  static final String UNBOUND = System.getProperty("interop.unbound", "127.0.0.54");
  static final String NGINX = System.getProperty("interop.nginx", "127.0.0.55");
  static final String MX_TLS = System.getProperty("interop.mxTls", "127.0.0.60");
  static final String MX_PLAIN = System.getProperty("interop.mxPlain", "127.0.0.61");

  private InteropEnv() {}

  /** Fails with a pointer to up.sh unless every listener answers and the state is readable. */
  static void requireUp() {
    List<String> problems = new ArrayList<>();
    if (!Files.isReadable(STATE.resolve("root-anchor.ds"))) {
      problems.add("no " + STATE.resolve("root-anchor.ds"));
    }
    if (!Files.isReadable(STATE.resolve("pki/ca.crt"))) {
      problems.add("no " + STATE.resolve("pki/ca.crt"));
    }
    for (String[] hp :
        new String[][] {{UNBOUND, "53"}, {NGINX, "443"}, {MX_TLS, "25"}, {MX_PLAIN, "25"}}) {
      try (Socket s = new Socket()) {
        s.connect(
            new InetSocketAddress(InetAddress.getByName(hp[0]), Integer.parseInt(hp[1])), 2000);
      } catch (IOException e) {
        problems.add("nothing listens on " + hp[0] + ":" + hp[1] + " (" + e.getMessage() + ")");
      }
    }
    assertThat(problems)
        .as("interop environment not up (state %s); run `bash interop/up.sh` as root first", STATE)
        .isEmpty();
  }

  static InetSocketAddress unbound() {
    try {
      return new InetSocketAddress(InetAddress.getByName(UNBOUND), 53);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** In-process validation from the private root's DS (the anchor up.sh gives Unbound). */
  static DnssecResolver validatingResolver() {
    try {
      return DnssecResolver.builder()
          .upstream(unbound())
          .mode(DnssecMode.VALIDATE)
          .trustAnchors(TrustAnchors.read(STATE.resolve("root-anchor.ds")))
          .queryTimeout(Duration.ofSeconds(3))
          .build();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Trusts Unbound's AD bit (loopback). */
  static DnssecResolver trustAdResolver() {
    return DnssecResolver.builder()
        .upstream(unbound())
        .mode(DnssecMode.TRUST_AD)
        .queryTimeout(Duration.ofSeconds(3))
        .build();
  }

  static X509Certificate caCertificate() {
    try (InputStream in = Files.newInputStream(STATE.resolve("pki/ca.crt"))) {
      return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  /** A key store holding only the private CA. */
  static KeyStore caTrustStore() {
    try {
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      ks.setCertificateEntry("interop-ca", caCertificate());
      return ks;
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Messages and maildirs
  // -------------------------------------------------------------------------------------------

  /** A unique message (CRLF line ends, a dot-leading line to exercise dot-stuffing). */
  @SuppressWarnings("ArrayRecordComponent") // a fixture's value, never compared as a record
  record TestMessage(String id, String recipient, byte[] wire) {
    /** What Postfix stores: the same bytes with LF line ends (maildir files use LF). */
    byte[] stored() {
      return new String(wire, StandardCharsets.UTF_8)
          .replace("\r\n", "\n")
          .getBytes(StandardCharsets.UTF_8);
    }
  }

  static TestMessage message(String domain, String scenario) {
    String id = scenario + "." + UUID.randomUUID() + "@interop.mailtls.test";
    String rcpt = "rcpt-" + scenario.toLowerCase(Locale.ROOT) + "@" + domain;
    String text =
        "From: <sender@interop.mailtls.test>\r\n"
            + "To: <"
            + rcpt
            + ">\r\n"
            + "Date: Thu, 1 Jan 2026 00:00:00 +0000\r\n"
            + "Message-ID: <"
            + id
            + ">\r\n"
            + "Subject: interop "
            + scenario
            + "\r\n"
            + "MIME-Version: 1.0\r\n"
            + "Content-Type: text/plain; charset=us-ascii\r\n"
            + "\r\n"
            + "Body line 1 for "
            + id
            + "\r\n"
            + ".a line that starts with a dot\r\n"
            + "..two dots\r\n"
            + "\r\n"
            + "last line\r\n";
    return new TestMessage(id, rcpt, text.getBytes(StandardCharsets.US_ASCII));
  }

  static Path maildirNew(String domain) {
    return STATE.resolve("maildirs").resolve(domain).resolve("new");
  }

  /** Maildir files (in new/) whose content mentions {@code messageId}. */
  static List<Path> findInMaildir(String domain, String messageId) throws IOException {
    Path dir = maildirNew(domain);
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    byte[] needle = messageId.getBytes(StandardCharsets.US_ASCII);
    List<Path> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(dir)) {
      for (Path f : files.toList()) {
        byte[] b = Files.readAllBytes(f);
        if (indexOf(b, needle, 0) >= 0) {
          out.add(f);
        }
      }
    }
    return out;
  }

  /** Waits up to {@code timeout} for exactly one maildir file with {@code messageId}. */
  static Path awaitInMaildir(String domain, String messageId, Duration timeout)
      throws IOException, InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (true) {
      List<Path> found = findInMaildir(domain, messageId);
      if (!found.isEmpty() || System.nanoTime() > end) {
        assertThat(found)
            .as("maildir files of %s with Message-ID %s", domain, messageId)
            .hasSize(1);
        return found.get(0);
      }
      Thread.sleep(100);
    }
  }

  /** The headers Postfix prepended, and the rest of the file (the message as received). */
  @SuppressWarnings("ArrayRecordComponent") // read once, never compared as a record
  record Stored(List<String> prepended, byte[] rest) {
    List<String> received() {
      return prepended.stream().filter(h -> h.regionMatches(true, 0, "Received:", 0, 9)).toList();
    }
  }

  /**
   * Splits a maildir file: the leading {@code Return-Path:}, {@code X-Original-To:}, {@code
   * Delivered-To:} and {@code Received:} headers (with continuation lines) that the virtual(8)
   * agent and smtpd/cleanup prepend, and everything after the last of them.
   */
  static Stored split(byte[] file) {
    List<String> prepended = new ArrayList<>();
    int pos = 0;
    while (pos < file.length) {
      int eol = indexOf(file, new byte[] {'\n'}, pos);
      if (eol < 0) {
        break;
      }
      String line = new String(file, pos, eol - pos, StandardCharsets.ISO_8859_1);
      boolean continuation =
          !prepended.isEmpty() && (line.startsWith(" ") || line.startsWith("\t"));
      boolean known =
          line.regionMatches(true, 0, "Return-Path:", 0, 12)
              || line.regionMatches(true, 0, "X-Original-To:", 0, 14)
              || line.regionMatches(true, 0, "Delivered-To:", 0, 13)
              || line.regionMatches(true, 0, "Received:", 0, 9);
      if (continuation) {
        int last = prepended.size() - 1;
        prepended.set(last, prepended.get(last) + "\n" + line);
      } else if (known) {
        prepended.add(line);
      } else {
        break;
      }
      pos = eol + 1;
    }
    byte[] rest = new byte[file.length - pos];
    System.arraycopy(file, pos, rest, 0, rest.length);
    return new Stored(prepended, rest);
  }

  static int indexOf(byte[] hay, byte[] needle, int from) {
    outer:
    for (int i = from; i <= hay.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (hay[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  // -------------------------------------------------------------------------------------------
  // Postfix's log, and messages that must never arrive
  // -------------------------------------------------------------------------------------------

  /**
   * Whether Postfix's log mentions {@code needle}: {@code message-id=<ID>} once cleanup queued a
   * message, {@code to=<ADDRESS>} once a recipient was delivered (or deferred) by Postfix.
   */
  static boolean postfixLogged(String needle) throws IOException {
    Path log = STATE.resolve("logs/postfix.log");
    if (!Files.exists(log)) {
      return false;
    }
    return Files.readString(log, StandardCharsets.ISO_8859_1).contains(needle);
  }

  /** Whether Postfix accepted a message with this Message-ID (cleanup logs every one it queues). */
  static boolean acceptedByPostfix(String messageId) throws IOException {
    return postfixLogged(messageIdNeedle(messageId));
  }

  /** What cleanup(8) logs for a message it queued. */
  static String messageIdNeedle(String messageId) {
    return "message-id=<" + messageId + ">";
  }

  /** What virtual(8) logs for a recipient it delivered (not smtpd's rejections, no relay=). */
  static String deliveredNeedle(String recipient) {
    return "to=<" + recipient + ">, relay=virtual";
  }

  /**
   * Waits up to {@code timeout} for Postfix's log to mention {@code needle} (postlogd is async).
   */
  static boolean awaitPostfixLogged(String needle, Duration timeout)
      throws IOException, InterruptedException {
    long end = System.nanoTime() + timeout.toNanos();
    while (!postfixLogged(needle)) {
      if (System.nanoTime() > end) {
        return false;
      }
      Thread.sleep(100);
    }
    return true;
  }

  /**
   * Messages a test class reported DEFERRED or BOUNCED: none may be in a maildir or even in
   * Postfix's log as accepted. Checked when recorded, and again by {@link #assertNoneArrived} (the
   * class's {@code @AfterAll}) after Postfix had time to deliver anything it took.
   */
  static final class Undelivered {
    private final List<String[]> messages = new ArrayList<>();

    /**
     * Records a message for {@code domain} with {@code messageId}, whose acceptance by Postfix
     * would show as {@code logNeedle} in its log (unique to this message and recipient).
     */
    synchronized void record(String domain, String messageId, String logNeedle, String what)
        throws IOException {
      assertNotArrived(domain, messageId, logNeedle, what);
      messages.add(new String[] {domain, messageId, logNeedle, what});
    }

    void assertNoneArrived() throws Exception {
      Thread.sleep(2000);
      List<String[]> copy;
      synchronized (this) {
        copy = List.copyOf(messages);
      }
      for (String[] m : copy) {
        assertNotArrived(m[0], m[1], m[2], m[3]);
      }
    }

    private static void assertNotArrived(
        String domain, String messageId, String logNeedle, String what) throws IOException {
      assertThat(findInMaildir(domain, messageId))
          .as("maildir of %s must not hold %s (%s)", domain, messageId, what)
          .isEmpty();
      assertThat(postfixLogged(logNeedle))
          .as("Postfix's log must not show %s (%s)", logNeedle, what)
          .isFalse();
    }
  }

  // -------------------------------------------------------------------------------------------
  // Child processes
  // -------------------------------------------------------------------------------------------

  /** A finished child process. */
  record ProcessResult(int exit, String stdout, String stderr) {}

  /**
   * Runs {@code pb}, draining its output on two threads of its own, and kills it (and its
   * descendants) if it has not finished within {@code timeout} or the caller is interrupted.
   */
  static ProcessResult runBounded(ProcessBuilder pb, Duration timeout, String what)
      throws IOException, InterruptedException {
    Process p = pb.start();
    Drain out = new Drain(p.getInputStream(), what + " stdout");
    Drain err = new Drain(p.getErrorStream(), what + " stderr");
    boolean finished = false;
    try {
      finished = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
      if (!finished) {
        throw new IllegalStateException(
            what
                + " did not finish within "
                + timeout
                + "; its output so far:\n"
                + out.text()
                + err.text());
      }
      out.join(Duration.ofSeconds(10));
      err.join(Duration.ofSeconds(10));
      return new ProcessResult(p.exitValue(), out.text(), err.text());
    } finally {
      if (!finished) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
      }
    }
  }

  /** Reads a stream to its end on a daemon thread of its own (never a shared pool's). */
  private static final class Drain {
    private final java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream();
    private final Thread thread;

    Drain(InputStream in, String name) {
      thread =
          new Thread(
              () -> {
                byte[] buf = new byte[8192];
                try (in) {
                  for (int n; (n = in.read(buf)) > 0; ) {
                    synchronized (bytes) {
                      bytes.write(buf, 0, n);
                    }
                  }
                } catch (IOException e) {
                  // the process was killed: what was read so far is kept
                }
              },
              name);
      thread.setDaemon(true);
      thread.start();
    }

    void join(Duration timeout) throws InterruptedException {
      thread.join(timeout.toMillis());
    }

    String text() {
      synchronized (bytes) {
        return bytes.toString(StandardCharsets.UTF_8);
      }
    }
  }
}
