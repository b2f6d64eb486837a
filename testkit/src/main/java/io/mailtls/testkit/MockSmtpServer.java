package io.mailtls.testkit;

import io.mailtls.testkit.internal.smtp.ActionScript;
import io.mailtls.testkit.internal.smtp.LegacyTlsResponder;
import io.mailtls.testkit.internal.smtp.ServerConfig;
import io.mailtls.testkit.internal.smtp.ServerRuntime;
import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/**
 * An SMTP server on a real loopback socket, with real STARTTLS, that records everything a client
 * does and can be scripted to misbehave: the fixture that SMTP senders are tested against, in the
 * style of OkHttp's {@code MockWebServer}.
 *
 * <pre>{@code
 * try (MockSmtpServer smtp = MockSmtpServer.builder()
 *     .address(InetAddress.getByName("127.0.0.2"))
 *     .hostname("mx1.example.test")
 *     .tls(leaf.serverSslContext())                 // offers STARTTLS
 *     .onRecipient("b@example.test", SmtpAction.reply(451, "4.2.0", "try later"))
 *     .on(SmtpStep.STARTTLS, SmtpAction.proceed().followedBy("250-INJECTED\r\n250 OK\r\n"))
 *     .start()) {
 *   // ... let the client under test deliver to smtp.socketAddress() ...
 *   SmtpSession session = smtp.awaitSessions(1, Duration.ofSeconds(5)).get(0);
 *   assertThat(session.sniHostName()).hasValue("mx1.example.test");
 *   assertThat(smtp.messages().get(0).recipients()).containsExactly("a@example.test");
 * }
 * }</pre>
 *
 * <p>By default it is a well-behaved ESMTP server: 220 greeting; EHLO with {@link
 * #DEFAULT_CAPABILITIES} (plus STARTTLS with {@link Builder#tls}, plus AUTH PLAIN LOGIN with {@link
 * Builder#credentials}); HELO; STARTTLS (RFC 3207; all session state is reset after the handshake);
 * MAIL, RCPT, DATA with dot-unstuffing; BDAT (RFC 3030); RSET, NOOP, VRFY, QUIT; enhanced status
 * codes (RFC 2034) once ENHANCEDSTATUSCODES is advertised and EHLO accepted; replies to pipelined
 * commands (RFC 2920) flushed together when the batch is consumed. Each connection runs on its own
 * daemon thread; {@link #close()} ends them all.
 *
 * <p>Thread-safe.
 */
public final class MockSmtpServer implements Closeable {

  /** The EHLO keywords offered unless {@link Builder#capabilities} says otherwise. */
  public static final List<String> DEFAULT_CAPABILITIES =
      List.of(
          "PIPELINING",
          "SIZE 1073741824",
          "8BITMIME",
          "SMTPUTF8",
          "ENHANCEDSTATUSCODES",
          "CHUNKING");

  private final ServerRuntime runtime;

  private MockSmtpServer(ServerRuntime runtime) {
    this.runtime = runtime;
  }

  /** Starts configuring a server. */
  public static Builder builder() {
    return new Builder();
  }

  /** The address the server listens on. */
  public InetAddress address() {
    return runtime.localAddress().getAddress();
  }

  /** The (ephemeral, unless chosen) port the server listens on. */
  public int port() {
    return runtime.localAddress().getPort();
  }

  /** Address and port together. */
  public InetSocketAddress socketAddress() {
    return runtime.localAddress();
  }

  /** The host name in the greeting and the EHLO reply. */
  public String hostname() {
    return runtime.config().hostname();
  }

  /**
   * Whether the TLS 1.0/1.1-only fault is emulated on this JVM rather than run by JSSE (see {@link
   * Builder#tlsProtocols}).
   */
  public boolean legacyTlsEmulated() {
    return runtime.config().legacyTlsVersion() > 0;
  }

  /** Every session so far, running or ended, in accept order. */
  public List<SmtpSession> sessions() {
    return runtime.sessions();
  }

  /**
   * Waits until at least {@code count} sessions have ended, and returns all sessions.
   *
   * @throws AssertionError if they have not ended within {@code timeout}
   */
  public List<SmtpSession> awaitSessions(int count, Duration timeout) throws InterruptedException {
    return runtime.awaitSessions(count, timeout);
  }

  /**
   * Every message received in full so far (accepted or not; see {@link SmtpMessage#accepted()}).
   */
  public List<SmtpMessage> messages() {
    return runtime.messages();
  }

  /**
   * Waits until at least {@code count} messages have been received, and returns all of them.
   *
   * @throws AssertionError if they have not arrived within {@code timeout}
   */
  public List<SmtpMessage> awaitMessages(int count, Duration timeout) throws InterruptedException {
    return runtime.awaitMessages(count, timeout);
  }

