package io.mailtls.jakartamail.internal;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.activation.DataHandler;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import jakarta.mail.util.ByteArrayDataSource;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Properties;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;

/**
 * {@link SavedMessageWriter} writes the very octets of {@code MimeMessage.writeTo} for every saved
 * message it takes, and leaves every other message to {@code writeTo}, before writing anything.
 */
class SavedMessageWriterTest {

  private static final String[] IGNORED = {"Bcc", "Content-Length"};
  private static final Session SESSION = Session.getInstance(new Properties());

  private static MimeMessage addressed(Session session) throws MessagingException {
    MimeMessage m = new MimeMessage(session);
    m.setFrom(new InternetAddress("a@sender.test"));
    m.setRecipients(Message.RecipientType.TO, "to@example.test");
    m.setRecipients(Message.RecipientType.BCC, "hidden@example.test");
    m.setSubject("a subject");
    return m;
  }

  private static byte[] viaWriteTo(MimeMessage m) throws IOException, MessagingException {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    m.writeTo(out, IGNORED);
    return out.toByteArray();
  }

  /** Asserts the writer takes {@code m} (saved first) and writes what writeTo writes. */
  private static void takenAndIdentical(MimeMessage m) throws Exception {
    m.saveChanges();
    ByteArrayOutputStream direct = new ByteArrayOutputStream();
    assertThat(SavedMessageWriter.write(m, direct, IGNORED)).isTrue();
    String written = new String(direct.toByteArray(), StandardCharsets.ISO_8859_1);
    assertThat(written).isEqualTo(new String(viaWriteTo(m), StandardCharsets.ISO_8859_1));
    assertThat(written).doesNotContain("hidden@example.test");
  }

  /** Asserts the writer leaves {@code m} (saved first) alone and writes nothing. */
  private static void leftToWriteTo(MimeMessage m) throws Exception {
    m.saveChanges();
    ByteArrayOutputStream direct = new ByteArrayOutputStream();
    assertThat(SavedMessageWriter.write(m, direct, IGNORED)).isFalse();
    assertThat(direct.size()).isZero();
  }

  @Test
  void asciiTextAsApplicationsBuildIt() throws Exception {
    MimeMessage m = addressed(SESSION);
    m.setText(".a dotted line\nplain\r\nlone CR\rend".repeat(300), "us-ascii");
    takenAndIdentical(m);
    assertThat(m.getEncoding()).isEqualTo("7bit");
  }

  @Test
  void textWithNonAsciiCharactersGoesQuotedPrintableOrBase64() throws Exception {
    MimeMessage qp = addressed(SESSION);
    qp.setText("Grüße aus Köln, € 12,50\n".repeat(40), "UTF-8");
    takenAndIdentical(qp);
    assertThat(qp.getEncoding()).isEqualTo("quoted-printable");

    MimeMessage b64 = addressed(SESSION);
    b64.setText("日本語のテキスト\n".repeat(40), "UTF-8");
    takenAndIdentical(b64);
    assertThat(b64.getEncoding()).isEqualTo("base64");
  }

  @Test
  void htmlAndBinaryContentAtTheTop() throws Exception {
    MimeMessage html = addressed(SESSION);
    html.setText("<p>Hello <b>there</b></p>\n", "us-ascii", "html");
    takenAndIdentical(html);

    byte[] binary = new byte[50_000];
    new Random(7).nextBytes(binary);
    MimeMessage file = addressed(SESSION);
    file.setDataHandler(
        new DataHandler(new ByteArrayDataSource(binary, "application/octet-stream")));
    takenAndIdentical(file);
    assertThat(file.getEncoding()).isEqualTo("base64");
  }

  /**
   * Multiparts are written here part by part (not by the synchronized {@code
   * MimeMultipart.writeTo}, whose monitor would make the recipient domains of one message wait for
   * each other): nested ones, preambles with and without a line end, a raw non-ASCII header field
   * in a nested part, all as writeTo writes them.
   */
  @Test
  void nestedMultipartsAndPreamblesAreWrittenAsWriteToWritesThem() throws Exception {
    MimeMessage m = addressed(SESSION);
    MimeBodyPart text = new MimeBodyPart();
    text.setText("Grüße\n".repeat(20), "UTF-8");
    MimeBodyPart html = new MimeBodyPart();
    html.setText("<p>hi</p>\n", "us-ascii", "html");
    MimeMultipart alternative = new MimeMultipart("alternative", text, html);
    alternative.setPreamble("no line end é");
    MimeBodyPart body = new MimeBodyPart();
    body.setContent(alternative);

    MimeBodyPart raw = new MimeBodyPart();
    raw.setText("x\n", "us-ascii");
    raw.setHeader("X-Raw", "Grüße"); // not ASCII: Jakarta Mail writes this part itself
    MimeMultipart inner = new MimeMultipart("related", raw);
    MimeBodyPart rawHeaders = new MimeBodyPart();
    rawHeaders.setContent(inner);
    rawHeaders.setHeader("X-Raw-Too", "Köln");

    byte[] binary = new byte[20_000];
    new Random(3).nextBytes(binary);
    MimeBodyPart file = new MimeBodyPart();
    file.setDataHandler(
        new DataHandler(new ByteArrayDataSource(binary, "application/octet-stream")));
    file.setFileName("f.bin");

    MimeMultipart mixed = new MimeMultipart(body, rawHeaders, file);
    mixed.setPreamble("This is a multi-part message in MIME format.\r\n");
    m.setContent(mixed);
    takenAndIdentical(m);
  }

