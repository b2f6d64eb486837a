package io.mailtls.core;

import io.mailtls.core.internal.dns.AnchorParser;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * DNSSEC trust anchors: DS or DNSKEY records in zone-file syntax (RFC 4033 §2, RFC 1035 §5).
 * Immutable and thread-safe.
 *
 * <p>{@link #ianaRoot()} is the bundled IANA root anchor set (KSK-2017, key tag 20326, and
 * KSK-2024, key tag 38696). Anchors are always passed to a resolver explicitly; mailtls never reads
 * dnsjava's trust-anchor system property.
 */
public final class TrustAnchors {

  private static final int MAX_BYTES = 1 << 20;
  private static final String IANA_RESOURCE = "root-anchors.txt";

  private final String text;
  private final List<String> summary;

  private TrustAnchors(String text, List<String> summary) {
    this.text = text;
    this.summary = summary;
  }

  /** The IANA root zone anchors bundled with mailtls. */
  public static TrustAnchors ianaRoot() {
    try (InputStream in = TrustAnchors.class.getResourceAsStream(IANA_RESOURCE)) {
      if (in == null) {
        throw new IllegalStateException("bundled resource missing: " + IANA_RESOURCE);
      }
      return read(in);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read bundled " + IANA_RESOURCE, e);
    }
  }

  /**
   * Parses DS and DNSKEY records in zone-file syntax, one or more, with absolute owner names.
   *
   * <p>A DNSKEY record with the REVOKE flag (flags 385 for a revoked KSK), as files kept by RFC
   * 5011 resolvers still list them, is never used as an anchor (RFC 5011 §2.1); its {@link
   * #summary()} line ends in {@code revoked}.
   *
   * @throws IllegalArgumentException if the text holds no record, another record type or class than
   *     IN, a {@code $INCLUDE} directive, or does not parse; or if a zone has no anchor of an
   *     algorithm (for DS, and digest type) the validator implements, or only revoked DNSKEY
   *     anchors, which would make every answer below it insecure rather than fail; the message
   *     names the offending line or zone
   */
  public static TrustAnchors parse(String zoneFileText) {
    Objects.requireNonNull(zoneFileText, "zoneFileText");
    return new TrustAnchors(zoneFileText, AnchorParser.summarise(zoneFileText));
  }

  /** Reads anchors from a file (at most 1 MiB). */
  public static TrustAnchors read(Path file) throws IOException {
    try (InputStream in = Files.newInputStream(file)) {
      return read(in);
    }
  }

  /** Reads anchors from a stream (at most 1 MiB); the stream is not closed. */
  public static TrustAnchors read(InputStream in) throws IOException {
    byte[] bytes = in.readNBytes(MAX_BYTES + 1);
    if (bytes.length > MAX_BYTES) {
      throw new IllegalArgumentException("trust anchor input larger than " + MAX_BYTES + " bytes");
    }
    return parse(new String(bytes, StandardCharsets.UTF_8));
  }

  /** The anchors in zone-file syntax, as given. */
  public String text() {
    return text;
  }

  /** One line per anchor, e.g. {@code ". DS 20326 8 2"}, for diagnostics. */
  public List<String> summary() {
    return summary;
  }

  @Override
  public String toString() {
    return "TrustAnchors" + summary;
  }
}
