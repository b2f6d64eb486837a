package io.mailtls.jakartamail.internal;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.activation.ActivationDataFlavor;
import jakarta.activation.DataContentHandler;
import jakarta.activation.DataHandler;
import jakarta.activation.DataSource;
import jakarta.activation.MailcapCommandMap;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Part;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.internet.MimeUtility;
import jakarta.mail.util.ByteArrayDataSource;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Properties;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * {@link TextOctets} gives the octets Angus Mail's text handler writes and the transfer encoding
 * Jakarta Mail's save chooses for them, or nothing where that is not certain; a save after {@link
 * TextOctets#chooseEncoding} gives a message the same octets as a save alone.
 */
class TextOctetsTest {

  private static final Session SESSION = Session.getInstance(new Properties());
  private static final String[] IGNORED = {"Bcc", "Content-Length"};

  private static byte[] handlerOctets(DataHandler dh) throws IOException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    dh.writeTo(out);
    return out.toByteArray();
  }

  @Property(tries = 400)
  void octetsAndEncodingAreTheHandlersAndTheSaves(
      @ForAll("texts") String text,
      @ForAll("charsets") String charset,
      @ForAll("subtypes") String subtype)
      throws Exception {
    DataHandler dh = new DataHandler(text, "text/" + subtype + "; charset=" + charset);
    byte[] octets = TextOctets.of(dh);
    if (charset.equalsIgnoreCase("windows-1252")) {
      assertThat(octets).isNull(); // not one of the charsets it encodes itself
      return;
    }
    assertThat(octets).isNotNull().isEqualTo(handlerOctets(dh));
    assertThat(TextOctets.encoding(octets))
        .isEqualTo(MimeUtility.getEncoding(new DataHandler(text, dh.getContentType())));
  }

  /**
   * Without a charset the handler reads US-ASCII, which Jakarta Mail's charset map turns into
   * ISO-8859-1 for Java: Latin-1 letters pass as one octet, the rest become '?'.
   */
  @Test
  void withoutACharsetTheHandlersUsAsciiIsUsed() throws Exception {
    DataHandler dh = new DataHandler("naïve ☃\n", "text/plain");
    assertThat(TextOctets.of(dh))
        .isEqualTo(handlerOctets(dh))
        .isEqualTo("naïve ?\n".getBytes(StandardCharsets.ISO_8859_1));
  }

  @Test
  void theEncodingRuleAtItsEdges() {
    String line998 = "a".repeat(998);
    assertThat(
            TextOctets.encoding((line998 + "\r\n" + line998).getBytes(StandardCharsets.ISO_8859_1)))
        .isEqualTo("7bit");
    assertThat(TextOctets.encoding(("a" + line998).getBytes(StandardCharsets.ISO_8859_1)))
        .isEqualTo("quoted-printable");
    assertThat(TextOctets.encoding("tab\tok\n".getBytes(StandardCharsets.ISO_8859_1)))
        .isEqualTo("7bit");
    assertThat(TextOctets.encoding("del\u007f".getBytes(StandardCharsets.ISO_8859_1)))
        .isEqualTo("quoted-printable");
    assertThat(TextOctets.encoding("a\u0000".getBytes(StandardCharsets.ISO_8859_1)))
        .isEqualTo("base64"); // 1 against 1
    assertThat(TextOctets.encoding("ab\u0000".getBytes(StandardCharsets.ISO_8859_1)))
        .isEqualTo("quoted-printable");
    assertThat(TextOctets.encoding(new byte[0])).isEqualTo("7bit");
  }

  /** Writes text upper-cased: a handler other than Angus Mail's for {@code text/plain}. */
  public static final class UpperCaseText implements DataContentHandler {
    @Override
    public ActivationDataFlavor[] getTransferDataFlavors() {
      return new ActivationDataFlavor[] {
        new ActivationDataFlavor(String.class, "text/plain", "Text String")
      };
    }

    @Override
    public Object getTransferData(ActivationDataFlavor df, DataSource ds) throws IOException {
      return getContent(ds);
    }

    @Override
    public Object getContent(DataSource ds) throws IOException {
      return new String(ds.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
    }

    @Override
    public void writeTo(Object obj, String mimeType, OutputStream os) throws IOException {
      os.write(((String) obj).toUpperCase(Locale.ROOT).getBytes(StandardCharsets.US_ASCII));
    }
  }

  @Test
  void textAnotherHandlerWritesIsLeftToIt() throws Exception {
    MailcapCommandMap own = new MailcapCommandMap();
    own.addMailcap("text/plain;; x-java-content-handler=" + UpperCaseText.class.getName());
    DataHandler dh = new DataHandler("quiet\n", "text/plain; charset=us-ascii");
    dh.setCommandMap(own);
    assertThat(TextOctets.of(dh)).isNull();

    // And the message that holds it is written as its handler writes it.
    MimeMessage m = addressed();
    m.setDataHandler(dh);
    m.saveChanges();
    ByteArrayOutputStream direct = new ByteArrayOutputStream();
    assertThat(SavedMessageWriter.write(m, direct, IGNORED)).isTrue();
    assertThat(direct.toString(StandardCharsets.US_ASCII)).endsWith("\r\n\r\nQUIET\n");
  }

  @Test
  void textFromADataSourceOrOfAnotherTypeIsNotTaken() throws Exception {
    DataHandler fromSource =
        new DataHandler(new ByteArrayDataSource("text\n", "text/plain; charset=us-ascii"));
    assertThat(TextOctets.of(fromSource)).isNull(); // writeTo copies a DataSource raw
    assertThat(TextOctets.of(new DataHandler("x", "application/json; charset=utf-8"))).isNull();
    assertThat(TextOctets.of(new DataHandler("x", "text/plain; charset=\"unclosed"))).isNull();
    assertThat(TextOctets.of(new DataHandler("x", "text/plain; charset=no-such-set"))).isNull();
    assertThat(TextOctets.of(new DataHandler(new byte[] {1}, "text/plain"))).isNull();
    assertThat(TextOctets.of(null)).isNull();
  }

  @Test
  void aPartThatHasAnEncodingKeepsIt() throws Exception {
    MimeBodyPart part = new MimeBodyPart();
    part.setText("plain\n", "us-ascii");
    part.setHeader("Content-Transfer-Encoding", "base64");
    TextOctets.chooseEncoding(part);
    assertThat(part.getEncoding()).isEqualTo("base64");
  }

  /**
   * The save's choice, made first: every leaf gets the encoding and the message the octets a save
   * alone gives, text at the top or in a multipart.
   */
  @Property(tries = 200)
  void aSaveAfterChoosingGivesTheOctetsOfASaveAlone(
      @ForAll("texts") String text,
      @ForAll("texts") String html,
      @ForAll("charsets") String charset,
      @ForAll boolean multipart)
      throws Exception {
    MimeMessage chosen = built(text, html, charset, multipart);
    MimeMessage alone = built(text, html, charset, multipart);
    for (Part leaf : MimeFacts.unencodedLeaves(chosen)) {
      TextOctets.chooseEncoding(leaf);
      // Chosen here, before the save, for every charset it encodes itself.
      assertThat(leaf.getHeader("Content-Transfer-Encoding") != null)
          .isEqualTo(!charset.equalsIgnoreCase("windows-1252"));
    }
    chosen.saveChanges();
    alone.saveChanges();
    chosen.setHeader("Message-ID", "<same@sender.test>");
    alone.setHeader("Message-ID", "<same@sender.test>");
    assertThat(written(chosen)).isEqualTo(written(alone));
  }

  private static MimeMessage built(String text, String html, String charset, boolean multipart)
      throws MessagingException {
    MimeMessage m = addressed();
    m.setHeader("Date", "Thu, 1 Jan 1970 00:00:00 +0000");
    if (!multipart) {
      m.setText(text, charset);
      return m;
    }
    MimeBodyPart plain = new MimeBodyPart();
    plain.setText(text, charset);
    MimeBodyPart rich = new MimeBodyPart();
    rich.setText(html, charset, "html");
    MimeMultipart alternative = new MimeMultipart("alternative", plain, rich);
    m.setContent(alternative);
    return m;
  }

  private static String written(MimeMessage m) throws IOException, MessagingException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    m.writeTo(out, IGNORED);
    // The multipart boundary holds a counter and the time: the same in both, once named alike.
    return out.toString(StandardCharsets.ISO_8859_1)
        .replaceAll("----=_Part_[0-9_.]+", "----=_Part_boundary");
  }

  private static MimeMessage addressed() throws MessagingException {
    MimeMessage m = new MimeMessage(SESSION);
    m.setFrom(new InternetAddress("a@sender.test"));
    m.setRecipients(Message.RecipientType.TO, "to@example.test");
    m.setSubject("a subject");
    return m;
  }

  @Provide
  Arbitrary<String> texts() {
    Arbitrary<String> lines =
        Arbitraries.oneOf(
            Arbitraries.strings().ascii().ofMaxLength(120),
            Arbitraries.strings().all().ofMaxLength(80),
            Arbitraries.strings().withChars('a', 'é', '\u0000', '\u007f').ofMaxLength(40),
            Arbitraries.strings().withChars('x').ofMinLength(990).ofMaxLength(1010),
            Arbitraries.of(".", "\r", "\n", "\r\n", "\t", "=", "\uD800", "\uDC00x", "😀"));
    return lines.list().ofMaxSize(30).map(l -> String.join("\n", l));
  }

  @Provide
  Arbitrary<String> charsets() {
    return Arbitraries.of("us-ascii", "UTF-8", "utf8", "ISO-8859-1", "iso_8859-1", "windows-1252");
  }

  @Provide
  Arbitrary<String> subtypes() {
    return Arbitraries.of("plain", "html");
  }
}
