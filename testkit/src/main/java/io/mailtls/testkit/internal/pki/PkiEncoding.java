package io.mailtls.testkit.internal.pki;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import org.bouncycastle.asn1.ASN1Encoding;
import org.jspecify.annotations.Nullable;

/**
 * Encodings of test PKI material: DER, PEM, digests, in-memory PKCS#12 stores and JSSE contexts.
 *
 * <p>Thread-safe: stateless.
 */
public final class PkiEncoding {

  private static final Base64.Encoder PEM_BASE64 =
      Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII));

  private PkiEncoding() {}

  /** The DER encoding of {@code certificate}. */
  public static byte[] der(X509Certificate certificate) {
    try {
      return certificate.getEncoded();
    } catch (CertificateEncodingException e) {
      throw new IllegalStateException("cannot encode " + certificate.getSubjectX500Principal(), e);
    }
  }

  /**
   * The DER SubjectPublicKeyInfo of {@code certificate} as the certificate encodes it (RFC 5280
   * §4.1.2.7), what TLSA selector SPKI(1) is computed over (RFC 6698 §2.1.2). Not {@code
   * getPublicKey().getEncoded()}: that is the JDK's re-encoding of the key, which for some valid
   * certificates differs (an RSA AlgorithmIdentifier without NULL parameters gets them back).
   *
   * @throws IllegalArgumentException if the certificate is not DER, so that its octets are not
   *     known
   */
  public static byte[] spki(X509Certificate certificate) {
    byte[] der = der(certificate);
    byte[] spki;
    try {
      spki =
          org.bouncycastle.asn1.x509.Certificate.getInstance(der)
              .getSubjectPublicKeyInfo()
              .getEncoded(ASN1Encoding.DER);
    } catch (IOException | RuntimeException e) {
      throw new IllegalArgumentException(
          "cannot read the SubjectPublicKeyInfo of " + certificate.getSubjectX500Principal(), e);
    }
    // A DER certificate holds the DER encoding of its fields; anything else would be a guess.
    for (int i = 0; i + spki.length <= der.length; i++) {
      if (Arrays.equals(der, i, i + spki.length, spki, 0, spki.length)) {
        return spki;
      }
    }
    throw new IllegalArgumentException(
        "the certificate of " + certificate.getSubjectX500Principal() + " is not DER-encoded");
  }

  /** SHA-256 of {@code data}. */
  public static byte[] sha256(byte[] data) {
    return digest("SHA-256", data);
  }

  /** SHA-512 of {@code data}. */
  public static byte[] sha512(byte[] data) {
    return digest("SHA-512", data);
  }

  private static byte[] digest(String algorithm, byte[] data) {
    try {
      return MessageDigest.getInstance(algorithm).digest(data);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(algorithm + " is missing from this JDK", e);
    }
  }

  /**
   * The certificate association data of a TLSA record (RFC 6698 §2.1.2 selector, §2.1.3 matching
   * type): selector 0 = full certificate, 1 = SubjectPublicKeyInfo; matching type 0 = exact, 1 =
   * SHA-256, 2 = SHA-512.
   */
  public static byte[] tlsaAssociationData(
      X509Certificate certificate, int selector, int matching) {
    byte[] selected;
    switch (selector) {
      case 0:
        selected = der(certificate);
        break;
      case 1:
        selected = spki(certificate);
        break;
      default:
        throw new IllegalArgumentException("TLSA selector must be 0 or 1: " + selector);
    }
    switch (matching) {
      case 0:
        return selected;
      case 1:
        return sha256(selected);
      case 2:
        return sha512(selected);
      default:
        throw new IllegalArgumentException("TLSA matching type must be 0, 1 or 2: " + matching);
    }
  }

  /** PEM ({@code CERTIFICATE} blocks, RFC 7468 §5) of each certificate, in order. */
  public static String pem(List<X509Certificate> certificates) {
    StringBuilder out = new StringBuilder();
    for (X509Certificate certificate : certificates) {
      appendPem(out, "CERTIFICATE", der(certificate));
    }
    return out.toString();
  }

  /** PEM of {@code key} as unencrypted PKCS#8 ({@code PRIVATE KEY}, RFC 7468 §10). */
  public static String pem(PrivateKey key) {
    StringBuilder out = new StringBuilder();
    appendPem(out, "PRIVATE KEY", key.getEncoded());
    return out.toString();
  }

  private static void appendPem(StringBuilder out, String label, byte[] der) {
    out.append("-----BEGIN ").append(label).append("-----\n");
    out.append(PEM_BASE64.encodeToString(der)).append('\n');
    out.append("-----END ").append(label).append("-----\n");
  }

  /** A new in-memory PKCS#12 store holding {@code anchors} as trusted certificate entries. */
  public static KeyStore trustStore(List<X509Certificate> anchors) {
    KeyStore store = emptyPkcs12();
    try {
      for (int i = 0; i < anchors.size(); i++) {
        store.setCertificateEntry("trusted-" + i, anchors.get(i));
      }
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot fill an in-memory PKCS12 store", e);
    }
    return store;
  }

  /** A new in-memory PKCS#12 store holding one key entry under {@code alias}. */
  public static KeyStore keyStore(
      String alias, PrivateKey key, List<X509Certificate> chain, char[] password) {
    KeyStore store = emptyPkcs12();
    try {
      store.setKeyEntry(alias, key, password, chain.toArray(new Certificate[0]));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot store key entry " + alias, e);
    }
    return store;
  }

  private static KeyStore emptyPkcs12() {
    try {
      KeyStore store = KeyStore.getInstance("PKCS12");
      store.load(null, null);
      return store;
    } catch (GeneralSecurityException | IOException e) {
      throw new IllegalStateException("cannot create an in-memory PKCS12 store", e);
    }
  }

  /** A new, initialised trust manager factory (the JDK default algorithm) over {@code store}. */
  public static TrustManagerFactory trustManagerFactory(KeyStore store) {
    try {
      TrustManagerFactory factory =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      factory.init(store);
      return factory;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot initialise a trust manager factory", e);
    }
  }

  /** A new {@code "TLS"} context from the JDK's default provider. */
  public static SSLContext sslContext(
      KeyManager @Nullable [] keyManagers, TrustManager @Nullable [] trustManagers) {
    try {
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keyManagers, trustManagers, null);
      return context;
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("cannot initialise an SSLContext", e);
    }
  }
}
