package io.mailtls.cli;

import io.mailtls.core.Authentication;
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
 *       not match; or DANE authenticated the server through an insecure MX answer, which delivery
 *       reports {@code TRUSTED}, not {@code VERIFIED} (RFC 7672 §2.2.1; Postfix words it so too);
 *   <li>{@code Untrusted TLS connection established to ...}: encrypted, not authenticated (where
 *       DANE applies, a TLSA mismatch makes the connection untrusted whatever PKIX says);
 *   <li>{@code Anonymous (no TLS) connection established to ...}: plaintext, STARTTLS not offered
 *       or refused;
 *   <li>{@code Failed connection to ...: REASON}: no usable session (unreachable, handshake failed,
 *       or short of what the requirement demands).
 * </ul>
 *
 * <p>A host that delivery does not use (the plan skips it) is still probed, but its line says so
 * and never calls it verified or trusted: {@code Unused (skipped by delivery) TLS connection
 * established to ...}.
 *
 * <p>Stateless.
 */
final class VerdictLine {

  private static final String ESTABLISHED = " TLS connection established to ";

  private VerdictLine() {}

  /** The line for {@code r}; {@code planned} says whether delivery uses the host. */
  static String of(ProbeResult r, boolean planned) {
    String line = of(r);
    int at = line.indexOf(ESTABLISHED);
    if (planned || at < 0) {
      return line;
    }
    // The probe's own verdict, but delivery never connects there: no "Verified" for such a host.
    return "Unused (skipped by delivery)" + line.substring(at);
  }

  /** The line for {@code r}, whether or not delivery uses the host. */
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
      // DANE through an insecure MX answer authenticates the host, not the choice of host: the
      // transport reports TRUSTED, and so does Postfix (RFC 7672 §2.2.1)
      boolean insecureMx = dane && r.authentication().orElse(null) == Authentication.TRUSTED;
      return (insecureMx ? "Trusted" : "Verified")
          + " TLS connection established to "
          + peer
          + tls
          + (dane
              ? " (DANE"
                  + r.matchedTlsa().map(m -> " " + m).orElse("")
                  + (insecureMx ? ", insecure MX answer" : "")
                  + ")"
              : " (PKIX)");
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
