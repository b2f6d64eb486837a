package io.mailtls.tlsrpt.internal;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.PrivateKey;
import java.security.Signature;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * DKIM signing (RFC 6376) with {@code relaxed/relaxed} canonicalisation, {@code rsa-sha256} or
 * {@code ed25519-sha256} (RFC 8463), over a whole message held in memory with CRLF line ends.
 * Stateless and thread-safe: each call makes its own {@link Signature}.
 *
 * <p>Written here rather than taken from a library: the one kept on Maven Central for Jakarta Mail
 * (org.simplejavamail:utils-mail-dkim) cannot be read as a Java module (its {@code
 * Automatic-Module-Name} is not a legal module name), so the {@code io.mailtls.tlsrpt} module
 * cannot require it. Checked against the RFC 8463 Appendix A vector and an independent verifier
 * (Apache jDKIM) in the tests.
 */
public final class DkimSigner {

  private DkimSigner() {}

  /** The header section and body of a message, split at the first empty line. */
  static final class Split {
    private final List<String> fields;
    private final byte[] body;

    Split(List<String> fields, byte[] body) {
      this.fields = fields;
      this.body = body;
    }

    List<String> fields() {
      return fields;
    }

    byte[] body() {
      return body;
    }
  }

  /**
   * The value of a {@code DKIM-Signature} field for {@code message}, with the given tags before
   * {@code bh=} and {@code b=} ({@code v=1; a=…; c=relaxed/relaxed; d=…; s=…; t=…; h=…;} — the
   * caller's, written as they will appear), the body hash and the signature appended; {@code b=} is
   * folded into lines of at most 72 characters.
   *
   * @param message the message, CRLF line ends, without a {@code DKIM-Signature} of this signer
   * @param tags the tags before {@code bh=}, ending in {@code ;} and free of CR and LF except as
   *     folding ({@code CRLF} followed by a space)
   * @param signedFields the names in {@code h=}, in order (a name may repeat: RFC 6376 §5.4.2)
   * @param algorithm {@code rsa-sha256} or {@code ed25519-sha256}
   * @param key the matching private key
   * @throws GeneralSecurityException if the key does not sign
   */
  public static String signatureValue(
      byte[] message, String tags, List<String> signedFields, String algorithm, PrivateKey key)
      throws GeneralSecurityException {
    Split split = split(message);
    String unsigned = tags + "\r\n bh=" + bodyHash(split.body()) + ";\r\n b=";
    byte[] input = headerHashInput(split.fields(), signedFields, unsigned);
    byte[] sig = sign(input, algorithm, key);
    return unsigned + fold(Base64.getEncoder().encodeToString(sig));
  }

