package io.mailtls.core;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a TLS session negotiated.
 *
 * <p>Immutable. mailtls builds it and callers read it: its constructor is not public, so that it
 * may gain components without breaking callers (docs/design.md §5).
 */
public final class TlsDetails {

  private final String protocol;
  private final String cipherSuite;
  private final List<X509Certificate> peerChain;
  private final Optional<String> serverName;
  private final boolean resumed;

  /** Not public: built by the transport and the probe. */
  TlsDetails(
      String protocol,
      String cipherSuite,
      List<X509Certificate> peerChain,
      Optional<String> serverName,
      boolean resumed) {
    Objects.requireNonNull(protocol, "protocol");
    Objects.requireNonNull(cipherSuite, "cipherSuite");
    peerChain = List.copyOf(peerChain);
    Objects.requireNonNull(serverName, "serverName");
    this.protocol = protocol;
    this.cipherSuite = cipherSuite;
    this.peerChain = peerChain;
    this.serverName = serverName;
    this.resumed = resumed;
  }

  /** The protocol, e.g. {@code TLSv1.3}. */
  public String protocol() {
    return protocol;
  }

  /** The cipher suite, e.g. {@code TLS_AES_256_GCM_SHA384}. */
  public String cipherSuite() {
    return cipherSuite;
  }

  /** The certificates the server presented, leaf first. */
  public List<X509Certificate> peerChain() {
    return peerChain;
  }

  /** The SNI host name sent, if any. */
  public Optional<String> serverName() {
    return serverName;
  }

  /**
   * Whether the session was resumed (TLS 1.3 PSK, RFC 8446 §2.2, or a TLS 1.2 session ID) rather
   * than fully handshaken. A resumed session presents no certificate: its {@link #peerChain()} is
   * the one verified at the full handshake, and mailtls resumes only a session whose full handshake
   * verified the peer under the same host, port and verification, so the connection's
   * authentication is what that handshake established (docs/design.md, "TLS session resumption").
   */
  public boolean resumed() {
    return resumed;
  }

  /** Equal when every component is. */
  @Override
  public boolean equals(Object o) {
    return o instanceof TlsDetails other
        && protocol.equals(other.protocol)
        && cipherSuite.equals(other.cipherSuite)
        && peerChain.equals(other.peerChain)
        && serverName.equals(other.serverName)
        && resumed == other.resumed;
  }

  @Override
  public int hashCode() {
    return Objects.hash(protocol, cipherSuite, peerChain, serverName, resumed);
  }

  @Override
  public String toString() {
    return protocol
        + " "
        + cipherSuite
        + (resumed ? " resumed" : "")
        + (peerChain.isEmpty() ? "" : " peer=" + peerChain.get(0).getSubjectX500Principal());
  }
}
