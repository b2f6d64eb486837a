package io.mailtls.core;

import io.mailtls.core.internal.tls.TlsSupport;
import io.mailtls.core.internal.transport.SafeListener;
import io.mailtls.core.internal.transport.SessionProbe;
import io.mailtls.core.internal.transport.Watchdog;
import java.net.InetAddress;
import java.security.KeyStore;
import java.util.HashSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.SocketFactory;
import org.jspecify.annotations.Nullable;

/**
 * A live STARTTLS probe of one MX address: connects, reads the greeting, says EHLO and applies a
 * {@link TlsRequirement} (STARTTLS, the handshake, the certificate check) exactly as {@link
 * SecureSmtpTransport} opens a delivery session, with the same TLS versions, SNI name and trust
 * managers (PKIX with the RFC 6125 name check, the {@link DaneProvider}'s for DANE). Then it says
 * QUIT: it never starts a mail transaction. Its {@link ProbeResult} says what it saw and what
 * delivery there would do ({@link ProbeVerdict}).
 *
 * <pre>{@code
 * try (StarttlsProbe probe = StarttlsProbe.builder()
 *     .heloName("mail.example.com")
 *     .dane(DaneResolver.builder().dns(dns).build())
 *     .build()) {
 *   ProbeResult r = probe.probe(Optional.of(mxName), address, requirement);
 *   System.out.println(r.verdict().token() + ": " + r.reason());
 * }
 * }</pre>
 *
 * <p>Where the requirement does not authenticate the server (opportunistic, encrypted), the probe
 * also checks the chain by PKIX against the host name, as MTA-STS would (RFC 8461 §4.2), and
 * reports it; that check decides nothing for delivery. Under an opportunistic requirement a failed
 * handshake is {@link ProbeVerdict#FAILED}, and the reason says that delivery would retry in
 * plaintext on a fresh connection; the probe does not make that second connection.
 *
 * <p>Thread-safe: probes may run concurrently, each on its own connection. No server behaviour
 * makes {@link #probe} throw; every step is bounded by the {@link SmtpTimeouts}. {@link #probe}
 * blocks (docs/design.md §5). {@link #close()} stops the probe's timer thread; {@link
 * #newBuilder()} derives a probe with some settings changed.
 */
public final class StarttlsProbe implements AutoCloseable {

  private final SessionProbe probe;
  private final Watchdog watchdog;
  private volatile boolean closed;

  /** The settings this probe was built with, for {@link #newBuilder()}. */
  private final Builder settings;