  /**
   * A multipart class that keeps {@code writeTo} but changes what it reads (its part count here) is
   * written as its own {@code writeTo} writes it, not part by part from what the class hides.
   */
  @Test
  void aMultipartSubclassChangingItsPartsIsWrittenByItsOwnWriteTo() throws Exception {
    MimeMessage m = addressed(SESSION);
    MimeBodyPart first = new MimeBodyPart();
    first.setText("first\n", "us-ascii");
    MimeBodyPart hidden = new MimeBodyPart();
    hidden.setText("hidden\n", "us-ascii");
    MimeMultipart onlyFirst =
        new MimeMultipart(first, hidden) {
          @Override
          public synchronized int getCount() throws MessagingException {
            return 1;
          }
        };
    m.setContent(onlyFirst);
    takenAndIdentical(m);
  }

  @Test
  void aMultipartIsTakenWithTextLeavesInOneWriteAndAFileWrittenByJakartaMail() throws Exception {
    MimeMessage m = addressed(SESSION);
    m.setSubject("Grüße — ☃", "UTF-8"); // an encoded word: the line stays ASCII
    MimeBodyPart text = new MimeBodyPart();
    text.setText("Grüße\n", "UTF-8");
    MimeBodyPart html = new MimeBodyPart();
    html.setText("<p>Grüße</p>\n", "UTF-8", "html");
    MimeBodyPart body = new MimeBodyPart();
    body.setContent(new MimeMultipart("alternative", text, html));
    MimeBodyPart file = new MimeBodyPart();
    byte[] binary = new byte[3_000];
    new Random(3).nextBytes(binary);
    file.setDataHandler(
        new DataHandler(new ByteArrayDataSource(binary, "application/octet-stream")));
    file.setFileName("résumé.bin");
    m.setContent(new MimeMultipart(body, file));
    takenAndIdentical(m);
  }

  @Test
  void aRawNonAsciiHeaderFieldIsLeftToWriteTo() throws Exception {
    MimeMessage m = addressed(SESSION);
    m.setHeader("X-Greeting", "Grüße");
    m.setText("text\n", "us-ascii");
    leftToWriteTo(m);
  }

  @Test
  void parsedContentIsLeftToWriteTo() throws Exception {
    byte[] raw =
        "From: a@sender.test\r\nTo: to@example.test\r\nSubject: parsed\r\n\r\nbody\r\n"
            .getBytes(StandardCharsets.US_ASCII);
    leftToWriteTo(new MimeMessage(SESSION, new ByteArrayInputStream(raw)));
  }

  @Test
  void aMessageWithoutASessionIsLeftToWriteTo() throws Exception {
    MimeMessage m = addressed(null);
    m.setText("text\n", "us-ascii");
    leftToWriteTo(m);
  }

  @Test
  void aClassWithItsOwnWriteToIsLeftToItAndOneWithoutIsTaken() throws Exception {
    MimeMessage own =
        new MimeMessage(SESSION) {
          @Override
          public void writeTo(OutputStream os, String[] ignoreList)
              throws IOException, MessagingException {
            os.write("mine".getBytes(StandardCharsets.US_ASCII));
          }
        };
    own.setFrom(new InternetAddress("a@sender.test"));
    own.setText("text\n", "us-ascii");
    leftToWriteTo(own);

    MimeMessage fixedId =
        new MimeMessage(SESSION) {
          @Override
          protected void updateMessageID() throws MessagingException {
            setHeader("Message-ID", "<fixed@sender.test>");
          }
        };
    fixedId.setFrom(new InternetAddress("a@sender.test"));
    fixedId.setText("text\n", "us-ascii");
    takenAndIdentical(fixedId);
  }

  @Test
  void encodingsWriteToMayTreatOtherwiseAreLeftToIt() throws Exception {
    MimeMessage uu = addressed(SESSION);
    uu.setText("text\n", "us-ascii");
    uu.saveChanges();
    uu.setHeader("Content-Transfer-Encoding", "x-uuencode");
    leftToWriteTo(uu);

    MimeMessage multipartB64 = addressed(SESSION);
    MimeBodyPart part = new MimeBodyPart();
    part.setText("text\n", "us-ascii");
    multipartB64.setContent(new MimeMultipart(part));
    multipartB64.saveChanges();
    multipartB64.setHeader("Content-Transfer-Encoding", "base64");
    leftToWriteTo(multipartB64);
  }

  @Property(tries = 300)
  void anyTextInAnyCommonCharsetIsWrittenAsWriteToWritesIt(
      @ForAll("texts") String text,
      @ForAll("charsets") String charset,
      @ForAll("subtypes") String subtype)
      throws Exception {
    MimeMessage m = addressed(SESSION);
    m.setText(text, charset, subtype);
    takenAndIdentical(m);
  }

  @Provide
  Arbitrary<String> texts() {
    Arbitrary<String> lines =
        Arbitraries.oneOf(
            Arbitraries.strings().ascii().ofMaxLength(120),
            Arbitraries.strings().all().ofMaxLength(80),
            Arbitraries.of(".", "..", "\r", "\n", "\r\n", " ", "=", "=3D", "From x"));
    return lines.list().ofMaxSize(30).map(l -> String.join("\n", l));
  }

  @Provide
  Arbitrary<String> charsets() {
    return Arbitraries.of("us-ascii", "UTF-8", "ISO-8859-1", "windows-1252");
  }

  @Provide
  Arbitrary<String> subtypes() {
    return Arbitraries.of("plain", "html");
  }
}
