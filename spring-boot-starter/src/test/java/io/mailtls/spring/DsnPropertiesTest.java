package io.mailtls.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DsnHandling;
import io.mailtls.core.DsnRequest;
import io.mailtls.core.DsnRequest.Notify;
import io.mailtls.core.DsnRequest.Ret;
import io.mailtls.core.RecipientResult;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.TestDnsServer;
import jakarta.mail.Message;
import jakarta.mail.internet.MimeMessage;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.angus.mail.smtp.SMTPMessage;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.mail.SimpleMailMessage;
import org.springframework.mail.javamail.JavaMailSender;
import org.springframework.mail.javamail.MimeMessageHelper;

/**
 * {@code mailtls.sender.dsn.*}: the sender-wide request for delivery status notifications (RFC
 * 3461) of a Spring application, which builds its messages with {@link MimeMessageHelper} and has
 * no {@code SMTPMessage} options to set, against a real MX host that advertises DSN in a signed
 * test zone.
 */
class DsnPropertiesTest {

  @TempDir static Path dir;
  private static MockSmtpServer mx;
  private static TestDnsServer dns;
  private static Path anchors;

  @BeforeAll
  static void start() throws Exception {
    List<String> withDsn = new ArrayList<>(MockSmtpServer.DEFAULT_CAPABILITIES);
    withDsn.add("DSN"); // RFC 3461 §3
    mx =
        MockSmtpServer.builder()
            .address(InetAddress.getByName("127.0.6.25"))
            .hostname("mx.dsn.test")
            .capabilities(withDsn.toArray(String[]::new))
            .start();
    dns =
        TestDnsServer.builder()
            .zone("dsn.test", z -> z.mailHost("dsn.test", 10, "mx.dsn.test", mx))
            .start();
    anchors = Files.writeString(dir.resolve("anchors.zone"), dns.trustAnchor());
  }

  @AfterAll
  static void stop() {
    if (mx != null) {
      mx.close();
    }
    if (dns != null) {
      dns.close();
    }
  }

  /** How many MAIL and RCPT lines the MX host had got before the test. */
  private int seen;

  @BeforeEach
  void forget() {
    seen = allEnvelopeLines().size();
  }

