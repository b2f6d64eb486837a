package io.mailtls.jakartamail.internal;

import jakarta.activation.ActivationDataFlavor;
import jakarta.activation.CommandMap;
import jakarta.activation.DataContentHandler;
import jakarta.activation.DataHandler;
import jakarta.mail.MessagingException;
import jakarta.mail.Part;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.MimePart;
import jakarta.mail.internet.MimeUtility;
import jakarta.mail.internet.ParseException;
import java.io.IOException;
import java.lang.ref.WeakReference;
import java.nio.charset.Charset;
import java.nio.charset.IllegalCharsetNameException;
import java.nio.charset.StandardCharsets;
import java.nio.charset.UnsupportedCharsetException;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.jspecify.annotations.Nullable;

/**
 * The octets of a text part whose content is a {@link String}, as Angus Mail's text handler writes
 * them, and the transfer encoding a save gives them, found without writing the text one octet at a
 * time.
 *
 * <p>Why: Angus Mail's {@code text_plain} handler (also {@code text/html}'s) writes a String
 * through an {@code OutputStreamWriter} over a {@code FilterOutputStream} that passes each octet on
 * by itself. A save writes the content once that way ({@code MimeUtility.getEncoding}) to choose
 * the transfer encoding, and {@code writeTo} once more to send it: for a 10 KB text, a third of the
 * adapter's CPU per message. Here the String is encoded in one call ({@link String#getBytes}, the
 * same replacement of what the charset cannot encode as the writer's), the encoding is chosen from
 * those octets by {@code getEncoding}'s own rule for {@code text/*}, and the octets are written in
 * one write.
 *
 * <p>Only where the octets are certain to be the handler's, else {@code null} (and the caller goes
 * through Jakarta Mail as before):
 *
 * <ul>
 *   <li>The data handler is a plain {@link DataHandler} made from an object (not from a {@code
 *       DataSource}, whose octets {@code writeTo} copies raw), and the object is a String.
 *   <li>Its type parses and is {@code text/*}; its {@code charset} parameter (US-ASCII when absent,
 *       as the handler reads it, mapped by {@link MimeUtility#javaCharset}) is US-ASCII, ISO-8859-1
 *       or UTF-8.
 *   <li>The handler that writes it is Angus Mail's {@code text_plain} or {@code text_html}: the
 *       data handler's one transfer flavor is the very instance that handler class keeps (its
 *       private static one). A flavor is learnt once, when the default command map makes a handler
 *       of exactly that class name for the type and that handler gives the same instance; a
 *       factory, a command map of the data handler's own or another implementation gives another
 *       flavor, and the text is left to its handler. The one handler this cannot tell apart is a
 *       subclass of {@code text_plain} that keeps its flavor and writes otherwise.
 * </ul>
 *
 * <p>Thread-safe.
 */
public final class TextOctets {

  private static final String CTE = "Content-Transfer-Encoding";

  /** Angus Mail's handlers that write a String with {@code text_plain}'s own {@code writeTo}. */
  private static final Set<String> ANGUS_TEXT_HANDLERS =
      Set.of(
          "org.eclipse.angus.mail.handlers.text_plain",
          "org.eclipse.angus.mail.handlers.text_html");

  /** The class of the data source of a {@link DataHandler} made from an object. */
  private static final String OBJECT_DATA_SOURCE = "jakarta.activation.DataHandlerDataSource";

  /** RFC 5322 §2.1.1 (and {@code getEncoding}'s rule): at most 998 octets between line breaks. */
  private static final int MAX_LINE = 998;

  /**
   * How many flavors are remembered: one per handler class per class loader that loaded Angus Mail.
   */
  private static final int MAX_KNOWN = 8;

  /**
   * Flavors known to be the static instances of Angus Mail's text handlers; weak, so as not to keep
   * an application's class loader.
   */
  private static final List<WeakReference<ActivationDataFlavor>> KNOWN =
      new CopyOnWriteArrayList<>();

  private TextOctets() {}

