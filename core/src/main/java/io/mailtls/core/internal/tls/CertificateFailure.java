package io.mailtls.core.internal.tls;

import io.mailtls.core.FailureType;
import java.security.cert.CertificateException;
import org.jspecify.annotations.Nullable;

/**
 * A certificate rejected by one of mailtls's trust managers, with the RFC 8460 result type that the
 * report and TLS-RPT need. JSSE wraps it in its handshake exception; {@link #find} digs it out.
 */
public final class CertificateFailure extends CertificateException {

  private final FailureType type;

  public CertificateFailure(FailureType type, @Nullable String message, @Nullable Throwable cause) {
    super(message, cause);
    this.type = type;
  }

  public FailureType type() {
    return type;
  }

  /** The certificate failure somewhere in {@code error}'s cause chain, or null. */
  public static @Nullable CertificateFailure find(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof CertificateFailure f) {
        return f;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return null;
  }
}