  /** Stops listening and ends every session, stalled ones included. Idempotent. */
  @Override
  public void close() {
    runtime.close();
  }

  @Override
  public String toString() {
    return "MockSmtpServer{" + hostname() + " at " + socketAddress() + "}";
  }

  /**
   * Configures a {@link MockSmtpServer}. Each setter may be called once (per step, per address, per
   * user where it takes one); {@link #start()} validates and starts.
   *
   * <p>Not thread-safe.
   */
  public static final class Builder {

    // RFC 5321 §4.1.1.1: ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")
    private static final Pattern EHLO_LINE =
        Pattern.compile("[A-Za-z0-9][A-Za-z0-9-]*( [\\x21-\\x7e]+)*");

    private final Set<String> called = new HashSet<>();
    private InetAddress address = InetAddress.getLoopbackAddress();
    private int port;
    private String hostname = "mx.example.test";
    private @Nullable SSLContext sslContext;
    private boolean implicitTls;
    private boolean stripStarttls;
    private List<String> tlsProtocols = List.of();
    private List<String> tlsCipherSuites = List.of();
    private List<String> capabilities = DEFAULT_CAPABILITIES;
    private final Map<String, String> credentials = new LinkedHashMap<>();
    private final Map<SmtpStep, List<SmtpAction>> steps = new EnumMap<>(SmtpStep.class);
    private final Map<String, List<SmtpAction>> recipients = new LinkedHashMap<>();
    private long dropAfter = -1;
    private boolean keepMessageBytes = true;
    private Duration idleTimeout = Duration.ofMinutes(5);
    private int receiveBufferSize;
    private @Nullable SmtpFaultInjector faultInjector;
    private boolean keepHeaders;
    private boolean requireTlsAfterTls;
    private boolean requireTlsBeforeTls;

    private Builder() {}

    private void once(String setter) {
      if (!called.add(setter)) {
        throw new IllegalStateException(setter + " already set");
      }
    }

    /** The loopback address to listen on (127.0.0.x or ::1); default 127.0.0.1. */
    public Builder address(InetAddress address) {
      once("address");
      Objects.requireNonNull(address, "address");
      if (!address.isLoopbackAddress()) {
        throw new IllegalArgumentException("only loopback addresses are allowed: " + address);
      }
      this.address = address;
      return this;
    }

    /** The port; default 0, an ephemeral port. */
    public Builder port(int port) {
      once("port");
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port out of range: " + port);
      }
      this.port = port;
      return this;
    }

    /** The name in the greeting and EHLO reply; default {@code mx.example.test}. */
    public Builder hostname(String hostname) {
      once("hostname");
      Objects.requireNonNull(hostname, "hostname");
      if (hostname.isEmpty() || hostname.chars().anyMatch(ch -> ch <= ' ' || ch >= 0x7f)) {
        throw new IllegalArgumentException("not a host name: '" + hostname + "'");
      }
      this.hostname = hostname;
      return this;
    }

    /**
     * The server's TLS context (e.g. {@code TestPki.Issued#serverSslContext()}, with any chain:
     * wrong name, expired, self-signed, untrusted). Enables and advertises STARTTLS.
     */
    public Builder tls(SSLContext sslContext) {
      once("tls");
      this.sslContext = Objects.requireNonNull(sslContext, "sslContext");
      return this;
    }

    /** TLS from the first byte, as on port 465 (RFC 8314 §3.3), instead of STARTTLS. */
    public Builder implicitTls() {
      once("implicitTls");
      this.implicitTls = true;
      return this;
    }

    /**
     * Leaves STARTTLS out of the EHLO reply but still accepts the command, as when an attacker on
     * the path deletes the line (RFC 3207 §6). Without {@link #tls} no STARTTLS exists at all.
     */
    public Builder stripStarttls() {
      once("stripStarttls");
      this.stripStarttls = true;
      return this;
    }

    /**
     * The protocols the server enables, e.g. {@code "TLSv1.2"} alone. Asking only for {@code
     * "TLSv1"} and/or {@code "TLSv1.1"}, which this JVM's {@code jdk.tls.disabledAlgorithms}
     * normally forbids (and which must not be re-enabled JVM-wide), switches to an emulation: the
     * server answers the ClientHello with a real legacy-version ServerHello and the handshake fails
     * on the client exactly as against a legacy-only server; see {@link
     * MockSmtpServer#legacyTlsEmulated()}, and {@link SmtpSession#tlsFailure()} for what happened.
     */
    public Builder tlsProtocols(String... protocols) {
      once("tlsProtocols");
      if (protocols.length == 0) {
        throw new IllegalArgumentException("tlsProtocols needs at least one protocol");
      }
      this.tlsProtocols = List.of(protocols);
      return this;
    }

