package io.mailtls.jakartamail.internal;

import io.mailtls.core.internal.smtp.ContentScanner;
import jakarta.activation.DataHandler;
import jakarta.mail.Header;
import jakarta.mail.MessagingException;
import jakarta.mail.Multipart;
import jakarta.mail.Part;
import jakarta.mail.internet.MimePart;
import jakarta.mail.internet.MimeUtility;
import jakarta.mail.util.ByteArrayDataSource;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Lets Jakarta Mail choose a transfer encoding for the parts whose lines are too long to send as
 * they are.
 *
 * <p>RFC 5321 §4.5.3.1.6 limits a line to 998 octets plus CRLF, and {@code SecureSmtpTransport}
 * refuses content with a longer one. Jakarta Mail already encodes new content (quoted-printable or
 * base64) when its lines are long, but keeps the encoding a part names itself: a part parsed from a
 * file, or one given {@code Content-Transfer-Encoding: 7bit} or {@code 8bit} by hand, goes out with
 * its long lines. For each such leaf part, this replaces the content by its decoded octets (same
 * type, same charset) and drops the header, so that the next {@code saveChanges()} lets Jakarta
 * Mail choose again (RFC 2045 §6: quoted-printable or base64).
 *
 * <p>Never touched: parts whose encoding is already quoted-printable or base64; parts inside {@code
 * multipart/signed} or {@code multipart/encrypted} (RFC 1847: any change breaks the signature);
 * {@code message/*} parts (RFC 2046 §5.2.1: 7bit, 8bit or binary only). A part that cannot be read
 * is left as it is (the transport reports it). A re-encoded part is held in memory once: such parts
 * are text, and text with long lines is rarely large.
 *
 * <p>Header fields are folded instead ({@link #foldHeaders}): {@code setHeader} stores a value as
 * it is given, so a long {@code References} field of a long thread is one line of thousands of
 * octets, which RFC 5322 §2.1.1 forbids and the transport would refuse.
 *
 * <p>Stateless and thread-safe; not for a message that another thread changes meanwhile.
 */
public final class LongLines {

  private LongLines() {}

  /**
   * Folds every header field of {@code part} (a message, or a body part at any depth, the parts of
   * {@code multipart/signed} and {@code multipart/encrypted} excepted) that has a line over 998
   * octets, at its white space (RFC 5322 §2.2.3, by {@link MimeUtility#fold}): folding changes no
   * field's value, since a reader unfolds it. Fields with shorter lines are left as they are, and
   * the fields' order is kept. A field without white space to fold at stays as it is (the transport
   * then refuses the message). A multipart whose parts Jakarta Mail cannot read (no boundary line,
   * a malformed {@code Content-Type}, content that cannot be read) keeps its parts as they are, as
   * {@link #encode} does: the message goes as it stands. Returns whether any field changed.
   *
   * @throws MessagingException when a field to fold cannot be changed (a read-only message)
   */
  public static boolean foldHeaders(Part part) throws MessagingException {
    boolean changed = false;
    if (part instanceof MimePart mime) {
      changed = foldOwnHeaders(mime);
    }
    if (part.isMimeType("multipart/signed") || part.isMimeType("multipart/encrypted")) {
      return changed;
    }
    if (part.isMimeType("multipart/*")) {
      List<Part> parts = new ArrayList<>();
      try {
        if (part.getContent() instanceof Multipart multipart) {
          for (int i = 0; i < multipart.getCount(); i++) {
            parts.add(multipart.getBodyPart(i));
          }
        }
      } catch (IOException | MessagingException e) {
        // The structure cannot be read (MimeMultipart parses it here): nothing to fold in it.
        return changed;
      }
      for (Part p : parts) {
        changed |= foldHeaders(p);
      }
    }
    return changed;
  }

  private static boolean foldOwnHeaders(MimePart part) throws MessagingException {
    Set<String> tooLong = new LinkedHashSet<>();
    for (Enumeration<Header> e = part.getAllHeaders(); e.hasMoreElements(); ) {
      Header h = e.nextElement();
      String line = h.getName() + ": " + h.getValue();
      for (String physical : line.split("\r?\n", -1)) {
        if (physical.getBytes(StandardCharsets.UTF_8).length > ContentScanner.MAX_LINE_OCTETS) {
          tooLong.add(h.getName());
          break;
        }
      }
    }
    for (String name : tooLong) {
      String[] values = part.getHeader(name);
      if (values == null) {
        continue;
      }
      List<String> folded = new ArrayList<>();
      for (String v : values) {
        folded.add(MimeUtility.fold(name.length() + 2, MimeUtility.unfold(v)));
      }
      if (folded.size() == 1) {
        part.setHeader(name, folded.get(0)); // in place
      } else {
        part.removeHeader(name);
        // InternetHeaders.addHeader puts each Received and Return-Path field before the others of
        // its name (newest first, RFC 5321 §4.4): add those last to first to keep the trace order.
        if (name.equalsIgnoreCase("Received") || name.equalsIgnoreCase("Return-Path")) {
          Collections.reverse(folded);
        }
        for (String v : folded) {
          part.addHeader(name, v); // the occurrences in their order
        }
      }
    }
    return !tooLong.isEmpty();
  }

  /**
   * Prepares every part of {@code part} that needs it; returns whether any changed (then the caller
   * saves the message again, so that Jakarta Mail sets the new encodings).
   *
   * @param chosenByJakarta leaves whose encoding Jakarta Mail chose in the save just made ({@link
   *     MimeFacts#unencodedLeaves}): it reads a leaf to choose, and chooses 7bit only for lines of
   *     at most 998 octets, so these are not read again
   * @throws MessagingException when Jakarta Mail cannot parse the message's structure
   */
  public static boolean encode(Part part, Set<Part> chosenByJakarta) throws MessagingException {
    if (part.isMimeType("multipart/signed")
        || part.isMimeType("multipart/encrypted")
        || part.isMimeType("message/*")) {
      return false;
    }
    if (part.isMimeType("multipart/*")) {
      Object content;
      try {
        content = part.getContent();
      } catch (IOException e) {
        return false;
      }
      if (!(content instanceof Multipart multipart)) {
        return false;
      }
      boolean changed = false;
      for (int i = 0; i < multipart.getCount(); i++) {
        changed |= encode(multipart.getBodyPart(i), chosenByJakarta);
      }
      return changed;
    }
    if (!(part instanceof MimePart mime)
        || !identityEncoding(mime.getEncoding())
        || MimeFacts.measuredByJakarta(part, chosenByJakarta)) {
      return false;
    }
    byte[] octets;
    try {
      if (!hasOverlongLines(mime)) {
        return false;
      }
      try (InputStream in = mime.getInputStream()) {
        octets = in.readAllBytes();
      }
    } catch (IOException e) {
      return false;
    }
    // Decoded octets under the same Content-Type: Jakarta Mail picks the encoding on save.
    mime.setDataHandler(new DataHandler(new ByteArrayDataSource(octets, mime.getContentType())));
    mime.removeHeader("Content-Transfer-Encoding");
    return true;
  }

  /** 7bit, 8bit, binary, or none (RFC 2045 §6.1: 7bit by default): octets sent as they are. */
  private static boolean identityEncoding(String encoding) {
    if (encoding == null) {
      return true;
    }
    String e = encoding.strip().toLowerCase(Locale.ROOT);
    return e.isEmpty() || e.equals("7bit") || e.equals("8bit") || e.equals("binary");
  }

  private static boolean hasOverlongLines(MimePart part) throws IOException, MessagingException {
    // Written, not read: a DataHandler's getInputStream would start a thread per call.
    ContentScanner scanner = new ContentScanner();
    part.getDataHandler().writeTo(scanner);
    return scanner.result().hasOverlongLines();
  }
}
