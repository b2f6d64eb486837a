package io.mailtls.core.internal.transport;

import io.mailtls.core.ContentDescriptor;
import io.mailtls.core.MessageContent;
import io.mailtls.core.internal.smtp.ContentScanner;
import io.mailtls.core.internal.smtp.TlsRequiredHeader;
import java.io.IOException;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What the transport knows about a message's content before sending it: from the content's own
 * {@link ContentDescriptor} when it offers one, else from one {@link ContentScanner} pass over
 * {@link MessageContent#writeTo}.
 *
 * @param dataSize the size DATA carries (RFC 1870 {@code SIZE=}), if known
 * @param eightBit whether BODY=8BITMIME is needed (RFC 6152)
 * @param utf8Headers whether header fields carry UTF-8 (RFC 6532): then MAIL carries SMTPUTF8 (RFC
 *     6531 §3.4), and a server that does not offer it never gets the message (RFC 6531 §3.2)
 * @param longestLine octets in the longest line, 0 for declared content (which promises at most
 *     {@value ContentScanner#MAX_LINE_OCTETS})
 * @param declared whether the facts are the content's promise (checked while it goes out) rather
 *     than measured
 * @param crlfOnly measured, and every line break already CRLF (no bare CR or LF): BDAT's
 *     normalisation would send the octets unchanged
 */
public record ContentFacts(
    OptionalLong dataSize,
    boolean eightBit,
    boolean utf8Headers,
    long longestLine,
    boolean declared,
    boolean crlfOnly) {

  /** The facts of {@code content}: its descriptor, or one pass of measuring. */
  public static ContentFacts of(MessageContent content) throws IOException {
    Optional<ContentDescriptor> d = content.descriptor();
    if (d.isPresent()) {
      return declared(d.get());
    }
    ContentScanner scanner = new ContentScanner();
    content.writeTo(scanner);
    return measured(scanner.result());
  }

  /**
   * {@link #of(MessageContent)}, showing the measuring pass's octets to {@code header} as well (RFC
   * 8689 {@code TLS-Required}); content that describes itself is not read, so {@code header} sees
   * nothing of it.
   */
  public static ContentFacts of(MessageContent content, TlsRequiredHeader header)
      throws IOException {
    Optional<ContentDescriptor> d = content.descriptor();
    if (d.isPresent()) {
      return declared(d.get());
    }
    ContentScanner scanner = new ContentScanner();
    content.writeTo(header.alongside(scanner));
    return measured(scanner.result());
  }

  /** What a scan measured. */
  public static ContentFacts measured(ContentScanner.Result r) {
    return new ContentFacts(
        OptionalLong.of(r.dataSize()),
        r.needsEightBitMime(),
        r.hasUtf8Headers(),
        r.longestLine(),
        false,
        r.bareCrs() == 0 && r.bareLfs() == 0);
  }

  /** What content declares. */
  public static ContentFacts declared(ContentDescriptor d) {
    Objects.requireNonNull(d, "descriptor");
    return new ContentFacts(d.size(), d.eightBit(), d.utf8Headers(), 0, true, false);
  }

  /** Whether a line is longer than 998 octets, beyond RFC 5321 §4.5.3.1.6. */
  public boolean hasOverlongLines() {
    return longestLine > ContentScanner.MAX_LINE_OCTETS;
  }

  /**
   * Why content that went out broke its declaration, as {@code measured} shows, or empty when it
   * kept it: an octet above 127 under a 7-bit declaration, one in the header section of content
   * that declared no UTF-8 header fields (it went without SMTPUTF8, maybe to a server that does not
   * offer it, which RFC 6531 §3.2 forbids), or a line over 998 octets.
   */
  Optional<String> brokenPromise(ContentScanner.Result measured) {
    if (!declared) {
      return Optional.empty();
    }
    if (measured.needsEightBitMime() && !eightBit) {
      return Optional.of("8-bit octets in content declared 7-bit");
    }
    if (measured.hasUtf8Headers() && !utf8Headers) {
      return Optional.of("UTF-8 in header fields declared ASCII");
    }
    if (measured.hasOverlongLines()) {
      return Optional.of(
          "a line of "
              + measured.longestLine()
              + " octets in content that declared none over "
              + ContentScanner.MAX_LINE_OCTETS);
    }
    return Optional.empty();
  }
}
