package io.mailtls.core.internal.transport;

import io.mailtls.core.Attempt;
import io.mailtls.core.EnhancedStatus;
import io.mailtls.core.FailureType;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.internal.policy.MessageTlsPolicy;
import io.mailtls.core.internal.smtp.EhloCapabilities;
import io.mailtls.core.internal.tls.CertificateFailure;
import io.mailtls.core.internal.tls.TlsSupport;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import javax.net.ssl.X509ExtendedTrustManager;
import org.jspecify.annotations.Nullable;

/**
 * The session's part of RFC 8689 §4.2.1: before {@code MAIL FROM}, a message with REQUIRETLS needs
 * a TLS session whose EHLO reply (the one after STARTTLS: RFC 3207 §4.2 discards the one before, so
 * a REQUIRETLS keyword injected into the plaintext reply means nothing) advertises REQUIRETLS. Also
 * the report-only check of a DANE requirement that {@code TLS-Required: No} lowered.
 */
final class RequireTlsSession {

  private RequireTlsSession() {}

  /** Why {@code conn} cannot carry a REQUIRETLS message, or empty when it can. */
  static Optional<SessionFailure> check(SmtpConnection conn) {
    EhloCapabilities caps = conn.capabilities();
    if (conn.tls().isEmpty()) {
      return Optional.of(lacking("the session is not protected by TLS"));
    }
    if (caps == null || !caps.requireTls()) {
      return Optional.of(lacking("the server does not advertise REQUIRETLS in its EHLO after TLS"));
    }
    return Optional.empty();
  }

  private static SessionFailure lacking(String why) {
    String text = "REQUIRETLS support required: " + why + "; message not sent (RFC 8689 §4.2.1)";
    return new SessionFailure(
        FailureType.REQUIRETLS_UNAVAILABLE,
        text,
        SmtpReply.local(550, MessageTlsPolicy.REQUIRETLS_STATUS, text),
        null);
  }

  /** The permanent reply when no host advertised REQUIRETLS (RFC 8689 §4.2.1: 5.7.30). */
  static SmtpReply bounce(List<Attempt> attempts) {
    return SmtpReply.local(
        550,
        MessageTlsPolicy.REQUIRETLS_STATUS,
        "REQUIRETLS support required: none of the "
            + attempts.size()
            + " server(s) tried advertised REQUIRETLS after STARTTLS; message not sent"
            + " (RFC 8689 §4.2.1)");
  }

  /**
   * The transient reply when no tried host advertised REQUIRETLS but others may later: the attempt
   * limit left some untried ({@code untried}), or the plan skipped some for reasons that may pass.
   */
  static SmtpReply later(List<Attempt> attempts, boolean untried) {
    return SmtpReply.local(
        451,
        EnhancedStatus.REQUIRETLS_NEEDED.withStatusClass(4),
        "REQUIRETLS cannot be met now: none of the "
            + attempts.size()
            + " server(s) tried advertised REQUIRETLS after STARTTLS, and "
            + (untried ? "the attempt limit left MX hosts untried" : "other hosts were skipped")
            + "; not sent (RFC 8689 §4.2.1)");
  }

  /**
   * Checks a presented chain as an authenticating {@code requirement} would, failing nothing:
   * returns the failure, or null when it passes (or a resumed session presented no chain).
   */
  static @Nullable CertificateFailure audit(
      TlsSupport tls, List<X509Certificate> chain, TlsRequirement requirement) {
    if (chain.isEmpty() || !tls.supports(requirement)) {
      return null;
    }
    try {
      X509ExtendedTrustManager tm = tls.trustManagerFor(requirement);
      if (tm == null) {
        return null;
      }
      tm.checkServerTrusted(chain.toArray(X509Certificate[]::new), "UNKNOWN");
      return null;
    } catch (CertificateFailure f) {
      return f;
    } catch (CertificateException | RuntimeException e) {
      return new CertificateFailure(FailureType.VALIDATION_FAILURE, e.getMessage(), e);
    }
  }
}
