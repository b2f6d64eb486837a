package io.mailtls.testkit;

import io.mailtls.testkit.internal.pki.PkiEncoding;
import java.nio.charset.StandardCharsets;
import java.security.cert.X509Certificate;
import java.util.Objects;

/**
 * TLSA record data for tests (RFC 6698 §2.1, RFC 7672 §2.2.3): owner names for SMTP and association
 * data computed from certificates, or made to match nothing. Use it with {@link
 * DnsZoneBuilder#tlsa} and {@link DnsZoneBuilder#tlsaFor}:
 *
 * <pre>{@code
 * z.tlsaFor(Tlsa.smtpOwner("mx1.example.test"), 3, 1, 1, leaf)        // DANE-EE, the right key
 *  .tlsa(Tlsa.smtpOwner("mx1.example.test"), 3, 1, 2, Tlsa.wrongData(2)) // a SHA2-512 mismatch
 * }</pre>
 *
 * <p>Stateless and thread-safe; arrays returned are fresh copies.
 */
public final class Tlsa {

  /** The SMTP port, which RFC 7672 §2.2.3 puts in every MX host's TLSA owner name. */
  public static final int SMTP_PORT = 25;

  private static final byte[] NOTHING =
      "mailtls testkit: association data that matches no certificate"
          .getBytes(StandardCharsets.US_ASCII);

  /** A DER SEQUENCE holding INTEGER 0: well-formed full data that is no certificate or key. */
  private static final byte[] NOT_A_CERTIFICATE = {0x30, 0x03, 0x02, 0x01, 0x00};

  private Tlsa() {}

  /** {@code _25._tcp.<host>}: where an SMTP client looks for an MX host's TLSA records. */
  public static String smtpOwner(String host) {
    return owner(SMTP_PORT, host);
  }

  /** {@code _<port>._tcp.<host>} (RFC 6698 §3). */
  public static String owner(int port, String host) {
    Objects.requireNonNull(host, "host");
    if (port < 0 || port > 0xFFFF) {
      throw new IllegalArgumentException("port out of range 0..65535: " + port);
    }
    String h = host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
    if (h.isEmpty()) {
      throw new IllegalArgumentException("empty host name");
    }
    return "_" + port + "._tcp." + h;
  }

  /**
   * The association data of a record with {@code selector} (0 certificate, 1 SPKI) and {@code
   * matchingType} (0 full, 1 SHA2-256, 2 SHA2-512) for {@code certificate}.
   */
  public static byte[] associationData(
      X509Certificate certificate, int selector, int matchingType) {
    Objects.requireNonNull(certificate, "certificate");
    return PkiEncoding.tlsaAssociationData(certificate, selector, matchingType);
  }

  /**
   * Well-formed association data for {@code matchingType} that matches no certificate: a digest of
   * the right length (32 or 64 octets), or for Full(0) a DER SEQUENCE that is neither a certificate
   * nor a key. A digest record stays usable (RFC 7672 §3.1) and simply never matches; full data
   * that is no certificate or key is malformed, which makes the record unusable.
   */
  public static byte[] wrongData(int matchingType) {
    switch (matchingType) {
      case 0:
        return NOT_A_CERTIFICATE.clone();
      case 1:
        return PkiEncoding.sha256(NOTHING);
      case 2:
        return PkiEncoding.sha512(NOTHING);
      default:
        throw new IllegalArgumentException("TLSA matching type must be 0, 1 or 2: " + matchingType);
    }
  }
}
