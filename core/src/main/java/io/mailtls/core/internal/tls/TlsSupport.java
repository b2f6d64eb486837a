package io.mailtls.core.internal.tls;

import io.mailtls.core.DaneProvider;
import io.mailtls.core.DomainName;
import io.mailtls.core.TlsContextFactory;
import io.mailtls.core.TlsRequirement;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import org.jspecify.annotations.Nullable;

/**
 * Creates TLS client sockets for SMTP: TLS 1.3 and 1.2 only, SNI set to the host name, endpoint
 * identification off (names are checked by mailtls's own trust managers). Thread-safe.
 *
 * <p>Unauthenticated requirements share one {@link SSLContext}, so their sessions can resume. Each
 * authenticated connection gets its own context: a session resumed from a context that verified
 * other names, or none, must never skip verification.
 */
public final class TlsSupport {

  /** RFC 8996 deprecates TLS 1.0 and 1.1; RFC 8461 §7 and RFC 7672 §8 want 1.2 or newer. */
  static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");

  private final @Nullable KeyStore trustStore;
  private final TlsContextFactory contexts;
  private final Optional<DaneProvider> dane;
  private final SSLContext unauthenticated;

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
    this.unauthenticated = context(UnauthenticatedTrustManager.INSTANCE);
  }

  private SSLContext context(X509ExtendedTrustManager tm) {
    try {
      return contexts.create(tm);
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot create a TLS context", e);
    }
  }

  private X509ExtendedTrustManager pkixDelegate() {
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
    SSLContext ctx = trustManager == null ? unauthenticated : context(trustManager);
    String host = serverName.map(DomainName::toString).orElse(peer.getAddress().getHostAddress());
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
