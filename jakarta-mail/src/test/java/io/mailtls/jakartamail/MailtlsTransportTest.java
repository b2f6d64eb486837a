package io.mailtls.jakartamail;

import static io.mailtls.testkit.SmtpAction.reply;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.dane.DaneResolver;
import io.mailtls.testkit.SmtpMessage;
import io.mailtls.testkit.TestPki;
import io.mailtls.testkit.Tlsa;
import jakarta.mail.Address;
import jakarta.mail.Authenticator;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.PasswordAuthentication;
import jakarta.mail.Provider;
import jakarta.mail.SendFailedException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.event.ConnectionEvent;
import jakarta.mail.event.ConnectionListener;
import jakarta.mail.event.TransportEvent;
import jakarta.mail.event.TransportListener;
import jakarta.mail.internet.AddressException;
import jakarta.mail.internet.InternetAddress;
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.eclipse.angus.mail.smtp.SMTPMessage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Jakarta Mail provider with real Angus Mail ({@code Session}, {@code Transport.send}, {@code
 * SMTPMessage}) against the testkit: a mock SMTP server as the MX host of {@code example.test}, its
 * certificate self-signed and published as a DANE-EE TLSA record in a DNSSEC-signed zone.
 */
class MailtlsTransportTest {

  private static final TestPki.Issued DANE_LEAF =
      TestPki.selfSignedLeaf().dnsNames("unrelated.test").issue();

  @TempDir Path dir;

  /** The example.test MX with STARTTLS and a DANE-EE record for its certificate. */
  private static Loopback daneMx(UnaryOperator<io.mailtls.testkit.MockSmtpServer.Builder> more) {
    return Loopback.start(
        b -> more.apply(b.tls(DANE_LEAF.serverSslContext())),
        z -> {
          z.tlsaFor(Tlsa.smtpOwner(Loopback.MX), 3, 1, 1, DANE_LEAF);
          z.a("relay.example.test", "127.0.0.2");
        });
  }

