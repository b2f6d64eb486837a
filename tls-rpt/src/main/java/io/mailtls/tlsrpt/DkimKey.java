package io.mailtls.tlsrpt;

import io.mailtls.core.DomainName;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.interfaces.EdECPrivateKey;
import java.security.interfaces.RSAPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Locale;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * The key a report mail is DKIM-signed with (RFC 6376; RFC 8460 §5.3): the signing domain ({@code
 * d=}), the selector ({@code s=}) and the private key, RSA ({@code rsa-sha256}, at least 1024 bits
 * as RFC 8301 §3.2 requires) or Ed25519 ({@code ed25519-sha256}, RFC 8463). The public key is
 * published by the operator at {@code selector._domainkey.domain}. Immutable.
 */
public final class DkimKey {

  /** RFC 6376 §3.1: a selector is a sub-domain (dot-separated labels). */
  private static final Pattern SELECTOR =
      Pattern.compile(
          "[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*");

  private final DomainName domain;
  private final String selector;
  private final PrivateKey key;
  private final String algorithm;

  private DkimKey(DomainName domain, String selector, PrivateKey key, String algorithm) {
    this.domain = domain;
    this.selector = selector;
    this.key = key;
    this.algorithm = algorithm;
  }

  /**
   * A signing key.
   *
   * @param domain the signing domain ({@code d=}), usually the submitter's domain
   * @param selector the selector ({@code s=})
   * @param key an RSA key of at least 1024 bits, or an Ed25519 key
   * @throws IllegalArgumentException for another kind of key, a short RSA key or a bad selector
   */
  public static DkimKey of(DomainName domain, String selector, PrivateKey key) {
    Objects.requireNonNull(domain, "domain");
    Objects.requireNonNull(selector, "selector");
    Objects.requireNonNull(key, "key");
    if (domain.isRoot() || !domain.isHostName()) {
      throw new IllegalArgumentException("not a signing domain: " + domain);
    }
    if (!SELECTOR.matcher(selector).matches()) {
      throw new IllegalArgumentException(
          "not a DKIM selector (RFC 6376 §3.1): \"" + selector + "\"");
    }
    String algorithm;
    if (key instanceof RSAPrivateKey rsa) {
      if (rsa.getModulus().bitLength() < 1024) {
        throw new IllegalArgumentException(
            "RSA key of "
                + rsa.getModulus().bitLength()
                + " bits; RFC 8301 §3.2 asks 1024 or more");
      }
      algorithm = "rsa-sha256";
    } else if (key instanceof EdECPrivateKey ed
        && ed.getParams().getName().equalsIgnoreCase("Ed25519")) {
      algorithm = "ed25519-sha256";
    } else {
      throw new IllegalArgumentException(
          "DKIM signs with RSA or Ed25519 keys, not " + key.getAlgorithm());
    }
    return new DkimKey(domain, selector.toLowerCase(Locale.ROOT), key, algorithm);
  }

  /**
   * A signing key from PKCS #8: DER bytes, or PEM text ({@code -----BEGIN PRIVATE KEY-----}), as
   * {@code openssl genpkey} writes it.
   *
   * @throws IllegalArgumentException when the bytes hold no RSA or Ed25519 PKCS #8 key
   */
  public static DkimKey fromPkcs8(DomainName domain, String selector, byte[] pkcs8) {
    Objects.requireNonNull(pkcs8, "pkcs8");
    byte[] der = pkcs8;
    String text = new String(pkcs8, StandardCharsets.US_ASCII);
    if (text.contains("-----BEGIN")) {
      if (!text.contains("-----BEGIN PRIVATE KEY-----")) {
        throw new IllegalArgumentException(
            "not a PKCS #8 PEM key (expected -----BEGIN PRIVATE KEY-----)");
      }
      String body =
          text.substring(
                  text.indexOf("-----BEGIN PRIVATE KEY-----") + 27,
                  Math.max(
                      text.indexOf("-----END PRIVATE KEY-----"),
                      text.indexOf("-----BEGIN PRIVATE KEY-----") + 27))
              .replaceAll("\\s", "");
      try {
        der = Base64.getDecoder().decode(body);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("PEM key is not base64: " + e.getMessage(), e);
      }
    }
    for (String alg : new String[] {"RSA", "Ed25519"}) {
      try {
        return of(
            domain,
            selector,
            KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(der)));
      } catch (GeneralSecurityException e) {
        // not this kind: try the next
      }
    }
    throw new IllegalArgumentException("no RSA or Ed25519 PKCS #8 private key in the given bytes");
  }

  /** The signing domain, {@code d=}. */
  public DomainName domain() {
    return domain;
  }

  /** The selector, {@code s=}. */
  public String selector() {
    return selector;
  }

  /** The signature algorithm, {@code a=}: {@code rsa-sha256} or {@code ed25519-sha256}. */
  public String algorithm() {
    return algorithm;
  }

  /** The private key (not copied: keys are not mutable through their interface). */
  PrivateKey privateKey() {
    return key;
  }

  /** The domain, selector and algorithm; never the key. */
  @Override
  public String toString() {
    return "DkimKey[" + selector + "._domainkey." + domain + ", " + algorithm + "]";
  }
}
