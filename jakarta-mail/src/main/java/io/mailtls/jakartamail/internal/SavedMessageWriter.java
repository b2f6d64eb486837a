package io.mailtls.jakartamail.internal;

import jakarta.activation.DataHandler;
import jakarta.mail.BodyPart;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.internet.MimePart;
import jakarta.mail.internet.ParseException;
import jakarta.mail.util.LineOutputStream;
import jakarta.mail.util.StreamProvider;
import java.io.IOException;
import java.io.OutputStream;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * Writes a {@link MimeMessage} that was just saved exactly as its {@code writeTo(out, ignored)}
 * would, but with the {@link StreamProvider} of the message's {@link Session} instead of a new one
 * per call.
 *
 * <p>Why: Jakarta Mail 2.1's {@code MimeBodyPart.writeTo} asks {@code StreamProvider.provider()}
 * for a line stream and for the content's encoder each time it writes a part, and each of those
 * asks is a {@link java.util.ServiceLoader} scan of the class path (jakartaee/mail-api issue 861).
 * For a 10 KB message that is most of the cost of {@code writeTo}. The session looked its provider
 * up once, when it was made.
 *
 * <p>What it does is what {@code MimeMessage.writeTo} does for a saved message ({@code saveChanges}
 * sets its {@code modified} flag, so {@code writeTo} goes to {@code MimeBodyPart.writeTo}): each
 * header field line but the ignored ones, then CRLF (RFC 5322 §2.1), then the data handler's
 * content through the encoder its {@code Content-Transfer-Encoding} names (RFC 2045 §6), then a
 * flush of that encoder. Text that Angus Mail's text handler would write one octet at a time goes
 * in one write of the same octets ({@link TextOctets}), at the top and in text leaves of a
 * multipart (with ASCII header lines); other leaves of a multipart are written by Jakarta Mail
 * itself, as before.
 *
 * <p>It writes nothing and returns false, so that the caller uses {@code writeTo}, unless every one
 * of these holds, each checked before the first octet:
 *
 * <ul>
 *   <li>The message's class does not override {@code writeTo(OutputStream, String[])}.
 *   <li>The message has a session (its provider is the one used).
 *   <li>Its data handler is a plain {@link DataHandler}: content set through the API, not content
 *       kept as parsed (which {@code writeTo} copies raw).
 *   <li>Every header field line is ASCII, so the choice of UTF-8 in header lines ({@code
 *       mail.mime.allowutf8}) cannot change a single octet.
 *   <li>The transfer encoding is absent, 7bit, 8bit or binary; or base64 or quoted-printable on a
 *       type other than {@code multipart} and {@code message} (whose encodings Jakarta Mail may
 *       ignore, by system properties).
 * </ul>
 *
 * <p>Only for a message saved just before and not changed since: that is when {@code writeTo}
 * neither saves it again nor copies parsed content.
 *
 * <p>The session found its provider when it was made, by the same look-up {@code writeTo} repeats
 * (the {@code jakarta.mail.util.StreamProvider} system property, then {@code ServiceLoader} with
 * the thread's context class loader). Where two implementations of Jakarta Mail are visible and the
 * context class loader changes between the two (an application server), they could differ; the
 * session's is the one its messages were built with.
 */
public final class SavedMessageWriter {

  /** Per class: whether it keeps {@code MimeMessage}'s own {@code writeTo}. */
  private static final ClassValue<Boolean> PLAIN_WRITE_TO =
      new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
          try {
            return type.getMethod("writeTo", OutputStream.class, String[].class).getDeclaringClass()
                == MimeMessage.class;
          } catch (NoSuchMethodException e) {
            return false;
          }
        }
      };

  /** The class of the data source of a {@link DataHandler} made from an object. */
  private static final String OBJECT_DATA_SOURCE = "jakarta.activation.DataHandlerDataSource";

  /** Per class: whether it keeps {@code MimeMultipart}'s own {@code writeTo}. */
  private static final ClassValue<Boolean> PLAIN_MULTIPART =
      new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
          // writeTo's own octets come from these too: a class that changes any of them would be
          // written otherwise here than by its writeTo.
          return jakartaMails(type, "writeTo", OutputStream.class)
              && jakartaMails(type, "getCount")
              && jakartaMails(type, "getBodyPart", int.class)
              && jakartaMails(type, "getPreamble")
              && jakartaMails(type, "getContentType");
        }
      };

  /** Whether {@code type}'s public method is {@code MimeMultipart}'s or {@code Multipart}'s own. */
  private static boolean jakartaMails(Class<?> type, String name, Class<?>... parameters) {
    try {
      Class<?> declaring = type.getMethod(name, parameters).getDeclaringClass();
      return declaring == MimeMultipart.class || declaring == jakarta.mail.Multipart.class;
    } catch (NoSuchMethodException e) {
      return false;
    }
  }

  /** Per class: whether it keeps {@code MimeBodyPart}'s own {@code writeTo}. */
  private static final ClassValue<Boolean> PLAIN_BODY_PART =
      new ClassValue<>() {
        @Override
        protected Boolean computeValue(Class<?> type) {
          try {
            return type.getMethod("writeTo", OutputStream.class).getDeclaringClass()
                == MimeBodyPart.class;
          } catch (NoSuchMethodException e) {
            return false;
          }
        }
      };

  private SavedMessageWriter() {}

  /**
   * Writes {@code message} into {@code out} without the {@code ignored} header fields, or writes
   * nothing and returns false when it cannot promise the octets {@code writeTo} would write.
   *
   * @throws IOException from {@code out} or the content
   * @throws MessagingException from the message
   */
  public static boolean write(MimeMessage message, OutputStream out, String[] ignored)
      throws IOException, MessagingException {
    if (!PLAIN_WRITE_TO.get(message.getClass())) {
      return false;
    }
    Session session = message.getSession();
    if (session == null) {
      return false;
    }
    DataHandler dh = message.getDataHandler();
    if (dh == null || dh.getClass() != DataHandler.class) {
      return false;
    }
    List<String> lines = new ArrayList<>();
    for (Enumeration<String> e = message.getNonMatchingHeaderLines(ignored);
        e.hasMoreElements(); ) {
      String line = e.nextElement();
      if (!isAscii(line)) {
        return false;
      }
      lines.add(line);
    }
    StreamProvider provider = session.getStreamProvider();
    String encoding = message.getEncoding();
    if (encoding != null && !isIdentity(encoding) && !encodable(message, encoding)) {
      return false;
    }
    LineOutputStream los = provider.outputLineStream(out, true);
    for (String line : lines) {
      los.writeln(line);
    }
    los.writeln();
    OutputStream body = encoder(provider, out, encoding);
    MimeMultipart multipart = plainMultipart(dh, encoding);
    if (multipart != null) {
      writeMultipart(provider, body, multipart);
    } else {
      writeContent(dh, body);
    }
    body.flush();
    return true;
  }

  /** What {@code dh.writeTo(out)} writes: text Angus Mail would write as {@link TextOctets}. */
  private static void writeContent(DataHandler dh, OutputStream out) throws IOException {
    byte[] text = TextOctets.of(dh);
    if (text != null) {
      out.write(text);
    } else {
      dh.writeTo(out);
    }
  }

  /**
   * The multipart {@code dh} holds as an object, when {@code writeTo} would write it through {@code
   * MimeMultipart.writeTo} unchanged (identity encoding, Jakarta Mail's own class); else null.
   *
   * <p>Why not let it: {@code MimeMultipart.writeTo} is {@code synchronized}, and the recipient
   * domains of one message are written at the same time, each into its own session. A server that
   * stops reading would keep the others' writes waiting for that monitor, their DATA open and
   * silent, until their servers give up (RFC 5321 §4.5.3.2.5): one domain's MX would defer
   * another's mail. Written here, the parts are read side by side, each write blocked by its own
   * peer only.
   */
  private static @Nullable MimeMultipart plainMultipart(DataHandler dh, @Nullable String encoding)
      throws IOException {
    if (encoding != null && !isIdentity(encoding)) {
      return null;
    }
    // An object, not a DataSource: a DataSource's octets are copied as they are by writeTo.
    if (!OBJECT_DATA_SOURCE.equals(dh.getDataSource().getClass().getName())) {
      return null;
    }
    Object content = dh.getContent();
    if (!(content instanceof MimeMultipart mp) || !PLAIN_MULTIPART.get(mp.getClass())) {
      return null;
    }
    return mp;
  }

  /** What {@code MimeMultipart.writeTo} writes, without its monitor held throughout. */
  private static void writeMultipart(StreamProvider provider, OutputStream out, MimeMultipart mp)
      throws IOException, MessagingException {
    int count = mp.getCount(); // parses it, as writeTo does first
    if (count == 0) {
      mp.writeTo(out); // empty: Jakarta Mail's mail.mime.multipart.allowempty decides
      return;
    }
    String boundary = "--" + new ContentType(mp.getContentType()).getParameter("boundary");
    LineOutputStream los = provider.outputLineStream(out, false);
    String preamble = mp.getPreamble();
    if (preamble != null) {
      byte[] pb = new byte[preamble.length()];
      for (int i = 0; i < pb.length; i++) {
        pb[i] = (byte) preamble.charAt(i); // as MimeUtility.getBytes
      }
      los.write(pb);
      if (pb.length > 0 && pb[pb.length - 1] != '\r' && pb[pb.length - 1] != '\n') {
        los.writeln();
      }
    }
    for (int i = 0; i < count; i++) {
      BodyPart part = mp.getBodyPart(i);
      los.writeln(boundary);
      writePart(provider, out, part);
      los.writeln();
    }
    los.writeln(boundary + "--");
  }

  /**
   * What {@code part.writeTo} writes; a part that is itself a multipart held as an object, with
   * ASCII header lines, is written here too, so that no monitor of a nested multipart is held
   * throughout its write either; and so is a text leaf {@link TextOctets} knows, with ASCII header
   * lines and an encoding Jakarta Mail keeps for its Content-Type (not base64 or quoted-printable
   * under a {@code message} or {@code multipart} type, which {@code writeTo} ignores), so that its
   * text is written in one write.
   */
  private static void writePart(StreamProvider provider, OutputStream out, BodyPart part)
      throws IOException, MessagingException {
    if (part instanceof MimeBodyPart mbp && PLAIN_BODY_PART.get(mbp.getClass())) {
      DataHandler dh = mbp.getDataHandler();
      String encoding = mbp.getEncoding();
      // As at the top: base64 or quoted-printable only where writeTo keeps it. Text typed
      // message/* after setText (a delivery-status part) is written by writeTo as it is.
      byte[] text =
          encoding == null || isIdentity(encoding) || encodable(mbp, encoding)
              ? TextOctets.of(dh)
              : null;
      MimeMultipart nested =
          text == null && dh != null && dh.getClass() == DataHandler.class
              ? plainMultipart(dh, encoding)
              : null;
      List<String> lines = text != null || nested != null ? asciiHeaderLines(mbp) : null;
      if (lines != null) {
        LineOutputStream los = provider.outputLineStream(out, false);
        for (String line : lines) {
          los.writeln(line);
        }
        los.writeln();
        OutputStream body = encoder(provider, out, encoding);
        if (text != null) {
          body.write(text);
        } else if (nested != null) {
          writeMultipart(provider, body, nested);
        }
        body.flush();
        return;
      }
    }
    part.writeTo(out);
  }

  private static OutputStream encoder(
      StreamProvider provider, OutputStream out, @Nullable String encoding)
      throws MessagingException {
    if (encoding == null) {
      return out;
    }
    if (isIdentity(encoding)) {
      return provider.outputBinary(out);
    }
    return encoding.equalsIgnoreCase("base64")
        ? provider.outputBase64(out)
        : provider.outputQP(out);
  }

  private static boolean isIdentity(String encoding) {
    return encoding.equalsIgnoreCase("7bit")
        || encoding.equalsIgnoreCase("8bit")
        || encoding.equalsIgnoreCase("binary");
  }

  /**
   * base64 or quoted-printable on a type whose encoding Jakarta Mail never ignores: {@code
   * MimeBodyPart.writeTo} drops either for a {@code multipart} or {@code message} Content-Type (by
   * default; RFC 2045 §6.4, RFC 2046 §5.2) and writes the content as it is, whatever the header
   * field says and whatever the data handler's own type.
   */
  private static boolean encodable(MimePart part, String encoding) throws MessagingException {
    String e = encoding.toLowerCase(Locale.ROOT);
    if (!e.equals("base64") && !e.equals("quoted-printable")) {
      return false; // uuencode, or an unknown encoding: writeTo's own handling
    }
    String type = part.getContentType();
    if (type == null) {
      return true;
    }
    try {
      ContentType ct = new ContentType(type);
      return !ct.match("multipart/*") && !ct.match("message/*");
    } catch (ParseException unparsable) {
      return true; // writeTo keeps the encoding of a type it cannot parse
    }
  }

  /** Every header line of {@code part}, or null when one is not ASCII. */
  private static @Nullable List<String> asciiHeaderLines(MimeBodyPart part)
      throws MessagingException {
    List<String> lines = new ArrayList<>();
    for (Enumeration<String> e = part.getAllHeaderLines(); e.hasMoreElements(); ) {
      String line = e.nextElement();
      if (!isAscii(line)) {
        return null;
      }
      lines.add(line);
    }
    return lines;
  }

  private static boolean isAscii(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (s.charAt(i) >= 0x80) {
        return false;
      }
    }
    return true;
  }
}
