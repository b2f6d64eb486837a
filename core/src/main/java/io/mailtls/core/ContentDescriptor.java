package io.mailtls.core;

import java.util.Objects;
import java.util.OptionalLong;

/**
 * What a {@link MessageContent} declares about itself, so that the transport can choose the {@code
 * MAIL} parameters without reading the content first ({@link MessageContent#descriptor()}). Content
 * that declares nothing is read once before sending, to learn the same facts.
 *
 * <p>A descriptor is a promise, and the transport holds the content to it:
 *
 * <ul>
 *   <li>{@code eightBit == false} promises that no octet is above 127, so the message goes without
 *       {@code BODY=8BITMIME} (RFC 6152 §3) and to servers that do not offer 8BITMIME. Declare
 *       {@code true} when unsure: 8-bit content is refused (RFC 3463 5.6.3) by a server without
 *       8BITMIME, as it is when the transport's own reading finds it.
 *   <li>{@code utf8Headers} says that header fields carry UTF-8 (RFC 6532); the transport then adds
 *       {@code SMTPUTF8} (RFC 6531 §3.4) to {@code MAIL}, and never sends the message to a server
 *       that does not offer it (§3.2): it tries the next MX host, and returns the message (550
 *       5.6.9, §3.5) when none offers it. It implies {@code eightBit}. {@code false} promises that
 *       no octet of the header section (up to the first empty line, RFC 5322 §2.1) is above 127;
 *       8-bit octets only in the body need 8BITMIME alone.
 *   <li>Every line is at most 998 octets without its line break (RFC 5321 §4.5.3.1.6). Content that
 *       cannot promise that must declare nothing, so that the transport reads it and refuses it
 *       before any connection.
 *   <li>{@code size}, when present, is the content's size after line-break normalisation, CRLF
 *       included (RFC 1870 §4); it is then sent as {@code SIZE=} and chooses BDAT for a large
 *       message (RFC 3030). Without it, {@code MAIL} carries no {@code SIZE=} (RFC 1870 makes it
 *       optional) and the content goes with DATA.
 * </ul>
 *
 * <p>The transport checks the 8-bit, header and line-length promises while the content goes out;
 * when one is broken it abandons the transaction before its end (no final dot, no {@code BDAT
 * LAST}), so the server never takes the message, and defers the recipients.
 *
 * @param eightBit whether any octet may be above 127
 * @param utf8Headers whether header fields carry UTF-8 (RFC 6532)
 *     <p>{@code tlsRequiredNo} says that the header section carries {@code TLS-Required: No} (RFC
 *     8689 §3, §4.2.2): recipient policies then do not stop delivery (docs/design.md §1, "Per
 *     message"). Content that describes itself is not read before sending, so the transport cannot
 *     find the field itself; a descriptor that leaves it {@code false} is the safe side (recipient
 *     policies apply).
 * @param size the size after line-break normalisation, if known
 * @param tlsRequiredNo whether the header section has the field {@code TLS-Required: No}
 */
public record ContentDescriptor(
    boolean eightBit, boolean utf8Headers, OptionalLong size, boolean tlsRequiredNo) {

  /**
   * A descriptor.
   *
   * @throws IllegalArgumentException when {@code utf8Headers} is declared without {@code eightBit},
   *     or the size is negative
   */
  public ContentDescriptor {
    Objects.requireNonNull(size, "size");
    if (utf8Headers && !eightBit) {
      throw new IllegalArgumentException("UTF-8 header fields are 8-bit content");
    }
    if (size.isPresent() && size.getAsLong() < 0) {
      throw new IllegalArgumentException("negative size: " + size.getAsLong());
    }
  }

  /** A descriptor without {@code TLS-Required: No}. */
  public ContentDescriptor(boolean eightBit, boolean utf8Headers, OptionalLong size) {
    this(eightBit, utf8Headers, size, false);
  }

  /** This descriptor, saying whether the header section has {@code TLS-Required: No}. */
  public ContentDescriptor withTlsRequiredNo(boolean no) {
    return new ContentDescriptor(eightBit, utf8Headers, size, no);
  }

  /** Content of unknown size: 8-bit or not, UTF-8 header fields or not. */
  public static ContentDescriptor of(boolean eightBit, boolean utf8Headers) {
    return new ContentDescriptor(eightBit, utf8Headers, OptionalLong.empty());
  }
}
