package io.mailtls.core.internal.tls;

import io.mailtls.core.DaneProvider;
import io.mailtls.core.DomainName;
import io.mailtls.core.TlsContextFactory;
import io.mailtls.core.TlsRequirement;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSessionContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import org.jspecify.annotations.Nullable;

/**
 * Creates TLS client sockets for SMTP: TLS 1.3 and 1.2 only, SNI set to the host name, endpoint
 * identification off (names are checked by mailtls's own trust managers). Thread-safe.
 *
 * <p>TLS session resumption ({@link #resumable}): one {@link SSLContext}, with JSSE's client
 * session cache, per session key: the server name (or address) the socket is layered for, the port,
 * and the {@link TlsVerification} of the requirement. On resumption (a TLS 1.3 PSK, RFC 8446 §2.2,
 * or a TLS 1.2 session ID) JSSE does not call the trust manager again; a session enters a context's
 * cache only after a full handshake whose check, by that context's own trust manager, passed. So a
 * resumed session is only ever offered where a full handshake would have verified the peer the same
 * way, and it carries that verification; a different host, port or verification (another TLSA
 * RRset, other reference names, or none) has another context and never sees the session. Contexts
 * are kept for at most {@value #MAX_CONTEXTS} keys (least recently used dropped) and their sessions
 * for {@link #SESSION_TIMEOUT_SECONDS} seconds (Postfix's {@code smtp_tls_session_cache_timeout}),
 * so that a verification does not outlive the certificates' and the policies' changes by long.
 *
 * <p>{@link #layer} (the STARTTLS probe, Angus Mail sessions) makes a fresh context per connection
 * around the trust manager it is given: a full handshake, never a resumed one.
 */
public final class TlsSupport {

  /** RFC 8996 deprecates TLS 1.0 and 1.1; RFC 8461 §7 and RFC 7672 §8 want 1.2 or newer. */
  static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

  private final @Nullable KeyStore trustStore;
  private final TlsContextFactory contexts;
  private final Optional<DaneProvider> dane;
  private final SSLContext unauthenticated;
  private volatile @Nullable X509ExtendedTrustManager pkixDelegate;

  /** The most session keys with a context of their own. */
  static final int MAX_CONTEXTS = 1024;

  /** How long a cached TLS session may be resumed: one hour, as Postfix's default. */
  public static final int SESSION_TIMEOUT_SECONDS = 3600;

  /**
   * The most sessions a resuming context keeps. A context serves one host and port, and JSSE
   * resumes only the session it stored last for them; but it stores each TLS 1.3 NewSessionTicket
   * (RFC 8446 §4.6.1, as many as the server sends, each with a ticket of up to 65,535 octets of the
   * server's choosing) as a session of its own, by default up to 20,480 per context.
   */
  static final int SESSION_CACHE_SIZE = 16;

  /** Where a resumable session may go: see the class comment. */
  private record SessionKey(String peerHost, int port, TlsVerification verification) {}

