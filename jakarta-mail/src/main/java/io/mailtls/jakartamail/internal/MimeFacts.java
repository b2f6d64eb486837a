package io.mailtls.jakartamail.internal;

import io.mailtls.core.ContentDescriptor;
import io.mailtls.core.internal.smtp.ContentScanner;
import jakarta.activation.DataHandler;
import jakarta.mail.BodyPart;
import jakarta.mail.EncodingAware;
import jakarta.mail.MessagingException;
import jakarta.mail.Part;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.internet.MimePart;
import jakarta.mail.internet.MimePartDataSource;
import java.io.IOException;
import java.io.InputStream;
import java.util.Collections;
import java.util.Enumeration;
import java.util.IdentityHashMap;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * What a {@link MimeMessage}'s {@code writeTo} will produce, learned from the message's structure
 * rather than by writing it: whether it needs 8BITMIME (RFC 6152), whether its header fields carry
 * UTF-8 (RFC 6532), and that no line exceeds 998 octets (RFC 5321 §4.5.3.1.6). Never
 * under-declares: whatever it cannot tell, it measures, or it declares nothing.
 *
 * <p>Walks the message as {@code writeTo} does ({@code MimeBodyPart.writeTo}, {@code
 * MimeMultipart.writeTo}):
 *
 * <ul>
 *   <li>Header lines (every part's, the message's without the ignored names): any non-ASCII
 *       character is 8-bit and UTF-8 header text; each physical line is measured in UTF-8 octets
 *       (at least what {@code writeTo} writes).
 *   <li>Content kept as parsed (a {@link MimePartDataSource}), which {@code writeTo} copies as it
 *       stands: its raw octets are measured.
 *   <li>Multipart: its preamble and boundary lines, then each part. A multipart or {@code
 *       message/rfc822} part with a transfer encoding other than 7bit, 8bit or binary is not
 *       described (RFC 2045 §6.4 forbids it; {@code writeTo}'s handling depends on a property).
 *   <li>{@code message/rfc822}: the enclosed message, with all its header fields.
 *   <li>Leaves encoded base64 or quoted-printable: 7-bit, lines of 76 characters (Jakarta Mail's
 *       encoders, RFC 2045 §6.7, §6.8); but a leaf of another {@code message} type than {@code
 *       rfc822} with any encoding but 7bit, 8bit or binary is not described: {@code writeTo}
 *       ignores base64 and quoted-printable there (RFC 2046 §5.2) and writes the content as it is.
 *   <li>Leaves with an identity encoding (7bit, 8bit, binary, or none) go out as their data handler
 *       writes them: measured, unless the save just made chose {@code 7bit} for it (Jakarta Mail
 *       does so only after reading the content and finding only ASCII in lines of at most 998
 *       octets; so does the adapter, by the same rule, for text it encodes itself, {@link
 *       TextOctets}), and the data source does not name its own encoding.
 *   <li>Any other encoding (uuencode) is not described.
 * </ul>
 *
 * <p>A message never saved is saved by its first {@code writeTo}: that adds ASCII header fields
 * folded by Jakarta Mail, and gives unencoded leaves 7bit, quoted-printable or base64, all of which
 * this description already allows for (such leaves are measured as they stand).
 *
 * <p>Stateless and thread-safe; not for a message that another thread changes meanwhile.
 */
public final class MimeFacts {

  private static final String CTE = "Content-Transfer-Encoding";

  private MimeFacts() {}

  /** Thrown inside the walk when the message cannot be described. */
  private static final class Undescribable extends Exception {
    Undescribable() {
      super(null, null, false, false);
    }
  }

  /**
   * The leaves of {@code message} that have no transfer encoding yet: a {@code saveChanges()} now
   * would have Jakarta Mail read each and choose one. Call it just before that save.
   */
  public static Set<Part> unencodedLeaves(MimeMessage message) {
    Set<Part> leaves = Collections.newSetFromMap(new IdentityHashMap<>());
    try {
      collectUnencoded(message, leaves);
    } catch (MessagingException | IOException | RuntimeException e) {
      // A part that cannot be read is described later by measuring, or not at all.
    }
    return leaves;
  }

  private static void collectUnencoded(Part part, Set<Part> leaves)
      throws MessagingException, IOException {
    // The data handler's type: before a save, new content has no Content-Type header yet.
    ContentType type = new ContentType(part.getDataHandler().getContentType());
    if (type.match("multipart/*")) {
      if (part.getContent() instanceof MimeMultipart mp) {
        for (int i = 0; i < mp.getCount(); i++) {
          collectUnencoded(mp.getBodyPart(i), leaves);
        }
      }
      return;
    }
    if (type.match("message/*")) {
      return; // saveChanges does not save an enclosed message
    }
    if (part.getHeader(CTE) == null) {
      leaves.add(part);
    }
  }

  /**
   * The descriptor of what {@code message.writeTo(out, ignoredHeaders)} writes, or empty when the
   * message cannot be described (a line over 998 octets, an encoding this does not know, a part
   * that cannot be read): then the transport measures it itself.
   *
   * @param chosenByJakarta leaves whose encoding Jakarta Mail chose in the last save ({@link
   *     #unencodedLeaves} before it); empty when unknown
   */
  public static Optional<ContentDescriptor> describe(
      MimeMessage message, String[] ignoredHeaders, Set<Part> chosenByJakarta) {
    Walk walk = new Walk(chosenByJakarta);
    try {
      walk.headers(message.getNonMatchingHeaderLines(ignoredHeaders));
      walk.body(message);
    } catch (Undescribable | MessagingException | IOException | RuntimeException e) {
      return Optional.empty();
    }
    return Optional.of(
        ContentDescriptor.of(walk.eightBit, walk.utf8Headers)
            .withTlsRequiredNo(tlsRequiredNo(message, ignoredHeaders)));
  }

  /**
   * Whether the header section that is written carries {@code TLS-Required: No} (RFC 8689 §3: the
   * value {@code No}, case-insensitive, after unfolding and trimming). Fails safe: a field that
   * cannot be read, or is not written, is not {@code No}.
   */
  static boolean tlsRequiredNo(MimeMessage message, String[] ignoredHeaders) {
    for (String ignored : ignoredHeaders) {
      if ("TLS-Required".equalsIgnoreCase(ignored)) {
        return false;
      }
    }
    try {
      String[] values = message.getHeader("TLS-Required");
      if (values == null || values.length != 1) {
        return false;
      }
      String unfolded = values[0].replaceAll("\\r?\\n", "").trim();
      return unfolded.equalsIgnoreCase("No");
    } catch (MessagingException | RuntimeException e) {
      return false;
    }
  }

  /**
   * Whether the save just made read {@code part} and found it 7-bit with lines of at most 998
   * octets (Jakarta Mail, or {@link TextOctets} by its rule): it is one of {@code chosenByJakarta}
   * (no encoding before that save), is not content kept as parsed, and got {@code 7bit} from a data
   * source that does not name its own encoding.
   */
  public static boolean measuredByJakarta(Part part, Set<Part> chosenByJakarta) {
    if (!chosenByJakarta.contains(part) || !(part instanceof MimePart mime)) {
      return false;
    }
    try {
      DataHandler dh = mime.getDataHandler();
      return "7bit".equalsIgnoreCase(mime.getEncoding())
          && !(dh.getDataSource() instanceof MimePartDataSource)
          && !(dh.getDataSource() instanceof EncodingAware);
    } catch (MessagingException | RuntimeException e) {
      return false;
    }
  }

  private static final class Walk {
    private final Set<Part> chosenByJakarta;
    boolean eightBit;
    boolean utf8Headers;

    Walk(Set<Part> chosenByJakarta) {
      this.chosenByJakarta = chosenByJakarta;
    }

    void headers(Enumeration<String> lines) throws Undescribable {
      while (lines.hasMoreElements()) {
        if (text(lines.nextElement())) {
          utf8Headers = true;
        }
      }
    }

    /** Checks text written as lines; returns whether it has a non-ASCII character. */
    boolean text(String s) throws Undescribable {
      boolean nonAscii = false;
      long line = 0;
      for (int i = 0; i < s.length(); i++) {
        char c = s.charAt(i);
        if (c == '\r' || c == '\n') {
          line = 0;
          continue;
        }
        if (c < 0x80) {
          line++;
        } else {
          nonAscii = true;
          line += c < 0x800 ? 2 : 3; // UTF-8 octets (a surrogate pair: 3 + 3 >= 4)
        }
        if (line > ContentScanner.MAX_LINE_OCTETS) {
          throw new Undescribable();
        }
      }
      if (nonAscii) {
        eightBit = true;
      }
      return nonAscii;
    }

    void body(MimePart part) throws Undescribable, MessagingException, IOException {
      DataHandler dh = part.getDataHandler();
      if (dh.getDataSource() instanceof MimePartDataSource) {
        // Content as parsed: writeTo copies (or identity-decodes) these octets.
        measure(raw(part));
        return;
      }
      String encoding = normalized(part.getEncoding());
      boolean identity =
          encoding.isEmpty()
              || encoding.equals("7bit")
              || encoding.equals("8bit")
              || encoding.equals("binary");
      if (part.isMimeType("multipart/*")) {
        if (!identity || !(part.getContent() instanceof MimeMultipart mp)) {
          throw new Undescribable();
        }
        multipart(mp);
        return;
      }
      if (part.isMimeType("message/rfc822")) {
        if (!identity || !(part.getContent() instanceof MimeMessage enclosed)) {
          throw new Undescribable();
        }
        headers(enclosed.getAllHeaderLines());
        body(enclosed);
        return;
      }
      if (!identity && part.isMimeType("message/*")) {
        // Text typed message/* after setText (a delivery-status part), say: writeTo ignores
        // base64 or quoted-printable on a message type (unless mail.mime.allowencodedmessages)
        // and writes the content as it is, which may be 8-bit. The transport measures it.
        throw new Undescribable();
      }
      if (encoding.equals("base64") || encoding.equals("quoted-printable")) {
        return; // Jakarta Mail's encoders: 7-bit, lines of 76
      }
      if (!identity) {
        throw new Undescribable();
      }
      if (measuredByJakarta(part, chosenByJakarta)) {
        return;
      }
      ContentScanner scanner = new ContentScanner();
      dh.writeTo(scanner);
      result(scanner.result());
    }

    private void multipart(MimeMultipart mp) throws Undescribable, MessagingException, IOException {
      String preamble = mp.getPreamble();
      if (preamble != null && text(preamble)) {
        eightBit = true;
      }
      String boundary = new ContentType(mp.getContentType()).getParameter("boundary");
      if (boundary == null || text("--" + boundary + "--")) {
        throw new Undescribable();
      }
      for (int i = 0; i < mp.getCount(); i++) {
        BodyPart bp = mp.getBodyPart(i);
        if (!(bp instanceof MimeBodyPart mbp)) {
          throw new Undescribable();
        }
        headers(mbp.getAllHeaderLines());
        body(mbp);
      }
    }

    private static InputStream raw(MimePart part) throws MessagingException, Undescribable {
      if (part instanceof MimeBodyPart mbp) {
        return mbp.getRawInputStream();
      }
      if (part instanceof MimeMessage mm) {
        return mm.getRawInputStream();
      }
      throw new Undescribable();
    }

    private void measure(InputStream raw) throws IOException, Undescribable {
      try (InputStream in = raw) {
        result(ContentScanner.scan(in));
      }
    }

    private void result(ContentScanner.Result r) throws Undescribable {
      if (r.hasOverlongLines()) {
        throw new Undescribable();
      }
      if (r.needsEightBitMime()) {
        eightBit = true;
      }
    }

    private static String normalized(String encoding) {
      return encoding == null ? "" : encoding.strip().toLowerCase(Locale.ROOT);
    }
  }
}