  /** A transport an application builds once and shares through {@code mail.mailtls.transport}. */
  private static SecureSmtpTransport sharedTransport(Loopback net) {
    return SecureSmtpTransport.builder()
        .withoutMtaSts()
        .dane(DaneResolver.builder().dns(net.resolver).build())
        .dns(net.resolver)
        .heloName("client.sender.test")
        .port(net.server.port())
        .senderPolicy(SenderPolicy.uniform(TlsLevel.DANE_REQUIRED))
        .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(10)))
        .build();
  }

  /** The mailtls settings for the testkit's DNS server and the mock server's port. */
  private Properties mailtls(Loopback net) throws IOException {
    Properties p = net.providerSettings(dir);
    return p;
  }

  /** An unchanged Jakarta Mail program: a session from properties, a message, Transport.send. */
  private static String legacyProgram(Properties props, String... to) throws MessagingException {
    Session session = Session.getInstance(props);
    MimeMessage m = new MimeMessage(session);
    m.setFrom(new InternetAddress("alice@sender.test"));
    for (String r : to) {
      m.addRecipient(Message.RecipientType.TO, new InternetAddress(r));
    }
    m.setSubject("hello");
    m.setText("Hello over a verified channel.\n", "UTF-8");
    Transport.send(m);
    return m.getMessageID();
  }

  @Test
  void theProviderIsRegisteredUnderItsProtocol() throws Exception {
    Provider p = Session.getInstance(new Properties()).getProvider("mailtls");
    assertThat(p.getType()).isEqualTo(Provider.Type.TRANSPORT);
    assertThat(p.getClassName()).isEqualTo(MailtlsTransport.class.getName());
  }

  @Test
  void oneMorePropertySwitchesTransportSendToMailtlsWithDane() throws Exception {
    try (Loopback net = daneMx(b -> b)) {
      Properties props = mailtls(net);
      // DANE-required: delivery itself proves that the TLSA record authenticated the server.
      props.setProperty("mail.mailtls.level", "dane-required");
      props.setProperty("mail.transport.protocol.rfc822", "mailtls"); // the switch
      String id = legacyProgram(props, "bob@example.test");

      SmtpMessage got = net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0);
      assertThat(got.tls()).isTrue();
      assertThat(got.mailFrom()).isEqualTo("alice@sender.test");
      assertThat(got.recipients()).containsExactly("bob@example.test");
      assertThat(got.dataAsString()).contains("Message-ID: " + id);
      // RFC 7672 §8.1: SNI is the TLSA base domain.
      assertThat(net.server.sessions().get(0).sniHostName()).contains(Loopback.MX);
    }
  }

  @Test
  void getTransportReportsDaneVerificationAndFiresEvents() throws Exception {
    try (Loopback net = daneMx(b -> b)) {
      Properties props = mailtls(net);
      props.setProperty("mail.transport.protocol", "mailtls");
      Session session = Session.getInstance(props);
      Events events = new Events();
      MimeMessage m = message(session, "bob@example.test");
      Transport t = session.getTransport();
      assertThat(t).isInstanceOf(MailtlsTransport.class);
      t.addTransportListener(events);
      t.addConnectionListener(events);
      t.connect();
      t.sendMessage(m, m.getAllRecipients());
      DeliveryReport report = ((MailtlsTransport) t).lastReport().orElseThrow();
      t.close();

      assertThat(report.result("bob@example.test").authentication())
          .contains(Authentication.VERIFIED);
      assertThat(events.connection()).isEqualTo(ConnectionEvent.OPENED);
      TransportEvent e = events.transport();
      assertThat(e.getType()).isEqualTo(TransportEvent.MESSAGE_DELIVERED);
      assertThat(e.getValidSentAddresses()).containsExactly(m.getAllRecipients());
      assertThat(e.getValidUnsentAddresses()).isEmpty();
      assertThat(e.getInvalidAddresses()).isEmpty();
      assertThat(e.getMessage()).isSameAs(m);
      assertThat(events.connection()).isEqualTo(ConnectionEvent.CLOSED);
    }
  }

  @Test
  void turningDaneOffIsExplicitAndShowsInTheAuthentication() throws Exception {
    try (Loopback net = daneMx(b -> b)) {
      Properties props = mailtls(net);
      props.setProperty("mail.mailtls.dane", "false");
      props.setProperty("mail.mailtls.mtasts", "false");
      Session session = Session.getInstance(props);
      MimeMessage m = message(session, "bob@example.test");
      try (MailtlsTransport t = (MailtlsTransport) session.getTransport("mailtls")) {
        t.connect();
        t.sendMessage(m, m.getAllRecipients());
        // The same server and records, but DANE ignored: encrypted, not authenticated.
        assertThat(t.lastReport().orElseThrow().result("bob@example.test").authentication())
            .contains(Authentication.ENCRYPTED);
      }
    }
  }

  @Test
  void sendFailedExceptionMapsBouncedAndDeferredRecipients() throws Exception {
    try (Loopback net =
        daneMx(
            b ->
                b.onRecipient("gone@example.test", reply(550, "5.1.1", "no such user"))
                    .onRecipient("full@example.test", reply(450, "4.2.1", "try again later")))) {
      Properties props = mailtls(net);
      props.setProperty("mail.transport.protocol.rfc822", "mailtls");

      SendFailedException e =
          catchThrowableOfType(
              SendFailedException.class,
              () ->
                  legacyProgram(
                      props, "bob@example.test", "gone@example.test", "full@example.test"));

      assertThat(strings(e.getValidSentAddresses())).containsExactly("bob@example.test");
      assertThat(strings(e.getInvalidAddresses())).containsExactly("gone@example.test");
      assertThat(strings(e.getValidUnsentAddresses())).containsExactly("full@example.test");
      assertThat(e).isInstanceOf(MailtlsSendFailedException.class);
      DeliveryReport report = ((MailtlsSendFailedException) e).report().orElseThrow();
      assertThat(report.result("gone@example.test").status()).isEqualTo(DeliveryStatus.BOUNCED);
      assertThat(report.result("gone@example.test").reply().code()).isEqualTo(550);
      assertThat(report.result("full@example.test").status()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(report.result("bob@example.test").authentication())
          .contains(Authentication.VERIFIED);
      assertThat(e.getMessage()).contains("gone@example.test").contains("550");
      assertThat(net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0).recipients())
          .containsExactly("bob@example.test");
    }
  }

  @Test
  void listenersHearPartialAndFailedDeliveries() throws Exception {
    try (Loopback net =
        daneMx(b -> b.onRecipient("gone@example.test", reply(550, "5.1.1", "no such user")))) {
      Session session = Session.getInstance(mailtls(net));
      Events events = new Events();
      try (Transport t = session.getTransport("mailtls")) {
        t.addTransportListener(events);
        t.connect();
        MimeMessage partial = message(session, "bob@example.test", "gone@example.test");
        assertThatThrownBy(() -> t.sendMessage(partial, partial.getAllRecipients()))
            .isInstanceOf(MailtlsSendFailedException.class);
        TransportEvent e = events.transport();
        assertThat(e.getType()).isEqualTo(TransportEvent.MESSAGE_PARTIALLY_DELIVERED);
        assertThat(strings(e.getValidSentAddresses())).containsExactly("bob@example.test");
        assertThat(strings(e.getInvalidAddresses())).containsExactly("gone@example.test");
        assertThat(e.getValidUnsentAddresses()).isEmpty();

        MimeMessage none = message(session, "gone@example.test");
        assertThatThrownBy(() -> t.sendMessage(none, none.getAllRecipients()))
            .isInstanceOf(MailtlsSendFailedException.class);
        e = events.transport();
        assertThat(e.getType()).isEqualTo(TransportEvent.MESSAGE_NOT_DELIVERED);
        assertThat(e.getValidSentAddresses()).isEmpty();
        assertThat(strings(e.getInvalidAddresses())).containsExactly("gone@example.test");
      }
    }
  }

  @Test
  void envelopeSenderFromMailSmtpFrom() throws Exception {
    try (Loopback net = daneMx(b -> b)) {
      Properties props = mailtls(net);
      props.setProperty("mail.transport.protocol.rfc822", "mailtls");
      props.setProperty("mail.smtp.from", "bounces@sender.test");
      legacyProgram(props, "bob@example.test");
      assertThat(net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0).mailFrom())
          .isEqualTo("bounces@sender.test");
    }
  }

  @Test
  void mailMailtlsFromWinsOverMailSmtpFromAndAcceptsTheNullPath() throws Exception {
    try (Loopback net = daneMx(b -> b)) {
      Properties props = mailtls(net);
      props.setProperty("mail.transport.protocol.rfc822", "mailtls");
      props.setProperty("mail.smtp.from", "bounces@sender.test");
      props.setProperty("mail.mailtls.from", "<>");
      legacyProgram(props, "bob@example.test");
      assertThat(net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0).mailFrom()).isEmpty();
    }
  }

  @Test
  void envelopeSenderFromSmtpMessageWinsOverProperties() throws Exception {
    try (Loopback net = daneMx(b -> b)) {
      Properties props = mailtls(net);
      props.setProperty("mail.transport.protocol.rfc822", "mailtls");
      props.setProperty("mail.smtp.from", "bounces@sender.test");
      props.setProperty("mail.mailtls.from", "other@sender.test");
      Session session = Session.getInstance(props);
      SMTPMessage m = new SMTPMessage(session);
      m.setFrom(new InternetAddress("alice@sender.test"));
      m.setRecipient(Message.RecipientType.TO, new InternetAddress("bob@example.test"));
      m.setText("envelope test\n", "UTF-8");
      m.setEnvelopeFrom("vERP+bob=example.test@sender.test");
      Transport.send(m);
      assertThat(net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0).mailFrom())
          .isEqualTo("vERP+bob=example.test@sender.test");
    }
  }

  @Test
  void relayCredentialsComeFromTheSessionsAuthenticator() throws Exception {
    TestPki pki = TestPki.create();
    try (Loopback net =
        Loopback.start(
            b ->
                b.tls(pki.root().leaf().dnsNames("relay.example.test").issue().serverSslContext())
                    .credentials("alice", "s3cret"),
            z -> z.a("relay.example.test", "127.0.0.2"))) {
      Path ca = dir.resolve("ca.der");
      Files.write(ca, pki.root().certificateDer());
      Properties props = mailtls(net);
      props.setProperty("mail.transport.protocol.rfc822", "mailtls");
      props.setProperty("mail.mailtls.relay.host", "relay.example.test");
      props.setProperty("mail.mailtls.relay.port", Integer.toString(net.server.port()));
      props.setProperty("mail.mailtls.auth", "true");
      props.setProperty("mail.mailtls.user", "alice");
      props.setProperty("mail.mailtls.cafile", ca.toString());
      List<String> asked = new ArrayList<>();
      Session session =
          Session.getInstance(
              props,
              new Authenticator() {
                @Override
                protected PasswordAuthentication getPasswordAuthentication() {
                  asked.add(getRequestingProtocol() + " " + getDefaultUserName());
                  return new PasswordAuthentication("alice", "s3cret");
                }
              });
      MimeMessage m = message(session, "carol@elsewhere.test");
      Transport.send(m);

      assertThat(asked).containsExactly("mailtls alice");
      SmtpMessage got = net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0);
      assertThat(got.tls()).isTrue();
      assertThat(got.recipients()).containsExactly("carol@elsewhere.test");
      assertThat(net.server.sessions().get(0).commandLines())
          .anyMatch(l -> l.regionMatches(true, 0, "AUTH", 0, 4));
    }
  }

  /**
   * As Angus authenticates whenever a program hands it a user and a password, even without {@code
   * mail.smtp.auth}, credentials given to {@code Transport.send} reach the relay: a program
   * switched to mailtls must not find them dropped and its mail refused.
   */
  @Test
  void credentialsGivenToSendAuthenticateToTheRelayWithoutTheAuthProperty() throws Exception {
    TestPki pki = TestPki.create();
    try (Loopback net =
        Loopback.start(
            b ->
                b.tls(pki.root().leaf().dnsNames("relay.example.test").issue().serverSslContext())
                    .credentials("alice", "s3cret"),
            z -> z.a("relay.example.test", "127.0.0.2"))) {
      Path ca = dir.resolve("ca.der");
      Files.write(ca, pki.root().certificateDer());
      Properties props = mailtls(net);
      props.setProperty("mail.transport.protocol.rfc822", "mailtls");
      props.setProperty("mail.mailtls.relay.host", "relay.example.test");
      props.setProperty("mail.mailtls.relay.port", Integer.toString(net.server.port()));
      props.setProperty("mail.mailtls.cafile", ca.toString());
      Session session = Session.getInstance(props);
      MimeMessage m = message(session, "carol@elsewhere.test");
      Transport.send(m, "alice", "s3cret");

      SmtpMessage got = net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0);
      assertThat(got.recipients()).containsExactly("carol@elsewhere.test");
      assertThat(net.server.sessions().get(0).commandLines())
          .anyMatch(l -> l.regionMatches(true, 0, "AUTH", 0, 4));
    }
  }

  @Test
  void aSenderDomainsLevelAppliesToItsMessagesOnly() throws Exception {
    // No TLSA record here: dane-required cannot be met, opportunistic can.
    try (Loopback net = Loopback.start(b -> b.tls(Loopback.certFor(Loopback.MX)))) {
      Properties props = mailtls(net);
      props.setProperty("mail.transport.protocol.rfc822", "mailtls");
      props.setProperty("mail.mailtls.level.strict.test", "dane-required");
      Session session = Session.getInstance(props);

      MimeMessage strict = message(session, "bob@example.test");
      strict.setFrom(new InternetAddress("alice@strict.test"));
      SendFailedException e =
          catchThrowableOfType(SendFailedException.class, () -> Transport.send(strict));
      assertThat(strings(e.getValidUnsentAddresses())).containsExactly("bob@example.test");
      assertThat(e.getValidSentAddresses()).isEmpty();
      assertThat(net.sawMail()).isFalse();

      Transport.send(message(session, "bob@example.test")); // from alice@sender.test
      assertThat(net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0).mailFrom())
          .isEqualTo("alice@sender.test");
    }
  }

  @Test
  void aSharedTransportInTheSessionIsUsedAndLeftOpen() throws Exception {
    try (Loopback net = daneMx(b -> b);
        SecureSmtpTransport shared = sharedTransport(net)) {
      Properties props = new Properties();
      props.setProperty("mail.transport.protocol.rfc822", "mailtls");
      props.put("mail.mailtls.transport", shared); // no other mailtls setting needed
      Session session = Session.getInstance(props);
      Transport.send(message(session, "bob@example.test"));
      Transport.send(message(session, "carol@example.test"));
      assertThat(net.server.awaitMessages(2, Duration.ofSeconds(10)))
          .extracting(SmtpMessage::tls)
          .containsExactly(true, true);
      // Still open after two Transport.send calls, each of which closed its MailtlsTransport.
      DeliveryReport third =
          shared.send(
              io.mailtls.core.Envelope.of("alice@sender.test", "dave@example.test"),
              io.mailtls.core.MessageContent.of(
                  "Subject: x\r\n\r\nx\r\n".getBytes(StandardCharsets.US_ASCII)));
      assertThat(third.allDelivered()).isTrue();
    }
  }

  @Test
  void aMalformedSettingFailsConnectNamingTheProperty() throws Exception {
    try (Loopback net = daneMx(b -> b)) {
      Properties props = mailtls(net);
      props.setProperty("mail.mailtls.dane", "off");
      Session session = Session.getInstance(props);
      try (Transport t = session.getTransport("mailtls")) {
        assertThatThrownBy(t::connect)
            .isInstanceOf(MessagingException.class)
            .hasMessageContaining("mail.mailtls.dane must be true or false");
        assertThat(t.isConnected()).isFalse();
      }
      assertThat(net.sawMail()).isFalse();
    }
  }

  /**
   * {@code Session.getProperty} returns null for a value that is not a String: a level stored with
   * {@code props.put}, as Angus users store booleans and numbers, was dropped without a word and
   * the message went at {@code opportunistic}. Such values are read as their text.
   */
  @Test
  void aLevelStoredAsAnObjectIsHonoured() throws Exception {
    // STARTTLS with a certificate, but no TLSA record: dane-required cannot be met.
    try (Loopback net = Loopback.start(b -> b.tls(Loopback.certFor(Loopback.MX)))) {
      Properties props = mailtls(net);
      props.setProperty("mail.transport.protocol.rfc822", "mailtls");
      props.put("mail.mailtls.level", TlsLevel.DANE_REQUIRED);
      props.put("mail.mailtls.dane", true);
      props.put("mail.mailtls.timeout", 10_000);
      SendFailedException e =
          catchThrowableOfType(
              SendFailedException.class, () -> legacyProgram(props, "bob@example.test"));
      assertThat(e).as("dane-required, given as an object, keeps the message back").isNotNull();
      assertThat(net.sawMail()).isFalse();
    }
  }

  @Test
  void aValueOfAnotherTypeOrAnUnknownSettingFailsConnectNamingIt() throws Exception {
    try (Loopback net = daneMx(b -> b)) {
      for (String[] bad :
          List.of(
              new String[] {"mail.mailtls.level", "object", "must be text"},
              new String[] {"mail.mailtls.levle", "dane-required", "unknown setting"},
              new String[] {"mail.mailtls.relay.hostname", "relay.example.test", "unknown"},
              new String[] {"mail.mailtls.host", "relay.example.test", "mail.mailtls.relay.host"},
              new String[] {"mail.mailtls.relay.port", "465", "relay.port needs"},
              new String[] {"mail.mailtls.relay.implicittls", "true", "needs"})) {
        Properties props = mailtls(net);
        if (bad[1].equals("object")) {
          props.put(bad[0], List.of("dane-required"));
        } else {
          props.setProperty(bad[0], bad[1]);
        }
        try (Transport t = Session.getInstance(props).getTransport("mailtls")) {
          assertThatThrownBy(t::connect)
              .as(bad[0])
              .isInstanceOf(MessagingException.class)
              .hasMessageContaining(bad[0])
              .hasMessageContaining(bad[2]);
          assertThat(t.isConnected()).isFalse();
        }
      }
      assertThat(net.sawMail()).isFalse();
    }
  }

  /**
   * {@code mail.mailtls.requiretls=true}: every message asks for REQUIRETLS (RFC 8689). The DANE MX
   * that offers it gets the message with REQUIRETLS on MAIL FROM; one that does not never gets it.
   */
  @Test
  void requireTlsForEveryMessageOfTheSession() throws Exception {
    try (Loopback net = daneMx(b -> b.requireTls())) {
      Properties props = mailtls(net);
      props.setProperty("mail.transport.protocol.rfc822", "mailtls");
      props.setProperty("mail.mailtls.requiretls", "true");
      legacyProgram(props, "bob@example.test");
      SmtpMessage got = net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0);
      assertThat(got.mailParameters()).contains("REQUIRETLS");
    }
    try (Loopback net = daneMx(b -> b)) {
      Properties props = mailtls(net);
      props.setProperty("mail.transport.protocol.rfc822", "mailtls");
      props.setProperty("mail.mailtls.requiretls", "true");
      SendFailedException e =
          catchThrowableOfType(
              SendFailedException.class, () -> legacyProgram(props, "bob@example.test"));
      assertThat(e).isNotNull();
      assertThat(e.getMessage()).contains("5.7.30");
      assertThat(net.sawMail()).isFalse();
      props.setProperty("mail.mailtls.requiretls", "maybe");
      try (Transport t = Session.getInstance(props).getTransport("mailtls")) {
        assertThatThrownBy(t::connect)
            .isInstanceOf(MessagingException.class)
            .hasMessageContaining("mail.mailtls.requiretls must be true or false");
      }
    }
  }

  /** Transport.send too: a header field set unfolded is folded, not the message refused. */
  @Test
  void aLongHeaderFieldIsFoldedOnTheTransportPath() throws Exception {
    try (Loopback net = daneMx(b -> b)) {
      Properties props = mailtls(net);
      Session session = Session.getInstance(props);
      MimeMessage m = message(session, "bob@example.test");
      String refs = "<id-1@mail.sender.test> ".repeat(60).strip();
      m.setHeader("References", refs);
      try (Transport t = session.getTransport("mailtls")) {
        t.connect();
        t.sendMessage(m, m.getAllRecipients());
      }
      SmtpMessage got = net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0);
      assertThat(got.dataAsString().split("\r\n", -1))
          .allSatisfy(line -> assertThat(line.length()).isLessThanOrEqualTo(998));
      MimeMessage back = new MimeMessage(session, new java.io.ByteArrayInputStream(got.data()));
      assertThat(jakarta.mail.internet.MimeUtility.unfold(back.getHeader("References", null)))
          .isEqualTo(refs);
    }
  }

  @Test
  void aSettingBesideASharedTransportFailsRatherThanBeIgnored() throws Exception {
    try (Loopback net = daneMx(b -> b);
        SecureSmtpTransport shared = sharedTransport(net)) {
      Properties props = new Properties();
      props.put("mail.mailtls.transport", shared);
      props.setProperty("mail.mailtls.level", "dane-required");
      try (Transport t = Session.getInstance(props).getTransport("mailtls")) {
        assertThatThrownBy(t::connect)
            .isInstanceOf(MessagingException.class)
            .hasMessageContaining("mail.mailtls.level has no effect with mail.mailtls.transport");
      }
      assertThat(net.sawMail()).isFalse();
    }
  }

  @Test
  void aBareHeloNameFailsConnectNamingTheProperty() throws Exception {
    try (Loopback net = daneMx(b -> b)) {
      Properties props = mailtls(net);
      props.setProperty("mail.mailtls.helo", "localhost");
      try (Transport t = Session.getInstance(props).getTransport("mailtls")) {
        assertThatThrownBy(t::connect)
            .isInstanceOf(MessagingException.class)
            .hasMessageContaining("mail.mailtls.helo");
      }
    }
  }

  @Test
  void relayAuthWithoutAPasswordFailsConnect() throws Exception {
    try (Loopback net = daneMx(b -> b)) {
      Properties props = mailtls(net);
      props.setProperty("mail.mailtls.relay.host", "relay.example.test");
      props.setProperty("mail.mailtls.auth", "true");
      props.setProperty("mail.mailtls.user", "alice");
      // No Authenticator, no password given: Jakarta Mail's AuthenticationFailedException.
      try (Transport t = Session.getInstance(props).getTransport("mailtls")) {
        assertThatThrownBy(t::connect)
            .isInstanceOf(jakarta.mail.AuthenticationFailedException.class);
        assertThat(t.isConnected()).isFalse();
      }
      assertThat(net.server.sessions()).isEmpty();
    }
  }

  @Test
  void anAddressMailtlsCannotUseStopsTheMessageBeforeAnyConnection() throws Exception {
    try (Loopback net = daneMx(b -> b)) {
      Session session = Session.getInstance(mailtls(net));
      Events events = new Events();
      try (Transport t = session.getTransport("mailtls")) {
        t.addTransportListener(events);
        t.connect();
        MimeMessage m = message(session, "bob@example.test");
        InternetAddress bad = new InternetAddress("no-domain", false);
        Address[] to = {new InternetAddress("bob@example.test"), bad};
        SendFailedException e =
            catchThrowableOfType(SendFailedException.class, () -> t.sendMessage(m, to));
        assertThat(e.getInvalidAddresses()).containsExactly(bad);
        assertThat(strings(e.getValidUnsentAddresses())).containsExactly("bob@example.test");
        assertThat(events.transport().getType()).isEqualTo(TransportEvent.MESSAGE_NOT_DELIVERED);
      }
      assertThat(net.server.sessions()).isEmpty();
    }
  }

  /**
   * A message with no usable sender (neither From nor Sender) is not sent either: the exception
   * still sorts the recipients as when the sender is good, an address that is not an Internet
   * mailbox invalid and the usable ones valid but unsent, never all of them as given.
   */
  @Test
  void withoutAUsableSenderTheRecipientsAreStillSortedInvalidAndUnsent() throws Exception {
    try (Loopback net = daneMx(b -> b)) {
      Session session = Session.getInstance(mailtls(net));
      try (Transport t = session.getTransport("mailtls")) {
        t.connect();
        MimeMessage m = new MimeMessage(session);
        m.addRecipient(Message.RecipientType.TO, new InternetAddress("bob@example.test"));
        m.setSubject("test");
        m.setText("body\n", "UTF-8");
        m.saveChanges();
        InternetAddress bad = new InternetAddress("no-domain", false);
        Address[] to = {new InternetAddress("bob@example.test"), bad};
        SendFailedException e =
            catchThrowableOfType(SendFailedException.class, () -> t.sendMessage(m, to));
        assertThat(e.getInvalidAddresses()).containsExactly(bad);
        assertThat(strings(e.getValidUnsentAddresses())).containsExactly("bob@example.test");
        assertThat(e.getValidSentAddresses()).isNullOrEmpty();
        assertThat(e.getNextException())
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageContaining("neither a Sender nor a From");
      }
      assertThat(net.server.sessions()).isEmpty();
    }
  }

  /**
   * Transport.sendMessage's contract: "an appropriate TransportEvent indicating the delivery status
   * is delivered to any TransportListener". A From field Jakarta Mail cannot parse is no sender, as
   * a missing one is: the message is not sent, the listeners hear so, and the recipients are valid
   * but unsent, the parse error the cause (Angus Mail fires MESSAGE_NOT_DELIVERED too).
   */
  @Test
  void anUnreadableFromFieldIsNotSentAndListenersHearIt() throws Exception {
    try (Loopback net = daneMx(b -> b)) {
      Session session = Session.getInstance(mailtls(net));
      Events events = new Events();
      try (Transport t = session.getTransport("mailtls")) {
        t.addTransportListener(events);
        t.connect();
        MimeMessage m = message(session, "bob@example.test");
        m.setHeader("From", "Alice <alice@sender.test"); // no closing '>'
        Address[] to = m.getAllRecipients();
        SendFailedException e =
            catchThrowableOfType(SendFailedException.class, () -> t.sendMessage(m, to));
        assertThat(e).as("the exception of sendMessage").isNotNull();
        assertThat(e.getInvalidAddresses()).isNullOrEmpty();
        assertThat(e.getValidSentAddresses()).isNullOrEmpty();
        assertThat(e.getValidUnsentAddresses()).containsExactly(to);
        assertThat(e.getNextException()).isInstanceOf(AddressException.class);
        TransportEvent event = events.transport();
        assertThat(event.getType()).isEqualTo(TransportEvent.MESSAGE_NOT_DELIVERED);
        assertThat(event.getValidUnsentAddresses()).containsExactly(to);
        assertThat(event.getMessage()).isSameAs(m);
      }
      assertThat(net.server.sessions()).isEmpty();
    }
  }

  /**
   * As Angus Mail's SMTPTransport.close, which returns at once unless connected: one CLOSED per
   * connected period, none for a close before any connect or after a close.
   */
  @Test
  void closeFiresClosedOncePerConnectionAndNeverWhenNotConnected() throws Exception {
    try (Loopback net = daneMx(b -> b)) {
      Properties props = mailtls(net);
      QueueThreads queues = new QueueThreads();
      props.put("mail.event.executor", queues);
      Session session = Session.getInstance(props);
      List<Integer> seen = new java.util.concurrent.CopyOnWriteArrayList<>();
      Transport t = session.getTransport("mailtls");
      t.addConnectionListener(
          new jakarta.mail.event.ConnectionAdapter() {
            @Override
            public void opened(ConnectionEvent e) {
              seen.add(e.getType());
            }

            @Override
            public void closed(ConnectionEvent e) {
              seen.add(e.getType());
            }
          });
      t.close(); // never connected
      t.connect();
      t.close();
      t.close(); // closed already
      t.connect();
      t.close();
      // Every queue ends after the CLOSED that terminates it: then every event has been heard.
      queues.awaitEnded();
      assertThat(seen)
          .as("connection events")
          .containsExactlyInAnyOrder(
              ConnectionEvent.OPENED,
              ConnectionEvent.CLOSED,
              ConnectionEvent.OPENED,
              ConnectionEvent.CLOSED);
      assertThat(t.isConnected()).isFalse();
    }
  }

  /**
   * Jakarta Mail's {@code mail.event.executor}: runs each event queue on a thread of its own and
   * returns once that thread waits for events. (A queue whose thread starts after the CLOSED event
   * ended it drops its events: Jakarta's EventQueue reads its queue when its task starts.)
   */
  private static final class QueueThreads implements java.util.concurrent.Executor {
    private final List<Thread> threads = new java.util.concurrent.CopyOnWriteArrayList<>();

    @Override
    public void execute(Runnable queue) {
      Thread thread = new Thread(queue, "test-event-queue-" + threads.size());
      thread.setDaemon(true);
      threads.add(thread);
      thread.start();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (thread.getState() != Thread.State.WAITING
          && thread.getState() != Thread.State.TERMINATED
          && System.nanoTime() < deadline) {
        Thread.onSpinWait();
      }
    }

    void awaitEnded() throws InterruptedException {
      for (Thread thread : threads) {
        thread.join(TimeUnit.SECONDS.toMillis(10));
        assertThat(thread.isAlive()).as(thread.getName() + " ended").isFalse();
      }
    }
  }

  /**
   * A message parsed from a file whose multipart body has no boundary line: Jakarta Mail cannot
   * read its structure, but it goes out as it stands (as with Angus Mail's transport), since
   * folding header fields leaves a part it cannot read as it is. Before, the folding's
   * ParseException left sendMessage bare: no TransportEvent, no recipients sorted.
   */
  @Test
  void aMultipartWithoutItsBoundaryIsSentAsItStands() throws Exception {
    try (Loopback net = daneMx(b -> b)) {
      Session session = Session.getInstance(mailtls(net));
      Events events = new Events();
      String raw =
          "From: alice@sender.test\r\n"
              + "To: bob@example.test\r\n"
              + "Subject: no boundary\r\n"
              + "MIME-Version: 1.0\r\n"
              + "Content-Type: multipart/mixed; boundary=\"b1\"\r\n"
              + "\r\n"
              + "no boundary line in this body\r\n";
      MimeMessage m =
          new MimeMessage(
              session, new java.io.ByteArrayInputStream(raw.getBytes(StandardCharsets.US_ASCII)));
      try (Transport t = session.getTransport("mailtls")) {
        t.addTransportListener(events);
        t.connect();
        t.sendMessage(m, m.getAllRecipients());
        // Before close: its CLOSED ends the event queue, which may drop what it has not begun.
        assertThat(events.transport().getType()).isEqualTo(TransportEvent.MESSAGE_DELIVERED);
      }
      SmtpMessage got = net.server.awaitMessages(1, Duration.ofSeconds(10)).get(0);
      assertThat(got.dataAsString()).contains("no boundary line in this body");
    }
  }

  /**
   * A read-only message (as an IMAP folder's, forwarded with sendMessage) with a header line over
   * 998 octets: its fields cannot be folded, so it is not sent, and as for a sender field that
   * cannot be parsed, the listeners hear MESSAGE_NOT_DELIVERED and every recipient is valid but
   * unsent, the write refusal the cause.
   */
  @Test
  void aReadOnlyMessageWhoseHeaderCannotBeFoldedIsNotSentAndListenersHearIt() throws Exception {
    try (Loopback net = daneMx(b -> b)) {
      Session session = Session.getInstance(mailtls(net));
      Events events = new Events();
      String raw =
          "From: alice@sender.test\r\n"
              + "To: bob@example.test\r\n"
              + "Subject: read-only\r\n"
              + "References: "
              + "<id-1@mail.sender.test> ".repeat(60).strip()
              + "\r\n"
              + "\r\n"
              + "body\r\n";
      MimeMessage m =
          new ReadOnlyMessage(
              session, new java.io.ByteArrayInputStream(raw.getBytes(StandardCharsets.US_ASCII)));
      try (Transport t = session.getTransport("mailtls")) {
        t.addTransportListener(events);
        t.connect();
        Address[] to = m.getAllRecipients();
        SendFailedException e =
            catchThrowableOfType(SendFailedException.class, () -> t.sendMessage(m, to));
        assertThat(e)
            .as("the exception of sendMessage")
            .isInstanceOf(MailtlsSendFailedException.class);
        assertThat(e.getValidSentAddresses()).isNullOrEmpty();
        assertThat(e.getInvalidAddresses()).isNullOrEmpty();
        assertThat(e.getValidUnsentAddresses()).containsExactly(to);
        assertThat(e.getNextException()).isInstanceOf(jakarta.mail.IllegalWriteException.class);
        TransportEvent event = events.transport();
        assertThat(event.getType()).isEqualTo(TransportEvent.MESSAGE_NOT_DELIVERED);
        assertThat(event.getValidUnsentAddresses()).containsExactly(to);
        assertThat(event.getMessage()).isSameAs(m);
      }
      assertThat(net.server.sessions()).isEmpty();
    }
  }

  /** A message that refuses every change, as Angus Mail's IMAPMessage does (READ_ONLY). */
  private static final class ReadOnlyMessage extends MimeMessage {
    ReadOnlyMessage(Session session, java.io.InputStream in) throws MessagingException {
      super(session, in);
    }

    @Override
    public void setHeader(String name, String value) throws MessagingException {
      throw new jakarta.mail.IllegalWriteException("read-only message");
    }

    @Override
    public void addHeader(String name, String value) throws MessagingException {
      throw new jakarta.mail.IllegalWriteException("read-only message");
    }

    @Override
    public void removeHeader(String name) throws MessagingException {
      throw new jakarta.mail.IllegalWriteException("read-only message");
    }
  }

  private static MimeMessage message(Session session, String... to) throws MessagingException {
    MimeMessage m = new MimeMessage(session);
    m.setFrom(new InternetAddress("alice@sender.test"));
    for (String r : to) {
      m.addRecipient(Message.RecipientType.TO, new InternetAddress(r));
    }
    m.setSubject("test");
    m.setText("body\n", "UTF-8");
    m.saveChanges();
    return m;
  }

  private static List<String> strings(Address[] addresses) {
    return Arrays.stream(addresses).map(a -> ((InternetAddress) a).getAddress()).toList();
  }

  /** Collects events, which Jakarta Mail delivers on its own event thread. */
  private static final class Events implements TransportListener, ConnectionListener {
    private final BlockingQueue<TransportEvent> transport = new LinkedBlockingQueue<>();
    private final BlockingQueue<Integer> connection = new LinkedBlockingQueue<>();

    TransportEvent transport() throws InterruptedException {
      TransportEvent e = transport.poll(10, TimeUnit.SECONDS);
      assertThat(e).as("a transport event").isNotNull();
      return e;
    }

    int connection() throws InterruptedException {
      Integer e = connection.poll(10, TimeUnit.SECONDS);
      assertThat(e).as("a connection event").isNotNull();
      return e;
    }

    @Override
    public void messageDelivered(TransportEvent e) {
      transport.add(e);
    }

    @Override
    public void messageNotDelivered(TransportEvent e) {
      transport.add(e);
    }

    @Override
    public void messagePartiallyDelivered(TransportEvent e) {
      transport.add(e);
    }

    @Override
    public void opened(ConnectionEvent e) {
      connection.add(e.getType());
    }

    @Override
    public void disconnected(ConnectionEvent e) {
      connection.add(e.getType());
    }

    @Override
    public void closed(ConnectionEvent e) {
      connection.add(e.getType());
    }
  }
}
