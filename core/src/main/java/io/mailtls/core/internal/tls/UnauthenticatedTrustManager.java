package io.mailtls.core.internal.tls;

import java.net.Socket;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;

/**
 * Accepts any server certificate: for the unauthenticated TLS of the {@code opportunistic} and
 * {@code enforced} levels only (RFC 7435 §1: encryption without authentication beats plaintext; RFC
 * 7672 §2.2 for secure-but-unusable TLSA). The report then says {@code ENCRYPTED}, never {@code
 * VERIFIED}; the peer chain is still recorded from the session. Never used where a policy requires
 * authentication, and never exposed as a public type.
 */
public final class UnauthenticatedTrustManager extends ServerTrustManager {

  /** The one instance; it has no state. */
  public static final UnauthenticatedTrustManager INSTANCE = new UnauthenticatedTrustManager();

  private UnauthenticatedTrustManager() {}

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
    // Unauthenticated by definition of the level; see the class comment.
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
    // Unauthenticated by definition of the level; see the class comment.
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType) {
    // Unauthenticated by definition of the level; see the class comment.
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return new X509Certificate[0];
  }
}
