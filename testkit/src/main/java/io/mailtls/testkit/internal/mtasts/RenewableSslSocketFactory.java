package io.mailtls.testkit.internal.mtasts;

import java.io.IOException;
import java.net.InetAddress;
import java.net.Socket;
import java.security.GeneralSecurityException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import org.jspecify.annotations.Nullable;

/**
 * A server-side {@link SSLSocketFactory} over one key manager whose {@link SSLContext} can be
 * renewed: a fresh context has an empty session cache and new session-ticket keys, so no client can
 * resume a session made before {@link #renew()} and skip the certificate now chosen. Optionally
 * restricted to some protocol versions, set on every socket it creates.
 *
 * <p>Thread-safe.
 */
public final class RenewableSslSocketFactory extends SSLSocketFactory {

  private static final TrustManager[] NO_CLIENT_AUTH = {new NoClientTrust()};

  private final KeyManager keyManager;
  private final String @Nullable [] protocols;
  private volatile SSLSocketFactory current;

  /** A factory presenting what {@code keyManager} chooses, with the JVM's default protocols. */
  public RenewableSslSocketFactory(KeyManager keyManager) {
    this(keyManager, null);
  }

  /**
   * A factory presenting what {@code keyManager} chooses, enabling only {@code protocols} (e.g.
   * {@code "TLSv1.2"}) on its sockets, or the JVM's defaults when null. A protocol the JVM's {@code
   * jdk.tls.disabledAlgorithms} forbids stays unusable whatever is enabled here.
   */
  public RenewableSslSocketFactory(KeyManager keyManager, @Nullable List<String> protocols) {
    this.keyManager = Objects.requireNonNull(keyManager, "keyManager");
    this.protocols = protocols == null ? null : protocols.toArray(new String[0]);
    this.current = newFactory();
  }

  private Socket restrict(Socket socket) {
    if (protocols != null && socket instanceof SSLSocket ssl) {
      ssl.setEnabledProtocols(protocols.clone());
    }
    return socket;
  }

  /** Starts a new TLS context: sessions of the old one are not resumed. */
  public void renew() {
    current = newFactory();
  }

  private SSLSocketFactory newFactory() {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(new KeyManager[] {keyManager}, NO_CLIENT_AUTH, null);
      return context.getSocketFactory();
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("the JDK offers no TLS context", e);
    }
  }

  @Override
  public String[] getDefaultCipherSuites() {
    return current.getDefaultCipherSuites();
  }

  @Override
  public String[] getSupportedCipherSuites() {
    return current.getSupportedCipherSuites();
  }

  @Override
  public Socket createSocket(Socket s, String host, int port, boolean autoClose)
      throws IOException {
    return restrict(current.createSocket(s, host, port, autoClose));
  }

  @Override
  public Socket createSocket() throws IOException {
    return restrict(current.createSocket());
  }

  @Override
  public Socket createSocket(String host, int port) throws IOException {
    return restrict(current.createSocket(host, port));
  }

  @Override
  public Socket createSocket(String host, int port, InetAddress localHost, int localPort)
      throws IOException {
    return restrict(current.createSocket(host, port, localHost, localPort));
  }

  @Override
  public Socket createSocket(InetAddress host, int port) throws IOException {
    return restrict(current.createSocket(host, port));
  }

  @Override
  public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
      throws IOException {
    return restrict(current.createSocket(address, port, localAddress, localPort));
  }

  /** The server never asks for client certificates; this refuses any that come anyway. */
  private static final class NoClientTrust implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("client certificates are not accepted");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("server side only");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