  /**
   * What is signed (RFC 6376 §3.7): each field of {@code signedFields} chosen bottom-up among the
   * fields of that name (§5.4.2; a name asked more often than it occurs adds nothing), relaxed and
   * CRLF-terminated, then the {@code DKIM-Signature} field itself relaxed, without its CRLF.
   */
  static byte[] headerHashInput(List<String> fields, List<String> signedFields, String unsigned) {
    Map<String, List<String>> byName = new HashMap<>();
    for (String f : fields) {
      byName.computeIfAbsent(name(f), n -> new ArrayList<>()).add(f);
    }
    Map<String, Integer> used = new HashMap<>();
    StringBuilder in = new StringBuilder();
    for (String n : signedFields) {
      String key = n.toLowerCase(Locale.ROOT);
      List<String> all = byName.getOrDefault(key, List.of());
      int k = used.merge(key, 1, Integer::sum);
      if (k <= all.size()) {
        in.append(relaxedHeader(all.get(all.size() - k))).append("\r\n");
      }
    }
    in.append(relaxedHeader("DKIM-Signature: " + unsigned));
    return in.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** The field's name, lower case. */
  private static String name(String field) {
    int colon = field.indexOf(':');
    return (colon < 0 ? field : field.substring(0, colon)).trim().toLowerCase(Locale.ROOT);
  }

  /**
   * RFC 6376 §3.4.2: name in lower case, unfolded, runs of white space as one space, none at the
   * end of the value nor around the colon.
   */
  static String relaxedHeader(String field) {
    int colon = field.indexOf(':');
    String name = field.substring(0, colon).trim().toLowerCase(Locale.ROOT);
    String value =
        field
            .substring(colon + 1)
            .replace("\r\n", "")
            .replaceAll("[ \t]+", " ")
            .replaceAll("^ | $", "");
    return name + ":" + value;
  }

  /** RFC 6376 §3.4.4, then SHA-256 in base64: the {@code bh=} value. */
  public static String bodyHash(byte[] body) {
    try {
      return Base64.getEncoder()
          .encodeToString(MessageDigest.getInstance("SHA-256").digest(relaxedBody(body)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is in every Java platform", e);
    }
  }

  /**
   * RFC 6376 §3.4.4: white space at line ends removed, other runs of it as one space, empty lines
   * at the end removed, and a non-empty body ending in CRLF.
   */
  static byte[] relaxedBody(byte[] body) {
    String text = new String(body, StandardCharsets.ISO_8859_1); // octets as they are
    String[] lines = text.split("\r\n", -1);
    List<String> out = new ArrayList<>();
    for (String line : lines) {
      out.add(line.replaceAll("[ \t]+", " ").replaceAll(" $", ""));
    }
    int end = out.size();
    while (end > 0 && out.get(end - 1).isEmpty()) {
      end--;
    }
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    for (int i = 0; i < end; i++) {
      byte[] line = out.get(i).getBytes(StandardCharsets.ISO_8859_1);
      b.write(line, 0, line.length);
      b.write('\r');
      b.write('\n');
    }
    return b.toByteArray();
  }

  /** The message's header fields (each with its folding) and its body. */
  static Split split(byte[] message) {
    String text = new String(message, StandardCharsets.ISO_8859_1);
    int end = text.indexOf("\r\n\r\n");
    String header = end < 0 ? text : text.substring(0, end + 2);
    byte[] body =
        end < 0 ? new byte[0] : text.substring(end + 4).getBytes(StandardCharsets.ISO_8859_1);
    List<String> fields = new ArrayList<>();
    StringBuilder current = null;
    for (String line : header.split("\r\n", -1)) {
      if (line.isEmpty()) {
        continue;
      }
      if ((line.charAt(0) == ' ' || line.charAt(0) == '\t') && current != null) {
        current.append("\r\n").append(line);
      } else {
        if (current != null) {
          fields.add(current.toString());
        }
        current = new StringBuilder(line);
      }
    }
    if (current != null) {
      fields.add(current.toString());
    }
    // back to the characters the octets encode, for UTF-8 header fields (RFC 6532)
    fields.replaceAll(
        f -> new String(f.getBytes(StandardCharsets.ISO_8859_1), StandardCharsets.UTF_8));
    return new Split(fields, body);
  }

  private static byte[] sign(byte[] input, String algorithm, PrivateKey key)
      throws GeneralSecurityException {
    Signature s;
    byte[] data = input;
    switch (algorithm) {
      case "rsa-sha256" -> s = Signature.getInstance("SHA256withRSA");
      case "ed25519-sha256" -> {
        // RFC 8463 §3: Ed25519 (pure) over the SHA-256 hash of the input
        s = Signature.getInstance("Ed25519");
        data = MessageDigest.getInstance("SHA-256").digest(input);
      }
      default -> throw new NoSuchAlgorithmException("not a DKIM algorithm: " + algorithm);
    }
    s.initSign(key);
    s.update(data);
    return s.sign();
  }

  /** {@code b} in lines of at most 72 characters, each after the first on a continuation line. */
  private static String fold(String b64) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < b64.length(); i += 72) {
      if (i > 0) {
        out.append("\r\n ");
      }
      out.append(b64, i, Math.min(b64.length(), i + 72));
    }
    return out.toString();
  }
}