  private StarttlsProbe(Builder b) {
    this.settings = new Builder(b);
    AtomicInteger timers = new AtomicInteger();
    this.watchdog =
        new Watchdog(
            1,
            r -> {
              Thread t = new Thread(r, "mailtls-probe-timer-" + timers.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.probe =
        new SessionProbe(
            new SessionProbe.Settings(
                new TlsSupport(b.trustStore, b.tlsContexts, Optional.ofNullable(b.dane)),
                b.socketFactory,
                b.timeouts,
                Objects.requireNonNull(b.heloName, "heloName"),
                b.port,
                watchdog),
            new SafeListener(b.listener));
  }

  /** A builder; {@link Builder#heloName} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder that starts with every setting of this probe, to build one that differs in some (as
   * OkHttp's {@code newBuilder()}): each setter may be called once, overriding the setting it
   * inherited. This probe is unchanged.
   *
   * <p>Shared with this probe: what its builder was given (the socket factory, the trust store, the
   * TLS context factory, the DANE provider, the listener). Made anew, and stopped by the derived
   * probe's {@link #close()}: its timer thread. Either probe may be closed first.
   */
  public Builder newBuilder() {
    return new Builder(settings);
  }

  /**
   * Probes {@code address} (at the configured port) of the MX host {@code host} under {@code
   * requirement}: the requirement of that host in a {@link DeliveryPlan} says what delivery there
   * would demand. A DANE requirement without a {@link Builder#dane} provider fails at once with
   * {@link FailureType#POLICY_UNAVAILABLE}, without connecting.
   *
   * @param host the MX host name; empty for an address literal
   * @throws IllegalStateException if the probe is closed
   */
  public ProbeResult probe(
      Optional<DomainName> host, InetAddress address, TlsRequirement requirement) {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(requirement, "requirement");
    if (closed) {
      throw new IllegalStateException("the probe is closed");
    }
    return probe.probe(host, address, requirement);
  }

  /** Stops the timer thread; a probe still running then fails instead of waiting. */
  @Override
  public void close() {
    closed = true;
    watchdog.shutdownNow();
  }

  /**
   * Configures a {@link StarttlsProbe} as a {@link SecureSmtpTransport} is. Each setter may be
   * called once, also in a builder from {@link StarttlsProbe#newBuilder()}, where it overrides the
   * inherited setting. Not thread-safe.
   */
  public static final class Builder {
    private @Nullable String heloName;
    private int port = 25;
    private SmtpTimeouts timeouts = SmtpTimeouts.RFC_5321;
    private SocketFactory socketFactory = SocketFactory.getDefault();
    private @Nullable KeyStore trustStore;
    private TlsContextFactory tlsContexts = TlsContextFactory.JDK;
    private @Nullable DaneProvider dane;
    private EventListener listener = EventListener.NONE;
    private final Set<String> called = new HashSet<>();

    private Builder() {}

    /** A builder with {@code from}'s settings, none of them set in this builder yet. */
    private Builder(Builder from) {
      this.heloName = from.heloName;
      this.port = from.port;
      this.timeouts = from.timeouts;
      this.socketFactory = from.socketFactory;
      this.trustStore = from.trustStore;
      this.tlsContexts = from.tlsContexts;
      this.dane = from.dane;
      this.listener = from.listener;
    }

    private void once(String name) {
      if (!called.add(name)) {
        throw new IllegalStateException(name + " already set");
      }
    }

    /**
     * The EHLO name (required): this host's fully qualified domain name (RFC 5321 §4.1.1.1).
     *
     * @throws IllegalArgumentException if {@code name} is not a fully qualified host name
     */
    public Builder heloName(String name) {
      once("heloName");
      DomainName d = DomainName.of(name);
      if (!d.isFullyQualifiedHostName()) {
        throw new IllegalArgumentException(
            "the EHLO name must be this host's fully qualified"
                + " domain name (RFC 5321 §4.1.1.1), not \""
                + name
                + "\"");
      }
      this.heloName = d.toString();
      return this;
    }

    /** The SMTP port; default 25. */
    public Builder port(int port) {
      once("port");
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("port out of range: " + port);
      }
      this.port = port;
      return this;
    }

    /** Time bounds per session step; default {@link SmtpTimeouts#RFC_5321}. */
    public Builder timeouts(SmtpTimeouts timeouts) {
      once("timeouts");
      this.timeouts = Objects.requireNonNull(timeouts, "timeouts");
      return this;
    }

    /** Creates the TCP sockets; default {@link SocketFactory#getDefault()}. */
    public Builder socketFactory(SocketFactory factory) {
      once("socketFactory");
      this.socketFactory = Objects.requireNonNull(factory, "factory");
      return this;
    }

    /** The roots for PKIX verification; default the JDK's trust store. */
    public Builder trustStore(KeyStore trustStore) {
      once("trustStore");
      this.trustStore = Objects.requireNonNull(trustStore, "trustStore");
      return this;
    }

    /** Builds the TLS contexts; default {@link TlsContextFactory#JDK}. */
    public Builder tlsContextFactory(TlsContextFactory factory) {
      once("tlsContextFactory");
      this.tlsContexts = Objects.requireNonNull(factory, "factory");
      return this;
    }

    /** The DANE provider whose trust manager checks DANE requirements; default none. */
    public Builder dane(DaneProvider provider) {
      once("dane");
      this.dane = Objects.requireNonNull(provider, "provider");
      return this;
    }

    /**
     * Receives the connect, STARTTLS and handshake events of each probe, as the transport fires
     * them; must not throw (if it does, the probe goes on).
     */
    public Builder eventListener(EventListener listener) {
      once("eventListener");
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Builds the probe.
     *
     * @throws IllegalStateException if {@link #heloName} is missing
     */
    public StarttlsProbe build() {
      if (heloName == null) {
        throw new IllegalStateException(
            "heloName(...) is required: this host's fully qualified"
                + " domain name, which receivers expect in EHLO (RFC 5321 §4.1.1.1)");
      }
      return new StarttlsProbe(this);
    }
  }
}
