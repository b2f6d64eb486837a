package io.mailtls.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.Authentication;
import io.mailtls.core.DaneProvider;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsPolicySource;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.SmtpMessage;
import jakarta.mail.Message;
import jakarta.mail.internet.MimeMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import org.eclipse.angus.mail.smtp.SMTPMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.health.contributor.Health;
import org.springframework.boot.health.contributor.Status;
import org.springframework.boot.mail.autoconfigure.MailSenderAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.mail.MailSendException;
import org.springframework.mail.SimpleMailMessage;
import org.springframework.mail.javamail.JavaMailSender;
import org.springframework.mail.javamail.JavaMailSenderImpl;

/**
 * The starter in real Spring application contexts (Boot's own mail auto-configuration included)
 * against the testkit's signed DNS, MTA-STS host and mock SMTP servers.
 */
class MailtlsAutoConfigurationTest {

  @TempDir static Path dir;
  private static SpringTestWorld world;

  @BeforeAll
  static void start() {
    world = new SpringTestWorld(dir);
  }

  @AfterAll
  static void stop() {
    world.close();
  }

  /** A runner with the world's properties and customizers, the store in {@code name}. */
  private static ApplicationContextRunner runner(String name) {
    return new ApplicationContextRunner()
        .withConfiguration(
            AutoConfigurations.of(
                MailtlsAutoConfiguration.class,
                MailtlsHealthAutoConfiguration.class,
                MailSenderAutoConfiguration.class))
        .withPropertyValues(world.properties(dir.resolve(name)))
        .withBean(MailtlsTransportCustomizer.class, world::transportCustomizer)
        .withBean(MailtlsPolicyFetcherCustomizer.class, world::fetcherCustomizer);
  }

  private static MimeMessage message(JavaMailSender sender, String from, String to, String subject)
      throws Exception {
    MimeMessage m = sender.createMimeMessage();
    m.setFrom(from);
    m.setRecipients(Message.RecipientType.TO, to);
    m.setSubject(subject, "UTF-8");
    m.setText("Hello from a Spring application.", "UTF-8");
    return m;
  }

