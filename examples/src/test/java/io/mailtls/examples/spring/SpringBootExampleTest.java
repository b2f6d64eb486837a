package io.mailtls.examples.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DeliveryStatus;
import io.mailtls.examples.TestWorld;
import io.mailtls.spring.MailtlsDeliveryException;
import io.mailtls.spring.MailtlsJavaMailSender;
import io.mailtls.spring.MailtlsTransportCustomizer;
import io.mailtls.testkit.SmtpMessage;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.support.GenericApplicationContext;
import org.springframework.mail.MailSendException;
import org.springframework.mail.javamail.JavaMailSender;

/**
 * {@link SpringBootExample} started as a Spring Boot application against the testkit: its own
 * {@code spring-example.properties}, with only the test DNS (address and trust anchor), the policy
 * cache directory and the mock servers' SMTP port changed.
 */
class SpringBootExampleTest {

  @TempDir static Path dir;
  private static TestWorld world;

  @BeforeAll
  static void start() {
    world = new TestWorld();
  }

  @AfterAll
  static void stop() {
    world.close();
  }

  private static ConfigurableApplicationContext startApplication() throws Exception {
    Path anchors = Files.writeString(dir.resolve("anchors.zone"), world.dns().trustAnchor());
    InetSocketAddress dns = world.dns().socketAddress();
    MailtlsTransportCustomizer testPort = b -> b.port(world.smtpPort());
    return new SpringApplicationBuilder(SpringBootExample.class)
        .web(WebApplicationType.NONE)
        .properties("spring.config.name=spring-example")
        .initializers(
            context ->
                ((GenericApplicationContext) context)
                    .registerBean(MailtlsTransportCustomizer.class, () -> testPort))
        .run(
            "--mailtls.dns.resolvers=" + dns.getAddress().getHostAddress() + ":" + dns.getPort(),
            "--mailtls.dns.trust-anchors=" + anchors,
            "--mailtls.mta-sts.store-directory=" + dir.resolve("mta-sts"));
  }

  @Test
  void theApplicationSendsThroughTheStarterUnderItsSenderLevels() throws Exception {
    try (ConfigurableApplicationContext app = startApplication()) {
      // the application's JavaMailSender is mailtls's, configured from spring-example.properties
      assertThat(app.getBean(JavaMailSender.class)).isInstanceOf(MailtlsJavaMailSender.class);
      StatementMailer mailer = app.getBean(StatementMailer.class);

      // bank.example is dane-required: a DANE domain gets the statement
      mailer.sendStatement("statements@bank.example", "ann@dane-ee.test", "November");
      List<SmtpMessage> received = world.daneEe().awaitMessages(1, Duration.ofSeconds(20));
      assertThat(received)
          .anySatisfy(
              m -> {
                assertThat(m.mailFrom()).isEqualTo("statements@bank.example");
                assertThat(m.recipients()).containsExactly("ann@dane-ee.test");
                assertThat(m.tls()).isTrue();
                assertThat(m.dataAsString()).contains("Your statement for November");
              });

      // a domain without DANE is refused for bank.example, without a line of mailtls code
      assertThatThrownBy(
              () -> mailer.sendStatement("statements@bank.example", "bob@good.test", "November"))
          .isInstanceOfSatisfying(
              MailSendException.class,
              e -> {
                Exception failure = e.getFailedMessages().values().iterator().next();
                assertThat(failure).isInstanceOf(MailtlsDeliveryException.class);
                assertThat(
                        ((MailtlsDeliveryException) failure)
                            .report()
                            .result("bob@good.test")
                            .status())
                    .isEqualTo(DeliveryStatus.DEFERRED);
              });
      assertThat(world.good().messages())
          .noneSatisfy(m -> assertThat(m.recipients()).contains("bob@good.test"));

      // other senders are at the default level, enforced: good.test has STARTTLS
      mailer.sendStatement("news@shop.example", "carl@good.test", "December");
      assertThat(world.good().awaitMessages(1, Duration.ofSeconds(20)))
          .anySatisfy(m -> assertThat(m.recipients()).containsExactly("carl@good.test"));
    }
  }
}
