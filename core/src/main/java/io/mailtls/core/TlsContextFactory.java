package io.mailtls.core;

import java.security.GeneralSecurityException;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Builds the client {@link SSLContext}s the transport uses: the seam for a JSSE provider of your
 * choice, or a client certificate's key manager. mailtls passes the trust manager that enforces the
 * connection's requirement; the factory must use exactly that one, so that verification stays
 * mailtls's. Implementations are thread-safe.
 *
 * <p>Each call must return a new context: mailtls keeps one context, with its client session cache,
 * per server, port and verification, so that TLS sessions resume only where the same check passed
 * (docs/design.md §1); a context shared between calls would share sessions between verifications.
 */
@FunctionalInterface
public interface TlsContextFactory {

  /** The JDK's default TLS provider, no client certificate. */
  TlsContextFactory JDK =
      trustManager -> {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {trustManager}, null);
        return ctx;
      };

  /** A context whose only trust manager is {@code trustManager}. */
  SSLContext create(X509ExtendedTrustManager trustManager) throws GeneralSecurityException;
}