  /**
   * The octets Angus Mail's text handler writes for {@code dh}'s content, or null when that is not
   * certain (see the class comment).
   */
  public static byte @Nullable [] of(@Nullable DataHandler dh) {
    try {
      if (dh == null
          || dh.getClass() != DataHandler.class
          || !OBJECT_DATA_SOURCE.equals(dh.getDataSource().getClass().getName())
          || !(dh.getContent() instanceof String text)) {
        return null;
      }
      ContentType type = new ContentType(dh.getContentType());
      if (!type.match("text/*")) {
        return null;
      }
      Charset charset = charset(type.getParameter("charset"));
      if (charset == null || !writtenByAngusText(dh, type.getBaseType())) {
        return null;
      }
      return text.getBytes(charset);
    } catch (ParseException | IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * Gives {@code part} the transfer encoding its next save would choose, when its content is text
   * {@link #of} knows: so the save does not write the content to choose it. Call it only for a leaf
   * that has none ({@link MimeFacts#unencodedLeaves}).
   *
   * @throws MessagingException when the part refuses the header field
   */
  public static void chooseEncoding(Part part) throws MessagingException {
    if (!(part instanceof MimePart mime) || part.getHeader(CTE) != null) {
      return;
    }
    byte[] octets = of(mime.getDataHandler());
    if (octets != null) {
      mime.setHeader(CTE, encoding(octets));
    }
  }

  /**
   * The transfer encoding {@code MimeUtility.getEncoding} chooses for {@code text/*} content of
   * these octets: 7bit when every octet is US-ASCII other than controls (TAB, CR and LF allowed)
   * and no line exceeds 998 octets; quoted-printable when such octets are more than the others (RFC
   * 2045 §6.7); base64 otherwise (§6.8).
   */
  static String encoding(byte[] octets) {
    int ascii = 0;
    int other = 0;
    int line = 0;
    boolean longLine = false;
    for (byte o : octets) {
      int b = o & 0xff;
      if (b == '\r' || b == '\n') {
        line = 0;
      } else if (++line > MAX_LINE) {
        longLine = true;
      }
      if (b >= 0x7f || (b < 0x20 && b != '\r' && b != '\n' && b != '\t')) {
        other++;
      } else {
        ascii++;
      }
    }
    if (other == 0) {
      return longLine ? "quoted-printable" : "7bit";
    }
    return ascii > other ? "quoted-printable" : "base64";
  }

  /** The charset the handler writes in, when it is one whose encoding is certain here. */
  private static @Nullable Charset charset(@Nullable String parameter) {
    String name = MimeUtility.javaCharset(parameter == null ? "us-ascii" : parameter);
    Charset charset;
    try {
      charset = Charset.forName(name);
    } catch (IllegalCharsetNameException | UnsupportedCharsetException e) {
      return null;
    }
    return charset.equals(StandardCharsets.US_ASCII)
            || charset.equals(StandardCharsets.ISO_8859_1)
            || charset.equals(StandardCharsets.UTF_8)
        ? charset
        : null;
  }

  /**
   * Whether {@code dh}'s content handler is one of Angus Mail's text handlers: flavors compared by
   * identity, since equal flavors (same type, same class) are what any handler of the type gives.
   */
  @SuppressWarnings("ReferenceEquality")
  private static boolean writtenByAngusText(DataHandler dh, String baseType) {
    ActivationDataFlavor[] flavors = dh.getTransferDataFlavors();
    if (flavors.length != 1) {
      return false;
    }
    ActivationDataFlavor flavor = flavors[0];
    for (WeakReference<ActivationDataFlavor> known : KNOWN) {
      if (known.get() == flavor) {
        return true;
      }
    }
    DataContentHandler reference =
        CommandMap.getDefaultCommandMap().createDataContentHandler(baseType);
    if (reference == null || !ANGUS_TEXT_HANDLERS.contains(reference.getClass().getName())) {
      return false;
    }
    ActivationDataFlavor[] own = reference.getTransferDataFlavors();
    if (own.length != 1 || own[0] != flavor) {
      return false;
    }
    KNOWN.removeIf(r -> r.get() == null);
    if (KNOWN.size() < MAX_KNOWN) {
      KNOWN.add(new WeakReference<>(flavor));
    }
    return true;
  }
}
