package io.mailtls.jakartamail.internal;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.ContentDescriptor;
import jakarta.activation.DataHandler;
import jakarta.activation.DataSource;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeBodyPart;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeMultipart;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** {@link MimeFacts}: what a message's structure tells of its octets, never less than they are. */
class MimeFactsTest {

  private static final String[] IGNORED = {"Bcc", "Content-Length"};

  private static Session session() {
    return Session.getInstance(new Properties());
  }

  /** A source that counts its readings. */
  static final class CountingSource implements DataSource {
    final AtomicInteger opens = new AtomicInteger();

    @Override
    public InputStream getInputStream() {
      opens.incrementAndGet();
      return new ByteArrayInputStream(new byte[] {(byte) 0xff, 0, 1, (byte) 0x80});
    }

    @Override
    public OutputStream getOutputStream() {
      throw new UnsupportedOperationException();
    }

    @Override
    public String getContentType() {
      return "application/octet-stream";
    }

    @Override
    public String getName() {
      return "counting.bin";
    }
  }

  private static MimeMessage withPart(MimeBodyPart part) throws MessagingException {
    MimeMessage m = new MimeMessage(session());
    m.setFrom("a@sender.test");
    m.setRecipients(Message.RecipientType.TO, "to@example.test");
    m.setContent(new MimeMultipart(part));
    return m;
  }

  @Test
  void aBase64PartIsSevenBitWithoutBeingRead() throws Exception {
    CountingSource source = new CountingSource();
    MimeBodyPart part = new MimeBodyPart();
    part.setDataHandler(new DataHandler(source));
    part.setHeader("Content-Transfer-Encoding", "base64");
    MimeMessage m = withPart(part);
    m.saveChanges();
    int opensAfterSave = source.opens.get();
    assertThat(MimeFacts.describe(m, IGNORED, Set.of()))
        .contains(ContentDescriptor.of(false, false));
    assertThat(source.opens).hasValue(opensAfterSave);
  }

  @Test
  void anIdentityPartIsMeasuredUnlessJakartaMailChoseItsEncoding() throws Exception {
    MimeMessage m = new MimeMessage(session());
    m.setFrom("a@sender.test");
    m.setText("plain ascii", "us-ascii");
    Set<jakarta.mail.Part> chosen = MimeFacts.unencodedLeaves(m);
    assertThat(chosen).containsExactly(m);
    m.saveChanges();
    assertThat(m.getEncoding()).isEqualTo("7bit");
    assertThat(MimeFacts.measuredByJakarta(m, chosen)).isTrue();
    assertThat(MimeFacts.describe(m, IGNORED, chosen)).contains(ContentDescriptor.of(false, false));

    // Labelled 7bit by hand over 8-bit text: measured, and found 8-bit.
    MimeBodyPart lying = new MimeBodyPart();
    lying.setText("Grüße", "UTF-8");
    lying.setHeader("Content-Transfer-Encoding", "7bit");
    MimeMessage l = withPart(lying);
    Set<jakarta.mail.Part> none = MimeFacts.unencodedLeaves(l);
    assertThat(none).isEmpty();
    l.saveChanges();
    assertThat(MimeFacts.describe(l, IGNORED, none)).contains(ContentDescriptor.of(true, false));
  }

  @Test
  void theDescriptorCarriesTlsRequiredNoOnlyWhenTheFieldIsWrittenAndSaysNo() throws Exception {
    // RFC 8689 §3: the transport does not read described content, so the descriptor says it
    MimeMessage m = new MimeMessage(session());
    m.setFrom("a@sender.test");
    m.setText("plain ascii", "us-ascii");
    m.setHeader("TLS-Required", " no ");
    m.saveChanges();
    Set<jakarta.mail.Part> none = Set.of();
    assertThat(MimeFacts.describe(m, IGNORED, none).orElseThrow().tlsRequiredNo()).isTrue();
    // not written: not honoured
    String[] ignoringIt = {"Bcc", "Content-Length", "TLS-Required"};
    assertThat(MimeFacts.describe(m, ignoringIt, none).orElseThrow().tlsRequiredNo()).isFalse();
    // any other value, or two fields, means nothing
    m.setHeader("TLS-Required", "Yes");
    assertThat(MimeFacts.describe(m, IGNORED, none).orElseThrow().tlsRequiredNo()).isFalse();
    m.setHeader("TLS-Required", "No");
    m.addHeader("TLS-Required", "No");
    assertThat(MimeFacts.describe(m, IGNORED, none).orElseThrow().tlsRequiredNo()).isFalse();
    m.removeHeader("TLS-Required");
    assertThat(MimeFacts.describe(m, IGNORED, none).orElseThrow().tlsRequiredNo()).isFalse();
  }

  @Test
  void theLeavesOfANewMultipartAreFoundBeforeItsFirstSave() throws Exception {
    MimeBodyPart text = new MimeBodyPart();
    text.setText("plain ascii", "us-ascii");
    MimeBodyPart labelled = new MimeBodyPart();
    labelled.setText("labelled", "us-ascii");
    labelled.setHeader("Content-Transfer-Encoding", "8bit");
    MimeBodyPart inner = new MimeBodyPart();
    inner.setContent(new MimeMultipart("alternative", text, labelled));
    MimeMessage m = withPart(inner);
    assertThat(MimeFacts.unencodedLeaves(m)).containsExactly(text);
  }

  @Test
  void aLineOver998OctetsDeclaresNothing() throws Exception {
    MimeMessage m = new MimeMessage(session());
    m.setFrom("a@sender.test");
    m.setHeader("X-Long", "x".repeat(1000));
    m.setText("short", "us-ascii");
    m.saveChanges();
    assertThat(MimeFacts.describe(m, IGNORED, Set.of())).isEmpty();

    MimeBodyPart part = new MimeBodyPart();
    part.setText("y".repeat(1200), "us-ascii");
    part.setHeader("Content-Transfer-Encoding", "8bit");
    MimeMessage b = withPart(part);
    b.saveChanges();
    assertThat(MimeFacts.describe(b, IGNORED, Set.of())).isEmpty();
  }

  @Test
  void anUnknownEncodingDeclaresNothing() throws Exception {
    MimeBodyPart part = new MimeBodyPart();
    part.setText("text", "us-ascii");
    part.setHeader("Content-Transfer-Encoding", "x-uuencode");
    MimeMessage m = withPart(part);
    m.saveChanges();
    assertThat(MimeFacts.describe(m, IGNORED, Set.of())).isEmpty();
  }

  @Test
  void nonAsciiHeaderTextIsUtf8HeadersAndBccIsNotLookedAt() throws Exception {
    MimeMessage m = new MimeMessage(session());
    m.setFrom("a@sender.test");
    m.setText("plain", "us-ascii");
    m.setHeader("Bcc", "Zoë <hidden@example.test>");
    m.saveChanges();
    assertThat(MimeFacts.describe(m, IGNORED, Set.of(m)))
        .contains(ContentDescriptor.of(false, false));
    m.setHeader("Subject", "Grüße");
    assertThat(MimeFacts.describe(m, IGNORED, Set.of(m)))
        .isEqualTo(Optional.of(ContentDescriptor.of(true, true)));
  }
}
