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

  /** Not public: built by the transport and the probe. */
  TlsDetails(
      String protocol,
      String cipherSuite,
      List<X509Certificate> peerChain,
      Optional<String> serverName) {
    Objects.requireNonNull(protocol, "protocol");
    Objects.requireNonNull(cipherSuite, "cipherSuite");
    peerChain = List.copyOf(peerChain);
    Objects.requireNonNull(serverName, "serverName");
    this.protocol = protocol;
    this.cipherSuite = cipherSuite;
    this.peerChain = peerChain;
    this.serverName = serverName;
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

  /** Equal when every component is. */
  @Override
  public boolean equals(Object o) {
    return o instanceof TlsDetails other
        && protocol.equals(other.protocol)
        && cipherSuite.equals(other.cipherSuite)
        && peerChain.equals(other.peerChain)
        && serverName.equals(other.serverName);
  }

  @Override
  public int hashCode() {
    return Objects.hash(protocol, cipherSuite, peerChain, serverName);
  }

  @Override
  public String toString() {
    return protocol
        + " "
        + cipherSuite
        + (peerChain.isEmpty() ? "" : " peer=" + peerChain.get(0).getSubjectX500Principal());
  }
}
