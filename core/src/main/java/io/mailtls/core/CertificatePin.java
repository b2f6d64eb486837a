package io.mailtls.core;

import java.util.HexFormat;
import java.util.Locale;
import java.util.Objects;

/**
 * A pinned SHA-256 digest of a server's certificate or of its public key (the DER
 * SubjectPublicKeyInfo), as Postfix's {@code fingerprint} security level checks them. Immutable.
 *
 * <p>Written {@code sha256:AB:CD:…} for a certificate digest and {@code spki-sha256:AB:CD:…} for a
 * public-key digest: 32 bytes in hex, colons between bytes optional, case-insensitive.
 *
 * @param kind what is digested
 * @param sha256 the digest, 64 lower-case hex digits
 */
public record CertificatePin(Kind kind, String sha256) {

  /** What a pin digests. */
  public enum Kind {
    /** The DER encoding of the whole leaf certificate. */
    CERTIFICATE("sha256"),
    /** The DER SubjectPublicKeyInfo of the leaf certificate (survives a re-issue with the key). */
    PUBLIC_KEY("spki-sha256");

    private final String prefix;

    Kind(String prefix) {
      this.prefix = prefix;
    }

    /** The prefix of the written form, without the colon. */
    public String prefix() {
      return prefix;
    }
  }

  public CertificatePin {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(sha256, "sha256");
    if (sha256.length() != 64 || !sha256.chars().allMatch(CertificatePin::lowerHex)) {
      throw new IllegalArgumentException(
          "a SHA-256 pin is 64 lower-case hex digits: \"" + sha256 + "\"");
    }
  }

  private static boolean lowerHex(int c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  }

  /** A pin of {@code kind} on a 32-byte digest. */
  public static CertificatePin of(Kind kind, byte[] sha256) {
    if (sha256.length != 32) {
      throw new IllegalArgumentException("a SHA-256 digest has 32 bytes, not " + sha256.length);
    }
    return new CertificatePin(kind, HexFormat.of().formatHex(sha256));
  }

  /**
   * Parses {@code sha256:HEX} or {@code spki-sha256:HEX} (case-insensitive; colons between the
   * bytes optional).
   *
   * @throws IllegalArgumentException naming the value when it is neither
   */
  public static CertificatePin parse(String text) {
    Objects.requireNonNull(text, "text");
    String t = text.trim().toLowerCase(Locale.ROOT);
    for (Kind k : Kind.values()) {
      String prefix = k.prefix + ":";
      if (t.startsWith(prefix)) {
        String hex = t.substring(prefix.length()).replace(":", "");
        if (hex.length() != 64 || !hex.chars().allMatch(CertificatePin::lowerHex)) {
          throw new IllegalArgumentException(
              "a SHA-256 digest needs 32 bytes in hex: \"" + text + "\"");
        }
        return new CertificatePin(k, hex);
      }
    }
    throw new IllegalArgumentException(
        "a pin starts with sha256: (certificate) or spki-sha256: (public key): \"" + text + "\"");
  }

  /** The digest's bytes. */
  public byte[] digest() {
    return HexFormat.of().parseHex(sha256);
  }

  /** The written form: {@code sha256:AB:CD:…} or {@code spki-sha256:AB:CD:…}, upper-case hex. */
  @Override
  public String toString() {
    return kind.prefix + ":" + HexFormat.ofDelimiter(":").withUpperCase().formatHex(digest());
  }
}
