package io.mailtls.core;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a TLS session negotiated. Immutable.
 *
 * @param protocol e.g. {@code TLSv1.3}
 * @param cipherSuite e.g. {@code TLS_AES_256_GCM_SHA384}
 * @param peerChain the certificates the server presented, leaf first
 * @param serverName the SNI host name sent, if any
 */
public record TlsDetails(
    String protocol, String cipherSuite, List<X509Certificate> peerChain,
    Optional<String> serverName) {

  public TlsDetails {
    Objects.requireNonNull(protocol, "protocol");
    Objects.requireNonNull(cipherSuite, "cipherSuite");
    peerChain = List.copyOf(peerChain);
    Objects.requireNonNull(serverName, "serverName");
  }

  @Override
  public String toString() {
    return protocol + " " + cipherSuite
        + (peerChain.isEmpty() ? "" : " peer=" + peerChain.get(0).getSubjectX500Principal());
  }
}