  private static ApplicationContextRunner runner(String name) {
    InetSocketAddress resolver = dns.socketAddress();
    return new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(MailtlsAutoConfiguration.class))
        .withPropertyValues(
            "mailtls.helo-name=client.sender.test",
            "mailtls.dns.resolvers="
                + resolver.getAddress().getHostAddress()
                + ":"
                + resolver.getPort(),
            "mailtls.dns.trust-anchors=" + anchors,
            "mailtls.mta-sts.store-directory=" + dir.resolve(name),
            "mailtls.timeouts.connect=10s",
            "mailtls.timeouts.command=30s")
        .withBean(MailtlsTransportCustomizer.class, () -> b -> b.port(mx.port()));
  }

  private static List<String> allEnvelopeLines() {
    return mx.sessions().stream()
        .flatMap(s -> s.commandLines().stream())
        .filter(l -> l.startsWith("MAIL ") || l.startsWith("RCPT "))
        .toList();
  }

  /**
   * The MAIL and RCPT command lines the MX host got in this test, as they came: the sessions of
   * earlier tests' contexts were closed with them, and this test's come after theirs.
   */
  private List<String> envelopeLines() {
    List<String> all = allEnvelopeLines();
    return all.subList(seen, all.size());
  }

  private static MimeMessage helperMessage(JavaMailSender sender, String subject) throws Exception {
    MimeMessage m = sender.createMimeMessage();
    MimeMessageHelper h = new MimeMessageHelper(m);
    h.setFrom("a@sender.test");
    h.setTo("bob@dsn.test");
    h.setSubject(subject);
    h.setText("Hello from a Spring application.");
    return m;
  }

  private static String messages(Throwable t) {
    StringBuilder s = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      s.append(c.getClass().getSimpleName()).append(": ").append(c.getMessage()).append('\n');
    }
    return s.toString();
  }

  /**
   * {@code mailtls.sender.dsn.notify} and {@code ret} go on every message the sender sends, through
   * each of its ways in: RET on MAIL FROM, NOTIFY and ORCPT on RCPT TO (RFC 3461 §4.1-4.3).
   */
  @Test
  void theSenderWideRequestGoesOnTheCommandLinesOfEveryMessage() {
    runner("dsn-all")
        .withPropertyValues(
            "mailtls.sender.dsn.notify=success,failure", "mailtls.sender.dsn.ret=hdrs")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              MailtlsJavaMailSender sender = context.getBean(MailtlsJavaMailSender.class);
              RecipientResult r =
                  sender.deliver(helperMessage(sender, "dsn-deliver")).result("bob@dsn.test");
              assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
              assertThat(r.dsn()).isEqualTo(DsnHandling.PASSED_ON);
              sender.send(
                  mm -> {
                    MimeMessageHelper h = new MimeMessageHelper(mm);
                    h.setFrom("a@sender.test");
                    h.setTo("bob@dsn.test");
                    h.setSubject("dsn-preparator");
                    h.setText("Hello.");
                  });
              sender.send(helperMessage(sender, "dsn-mime"));
              SimpleMailMessage simple = new SimpleMailMessage();
              simple.setFrom("a@sender.test");
              simple.setTo("bob@dsn.test");
              simple.setSubject("dsn-simple");
              simple.setText("Hello.");
              sender.send(simple);
              List<String> once =
                  List.of(
                      "MAIL FROM:<a@sender.test> RET=HDRS",
                      "RCPT TO:<bob@dsn.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;bob@dsn.test");
              List<String> expected = new ArrayList<>();
              for (int i = 0; i < 4; i++) {
                expected.addAll(once);
              }
              assertThat(envelopeLines()).isEqualTo(expected);
            });
  }

  /** {@code never} and {@code original-recipients=false}: NOTIFY=NEVER and no ORCPT. */
  @Test
  void neverWithoutOriginalRecipients() {
    runner("dsn-never")
        .withPropertyValues(
            "mailtls.sender.dsn.notify=NEVER", "mailtls.sender.dsn.original-recipients=false")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              JavaMailSender sender = context.getBean(JavaMailSender.class);
              sender.send(helperMessage(sender, "dsn-never"));
              assertThat(envelopeLines())
                  .containsExactly(
                      "MAIL FROM:<a@sender.test>", "RCPT TO:<bob@dsn.test> NOTIFY=NEVER");
            });
  }

  /**
   * As with Angus Mail's {@code mail.smtp.dsn.*}: each option an {@code SMTPMessage} sets wins over
   * the sender's, the other is the sender's.
   */
  @Test
  void anSmtpMessagesOwnOptionWinsOverTheSenders() {
    runner("dsn-smtp-message")
        .withPropertyValues("mailtls.sender.dsn.notify=never", "mailtls.sender.dsn.ret=full")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              JavaMailSender sender = context.getBean(JavaMailSender.class);
              SMTPMessage m = new SMTPMessage(sender.createMimeMessage().getSession());
              m.setFrom("a@sender.test");
              m.setRecipients(Message.RecipientType.TO, "bob@dsn.test");
              m.setSubject("dsn-own");
              m.setText("Hello.", "UTF-8");
              m.setNotifyOptions(SMTPMessage.NOTIFY_DELAY);
              sender.send(m);
              assertThat(envelopeLines())
                  .containsExactly(
                      "MAIL FROM:<a@sender.test> RET=FULL",
                      "RCPT TO:<bob@dsn.test> NOTIFY=DELAY ORCPT=rfc822;bob@dsn.test");
            });
  }

  /**
   * {@code deliver(message, dsnRequest)} asks for one message exactly as the request says, ENVID
   * included (RFC 3461 §4.4), whatever the sender-wide request; the next message has the sender's.
   */
  @Test
  void oneMessageWithARequestOfItsOwn() {
    runner("dsn-one")
        .withPropertyValues("mailtls.sender.dsn.notify=never")
        .run(
            context -> {
              assertThat(context).hasNotFailed();
              MailtlsJavaMailSender sender = context.getBean(MailtlsJavaMailSender.class);
              RecipientResult r =
                  sender
                      .deliver(
                          helperMessage(sender, "dsn-one"),
                          DsnRequest.on(Notify.SUCCESS).withRet(Ret.HDRS).withEnvelopeId("q-4711"))
                      .result("bob@dsn.test");
              assertThat(r.dsn()).isEqualTo(DsnHandling.PASSED_ON);
              sender.deliver(helperMessage(sender, "dsn-next"));
              assertThat(envelopeLines())
                  .containsExactly(
                      "MAIL FROM:<a@sender.test> RET=HDRS ENVID=q-4711",
                      "RCPT TO:<bob@dsn.test> NOTIFY=SUCCESS ORCPT=rfc822;bob@dsn.test",
                      "MAIL FROM:<a@sender.test>",
                      "RCPT TO:<bob@dsn.test> NOTIFY=NEVER ORCPT=rfc822;bob@dsn.test");
            });
  }

  /**
   * A condition given twice stops start-up naming the property, as the Jakarta provider's {@code
   * mail.smtp.dsn.notify} does (RFC 3461 §4.1 names each condition once).
   */
  @Test
  void aRepeatedConditionFailsStartUpNamingTheProperty() {
    runner("dsn-repeated")
        .withPropertyValues("mailtls.sender.dsn.notify=success,failure,success")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(messages(context.getStartupFailure()))
                  .contains("InvalidMailtlsPropertyException: invalid mailtls.sender.dsn.notify: ")
                  .contains("SUCCESS")
                  .contains("RFC 3461 §4.1");
            });
  }

  /** A value RFC 3461 does not allow stops start-up, naming the property. */
  @Test
  void badValuesFailStartUpNamingTheProperty() {
    runner("dsn-bad-combination")
        .withPropertyValues("mailtls.sender.dsn.notify=never,success")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(context.getStartupFailure())
                  .hasRootCauseInstanceOf(IllegalArgumentException.class);
              assertThat(messages(context.getStartupFailure()))
                  .contains("InvalidMailtlsPropertyException: invalid mailtls.sender.dsn.notify: ")
                  .contains("RFC 3461 §4.1");
            });
    for (String bad :
        List.of("mailtls.sender.dsn.notify=sometimes", "mailtls.sender.dsn.ret=headers")) {
      String property = bad.substring(0, bad.indexOf('='));
      runner("dsn-bad")
          .withPropertyValues(bad)
          .run(
              context -> {
                assertThat(context).as(bad).hasFailed();
                // Boot's binder, which names the property and the type it did not convert to
                assertThat(messages(context.getStartupFailure()))
                    .as(bad)
                    .contains("Failed to bind properties under '" + property + "'")
                    .contains("DsnRequest$");
              });
    }
  }

  /**
   * Boot's sender (Angus Mail) took a DSN request from {@code mail.smtp.dsn.notify} and {@code
   * mail.smtp.dsn.ret}; this sender reads no {@code spring.mail.*}, so start-up fails until {@code
   * mailtls.sender.dsn.*} says it, rather than silently send without the request.
   */
  @Test
  void bootsDsnSettingsFailStartUpUntilMailtlsIsGivenThem() {
    for (String setting :
        List.of(
            "spring.mail.properties.mail.smtp.dsn.notify=SUCCESS",
            "spring.mail.properties[mail.smtp.dsn.ret]=HDRS")) {
      String property =
          setting.contains("notify") ? "mailtls.sender.dsn.notify" : "mailtls.sender.dsn.ret";
      runner("spring-mail-dsn")
          .withPropertyValues(setting)
          .run(
              context -> {
                assertThat(context).as(setting).hasFailed();
                assertThat(messages(context.getStartupFailure()))
                    .as(setting)
                    .contains("invalid " + property + ": ")
                    .contains(
                        setting.contains("notify") ? "mail.smtp.dsn.notify" : "mail.smtp.dsn.ret");
              });
      runner("spring-mail-dsn-given")
          .withPropertyValues(
              setting, setting.contains("notify") ? property + "=success" : property + "=hdrs")
          .run(context -> assertThat(context).as(setting).hasNotFailed());
    }
  }
}