  private final Map<SessionKey, Resuming> resuming =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<SessionKey, Resuming> eldest) {
          return size() > MAX_CONTEXTS;
        }
      };

  /**
   * @param trustStore the roots for PKIX verification; null for the JDK's default trust store
   * @param contexts builds each context around the trust manager mailtls chooses
   * @param dane the DANE provider whose trust managers authenticate DANE requirements
   */
  public TlsSupport(
      @Nullable KeyStore trustStore, TlsContextFactory contexts, Optional<DaneProvider> dane) {
    this.trustStore = trustStore;
    this.contexts = contexts;
    this.dane = dane;
    // Shared by every host that layer() serves unauthenticated: room for one session per host.
    this.unauthenticated = bounded(context(UnauthenticatedTrustManager.INSTANCE), MAX_CONTEXTS);
  }

  /**
   * Caps the client session cache of {@code ctx} at {@code size} sessions: however many
   * NewSessionTickets a server sends (see {@link #SESSION_CACHE_SIZE}), a context never holds more.
   */
  private static SSLContext bounded(SSLContext ctx, int size) {
    SSLSessionContext sessions = ctx.getClientSessionContext();
    if (sessions != null) {
      sessions.setSessionCacheSize(size);
    }
    return ctx;
  }

  private SSLContext context(X509ExtendedTrustManager tm) {
    try {
      return contexts.create(tm);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot create a TLS context", e);
    }
  }

  /** The WebPKI trust manager over the trust store, made once (JSSE's is thread-safe). */
  private X509ExtendedTrustManager pkixDelegate() {
    X509ExtendedTrustManager d = pkixDelegate;
    if (d == null) {
      d = loadPkixDelegate();
      pkixDelegate = d;
    }
    return d;
  }

  private X509ExtendedTrustManager loadPkixDelegate() {
    try {
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trustStore);
      for (TrustManager tm : tmf.getTrustManagers()) {
        if (tm instanceof X509ExtendedTrustManager x) {
          return x;
        }
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot load the PKIX trust store", e);
    }
    throw new IllegalStateException("no X509ExtendedTrustManager for the trust store");
  }

  /** The trust manager a requirement calls for; null means the shared unauthenticated one. */
  public @Nullable X509ExtendedTrustManager trustManagerFor(TlsRequirement requirement) {
    if (requirement instanceof TlsRequirement.Pkix pkix) {
      return new PkixTrustManager(pkixDelegate(), pkix.referenceNames());
    }
    if (requirement instanceof TlsRequirement.Dane d) {
      return dane.orElseThrow(
              () -> new IllegalStateException("a DANE requirement without a DANE provider"))
          .trustManager(d);
    }
    if (requirement instanceof TlsRequirement.Fingerprint f) {
      return new FingerprintTrustManager(f.pins());
    }
    if (requirement.requiresAuthentication()) {
      // Fail closed: an authenticating requirement must never fall to the unauthenticated path.
      throw new IllegalStateException("no trust manager for " + requirement);
    }
    return null;
  }

  /**
   * Whether {@link #trustManagerFor} can serve {@code requirement}: false only for a DANE
   * requirement without a DANE provider.
   */
  public boolean supports(TlsRequirement requirement) {
    return !(requirement instanceof TlsRequirement.Dane) || dane.isPresent();
  }

  /**
   * Layers TLS over a connected socket (STARTTLS, RFC 3207) or wraps a fresh one (implicit TLS, RFC
   * 8314), without starting the handshake.
   */
  public SSLSocket layer(
      Socket plain,
      InetSocketAddress peer,
      Optional<DomainName> serverName,
      @Nullable X509ExtendedTrustManager trustManager)
      throws IOException {
    SSLContext ctx =
        trustManager == null ? unauthenticated : bounded(context(trustManager), SESSION_CACHE_SIZE);
    return configure(ctx, plain, peerHost(peer, serverName), peer, serverName);
  }

  private static String peerHost(InetSocketAddress peer, Optional<DomainName> serverName) {
    return serverName.map(DomainName::toString).orElse(peer.getAddress().getHostAddress());
  }

  private static SSLSocket configure(
      SSLContext ctx,
      Socket plain,
      String host,
      InetSocketAddress peer,
      Optional<DomainName> serverName)
      throws IOException {
    // Layered with the peer's host and port: JSSE looks its client session cache up by them.
    SSLSocket tls =
        (SSLSocket) ctx.getSocketFactory().createSocket(plain, host, peer.getPort(), true);
    tls.setUseClientMode(true);
    SSLParameters params = tls.getSSLParameters();
    List<String> enabled = new ArrayList<>();
    List<String> supported = Arrays.asList(tls.getSupportedProtocols());
    for (String p : PROTOCOLS) {
      if (supported.contains(p)) {
        enabled.add(p);
      }
    }
    params.setProtocols(enabled.toArray(String[]::new));
    params.setCipherSuites(authenticatedSuites(tls.getEnabledCipherSuites()));
    // RFC 8461 §7 / RFC 7672 §8.1: SNI with the MX host name; none for an address literal
    // (RFC 6066 §3 forbids IP addresses in SNI).
    serverName.ifPresentOrElse(
        n -> params.setServerNames(List.of(new SNIHostName(n.toString()))),
        () -> params.setServerNames(List.of()));
    params.setEndpointIdentificationAlgorithm(null);
    tls.setSSLParameters(params);
    return tls;
  }

  /**
   * The enabled cipher suites without those that authenticate the server by no certificate or
   * encrypt nothing, whatever the JVM's security properties or a {@link
   * io.mailtls.core.TlsContextFactory}'s provider enable: anonymous, pre-shared key, SRP and
   * Kerberos key exchanges (a full handshake would end without a certificate check), NULL and
   * export ciphers, and TLS 1.3's integrity-only suites (RFC 9150). RFC 8461 §4.2 and RFC 7672 §3
   * require an authenticated certificate; RFC 7525 §4.1 rules the weak ones out.
   */
  static String[] authenticatedSuites(String[] enabled) {
    List<String> kept = new ArrayList<>();
    for (String suite : enabled) {
      String s = suite.toUpperCase(java.util.Locale.ROOT);
      boolean weak =
          s.contains("_ANON_")
              || s.contains("_NULL_")
              || s.endsWith("_NULL")
              || s.contains("_EXPORT")
              || s.contains("_PSK_")
              || s.contains("_SRP_")
              || s.contains("_KRB5_")
              || s.startsWith("TLS_SHA256_")
              || s.startsWith("TLS_SHA384_");
      if (!weak) {
        kept.add(suite);
      }
    }
    return kept.toArray(String[]::new);
  }

  /**
   * Layers TLS over a connected socket (STARTTLS) or wraps a fresh one (implicit TLS) for a session
   * under {@code requirement}, without starting the handshake, in the context of its session key,
   * so that JSSE may resume a session verified under the same key (see the class comment). After
   * the handshake, or its failure, call {@link Handshake#finish()} once.
   */
  public Handshake resumable(
      Socket plain,
      InetSocketAddress peer,
      Optional<DomainName> serverName,
      TlsRequirement requirement)
      throws IOException {
    if (!supports(requirement)) {
      // As trustManagerFor: before any handshake, never inside one.
      throw new IllegalStateException("a DANE requirement without a DANE provider");
    }
    String host = peerHost(peer, serverName);
    Resuming r =
        resuming(
            new SessionKey(host, peer.getPort(), TlsVerification.of(requirement)), requirement);
    SSLSocket tls = configure(r.context, plain, host, peer, serverName);
    r.trust.begin(tls);
    return new Handshake(tls, r.trust);
  }

  private Resuming resuming(SessionKey key, TlsRequirement requirement) {
    synchronized (resuming) {
      Resuming r = resuming.get(key);
      if (r != null) {
        return r;
      }
    }
    // Made outside the lock (a context takes a while); a racing twin is simply dropped.
    RecordingTrustManager trust =
        new RecordingTrustManager(
            () -> {
              X509ExtendedTrustManager tm = trustManagerFor(requirement);
              return tm == null ? UnauthenticatedTrustManager.INSTANCE : tm;
            });
    SSLContext ctx = bounded(context(trust), SESSION_CACHE_SIZE);
    SSLSessionContext sessions = ctx.getClientSessionContext();
    if (sessions != null) {
      sessions.setSessionTimeout(SESSION_TIMEOUT_SECONDS);
    }
    Resuming made = new Resuming(ctx, trust);
    synchronized (resuming) {
      Resuming raced = resuming.putIfAbsent(key, made);
      return raced != null ? raced : made;
    }
  }

  /** The number of session keys with a context (for tests). */
  int resumingContexts() {
    synchronized (resuming) {
      return resuming.size();
    }
  }

  private record Resuming(SSLContext context, RecordingTrustManager trust) {}

  /**
   * One handshake in a resuming context: the socket to start it on, and what its certificate check
   * found, if there was one.
   */
  public static final class Handshake {
    private final SSLSocket socket;
    private final RecordingTrustManager trust;

    Handshake(SSLSocket socket, RecordingTrustManager trust) {
      this.socket = socket;
      this.trust = trust;
    }

    /** The TLS socket; its handshake is not started. */
    public SSLSocket socket() {
      return socket;
    }

    /**
     * What this handshake's certificate check found: empty when the trust manager was not called
     * for it, which after a successful handshake means that a cached session was resumed. Forgets
     * the handshake; call it once, after the handshake or its failure.
     */
    public Optional<Checked> finish() {
      return trust.take(socket);
    }

    /**
     * Whether a handshake in this context has checked, and passed, a chain with the leaf that
     * {@code chain} starts with: what a handshake that resumed a session verified under the same
     * key presents again. A handshake without a check whose leaf was never checked here resumed no
     * such session: a {@link io.mailtls.core.TlsContextFactory} that did not use the trust manager
     * it was given skipped the check.
     */
    public boolean checkedBefore(List<X509Certificate> chain) {
      return !chain.isEmpty() && trust.passedBefore(chain.get(0));
    }

    /** How many sockets the context's trust manager still keeps (for tests). */
    int tracked() {
      return trust.tracked();
    }
  }

  /**
   * A certificate check that passed in a full handshake.
   *
   * @param matched the TLSA record that authenticated the peer, for DANE
   */
  public record Checked(Optional<io.mailtls.core.DnsRecord.Tlsa> matched) {}

  /**
   * The trust manager of a resuming context: each check goes to a fresh trust manager for the key's
   * requirement (a DANE manager remembers its match, so one manager is never shared between
   * handshakes), and a check that passes is recorded against its socket while its {@link Handshake}
   * is open. A check after that (a TLS 1.2 server's renegotiation) is made all the same and must
   * pass, but is not recorded: the record would outlive the connection in a context that lives as
   * long as the transport.
   */
  static final class RecordingTrustManager extends ServerTrustManager {
    private final Supplier<X509ExtendedTrustManager> checks;
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final Map<Socket, Checked> passed = new ConcurrentHashMap<>();

    /**
     * SHA-256 digests of the leaves of chains that passed a check here, the {@value #LEAVES} most
     * recently checked or resumed.
     */
    private final Map<ByteBuffer, Boolean> leaves =
        Collections.synchronizedMap(
            new LinkedHashMap<>(4, 0.75f, true) {
              private static final long serialVersionUID = 1;

              @Override
              protected boolean removeEldestEntry(Map.Entry<ByteBuffer, Boolean> eldest) {
                return size() > LEAVES;
              }
            });

    /** How many leaves a context remembers: a server's certificates, and those after rotations. */
    static final int LEAVES = 64;

    RecordingTrustManager(Supplier<X509ExtendedTrustManager> checks) {
      this.checks = checks;
    }

    boolean passedBefore(X509Certificate leaf) {
      ByteBuffer digest = digest(leaf);
      return digest != null && leaves.get(digest) != null;
    }

    private void passed(X509Certificate[] chain) {
      ByteBuffer digest = chain.length > 0 ? digest(chain[0]) : null;
      if (digest != null) {
        leaves.put(digest, Boolean.TRUE);
      }
      // not remembered otherwise: a handshake that resumes its session fails closed, nothing worse
    }

    private static @Nullable ByteBuffer digest(X509Certificate leaf) {
      try {
        return ByteBuffer.wrap(
            java.security.MessageDigest.getInstance("SHA-256").digest(leaf.getEncoded()));
      } catch (CertificateException | java.security.NoSuchAlgorithmException e) {
        return null;
      }
    }

    void begin(Socket socket) {
      open.add(socket);
    }

    Optional<Checked> take(Socket socket) {
      open.remove(socket);
      return Optional.ofNullable(passed.remove(socket));
    }

    /** Sockets with an open handshake or a record (for tests). */
    int tracked() {
      return open.size() + passed.size();
    }

    private static Checked checked(X509ExtendedTrustManager tm) {
      return new Checked(
          tm instanceof DaneProvider.Matched m ? m.matchedRecord() : Optional.empty());
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      X509ExtendedTrustManager tm = checks.get();
      tm.checkServerTrusted(chain, authType, socket);
      passed(chain);
      if (open.contains(socket)) {
        passed.put(socket, checked(tm));
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
        throws CertificateException {
      checks.get().checkServerTrusted(chain, authType, engine);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      checks.get().checkServerTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }

  /**
   * Checks a presented chain as {@code requirement} would, without failing anything: for MTA-STS
   * testing mode, which delivers regardless and reports what would have failed (RFC 8461 §5).
   * Returns the failure, or null when the chain passes.
   */
  public @Nullable CertificateFailure audit(
      List<java.security.cert.X509Certificate> chain, TlsRequirement.Pkix requirement) {
    return audit(chain, requirement.referenceNames());
  }

  /**
   * Checks a presented chain by PKIX with {@code referenceNames}, as {@link #audit(List,
   * TlsRequirement.Pkix)} does; with no reference name (an address literal) the chain is checked
   * and no name can match. Returns the failure, or null when the chain passes.
   */
  public @Nullable CertificateFailure audit(
      List<java.security.cert.X509Certificate> chain, List<DomainName> referenceNames) {
    if (chain.isEmpty()) {
      return new CertificateFailure(
          io.mailtls.core.FailureType.CERTIFICATE_NOT_TRUSTED,
          "the server presented no certificate",
          null);
    }
    try {
      new PkixTrustManager(pkixDelegate(), referenceNames)
          .checkServerTrusted(chain.toArray(java.security.cert.X509Certificate[]::new), "UNKNOWN");
      return null;
    } catch (CertificateFailure f) {
      return f;
    } catch (java.security.cert.CertificateException e) {
      return new CertificateFailure(
          io.mailtls.core.FailureType.VALIDATION_FAILURE, e.getMessage(), e);
    }
  }

  /** Whether a negotiated protocol meets the TLS 1.2 floor. */
  public static boolean meetsFloor(String protocol) {
    return PROTOCOLS.contains(protocol);
  }
}
