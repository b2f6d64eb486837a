package io.mailtls.interop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.PolicySource;
import io.mailtls.core.RecipientResult;
import io.mailtls.jakartamail.MailtlsSendFailedException;
import io.mailtls.jakartamail.MailtlsTransport;
import jakarta.mail.Address;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.SendFailedException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17: an unchanged Jakarta Mail program (real Angus Mail: {@code Session.getInstance(props)},
 * {@code Transport.send(message)}) switched to mailtls by one property ({@code
 * mail.transport.protocol.rfc822=mailtls}) delivers to the suite's Postfix with DANE verification
 * ({@code dane-required}: no other way to deliver), and its {@code SendFailedException} lists the
 * address Postfix rejects. That address is at {@code mx.dane-ee.test}: a signed name without MX
 * records, so its implicit MX (RFC 5321 §5.1) is the DANE host itself, which Postfix does not
 * receive mail for: {@code 554 5.7.1 Relay access denied} at RCPT.
 */
class JakartaMailInteropTest {

  private static final String DOMAIN = Scenario.DANE_EE.domain;
  private static final InteropEnv.Undelivered UNDELIVERED = new InteropEnv.Undelivered();

  @TempDir Path dir;

  @BeforeAll
  static void environment() {
    InteropEnv.requireUp();
  }

  @AfterAll
  static void nothingArrivedLater() throws Exception {
    UNDELIVERED.assertNoneArrived();
  }

  /** The program's properties: the one switch, plus where mailtls finds DNS and its state. */
  private Properties properties() {
    Properties p = new Properties();
    p.setProperty("mail.transport.protocol.rfc822", "mailtls"); // the switch
    p.setProperty("mail.mailtls.helo", "client.interop.mailtls.test");
    p.setProperty("mail.mailtls.level", "dane-required");
    p.setProperty("mail.mailtls.dns.resolvers", InteropEnv.UNBOUND);
    p.setProperty(
        "mail.mailtls.dns.trustanchor", InteropEnv.STATE.resolve("root-anchor.ds").toString());
    p.setProperty("mail.mailtls.cafile", InteropEnv.STATE.resolve("pki/ca.crt").toString());
    p.setProperty("mail.mailtls.statedir", dir.resolve("mailtls").toString());
    p.setProperty("mail.mailtls.connectiontimeout", "10000");
    p.setProperty("mail.mailtls.timeout", "30000");
    return p;
  }

  /** What any Jakarta Mail program does; nothing in it knows of mailtls. */
  private static MimeMessage message(Session session, String tag, String... to)
      throws MessagingException {
    MimeMessage m = new MimeMessage(session);
    m.setFrom(new InternetAddress(Library.SENDER));
    for (String r : to) {
      m.addRecipient(Message.RecipientType.TO, new InternetAddress(r));
    }
    m.setSubject("Jakarta Mail through mailtls");
    m.setText("Sent by Transport.send through mailtls: " + tag + "\n", "UTF-8");
    return m;
  }

  /** The Message-ID Jakarta Mail gave the message when saving it, without angle brackets. */
  private static String idOf(MimeMessage m) throws MessagingException {
    String id = m.getMessageID();
    return id.substring(1, id.length() - 1);
  }

  @Test
  void transportSendDeliversToPostfixWithDaneVerification() throws Exception {
    String tag = "jakarta-dane " + UUID.randomUUID();
    String rcpt = "jakarta-" + UUID.randomUUID() + "@" + DOMAIN;
    Session session = Session.getInstance(properties());
    MimeMessage m = message(session, tag, rcpt);
    Transport.send(m);
    String id = idOf(m);

    Path file = InteropEnv.awaitInMaildir(DOMAIN, id, Duration.ofSeconds(10));
    InteropEnv.Stored stored = InteropEnv.split(Files.readAllBytes(file));
    assertThat(stored.prepended()).anyMatch(h -> h.contains("<" + rcpt + ">"));
    assertThat(String.join("\n", stored.received())).contains("with ESMTPS");
    assertThat(new String(stored.rest(), StandardCharsets.UTF_8))
        .contains("Sent by Transport.send through mailtls: " + tag);
  }

  @Test
  void theReportBehindTheTransportSaysVerifiedByDane() throws Exception {
    String rcpt = "jakarta-" + UUID.randomUUID() + "@" + DOMAIN;
    Properties props = properties();
    props.setProperty("mail.transport.protocol", "mailtls");
    Session session = Session.getInstance(props);
    MimeMessage m = message(session, "jakarta-report", rcpt);
    m.saveChanges();
    String id = idOf(m);
    DeliveryReport report;
    try (Transport t = session.getTransport()) {
      t.connect();
      t.sendMessage(m, m.getAllRecipients());
      report = ((MailtlsTransport) t).lastReport().orElseThrow();
    }
    RecipientResult r = report.result(rcpt);
    assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(r.authentication()).contains(Authentication.VERIFIED);
    assertThat(r.plan().hosts()).allMatch(h -> h.source() == PolicySource.DANE);
    InteropEnv.awaitInMaildir(DOMAIN, id, Duration.ofSeconds(10));
  }

  @Test
  void sendFailedExceptionListsTheAddressPostfixRejects() throws Exception {
    String good = "jakarta-" + UUID.randomUUID() + "@" + DOMAIN;
    String rejected = "jakarta-" + UUID.randomUUID() + "@mx." + DOMAIN;
    Session session = Session.getInstance(properties());
    MimeMessage m = message(session, "jakarta-bounce", good, rejected);

    SendFailedException e =
        catchThrowableOfType(SendFailedException.class, () -> Transport.send(m));
    String id = idOf(m);

    assertThat(addresses(e.getInvalidAddresses())).containsExactly(rejected);
    assertThat(addresses(e.getValidSentAddresses())).containsExactly(good);
    assertThat(e.getValidUnsentAddresses()).isEmpty();
    assertThat(e).isInstanceOf(MailtlsSendFailedException.class);
    RecipientResult r = ((MailtlsSendFailedException) e).report().orElseThrow().result(rejected);
    assertThat(r.status()).isEqualTo(DeliveryStatus.BOUNCED);
    // Postfix's answer, reached over a DANE-verified session.
    assertThat(r.reply().code()).isEqualTo(554);
    assertThat(r.reply().text()).contains("Relay access denied");
    assertThat(r.authentication()).contains(Authentication.VERIFIED);

    InteropEnv.awaitInMaildir(DOMAIN, id, Duration.ofSeconds(10));
    assertThat(
            InteropEnv.awaitPostfixLogged(
                "<" + rejected + ">: Relay access denied", Duration.ofSeconds(10)))
        .isTrue();
    UNDELIVERED.record(
        "mx." + DOMAIN, id, InteropEnv.deliveredNeedle(rejected), "rejected " + rejected);
  }

  private static List<String> addresses(Address[] a) {
    return Arrays.stream(a).map(x -> ((InternetAddress) x).getAddress()).toList();
  }
}
