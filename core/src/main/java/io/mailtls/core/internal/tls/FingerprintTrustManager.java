package io.mailtls.core.internal.tls;

import io.mailtls.core.CertificatePin;
import io.mailtls.core.FailureType;
import java.net.Socket;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLEngine;

/**
 * Accepts a server exactly when its leaf certificate's SHA-256 digest, or that of its DER
 * SubjectPublicKeyInfo (the octets in the certificate, {@link CertificateKeys}), equals one of the
 * pins (Postfix {@code fingerprint}): no chain, no name, no trust anchor, no validity dates, as
 * Postfix checks a fingerprint. Stateless and thread-safe.
 */
public final class FingerprintTrustManager extends ServerTrustManager {

  private final List<CertificatePin> pins;

  public FingerprintTrustManager(List<CertificatePin> pins) {
    if (pins.isEmpty()) {
      throw new IllegalArgumentException("no pins");
    }
    this.pins = List.copyOf(pins);
  }

  /** Whether {@code leaf} matches one of {@code pins}. */
  public static boolean matches(X509Certificate leaf, List<CertificatePin> pins)
      throws CertificateEncodingException {
    byte[] cert = sha256(leaf.getEncoded());
    // The key octets the certificate holds, as Postfix digests them; never the JDK's re-encoding.
    byte[] spki =
        CertificateKeys.subjectPublicKeyInfo(leaf)
            .map(FingerprintTrustManager::sha256)
            .orElse(null);
    for (CertificatePin p : pins) {
      byte[] want = p.digest();
      byte[] have = p.kind() == CertificatePin.Kind.CERTIFICATE ? cert : spki;
      if (have != null && MessageDigest.isEqual(want, have)) {
        return true;
      }
    }
    return false;
  }

  private static byte[] sha256(byte[] data) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is mandatory in every JDK", e);
    }
  }

  private void check(X509Certificate[] chain) throws CertificateException {
    if (chain == null || chain.length == 0) {
      throw new CertificateFailure(FailureType.VALIDATION_FAILURE, "no server certificate", null);
    }
    boolean ok;
    try {
      ok = matches(chain[0], pins);
    } catch (CertificateEncodingException | RuntimeException e) {
      throw new CertificateFailure(
          FailureType.VALIDATION_FAILURE, "the server certificate cannot be encoded: " + e, e);
    }
    if (!ok) {
      throw new CertificateFailure(
          FailureType.VALIDATION_FAILURE,
          "the server certificate matches none of the "
              + pins.size()
              + " pinned fingerprint(s) (certificate "
              + CertificatePin.of(CertificatePin.Kind.CERTIFICATE, digestOrEmpty(chain[0]))
              + ")",
          null);
    }
  }

  private static byte[] digestOrEmpty(X509Certificate c) {
    try {
      return sha256(c.getEncoded());
    } catch (CertificateEncodingException e) {
      return new byte[32];
    }
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    check(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    check(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    check(chain);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return new X509Certificate[0];
  }
}