    /** The cipher suites the server enables (JSSE names). */
    public Builder tlsCipherSuites(String... suites) {
      once("tlsCipherSuites");
      if (suites.length == 0) {
        throw new IllegalArgumentException("tlsCipherSuites needs at least one suite");
      }
      this.tlsCipherSuites = List.of(suites);
      return this;
    }

    /**
     * The EHLO keyword lines, replacing {@link #DEFAULT_CAPABILITIES}; may be empty. STARTTLS comes
     * from {@link #tls}; AUTH PLAIN LOGIN is added with {@link #credentials} unless an AUTH line
     * here names the mechanisms to offer (e.g. {@code AUTH LOGIN}). What is advertised is also what
     * the server does: BDAT needs CHUNKING, a {@code SIZE n} limit is enforced (RFC 1870), and
     * enhanced codes need ENHANCEDSTATUSCODES.
     */
    public Builder capabilities(String... lines) {
      once("capabilities");
      for (String line : lines) {
        if (!EHLO_LINE.matcher(Objects.requireNonNull(line, "capability")).matches()) {
          throw new IllegalArgumentException("not an EHLO keyword line: '" + line + "'");
        }
        String keyword = line.split(" ", 2)[0].toUpperCase(Locale.ROOT);
        if (keyword.equals("STARTTLS")) {
          throw new IllegalArgumentException("STARTTLS follows from tls(...)");
        }
      }
      this.capabilities = List.of(lines);
      return this;
    }

    /** Accepts {@code user} with {@code password} for AUTH PLAIN and LOGIN (RFC 4954). */
    public Builder credentials(String user, String password) {
      Objects.requireNonNull(user, "user");
      Objects.requireNonNull(password, "password");
      if (credentials.containsKey(user)) {
        throw new IllegalStateException("credentials for " + user + " already set");
      }
      credentials.put(user, password);
      return this;
    }

    /**
     * Scripts {@code step}: its n-th occurrence on this server (over all sessions, in order) gets
     * the n-th action, and the last action repeats; e.g. {@code on(GREETING, reply(421, ...),
     * proceed())} refuses only the first connection.
     */
    public Builder on(SmtpStep step, SmtpAction... actions) {
      Objects.requireNonNull(step, "step");
      if (steps.containsKey(step)) {
        throw new IllegalStateException(step + " already scripted");
      }
      steps.put(step, checkActions(step.toString(), actions));
      return this;
    }

    /**
     * Scripts the RCPT of {@code address} (case-insensitive), overriding {@code on(RCPT, ...)}:
     * e.g. {@code onRecipient("c@example.test", reply(550, "5.1.1", "no such user"))}.
     */
    public Builder onRecipient(String address, SmtpAction... actions) {
      Objects.requireNonNull(address, "address");
      String key = address.toLowerCase(Locale.ROOT);
      if (recipients.containsKey(key)) {
        throw new IllegalStateException("recipient " + address + " already scripted");
      }
      recipients.put(key, checkActions(address, actions));
      return this;
    }

    private static List<SmtpAction> checkActions(String what, SmtpAction[] actions) {
      if (actions.length == 0) {
        throw new IllegalArgumentException("no actions for " + what);
      }
      for (SmtpAction action : actions) {
        Objects.requireNonNull(action, "action");
      }
      return List.copyOf(Arrays.asList(actions));
    }

    /**
     * Drops the connection (TCP reset, no reply) once {@code octets} of message content have
     * arrived in a transaction: DATA octets as sent, or BDAT chunk octets.
     */
    public Builder dropDuringMessage(long octets) {
      once("dropDuringMessage");
      if (octets < 0) {
        throw new IllegalArgumentException("octets must be >= 0: " + octets);
      }
      this.dropAfter = octets;
      return this;
    }

    /** Keeps only the size and SHA-256 of messages, not their octets (for huge messages). */
    public Builder digestOnly() {
      once("digestOnly");
      this.keepMessageBytes = false;
      return this;
    }

    /**
     * Decides at run time how the server misbehaves, before the script is asked (see {@link
     * SmtpFaultInjector}); default none, the script alone.
     */
    public Builder faultInjector(SmtpFaultInjector injector) {
      once("faultInjector");
      this.faultInjector = Objects.requireNonNull(injector, "injector");
      return this;
    }

    /**
     * Advertises REQUIRETLS (RFC 8689) in the EHLO reply after STARTTLS (or over implicit TLS), as
     * a server that supports it does; MAIL FROM's {@code REQUIRETLS} is recorded with the other
     * parameters ({@link SmtpMessage#mailParameters()}).
     */
    public Builder requireTls() {
      once("requireTls");
      requireTlsAfterTls = true;
      return this;
    }

