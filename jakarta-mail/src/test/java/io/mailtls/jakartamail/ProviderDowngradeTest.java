package io.mailtls.jakartamail;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.SmtpMessage;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Properties;
import javax.net.ssl.SSLSocketFactory;
import org.eclipse.angus.mail.smtp.SMTPMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Session properties of an unchanged Jakarta Mail program that must not let its mail go with less
 * security than it asked for once {@code mail.transport.protocol.rfc822=mailtls} switches it over.
 * The MX host of example.test offers no STARTTLS: whatever is delivered there goes in plaintext.
 */
class ProviderDowngradeTest {

  @TempDir Path dir;

  private Properties mailtls(Loopback net) throws IOException {
    Properties p = net.providerSettings(dir);
    p.setProperty("mail.transport.protocol.rfc822", "mailtls");
    return p;
  }

  private static MimeMessage message(Session session) throws MessagingException {
    MimeMessage m = new MimeMessage(session);
    m.setFrom(new InternetAddress("alice@sender.test"));
    m.addRecipient(Message.RecipientType.TO, new InternetAddress("bob@example.test"));
    m.setSubject("hello");
    m.setText("Hello.\n", "UTF-8");
    return m;
  }

  /**
   * Angus Mail reads an empty {@code mail.smtp.from} as unset ({@code SMTPTransport.mailFrom}: the
   * {@code From} address then), as a Spring placeholder {@code ${MAIL_FROM:}} leaves it. mailtls
   * read it as the null reverse-path (RFC 5321 §4.5.5), so the message lost its sender domain and,
   * with it, the level the operator set for that domain: sent in plaintext, not at {@code
   * enforced}.
   */
  @Test
  void anEmptyMailSmtpFromIsUnsetAndTheSenderDomainsLevelStillApplies() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      Properties props = mailtls(net);
      props.setProperty("mail.mailtls.level.sender.test", "enforced");
      props.setProperty("mail.smtp.from", "");
      MimeMessage m = message(Session.getInstance(props));
      MessagingException e =
          catchThrowableOfType(MessagingException.class, () -> Transport.send(m));
      assertThat(e).as("enforced for sender.test, and the MX offers no STARTTLS").isNotNull();
      assertThat(net.sawMail()).isFalse();
    }
  }

  /** As Angus Mail: an empty {@code SMTPMessage} envelope-from is unset, not the null path. */
  @Test
  void anEmptySmtpMessageEnvelopeFromFallsBackAsInAngus() throws Exception {
    try (Loopback net = Loopback.start(b -> b.tls(Loopback.certFor(Loopback.MX)))) {
      Properties props = mailtls(net);
      Session session = Session.getInstance(props);
      SMTPMessage m = new SMTPMessage(session);
      m.setFrom(new InternetAddress("alice@sender.test"));
      m.setRecipient(Message.RecipientType.TO, new InternetAddress("bob@example.test"));
      m.setText("Hello.\n", "UTF-8");
      m.setEnvelopeFrom("");
      Transport.send(m);
      SmtpMessage got = net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0);
      assertThat(got.mailFrom()).isEqualTo("alice@sender.test");
    }
  }

  /**
   * A program that refused plaintext with Angus ({@code mail.smtp.starttls.required=true}) and is
   * switched to mailtls by one property, without {@code mail.mailtls.level}: the setting was
   * dropped without a word and the message went in plaintext at {@code opportunistic}.
   */
  @Test
  void starttlsRequiredOfTheProgramIsNotSilentlyDropped() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      Properties props = mailtls(net);
      props.setProperty("mail.smtp.starttls.enable", "true");
      props.setProperty("mail.smtp.starttls.required", "true");
      MimeMessage m = message(Session.getInstance(props));
      MessagingException e =
          catchThrowableOfType(MessagingException.class, () -> Transport.send(m));
      assertThat(e).as("the program required TLS; the MX offers no STARTTLS").isNotNull();
      assertThat(e).hasMessageContaining("mail.smtp.starttls.required");
      assertThat(net.sawMail()).isFalse();
    }
  }

  /** The same, for a program that used implicit TLS ({@code mail.smtp.ssl.enable=true}). */
  @Test
  void implicitTlsOfTheProgramIsNotSilentlyDropped() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      Properties props = mailtls(net);
      props.setProperty("mail.smtp.ssl.enable", "true");
      MimeMessage m = message(Session.getInstance(props));
      MessagingException e =
          catchThrowableOfType(MessagingException.class, () -> Transport.send(m));
      assertThat(e).isNotNull();
      assertThat(net.sawMail()).isFalse();
    }
  }

  /**
   * The same, for a program that used Angus's {@code smtps} transport, TLS from the first byte
   * whatever else it sets (RFC 8314 §3.3): its {@code mail.smtps.*} settings were dropped without a
   * word and the message went in plaintext at {@code opportunistic}.
   */
  @Test
  void theSmtpsTransportOfTheProgramIsNotSilentlyDropped() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      Properties props = mailtls(net);
      props.setProperty("mail.smtps.port", "465");
      props.setProperty("mail.smtps.auth", "true");
      MimeMessage m = message(Session.getInstance(props));
      MessagingException e =
          catchThrowableOfType(MessagingException.class, () -> Transport.send(m));
      assertThat(e).as("the program used implicit TLS; the MX offers no STARTTLS").isNotNull();
      assertThat(e).hasMessageContaining("mail.smtps.");
      assertThat(net.sawMail()).isFalse();
    }
  }

  /**
   * The same, for a program that got implicit TLS the way countless JavaMail examples do, with an
   * {@code SSLSocketFactory} as Angus's socket factory ({@code mail.smtp.socketFactory.class}, or
   * the factory object itself under {@code mail.smtp.socketFactory}): every connection was TLS from
   * the first byte (RFC 8314 §3.3). Switched over, the setting was dropped without a word and the
   * message went in plaintext at {@code opportunistic}.
   */
  @Test
  void anSslSocketFactoryOfTheProgramIsNotSilentlyDropped() throws Exception {
    for (int variant = 0; variant < 2; variant++) {
      try (Loopback net = Loopback.start(b -> b)) {
        Properties props = mailtls(net);
        props.setProperty("mail.smtp.port", "465");
        if (variant == 0) {
          props.setProperty("mail.smtp.socketFactory.port", "465");
          props.setProperty("mail.smtp.socketFactory.class", "javax.net.ssl.SSLSocketFactory");
          props.setProperty("mail.smtp.socketFactory.fallback", "false");
        } else {
          props.put("mail.smtp.socketFactory", SSLSocketFactory.getDefault());
        }
        MimeMessage m = message(Session.getInstance(props));
        MessagingException e =
            catchThrowableOfType(MessagingException.class, () -> Transport.send(m));
        assertThat(e)
            .as("variant %d: the program used implicit TLS; the MX offers no STARTTLS", variant)
            .isNotNull();
        assertThat(e).hasMessageContaining("mail.smtp.socketFactory");
        assertThat(net.sawMail()).isFalse();
      }
    }
  }

  /** A socket factory that is no {@code SSLSocketFactory} (a proxy's, say) refuses nothing. */
  @Test
  void aPlainSocketFactoryOfTheProgramIsNoReasonToFail() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      Properties props = mailtls(net);
      props.setProperty("mail.smtp.socketFactory.class", "javax.net.DefaultSocketFactory");
      Transport.send(message(Session.getInstance(props)));
      assertThat(net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0).tls()).isFalse();
    }
  }

  /** An explicit level beside it is the program's choice, and is honoured. */
  @Test
  void anExplicitLevelBesideStarttlsRequiredIsHonoured() throws Exception {
    try (Loopback net = Loopback.start(b -> b.tls(Loopback.certFor(Loopback.MX)))) {
      Properties props = mailtls(net);
      props.setProperty("mail.smtp.starttls.required", "true");
      props.setProperty("mail.mailtls.level", "enforced");
      Transport.send(message(Session.getInstance(props)));
      assertThat(net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0).tls()).isTrue();
    }
  }

  /**
   * {@code Properties.getProperty} returns null for an object in the defaults, as for one in the
   * table itself (which the provider reads as its text): a level stored there was dropped without a
   * word and the message went in plaintext at {@code opportunistic}.
   */
  @Test
  void aLevelObjectInThePropertiesDefaultsIsNotSilentlyDropped() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      Properties defaults = mailtls(net);
      defaults.put("mail.mailtls.level", TlsLevel.ENFORCED);
      Properties props = new Properties(defaults);
      MimeMessage m = message(Session.getInstance(props));
      MessagingException e =
          catchThrowableOfType(MessagingException.class, () -> Transport.send(m));
      assertThat(e).as("enforced, and the MX offers no STARTTLS").isNotNull();
      assertThat(net.sawMail()).isFalse();
    }
  }

  /**
   * A shared transport put into the defaults is not seen by {@code Properties.get}: the provider
   * built its own from the other settings (here: none about the level, so {@code opportunistic})
   * instead of using the {@code enforced} one the application configured.
   */
  @Test
  void aSharedTransportInThePropertiesDefaultsIsNotReplacedByADefaultOne() throws Exception {
    try (Loopback net = Loopback.start(b -> b)) {
      Properties defaults = mailtls(net);
      defaults.put("mail.mailtls.transport", net.transport(TlsLevel.ENFORCED));
      Properties props = new Properties(defaults);
      MimeMessage m = message(Session.getInstance(props));
      MessagingException e =
          catchThrowableOfType(MessagingException.class, () -> Transport.send(m));
      assertThat(e).as("the shared transport is enforced, the MX offers no STARTTLS").isNotNull();
      assertThat(net.sawMail()).isFalse();
    }
  }
}
