package io.mailtls.jakartamail.internal;

import io.mailtls.core.DomainName;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.internal.tls.TlsSupport;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import java.security.NoSuchAlgorithmException;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The {@link SSLSocketFactory} Angus Mail uses for STARTTLS under one {@link TlsRequirement}: each
 * call layers TLS exactly as mailtls's own transport does ({@link TlsSupport#layer}: TLS 1.3 and
 * 1.2 only, SNI, endpoint identification off) with the trust manager the requirement calls for
 * ({@link TlsSupport#trustManagerFor}): PKIX plus RFC 6125 name check, DANE through the {@code
 * DaneProvider}, or unauthenticated for requirements without authentication.
 *
 * <p>STARTTLS only: the factory methods that would open a new connection (implicit TLS) throw
 * {@link SocketException}. Thread-safe and immutable.
 */
public final class PolicySocketFactory extends SSLSocketFactory {

  private final TlsSupport tls;
  private final TlsRequirement requirement;
  private final Optional<DomainName> serverName;

  /**
   * @param tls mailtls's TLS setup (core internal, see the package comment)
   * @param requirement what the connection requires
   * @param serverName the SNI name: the TLSA base domain for DANE (RFC 7672 §8.1), else the MX host
   *     name; empty for an address literal (RFC 6066 §3)
   */
  public PolicySocketFactory(
      TlsSupport tls, TlsRequirement requirement, Optional<DomainName> serverName) {
    this.tls = Objects.requireNonNull(tls, "tls");
    this.requirement = Objects.requireNonNull(requirement, "requirement");
    this.serverName = Objects.requireNonNull(serverName, "serverName");
  }

  /** The requirement this factory enforces. */
  public TlsRequirement requirement() {
    return requirement;
  }

  /** STARTTLS (RFC 3207): TLS over the connected plaintext socket, handshake not yet started. */
  @Override
  public Socket createSocket(Socket plain, String host, int port, boolean autoClose)
      throws IOException {
    Objects.requireNonNull(plain, "plain");
    if (!autoClose) {
      throw new SocketException("mailtls closes the plaintext socket with the TLS socket");
    }
    if (!plain.isConnected()) {
      throw new SocketException("STARTTLS needs a connected socket");
    }
    try {
      // Without TCP_NODELAY each message's last segment waits for a delayed ACK.
      plain.setTcpNoDelay(true);
    } catch (SocketException e) {
      // A performance hint only; the session works without it.
    }
    X509ExtendedTrustManager trustManager = tls.trustManagerFor(requirement);
    return tls.layer(
        plain, new InetSocketAddress(plain.getInetAddress(), port), serverName, trustManager);
  }

  @Override
  public Socket createSocket() throws IOException {
    throw implicitTls();
  }

  @Override
  public Socket createSocket(String host, int port) throws IOException {
    throw implicitTls();
  }

  @Override
  public Socket createSocket(String host, int port, InetAddress localHost, int localPort)
      throws IOException {
    throw implicitTls();
  }

  @Override
  public Socket createSocket(InetAddress host, int port) throws IOException {
    throw implicitTls();
  }

  @Override
  public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
      throws IOException {
    throw implicitTls();
  }

  private static SocketException implicitTls() {
    return new SocketException(
        "the mailtls policy socket factory supports STARTTLS only, "
            + "not implicit TLS (mail.smtp.ssl.enable)");
  }

  @Override
  public String[] getDefaultCipherSuites() {
    return jdkFactory().getDefaultCipherSuites();
  }

  @Override
  public String[] getSupportedCipherSuites() {
    return jdkFactory().getSupportedCipherSuites();
  }

  private static SSLSocketFactory jdkFactory() {
    try {
      return SSLContext.getDefault().getSocketFactory();
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("no default TLS context", e);
    }
  }

  @Override
  public String toString() {
    return "mailtls policy socket factory ("
        + requirement.getClass().getSimpleName()
        + serverName.map(n -> ", SNI " + n).orElse(", no SNI")
        + ")";
  }
}