  private static SmtpMessage receivedWithSubject(
      io.mailtls.testkit.MockSmtpServer server, String subject) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      Optional<SmtpMessage> m =
          server.messages().stream()
              .filter(x -> x.dataAsString().contains("Subject: " + subject))
              .findFirst();
      if (m.isPresent()) {
        return m.get();
      }
      Thread.sleep(20);
    }
    throw new AssertionError("no message with subject " + subject + " at " + server);
  }

  @Test
  void propertiesBindIncludingDurationsLevelsAndPool() {
    runner("bind")
        .withPropertyValues(
            "mailtls.sender.default-level=enforced",
            "mailtls.sender.levels[bank.example]=dane-required",
            "mailtls.sender.levels[shop.example]=sts-required",
            "mailtls.timeouts.data-termination=90s",
            "mailtls.timeouts.greeting=2m",
            "mailtls.mta-sts.refresh-interval=12h",
            "mailtls.pool.idle-time=250ms",
            "mailtls.pool.max-sessions-per-destination=2",
            "mailtls.pool.max-concurrent-deliveries=16")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              MailtlsProperties p = context.getBean(MailtlsProperties.class);
              assertThat(p.getHeloName()).isEqualTo("client.sender.test");
              assertThat(p.getSender().getDefaultLevel()).isEqualTo(TlsLevel.ENFORCED);
              assertThat(p.getSender().getLevels())
                  .containsExactlyInAnyOrderEntriesOf(
                      Map.of(
                          "bank.example", TlsLevel.DANE_REQUIRED,
                          "shop.example", TlsLevel.STS_REQUIRED));
              assertThat(p.getTimeouts().getDataTermination()).isEqualTo(Duration.ofSeconds(90));
              assertThat(p.getTimeouts().getGreeting()).isEqualTo(Duration.ofMinutes(2));
              assertThat(p.getTimeouts().getConnect()).isEqualTo(Duration.ofSeconds(10));
              assertThat(p.getTimeouts().getDataBlock()).isEqualTo(Duration.ofMinutes(3));
              assertThat(p.getMtaSts().getRefreshInterval()).isEqualTo(Duration.ofHours(12));
              assertThat(p.getPool().getIdleTime()).isEqualTo(Duration.ofMillis(250));
              assertThat(p.getPool().getMaxSessionsPerDestination()).isEqualTo(2);
              assertThat(p.getPool().getMaxConcurrentDeliveries()).isEqualTo(16);
              assertThat(p.getDns().getQueryTimeout()).isEqualTo(Duration.ofSeconds(2));

              SenderPolicy policy = context.getBean(SenderPolicy.class);
              assertThat(policy.defaultLevel()).isEqualTo(TlsLevel.ENFORCED);
              assertThat(policy.levelFor(Optional.of(DomainName.of("bank.example"))))
                  .isEqualTo(TlsLevel.DANE_REQUIRED);
              assertThat(policy.levelFor(Optional.of(DomainName.of("other.example"))))
                  .isEqualTo(TlsLevel.ENFORCED);
              assertThat(context).hasSingleBean(SecureSmtpTransport.class);
              assertThat(context).hasSingleBean(MtaStsPolicySource.class);
              assertThat(context).hasSingleBean(DaneProvider.class);
              // no ScheduledExecutorService bean: Boot's task scheduling would back off and run
              // the application's @Scheduled methods on the MTA-STS refresh thread
              assertThat(context).hasSingleBean(MailtlsRefreshScheduler.class);
              assertThat(context).doesNotHaveBean(ScheduledExecutorService.class);
            });
  }

  @Test
  void aSpringMailHostWithoutAMailtlsRelayFailsStartUpRatherThanGoStraightToTheMxHosts() {
    for (String setting :
        List.of("spring.mail.host=smtp.corp.example", "spring.mail.jndi-name=mail/Session")) {
      runner("spring-mail-host")
          .withPropertyValues(setting, "spring.mail.username=app", "spring.mail.password=secret")
          .run(
              context -> {
                assertThat(context).as(setting).hasFailed();
                String name = setting.substring(0, setting.indexOf('='));
                assertThat(messages(context.getStartupFailure()))
                    .as(setting)
                    .contains(
                        "invalid mailtls.relay.host: "
                            + name
                            + " is set, but this starter replaces Spring Boot's mail sender")
                    .contains("remove " + name + " to deliver to the recipients' MX hosts")
                    .doesNotContain("secret");
              });
    }
  }

  /**
   * Spring Boot users refuse plaintext with {@code
   * spring.mail.properties.mail.smtp.starttls.required} (RFC 3207 §4: a client that requires TLS
   * does not go on without it), {@code mail.smtp.ssl.enable} or {@code smtps} (RFC 8314 §3.3). The
   * starter reads no {@code spring.mail.*}: left in place, such a setting would have mail go at the
   * default level, {@code opportunistic}, in plaintext to an MX host without STARTTLS ({@code
   * plain.test}). Start-up fails instead, until a level is chosen explicitly.
   */
  @Test
  void aSpringMailSettingThatRefusesPlaintextFailsStartUpUntilALevelIsChosen() {
    for (String setting :
        List.of(
            "spring.mail.properties.mail.smtp.starttls.required=true",
            "spring.mail.properties[mail.smtp.starttls.required]=TRUE",
            "spring.mail.properties.mail.smtp.ssl.enable=true",
            "spring.mail.properties.mail.smtps.ssl.checkserveridentity=true",
            "spring.mail.properties.mail.smtp.socketFactory.class=javax.net.ssl.SSLSocketFactory",
            "spring.mail.protocol=smtps")) {
      runner("spring-mail-tls-only")
          .withPropertyValues(setting)
          .run(
              context -> {
                assertThat(context).as(setting).hasFailed();
                assertThat(messages(context.getStartupFailure()))
                    .as(setting)
                    .contains("invalid mailtls.sender.default-level: ")
                    .contains("refuses plaintext");
              });
    }
  }

  @Test
  void aSpringMailSettingThatRefusesPlaintextIsAllowedBesideAnExplicitLevel() {
    runner("spring-mail-tls-only-enforced")
        .withPropertyValues(
            "spring.mail.properties.mail.smtp.starttls.required=true",
            "mailtls.sender.default-level=enforced")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              DeliveryReport report =
                  context
                      .getBean(MailtlsJavaMailSender.class)
                      .deliver(
                          message(
                              context.getBean(JavaMailSender.class),
                              "a@sender.test",
                              "gina@plain.test",
                              "tls-only-enforced"));
              assertThat(report.result("gina@plain.test").status())
                  .isNotEqualTo(DeliveryStatus.DELIVERED);
            });
    runner("spring-mail-tls-only-opportunistic")
        .withPropertyValues(
            "spring.mail.properties.mail.smtp.starttls.required=true",
            "mailtls.sender.default-level=opportunistic")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              DeliveryReport report =
                  context
                      .getBean(MailtlsJavaMailSender.class)
                      .deliver(
                          message(
                              context.getBean(JavaMailSender.class),
                              "a@sender.test",
                              "hank@plain.test",
                              "tls-only-opportunistic"));
              RecipientResult r = report.result("hank@plain.test");
              assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
              assertThat(r.authentication()).contains(Authentication.PLAINTEXT);
            });
  }

  /**
   * Boot's sender took its envelope sender (a bounce address) from {@code mail.smtp.from}; this
   * sender reads no {@code spring.mail.*}, so start-up fails until {@code
   * mailtls.sender.envelope-from} says it, rather than sending every bounce to the From mailbox.
   */
  @Test
  void aBootEnvelopeSenderFailsStartUpUntilMailtlsIsGivenOne() {
    for (String setting :
        List.of(
            "spring.mail.properties.mail.smtp.from=bounces@sender.test",
            "spring.mail.properties[mail.smtp.from]=bounces@sender.test")) {
      runner("spring-mail-from")
          .withPropertyValues(setting)
          .run(
              context -> {
                assertThat(context).as(setting).hasFailed();
                assertThat(messages(context.getStartupFailure()))
                    .as(setting)
                    .contains("invalid mailtls.sender.envelope-from: ")
                    .contains("mail.smtp.from");
              });
    }
  }

  /** {@code mailtls.sender.envelope-from} is every message's MAIL FROM; the header is kept. */
  @Test
  void theEnvelopeSenderPropertyIsEveryMessagesMailFrom() {
    runner("envelope-from")
        .withPropertyValues(
            "spring.mail.properties.mail.smtp.from=bounces@sender.test",
            "mailtls.sender.envelope-from=<bounces@sender.test>")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              JavaMailSender sender = context.getBean(JavaMailSender.class);
              sender.send(message(sender, "a@sender.test", "bob@dane-ee.test", "envelope-from"));
              SmtpMessage received = receivedWithSubject(world.domains.daneEe(), "envelope-from");
              assertThat(received.mailFrom()).isEqualTo("bounces@sender.test");
              assertThat(received.dataAsString()).contains("From: a@sender.test");
            });
    runner("envelope-from-bad")
        .withPropertyValues("mailtls.sender.envelope-from=not an address")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(messages(context.getStartupFailure()))
                  .contains("invalid mailtls.sender.envelope-from: ");
            });
  }

  /**
   * As with Boot's own sender (Angus Mail's transport): an {@code SMTPMessage}'s envelope-from is
   * its MAIL FROM, also over {@code mailtls.sender.envelope-from}.
   */
  @Test
  void anSmtpMessagesOwnEnvelopeFromIsItsMailFrom() {
    for (String envelopeFrom : List.of("", "mailtls.sender.envelope-from=<bounces@sender.test>")) {
      runner("smtp-message")
          .withPropertyValues(envelopeFrom.isEmpty() ? new String[0] : new String[] {envelopeFrom})
          .run(
              context -> {
                assertThat(context).hasNotFailed();
                JavaMailSender sender = context.getBean(JavaMailSender.class);
                SMTPMessage m = new SMTPMessage(sender.createMimeMessage().getSession());
                m.setFrom("a@sender.test");
                m.setRecipients(Message.RecipientType.TO, "bob@dane-ee.test");
                String subject =
                    "smtp-message " + (envelopeFrom.isEmpty() ? "alone" : "over-fixed");
                m.setSubject(subject);
                m.setText("Hello from a list.", "UTF-8");
                m.setEnvelopeFrom("list-owner@sender.test");
                sender.send(m);
                SmtpMessage received = receivedWithSubject(world.domains.daneEe(), subject);
                assertThat(received.mailFrom())
                    .as(envelopeFrom)
                    .isEqualTo("list-owner@sender.test");
              });
    }
  }

  @Test
  void replacesBootsMailSenderWhenTheRelayIsGivenAsMailtlsRelayHost() {
    runner("replace")
        .withPropertyValues(
            "spring.mail.host=smtp.corp.example", "mailtls.relay.host=smtp.corp.example")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context).hasSingleBean(JavaMailSender.class);
              assertThat(context.getBean("mailSender")).isInstanceOf(MailtlsJavaMailSender.class);
            });
  }

  /**
   * Boot's settings that let its sender accept any relay certificate ({@code
   * mail.smtp.ssl.trust=*}, {@code mail.smtp.ssl.checkserveridentity=false}) are not applied to
   * mailtls's relay: its certificate is still verified against the relay's name, so a relay whose
   * certificate names another host gets nothing, and the message is deferred.
   */
  @Test
  void bootsTrustAnyCertificateSettingsDoNotWeakenTheRelay() {
    // mx.sts-testing.test is good.test's server, whose certificate names mx.good.test only
    runner("relay-trust-all")
        .withPropertyValues(
            "spring.mail.host=mx.sts-testing.test",
            "spring.mail.properties.mail.smtp.ssl.trust=*",
            "spring.mail.properties.mail.smtp.ssl.checkserveridentity=false",
            "mailtls.relay.host=mx.sts-testing.test",
            "mailtls.relay.port=" + world.domains.smtpPort())
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              MailtlsJavaMailSender sender = context.getBean(MailtlsJavaMailSender.class);
              DeliveryReport report =
                  sender.deliver(
                      message(sender, "a@sender.test", "x@anywhere.test", "relay-trust-all"));
              RecipientResult x = report.result("x@anywhere.test");
              assertThat(x.status()).as(x.toString()).isEqualTo(DeliveryStatus.DEFERRED);
              assertThat(x.attempts())
                  .isNotEmpty()
                  .allSatisfy(
                      a ->
                          assertThat(a.failure())
                              .contains(io.mailtls.core.FailureType.CERTIFICATE_HOST_MISMATCH));
              assertThat(world.domains.good().messages())
                  .noneMatch(m -> m.dataAsString().contains("relay-trust-all"));
            });
  }

  @Test
  void anApplicationsOwnSenderKeepsSpringMailHostForItself() {
    JavaMailSenderImpl own = new JavaMailSenderImpl();
    runner("own-sender-spring-mail")
        .withPropertyValues("spring.mail.host=smtp.corp.example")
        .withBean("ownSender", JavaMailSender.class, () -> own)
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context.getBean(JavaMailSender.class)).isSameAs(own);
            });
  }

  @Test
  void userBeansReplaceTheDefaults() {
    JavaMailSenderImpl own = new JavaMailSenderImpl();
    SenderPolicy ownPolicy = SenderPolicy.uniform(TlsLevel.DANE_REQUIRED);
    runner("user")
        .withBean("ownSender", JavaMailSender.class, () -> own)
        .withBean(SenderPolicy.class, () -> ownPolicy)
        .run(
            context -> {
              assertThat(context).hasSingleBean(JavaMailSender.class);
              assertThat(context.getBean(JavaMailSender.class)).isSameAs(own);
              assertThat(context).doesNotHaveBean(MailtlsJavaMailSender.class);
              assertThat(context.getBean(SenderPolicy.class)).isSameAs(ownPolicy);
              // the transport is still there, built with the user's policy: a DANE-required
              // delivery to a domain without TLSA records is deferred.
              SecureSmtpTransport transport = context.getBean(SecureSmtpTransport.class);
              MailtlsJavaMailSender mailtls = new MailtlsJavaMailSender(transport);
              DeliveryReport report =
                  mailtls.deliver(
                      message(mailtls, "a@sender.test", "someone@good.test", "user-policy"));
              assertThat(report.result("someone@good.test").status())
                  .isEqualTo(DeliveryStatus.DEFERRED);
            });
  }

  @Test
  void userDnsResolverReplacesTheDefault() {
    DnsResolver own = resolverOf(world);
    runner("dns")
        .withBean(DnsResolver.class, () -> own)
        .run(
            context -> {
              assertThat(context).hasSingleBean(DnsResolver.class);
              assertThat(context.getBean(DnsResolver.class)).isSameAs(own);
            });
  }

  private static DnsResolver resolverOf(SpringTestWorld w) {
    return io.mailtls.core.DnssecResolver.builder()
        .upstream(w.domains.dns().socketAddress())
        .trustAnchors(io.mailtls.core.TrustAnchors.parse(w.domains.dns().trustAnchor()))
        .build();
  }

  @Test
  void deliversToADaneDomainVerifiedUnderDaneRequired() {
    runner("dane")
        .withPropertyValues("mailtls.sender.levels[sender.test]=dane-required")
        .run(
            context -> {
              JavaMailSender sender = context.getBean(JavaMailSender.class);
              MimeMessage m = message(sender, "a@sender.test", "bob@dane-ee.test", "dane-spring");
              // unchanged application code: send() throws unless every recipient got it
              sender.send(m);
              SmtpMessage received = receivedWithSubject(world.domains.daneEe(), "dane-spring");
              assertThat(received.mailFrom()).isEqualTo("a@sender.test");
              assertThat(received.recipients()).containsExactly("bob@dane-ee.test");
              assertThat(received.tls()).isTrue();
              assertThat(received.dataAsString()).contains("Hello from a Spring application.");

              DeliveryReport report =
                  ((MailtlsJavaMailSender) sender)
                      .deliver(
                          message(sender, "a@sender.test", "carol@dane-ee.test", "dane-report"));
              RecipientResult r = report.result("carol@dane-ee.test");
              assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
              assertThat(r.authentication()).contains(Authentication.VERIFIED);
            });
  }

  @Test
  void deliversToAnMtaStsDomainVerifiedUnderStsRequired() {
    runner("sts")
        .withPropertyValues("mailtls.sender.levels[sender.test]=sts-required")
        .run(
            context -> {
              JavaMailSender sender = context.getBean(JavaMailSender.class);
              sender.send(message(sender, "a@sender.test", "dave@sts.test", "sts-spring"));
              SmtpMessage received = receivedWithSubject(world.domains.sts(), "sts-spring");
              assertThat(received.recipients()).containsExactly("dave@sts.test");
              assertThat(received.tls()).isTrue();

              DeliveryReport report =
                  ((MailtlsJavaMailSender) sender)
                      .deliver(message(sender, "a@sender.test", "erin@sts.test", "sts-report"));
              RecipientResult r = report.result("erin@sts.test");
              assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
              assertThat(r.authentication()).contains(Authentication.VERIFIED);
              // the policy was cached in the configured store directory
              assertThat(dir.resolve("sts").resolve("mta-sts-policies.json")).exists();
            });
  }

  @Test
  void simpleMailMessageIsDelivered() {
    runner("simple")
        .run(
            context -> {
              SimpleMailMessage m = new SimpleMailMessage();
              m.setFrom("a@sender.test");
              m.setTo("frank@good.test");
              m.setSubject("simple-spring");
              m.setText("Plain text.");
              context.getBean(JavaMailSender.class).send(m);
              SmtpMessage received = receivedWithSubject(world.domains.good(), "simple-spring");
              assertThat(received.recipients()).containsExactly("frank@good.test");
              assertThat(received.dataAsString()).contains("Plain text.");
            });
  }

  /**
   * As Spring's own {@code JavaMailSenderImpl}: a Message-ID the application set reaches the
   * recipient unchanged (a plain Jakarta Mail save would replace it), and a message without a Date
   * gets one (RFC 5322 §3.6.1).
   */
  @Test
  void theApplicationsMessageIdIsKeptAndADateAdded() {
    runner("message-id")
        .run(
            context -> {
              JavaMailSender sender = context.getBean(JavaMailSender.class);
              MimeMessage m = message(sender, "a@sender.test", "frank@good.test", "keep-id");
              m.setHeader("Message-ID", "<order-42@sender.test>");
              assertThat(m.getSentDate()).isNull();
              sender.send(m);
              String data = receivedWithSubject(world.domains.good(), "keep-id").dataAsString();
              assertThat(data)
                  .contains("Message-ID: <order-42@sender.test>")
                  .containsPattern("(?m)^Date: ");

              // Without one, the message gets a new one, as with any Jakarta Mail save.
              MimeMessage fresh = message(sender, "a@sender.test", "frank@good.test", "new-id");
              sender.send(fresh);
              assertThat(receivedWithSubject(world.domains.good(), "new-id").dataAsString())
                  .containsPattern("Message-ID: <[^>]+>");
            });
  }

  @Test
  void a550BounceRaisesMailSendExceptionWithTheMessageAndTheRecipientResult() {
    runner("bounce")
        .run(
            context -> {
              JavaMailSender sender = context.getBean(JavaMailSender.class);
              MimeMessage m = message(sender, "a@sender.test", "nobody@mixed.test", "bounce");
              m.addRecipients(Message.RecipientType.CC, "someone@mixed.test");
              assertThatThrownBy(() -> sender.send(m))
                  .isInstanceOfSatisfying(
                      MailSendException.class,
                      e -> {
                        assertThat(e.getFailedMessages()).containsOnlyKeys(m);
                        Exception failure = e.getFailedMessages().get(m);
                        assertThat(failure).isInstanceOf(MailtlsDeliveryException.class);
                        MailtlsDeliveryException d = (MailtlsDeliveryException) failure;
                        RecipientResult nobody = d.report().result("nobody@mixed.test");
                        assertThat(nobody.status()).isEqualTo(DeliveryStatus.BOUNCED);
                        assertThat(nobody.reply().code()).isEqualTo(550);
                        assertThat(d.undelivered()).containsExactly(nobody);
                        // the other recipient was delivered: it is in the report, not undelivered
                        assertThat(d.report().result("someone@mixed.test").status())
                            .isEqualTo(DeliveryStatus.DELIVERED);
                        assertThat(e.getMessage()).contains("nobody@mixed.test").contains("550");
                      });
            });
  }

  @Test
  void simpleMailMessageFailuresAreKeyedByTheSimpleMessage() {
    runner("bounce-simple")
        .run(
            context -> {
              SimpleMailMessage m = new SimpleMailMessage();
              m.setFrom("a@sender.test");
              m.setTo("nobody@mixed.test");
              m.setSubject("bounce-simple");
              m.setText("x");
              assertThatThrownBy(() -> context.getBean(JavaMailSender.class).send(m))
                  .isInstanceOfSatisfying(
                      MailSendException.class,
                      e -> {
                        assertThat(e.getFailedMessages()).containsOnlyKeys(m);
                        assertThat(e.getFailedMessages().get(m))
                            .isInstanceOf(MailtlsDeliveryException.class);
                      });
            });
  }

  @Test
  void thePolicyMapFileIsInForce() throws Exception {
    Path map = Files.writeString(dir.resolve("policy-map.txt"), "good.test dane-only\n");
    runner("map")
        .withPropertyValues(
            "mailtls.policy-map.file=" + map, "mailtls.policy-map.check-interval=1m")
        .run(
            context -> {
              assertThat(context).hasSingleBean(io.mailtls.core.DestinationPolicyMap.class);
              MailtlsJavaMailSender sender = context.getBean(MailtlsJavaMailSender.class);
              // good.test has no TLSA records: the map's dane-only defers it
              DeliveryReport report =
                  sender.deliver(message(sender, "a@sender.test", "hal@good.test", "map"));
              assertThat(report.result("hal@good.test").status())
                  .isEqualTo(DeliveryStatus.DEFERRED);
            });
  }

  /** A negative reload interval fails start-up naming its property, as other bad values do. */
  @Test
  void aNegativePolicyMapCheckIntervalFailsStartUpNamingIt() throws Exception {
    Path map = Files.writeString(dir.resolve("policy-map-neg.txt"), "good.test dane-only\n");
    runner("map-negative-interval")
        .withPropertyValues(
            "mailtls.policy-map.file=" + map, "mailtls.policy-map.check-interval=-1m")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(messages(context.getStartupFailure()))
                  .contains("invalid mailtls.policy-map.check-interval: ");
            });
  }

  /** A reload interval without a file fails start-up rather than run without the operator's map. */
  @Test
  void aPolicyMapCheckIntervalWithoutAFileFailsStartUp() {
    runner("map-interval-only")
        .withPropertyValues("mailtls.policy-map.check-interval=1m")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(messages(context.getStartupFailure()))
                  .contains(
                      "invalid mailtls.policy-map.file: it is required when"
                          + " mailtls.policy-map.check-interval is set");
            });
  }

  @Test
  void aBadPolicyMapFileFailsStartUpNamingThePropertyAndLine() throws Exception {
    Path map =
        Files.writeString(dir.resolve("bad-map.txt"), "# operator map\ngood.test sometimes\n");
    runner("bad-map")
        .withPropertyValues("mailtls.policy-map.file=" + map)
        .run(
            context ->
                assertThat(messages(context.getStartupFailure()))
                    .contains("invalid mailtls.policy-map.file: " + map)
                    .contains("2"));
  }

  /**
   * A pool bound that is zero or negative fails start-up naming its property: an idle time of zero
   * kept no session idle, so reuse was silently off while {@code mailtls.pool.reuse-connections}
   * said on, and the other bounds failed in the transport's builder with a message naming no
   * property (or the wrong one).
   */
  @Test
  void aPoolBoundOfZeroOrLessFailsStartUpNamingItsProperty() {
    Map<String, String> cases = new java.util.LinkedHashMap<>();
    cases.put("mailtls.pool.idle-time=0s", "invalid mailtls.pool.idle-time: ");
    cases.put("mailtls.pool.idle-time=0ms", "invalid mailtls.pool.idle-time: ");
    cases.put("mailtls.pool.idle-time=-1s", "invalid mailtls.pool.idle-time: ");
    cases.put("mailtls.pool.reuse-time-limit=0s", "invalid mailtls.pool.reuse-time-limit: ");
    cases.put("mailtls.pool.reuse-time-limit=-5m", "invalid mailtls.pool.reuse-time-limit: ");
    cases.put(
        "mailtls.pool.max-transactions-per-session=0",
        "invalid mailtls.pool.max-transactions-per-session: ");
    cases.put(
        "mailtls.pool.max-sessions-per-destination=0",
        "invalid mailtls.pool.max-sessions-per-destination: ");
    cases.put(
        "mailtls.pool.max-attempts-per-domain=0", "invalid mailtls.pool.max-attempts-per-domain: ");
    cases.put(
        "mailtls.pool.max-concurrent-deliveries=-1",
        "invalid mailtls.pool.max-concurrent-deliveries: ");
    for (Map.Entry<String, String> c : cases.entrySet()) {
      runner("pool-bound")
          .withPropertyValues(c.getKey())
          .run(
              context -> {
                assertThat(context).as(c.getKey()).hasFailed();
                assertThat(messages(context.getStartupFailure()))
                    .as(c.getKey())
                    .contains(c.getValue() + "it must be positive");
              });
    }
  }

  /** With reuse off, the idle time and reuse time limit are not used and not checked. */
  @Test
  void theIdleTimeIsNotCheckedWhenReuseIsOff() {
    runner("pool-reuse-off")
        .withPropertyValues("mailtls.pool.reuse-connections=false", "mailtls.pool.idle-time=0s")
        .run(context -> assertThat(context).hasNotFailed());
  }

  @Test
  void relaySettingsWithoutARelayHostFailStartUpRatherThanGoStraightToTheMxHosts() {
    for (String setting :
        List.of(
            "mailtls.relay.port=587",
            "mailtls.relay.username=app",
            "mailtls.relay.password=secret",
            "mailtls.relay.implicit-tls=true",
            "mailtls.relay.allow-plaintext-auth=true")) {
      runner("relay-without-host")
          .withPropertyValues(setting, "spring.mail.host=smtp.corp.example")
          .run(
              context -> {
                assertThat(context).as(setting).hasFailed();
                assertThat(messages(context.getStartupFailure()))
                    .as(setting)
                    .contains("invalid mailtls.relay.host: it is required when any other");
              });
    }
  }

  /**
   * An IP address as the relay host fails start-up: the relay is verified by its host name and
   * looked up in DNS as one, where a dotted-decimal address is no host name (RFC 1123 §2.1), so
   * every message was deferred with an NXDOMAIN for the "name" 127.0.4.1.
   */
  @Test
  void anIpAddressAsTheRelayHostFailsStartUp() {
    for (String host : List.of("127.0.4.1", "10.1.2.3.", "::1", "[::1]")) {
      runner("relay-ip")
          .withPropertyValues("mailtls.relay.host=" + host)
          .run(
              context -> {
                assertThat(context).as(host).hasFailed();
                assertThat(messages(context.getStartupFailure()))
                    .as(host)
                    .contains("invalid mailtls.relay.host: \"" + host + "\" is an IP address");
              });
    }
  }

  /**
   * A blank relay host (the {@code ${RELAY:}} idiom with the variable unset) is no relay: alone it
   * delivers to the recipients' MX hosts, beside any other relay setting it fails start-up as a
   * missing host does, rather than drop the relay those settings were for.
   */
  @Test
  void aBlankRelayHostIsNoRelayAloneAndFailsStartUpBesideOtherRelaySettings() {
    for (String setting :
        List.of(
            "mailtls.relay.port=587",
            "mailtls.relay.username=app",
            "mailtls.relay.password=secret",
            "mailtls.relay.implicit-tls=true")) {
      runner("relay-blank-host")
          .withPropertyValues("mailtls.relay.host= ", setting)
          .run(
              context -> {
                assertThat(context).as(setting).hasFailed();
                assertThat(messages(context.getStartupFailure()))
                    .as(setting)
                    .contains("invalid mailtls.relay.host: it is required when any other");
              });
    }
    runner("relay-blank-alone")
        .withPropertyValues("mailtls.relay.host=")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              JavaMailSender sender = context.getBean(JavaMailSender.class);
              sender.send(message(sender, "a@sender.test", "frank@good.test", "blank-relay-host"));
              assertThat(receivedWithSubject(world.domains.good(), "blank-relay-host").recipients())
                  .containsExactly("frank@good.test");
            });
  }

  /**
   * Blank credentials (the {@code ${SMTP_USER:}} idiom with the variable unset) count as unset, as
   * a blank host does: both blank, the relay is used without AUTH, and with a blank host too there
   * is no relay at all. One given without the other fails start-up naming the one missing, where
   * before a blank one failed naming only {@code mailtls.relay}, and a password without a user name
   * was dropped without a word (no AUTH).
   */
  @Test
  void blankRelayCredentialsCountAsUnsetAndOneWithoutTheOtherFailsNamingIt() {
    // good.test's server, whose certificate names mx.good.test, as the relay
    runner("relay-blank-credentials")
        .withPropertyValues(
            "mailtls.relay.host=mx.good.test",
            "mailtls.relay.port=" + world.domains.smtpPort(),
            "mailtls.relay.username=",
            "mailtls.relay.password= ")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              JavaMailSender sender = context.getBean(JavaMailSender.class);
              sender.send(message(sender, "a@sender.test", "x@anywhere.test", "blank-credentials"));
              assertThat(
                      receivedWithSubject(world.domains.good(), "blank-credentials").recipients())
                  .containsExactly("x@anywhere.test");
              assertThat(world.domains.good().sessions())
                  .allSatisfy(
                      session ->
                          assertThat(session.commandLines()).noneMatch(l -> l.startsWith("AUTH")));
            });
    runner("relay-all-blank")
        .withPropertyValues(
            "mailtls.relay.host=", "mailtls.relay.username=", "mailtls.relay.password=")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              JavaMailSender sender = context.getBean(JavaMailSender.class);
              sender.send(message(sender, "a@sender.test", "frank@good.test", "all-blank-relay"));
              assertThat(receivedWithSubject(world.domains.good(), "all-blank-relay").recipients())
                  .containsExactly("frank@good.test");
            });
    // Each case: the message expected, then the settings beside the relay host.
    List<List<String>> cases =
        List.of(
            List.of(
                "invalid mailtls.relay.password: it is required with mailtls.relay.username",
                "mailtls.relay.username=app",
                "mailtls.relay.password= "),
            List.of(
                "invalid mailtls.relay.username: it is required with mailtls.relay.password",
                "mailtls.relay.username=",
                "mailtls.relay.password=secret"),
            List.of(
                "invalid mailtls.relay.username: it is required with mailtls.relay.password",
                "mailtls.relay.password=secret"));
    for (List<String> c : cases) {
      String expected = c.get(0);
      List<String> settings = new ArrayList<>(c.subList(1, c.size()));
      settings.add("mailtls.relay.host=relay.example.test");
      runner("relay-half-credentials")
          .withPropertyValues(settings.toArray(String[]::new))
          .run(
              context -> {
                assertThat(context).as(settings.toString()).hasFailed();
                assertThat(messages(context.getStartupFailure()))
                    .as(settings.toString())
                    .contains(expected)
                    .doesNotContain("secret");
              });
    }
  }

  @Test
  void aRelayAndAPolicyMapFailStartUpTogether() throws Exception {
    Path map = dir.resolve("relay-and-map.policy");
    Files.writeString(map, "bank.example dane-only\n");
    runner("relay-and-map")
        .withPropertyValues(
            "mailtls.relay.host=relay.example.test", "mailtls.policy-map.file=" + map)
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(messages(context.getStartupFailure()))
                  .contains("invalid mailtls.policy-map.file: not with mailtls.relay.host");
            });
  }

  @Test
  void aMisspeltMailtlsPropertyFailsStartUpInsteadOfBeingIgnored() {
    runner("misspelt")
        .withPropertyValues(
            "mailtls.relay.hostname=smtp.corp.example", "mailtls.relay.username=app")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(messages(context.getStartupFailure())).contains("mailtls.relay.hostname");
            });
    runner("misspelt-level")
        .withPropertyValues("mailtls.sender.default-levle=dane-required")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(messages(context.getStartupFailure()))
                  .contains("mailtls.sender.default-levle");
            });
  }

  /**
   * REQUIRETLS (RFC 8689) for every message ({@code mailtls.sender.require-tls}) or for one ({@code
   * deliver(message, true)}): good.test publishes neither DANE nor MTA-STS, so no MX host may get
   * such a message and it bounces (5.7.30); without it the same message is delivered.
   */
  @Test
  void requireTlsForEveryMessageOrForOne() {
    runner("require-tls")
        .withPropertyValues("mailtls.sender.require-tls=true")
        .run(
            context -> {
              MailtlsJavaMailSender sender = context.getBean(MailtlsJavaMailSender.class);
              RecipientResult r =
                  sender
                      .deliver(message(sender, "a@sender.test", "someone@good.test", "rt-all"))
                      .result("someone@good.test");
              assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.BOUNCED);
              assertThat(r.reply().toString()).contains("5.7.30");
            });
    runner("require-tls-one")
        .run(
            context -> {
              MailtlsJavaMailSender sender = context.getBean(MailtlsJavaMailSender.class);
              RecipientResult one =
                  sender
                      .deliver(
                          message(sender, "a@sender.test", "someone@good.test", "rt-one"), true)
                      .result("someone@good.test");
              assertThat(one.status()).as("%s", one).isEqualTo(DeliveryStatus.BOUNCED);
              assertThat(one.reply().toString()).contains("5.7.30");
              RecipientResult plain =
                  sender
                      .deliver(message(sender, "a@sender.test", "someone@good.test", "rt-none"))
                      .result("someone@good.test");
              assertThat(plain.status()).as("%s", plain).isEqualTo(DeliveryStatus.DELIVERED);
            });
  }

  /**
   * A failure of one message that is no MessagingException (here the transport was closed) is that
   * message's: the call still tries the others and reports each under its own key, rather than stop
   * with a raw exception and lose which messages went.
   */
  @Test
  void anyFailureOfOneMessageIsReportedPerMessage() {
    runner("closed")
        .run(
            context -> {
              SecureSmtpTransport transport = context.getBean(SecureSmtpTransport.class);
              SecureSmtpTransport closed =
                  SecureSmtpTransport.builder()
                      .withoutMtaSts()
                      .withoutDane()
                      .dns(context.getBean(DnsResolver.class))
                      .heloName("client.sender.test")
                      .build();
              closed.close();
              MailtlsJavaMailSender sender = new MailtlsJavaMailSender(closed);
              MimeMessage first = message(sender, "a@sender.test", "someone@good.test", "c1");
              MimeMessage second = message(sender, "a@sender.test", "someone@good.test", "c2");
              assertThatThrownBy(() -> sender.send(first, second))
                  .isInstanceOfSatisfying(
                      MailSendException.class,
                      e -> assertThat(e.getFailedMessages()).containsOnlyKeys(first, second));
              assertThat(transport).isNotSameAs(closed);
            });
  }

  @Test
  void anUnknownLevelFailsStartUpNamingTheProperty() {
    runner("bad-level")
        .withPropertyValues("mailtls.sender.default-level=strict")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(context.getStartupFailure()).rootCause().hasMessageContaining("strict");
              assertThat(messages(context.getStartupFailure()))
                  .contains("mailtls.sender.default-level")
                  .contains("io.mailtls.core.TlsLevel");
            });
  }

  @Test
  void aMissingTrustAnchorFileFailsStartUpNamingTheProperty() {
    Path missing = dir.resolve("no-such-anchors.zone");
    runner("bad-anchors")
        .withPropertyValues("mailtls.dns.trust-anchors=" + missing)
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(messages(context.getStartupFailure()))
                  .contains(
                      "invalid mailtls.dns.trust-anchors: cannot read the trust anchors file "
                          + missing);
            });
  }

  @Test
  void aMissingHeloNameFailsStartUp() {
    runner("no-helo")
        .withPropertyValues("mailtls.helo-name=")
        .run(
            context ->
                assertThat(messages(context.getStartupFailure()))
                    .contains(
                        "invalid mailtls.helo-name: it is required: this host's fully qualified"
                            + " name"));
  }

  @Test
  void aMissingStoreDirectoryFailsStartUpWhileMtaStsIsOn() {
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(MailtlsAutoConfiguration.class))
        .withPropertyValues("mailtls.helo-name=client.sender.test")
        .run(
            context ->
                assertThat(messages(context.getStartupFailure()))
                    .contains(
                        "invalid mailtls.mta-sts.store-directory: it is required while MTA-STS"
                            + " is on (mailtls.mta-sts.enabled=false turns it off)"));
  }

  @Test
  void mtaStsAndDaneGoOnlyWhenTurnedOffExplicitly() {
    runner("off")
        .withPropertyValues(
            "mailtls.mta-sts.enabled=false",
            "mailtls.dane.enabled=false",
            "mailtls.sender.levels[sts-only.test]=sts-required")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context).doesNotHaveBean(MtaStsPolicySource.class);
              assertThat(context).doesNotHaveBean(DaneProvider.class);
              // sts-required cannot be met without MTA-STS: deferred, never sent weaker
              MailtlsJavaMailSender sender = context.getBean(MailtlsJavaMailSender.class);
              DeliveryReport report =
                  sender.deliver(message(sender, "a@sts-only.test", "gina@sts.test", "sts-off"));
              assertThat(report.result("gina@sts.test").status())
                  .isEqualTo(DeliveryStatus.DEFERRED);
            });
  }

  /**
   * The property binds any of Spring's boolean words ({@code on}, {@code yes}, {@code 1}): the
   * beans follow what it binds to, so a policy the properties say is on is never left out.
   */
  @Test
  void mtaStsAndDaneFollowTheBoundValueOfTheirSwitch() {
    runner("on")
        .withPropertyValues("mailtls.mta-sts.enabled=on", "mailtls.dane.enabled=yes")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context).hasSingleBean(MtaStsPolicySource.class);
              assertThat(context).hasSingleBean(DaneProvider.class);
            });
    runner("off-words")
        .withPropertyValues("mailtls.mta-sts.enabled=off", "mailtls.dane.enabled=no")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              assertThat(context).doesNotHaveBean(MtaStsPolicySource.class);
              assertThat(context).doesNotHaveBean(DaneProvider.class);
            });
  }

  @Test
  void healthIsUpWithAValidatingResolverAndAWritableStoreAndDownOtherwise() {
    runner("health")
        .run(
            context -> {
              Health up = context.getBean(MailtlsHealthIndicator.class).health();
              assertThat(up.getStatus()).isEqualTo(Status.UP);
              assertThat(up.getDetails())
                  .containsEntry("dnssec", "validating")
                  .containsEntry("signedState", "SECURE")
                  .containsEntry("policyStoreWritable", true);

              // the store directory replaced by a file: nothing can be written there
              Path store = dir.resolve("health");
              try (var files = Files.list(store)) {
                for (Path f : files.toList()) {
                  Files.delete(f);
                }
              }
              Files.delete(store);
              Files.writeString(store, "not a directory");
              Health down = context.getBean(MailtlsHealthIndicator.class).health();
              assertThat(down.getStatus()).isEqualTo(Status.DOWN);
              assertThat(down.getDetails()).containsEntry("policyStoreWritable", false);
            });
  }

  @Test
  void healthIsDownWhenTheSignedNameDoesNotValidate() {
    runner("health-bogus")
        .withPropertyValues("mailtls.health.signed-name=bogus.test")
        .run(
            context -> {
              Health h = context.getBean(MailtlsHealthIndicator.class).health();
              assertThat(h.getStatus()).isEqualTo(Status.DOWN);
              assertThat(h.getDetails()).containsEntry("dnssec", "not validating");
              @SuppressWarnings("unchecked")
              List<String> problems = (List<String>) h.getDetails().get("dnsProblems");
              assertThat(problems).isNotEmpty();
            });
  }

  /** The messages of {@code t} and its causes, one per line. */
  private static String messages(Throwable t) {
    StringBuilder s = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      s.append(c.getMessage()).append('\n');
    }
    return s.toString();
  }
}
