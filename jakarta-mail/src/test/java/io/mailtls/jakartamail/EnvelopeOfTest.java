package io.mailtls.jakartamail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.EmailAddress;
import io.mailtls.core.Envelope;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.NewsAddress;
import java.util.Optional;
import org.eclipse.angus.mail.smtp.SMTPMessage;
import org.junit.jupiter.api.Test;

/**
 * Which envelope a message implies ({@link MailtlsJakarta#envelopeOf}): its header fields, or an
 * {@code SMTPMessage}'s envelope-from.
 */
class EnvelopeOfTest {

  private static MimeMessage message() {
    return new MimeMessage(Messages.session());
  }

  private static String sender(Envelope e) {
    return e.sender().map(EmailAddress::toString).orElse("<>");
  }

  @Test
  void fromIsTheReversePathWithoutSender() throws Exception {
    MimeMessage m = message();
    m.setFrom(Messages.address("alice@bank.example", "Alice"));
    m.setRecipients(Message.RecipientType.TO, "bob@example.org");
    assertThat(sender(MailtlsJakarta.envelopeOf(m))).isEqualTo("alice@bank.example");
  }

  /** RFC 5322 §3.6.2: the Sender mailbox is responsible for the transmission. */
  @Test
  void senderWinsOverFrom() throws Exception {
    MimeMessage m = message();
    m.setFrom("alice@bank.example");
    m.setSender(Messages.address("mailer@esp.example", "ESP"));
    m.setRecipients(Message.RecipientType.TO, "bob@example.org");
    assertThat(sender(MailtlsJakarta.envelopeOf(m))).isEqualTo("mailer@esp.example");
  }

  /**
   * As Angus Mail's transport: an {@code SMTPMessage}'s envelope-from is the reverse-path, ahead of
   * the header fields; blank is unset, {@code <>} the null reverse-path (RFC 5321 §4.5.5).
   */
  @Test
  void anSmtpMessagesEnvelopeFromIsTheReversePath() throws Exception {
    SMTPMessage m = new SMTPMessage(Messages.session());
    m.setFrom("alice@bank.example");
    m.setSender(Messages.address("mailer@esp.example", "ESP"));
    m.setRecipients(Message.RecipientType.TO, "bob@example.org");
    m.setEnvelopeFrom("<bounces@esp.example>");
    assertThat(sender(MailtlsJakarta.envelopeOf(m))).isEqualTo("bounces@esp.example");
    m.setEnvelopeFrom("<>");
    assertThat(MailtlsJakarta.envelopeOf(m).sender()).isEmpty();
    m.setEnvelopeFrom(" ");
    assertThat(sender(MailtlsJakarta.envelopeOf(m))).isEqualTo("mailer@esp.example");
    m.setEnvelopeFrom("not an address");
    assertThatThrownBy(() -> MailtlsJakarta.envelopeOf(m))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("SMTPMessage.setEnvelopeFrom");
  }

  /**
   * Text after the closing angle bracket is refused, not dropped: Angus Mail would put it on the
   * MAIL command as it stands ({@code MAIL FROM:<a@b.test> SIZE=1}, an ESMTP parameter the caller
   * may not have meant), and taking only the address would send something else than asked.
   */
  @Test
  void textAfterTheEnvelopeFromsAddressIsRefused() throws Exception {
    SMTPMessage m = new SMTPMessage(Messages.session());
    m.setFrom("alice@bank.example");
    m.setRecipients(Message.RecipientType.TO, "bob@example.org");
    for (String value :
        new String[] {"<bounces@esp.example> junk", "<bounces@esp.example> SIZE=1"}) {
      m.setEnvelopeFrom(value);
      assertThatThrownBy(() -> MailtlsJakarta.envelopeOf(m))
          .as(value)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("SMTPMessage.setEnvelopeFrom")
          .hasMessageContaining("after the address");
    }
    m.setEnvelopeFrom("Bounces <bounces@esp.example>");
    assertThat(sender(MailtlsJakarta.envelopeOf(m))).isEqualTo("bounces@esp.example");
    m.setEnvelopeFrom(" <bounces@esp.example> ");
    assertThat(sender(MailtlsJakarta.envelopeOf(m))).isEqualTo("bounces@esp.example");
  }

