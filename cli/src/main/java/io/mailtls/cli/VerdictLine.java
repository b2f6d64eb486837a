package io.mailtls.cli;

import io.mailtls.core.FailureType;
import io.mailtls.core.ProbeResult;
import io.mailtls.core.ProbeVerdict;
import io.mailtls.core.TlsDetails;

/**
 * One probe's outcome on one line, worded as Postfix's {@code posttls-finger} words its own (so
 * that operators' scripts and habits carry over):
 *
 * <ul>
 *   <li>{@code Verified TLS connection established to mx.example[192.0.2.1]:25: TLSv1.3 with cipher
 *       TLS_AES_256_GCM_SHA384 (DANE)}: the server was authenticated, by DANE (RFC 7672) or by PKIX
 *       with its name (RFC 6125);
 *   <li>{@code Trusted TLS connection established to ...}: PKIX trusts the chain but the name does
 *       not match;
 *   <li>{@code Untrusted TLS connection established to ...}: encrypted, not authenticated (where
 *       DANE applies, a TLSA mismatch makes the connection untrusted whatever PKIX says);
 *   <li>{@code Anonymous (no TLS) connection established to ...}: plaintext, STARTTLS not offered
 *       or refused;
 *   <li>{@code Failed connection to ...: REASON}: no usable session (unreachable, handshake failed,
 *       or short of what the requirement demands).
 * </ul>
 *
 * Stateless.
 */
final class VerdictLine {

  private VerdictLine() {}

  /** The line for {@code r}. */
  static String of(ProbeResult r) {
    String peer =
        r.host().map(Object::toString).orElse("")
            + "["
            + r.address().getAddress().getHostAddress()
            + "]:"
            + r.address().getPort();
    if (r.tls().isEmpty()) {
      if (r.verdict() == ProbeVerdict.FAILED) {
        return "Failed connection to " + peer + ": " + Mailtls.oneLine(r.reason());
      }
      return "Anonymous (no TLS) connection established to "
          + peer
          + ": "
          + (r.starttlsOffered().orElse(false) ? "STARTTLS refused" : "STARTTLS not offered");
    }
    TlsDetails t = r.tls().get();
    String tls = ": " + t.protocol() + " with cipher " + t.cipherSuite();
    boolean dane = r.dane().map(ProbeResult.Verification::verified).orElse(false);
    boolean pkix = r.pkix().map(ProbeResult.Verification::verified).orElse(false);
    if (dane || (pkix && r.dane().isEmpty())) {
      return "Verified TLS connection established to "
          + peer
          + tls
          + (dane ? " (DANE" + r.matchedTlsa().map(m -> " " + m).orElse("") + ")" : " (PKIX)");
    }
    if (r.dane().isPresent()) {
      // DANE decides trust where it applies (RFC 7672 §2.2): PKIX does not make up for a mismatch
      return "Untrusted TLS connection established to "
          + peer
          + tls
          + " ("
          + Mailtls.oneLine(r.reason())
          + ")";
    }
    boolean nameOnly =
        !pkix
            && r.pkix().flatMap(ProbeResult.Verification::failure).orElse(null)
                == FailureType.CERTIFICATE_HOST_MISMATCH;
    String why =
        r.verdict() == ProbeVerdict.FAILED || r.dane().isPresent()
            ? Mailtls.oneLine(r.reason())
            : r.pkix().map(v -> Mailtls.oneLine(v.detail())).orElse("");
    return (pkix || nameOnly ? "Trusted" : "Untrusted")
        + " TLS connection established to "
        + peer
        + tls
        + (why.isEmpty() ? "" : " (" + why + ")");
  }
}