    /**
     * Advertises REQUIRETLS in the plaintext EHLO reply only, never after STARTTLS: what an
     * attacker on the path may inject before the handshake. A client must not believe it (RFC 3207
     * §4.2 discards what came before TLS).
     */
    public Builder injectRequireTlsBeforeStarttls() {
      once("injectRequireTlsBeforeStarttls");
      requireTlsBeforeTls = true;
      return this;
    }

    /**
     * With {@link #digestOnly()}, still keeps each message's header section (at most 64 KiB), so
     * that {@link SmtpMessage#header} can match messages by a header such as {@code Message-ID}.
     */
    public Builder keepHeaders() {
      once("keepHeaders");
      this.keepHeaders = true;
      return this;
    }

    /** How long the server waits for a client line before a 421; default 5 minutes. */
    public Builder idleTimeout(Duration timeout) {
      once("idleTimeout");
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("idleTimeout must be positive: " + timeout);
      }
      this.idleTimeout = timeout;
      return this;
    }

    /**
     * The receive buffer (SO_RCVBUF) of every accepted connection, in octets, instead of the
     * system's autotuned one: for a slow reader on loopback, whose 64 KiB segments would otherwise
     * meet a window that opens only when the default buffer is almost empty (so that the client's
     * writes stall in TCP's zero-window probing rather than at the reader's pace).
     */
    public Builder receiveBufferSize(int octets) {
      once("receiveBufferSize");
      if (octets < 1) {
        throw new IllegalArgumentException("receiveBufferSize must be positive: " + octets);
      }
      this.receiveBufferSize = octets;
      return this;
    }

    /** Validates the configuration, binds the socket and starts serving. */
    public MockSmtpServer start() throws IOException {
      once("start");
      validateTls();
      validateHandshakeScript();
      ServerConfig config =
          new ServerConfig(
              address,
              port,
              hostname,
              sslContext,
              implicitTls,
              stripStarttls,
              tlsProtocols,
              tlsCipherSuites,
              legacyVersionToEmulate(),
              capabilities,
              credentials,
              new ActionScript(steps, recipients),
              dropAfter,
              keepMessageBytes,
              idleTimeout,
              faultInjector,
              keepHeaders,
              requireTlsAfterTls,
              requireTlsBeforeTls,
              receiveBufferSize);
      return new MockSmtpServer(ServerRuntime.start(config));
    }

    private void validateTls() {
      if (sslContext == null) {
        for (String setter :
            List.of("implicitTls", "stripStarttls", "tlsProtocols", "tlsCipherSuites")) {
          if (called.contains(setter)) {
            throw new IllegalStateException(setter + " needs tls(sslContext)");
          }
        }
        return;
      }
      if (implicitTls && stripStarttls) {
        throw new IllegalStateException("stripStarttls makes no sense with implicitTls");
      }
      List<String> supportedProtocols =
          List.of(sslContext.getSupportedSSLParameters().getProtocols());
      for (String protocol : tlsProtocols) {
        if (!supportedProtocols.contains(protocol)) {
          throw new IllegalArgumentException(
              "unknown TLS protocol " + protocol + "; supported: " + supportedProtocols);
        }
      }
      List<String> supportedSuites =
          List.of(sslContext.getSupportedSSLParameters().getCipherSuites());
      for (String suite : tlsCipherSuites) {
        if (!supportedSuites.contains(suite)) {
          throw new IllegalArgumentException("unknown cipher suite " + suite);
        }
      }
    }

    /** The legacy version to emulate, or -1 when JSSE can run what was asked for. */
    private int legacyVersionToEmulate() {
      if (tlsProtocols.isEmpty() || sslContext == null) { // no protocols without TLS (validateTls)
        return -1;
      }
      int highest = -1;
      for (String protocol : tlsProtocols) {
        int version = LegacyTlsResponder.legacyVersion(protocol);
        if (version < 0 || LegacyTlsResponder.jdkPermits(sslContext, protocol)) {
          return -1; // a protocol JSSE will run here: let it
        }
        highest = Math.max(highest, version);
      }
      return highest;
    }

    private void validateHandshakeScript() {
      List<SmtpAction> actions =
          new ArrayList<>(steps.getOrDefault(SmtpStep.TLS_HANDSHAKE, List.of()));
      for (SmtpAction action : actions) {
        switch (action.kind()) {
          case PROCEED:
          case DISCONNECT:
          case HANG:
          case RAW:
            break;
          default:
            throw new IllegalArgumentException(action + " cannot happen at TLS_HANDSHAKE");
        }
        if (action.trailingBytes().length > 0 || action.disconnectsAfter()) {
          throw new IllegalArgumentException(action + " cannot happen at TLS_HANDSHAKE");
        }
      }
    }
  }
}