  /**
   * A sender-wide envelope sender (as Angus Mail's {@code mail.smtp.from}) replaces the header
   * fields' one, and an {@code SMTPMessage}'s own envelope-from wins over it.
   */
  @Test
  void aSenderWideEnvelopeFromGivesWayToTheMessagesOwn() throws Exception {
    Optional<EmailAddress> bounces = Optional.of(EmailAddress.parse("bounces@esp.example"));
    MimeMessage plain = message();
    plain.setFrom("alice@bank.example");
    plain.setRecipients(Message.RecipientType.TO, "bob@example.org");
    assertThat(sender(MailtlsJakarta.envelopeOf(plain, bounces))).isEqualTo("bounces@esp.example");
    assertThat(MailtlsJakarta.envelopeOf(plain, Optional.empty()).sender()).isEmpty();

    SMTPMessage own = new SMTPMessage(Messages.session());
    own.setRecipients(Message.RecipientType.TO, "bob@example.org"); // no From needed
    own.setEnvelopeFrom("list-owner@lists.example");
    assertThat(sender(MailtlsJakarta.envelopeOf(own, bounces)))
        .isEqualTo("list-owner@lists.example");
    assertThat(MailtlsJakarta.envelopeOf(own, bounces).recipients())
        .map(EmailAddress::toString)
        .containsExactly("bob@example.org");
  }

  @Test
  void theFirstOfSeveralAuthorsIsTheReversePath() throws Exception {
    MimeMessage m = message();
    m.setHeader("From", "alice@one.example, carol@two.example");
    m.setRecipients(Message.RecipientType.TO, "bob@example.org");
    assertThat(sender(MailtlsJakarta.envelopeOf(m))).isEqualTo("alice@one.example");
  }

  @Test
  void toCcAndBccInOrderWithoutDuplicates() throws Exception {
    MimeMessage m = message();
    m.setFrom("a@sender.example");
    m.setRecipients(Message.RecipientType.TO, "t1@example.org, t2@example.org");
    m.setRecipients(Message.RecipientType.CC, "c@example.net, t1@example.org");
    m.setRecipients(Message.RecipientType.BCC, "b@example.com");
    assertThat(MailtlsJakarta.envelopeOf(m).recipients())
        .map(EmailAddress::toString)
        .containsExactly("t1@example.org", "t2@example.org", "c@example.net", "b@example.com");
  }

  @Test
  void groupsAreExpandedAndAnEmptyGroupNamesNobody() throws Exception {
    MimeMessage m = message();
    m.setFrom("a@sender.example");
    m.setHeader("To", "undisclosed-recipients:;");
    m.setHeader("Cc", "Team: x@example.org, y@example.org;");
    m.setRecipients(Message.RecipientType.BCC, "b@example.com");
    assertThat(MailtlsJakarta.envelopeOf(m).recipients())
        .map(EmailAddress::toString)
        .containsExactly("x@example.org", "y@example.org", "b@example.com");
  }

  @Test
  void aUnicodeDomainTravelsAsItsALabel() throws Exception {
    MimeMessage m = message();
    m.setFrom("a@sender.example");
    m.setRecipients(Message.RecipientType.TO, "jörg@bücher.example");
    assertThat(MailtlsJakarta.envelopeOf(m).recipients())
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.toPath()).isEqualTo("jörg@xn--bcher-kva.example");
              assertThat(r.needsSmtpUtf8()).isTrue();
            });
  }

  @Test
  void noSenderIsACallerMistake() {
    MimeMessage m = message();
    assertThatThrownBy(
            () -> {
              m.setRecipients(Message.RecipientType.TO, "bob@example.org");
              MailtlsJakarta.envelopeOf(m);
            })
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("neither a Sender nor");
  }

  @Test
  void noRecipientIsACallerMistake() {
    assertThatThrownBy(
            () -> {
              MimeMessage m = message();
              m.setFrom("a@sender.example");
              MailtlsJakarta.envelopeOf(m);
            })
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no To, Cc or Bcc");
  }

  @Test
  void newsgroupsAreRefusedRatherThanDroppedSilently() {
    assertThatThrownBy(
            () -> {
              MimeMessage m = message();
              m.setFrom("a@sender.example");
              m.setRecipients(Message.RecipientType.TO, "bob@example.org");
              m.setRecipients(
                  MimeMessage.RecipientType.NEWSGROUPS,
                  new NewsAddress[] {new NewsAddress("comp.mail.misc")});
              MailtlsJakarta.envelopeOf(m);
            })
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("comp.mail.misc");
  }

  /** RFC 5321 §4.5.3.1.1: Jakarta Mail accepts a 65-octet local part; SMTP does not. */
  @Test
  void anAddressMailtlsCannotUseIsNamed() {
    String tooLong = "x".repeat(65) + "@example.org";
    assertThatThrownBy(
            () -> {
              MimeMessage m = message();
              m.setFrom("a@sender.example");
              m.setHeader("To", tooLong);
              MailtlsJakarta.envelopeOf(m);
            })
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(tooLong);
  }

  @Test
  void aHeaderJakartaMailCannotParseIsItsOwnException() {
    assertThatThrownBy(
            () -> {
              MimeMessage m = message();
              m.setFrom("a@sender.example");
              m.setHeader("To", "bob@exa_mple..org");
              MailtlsJakarta.envelopeOf(m);
            })
        .isInstanceOf(MessagingException.class);
  }
}
