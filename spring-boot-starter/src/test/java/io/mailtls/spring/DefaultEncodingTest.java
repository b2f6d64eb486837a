package io.mailtls.spring;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpMessage;
import jakarta.mail.Session;
import jakarta.mail.internet.ContentType;
import jakarta.mail.internet.MimeMessage;
import java.io.ByteArrayInputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.mail.SimpleMailMessage;
import org.springframework.mail.javamail.JavaMailSender;
import org.springframework.mail.javamail.MimeMessageHelper;

/**
 * {@code mailtls.default-encoding}, UTF-8 unless set, as Spring Boot's {@code
 * spring.mail.default-encoding}: the charset of the subject and text of a {@link SimpleMailMessage}
 * and of what a {@link MimeMessageHelper} writes into the sender's {@code createMimeMessage()},
 * whatever the JVM's default charset, which is US-ASCII in a container with a POSIX locale.
 */
class DefaultEncodingTest {

  private static final String SUBJECT = "Grüße aus Köln – 東京";
  private static final String TEXT = "Schöne Grüße,\r\nÆrø und 東京.";

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

  private static ApplicationContextRunner runner(String name) {
    return new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(MailtlsAutoConfiguration.class))
        .withPropertyValues(world.properties(dir.resolve(name)))
        .withBean(MailtlsTransportCustomizer.class, world::transportCustomizer)
        .withBean(MailtlsPolicyFetcherCustomizer.class, world::fetcherCustomizer);
  }

  /**
   * An application that moves from Boot's sender to mailtls's, in a JVM whose Jakarta Mail default
   * MIME charset is US-ASCII ({@code mail.mime.charset}, which stands for a POSIX locale's {@code
   * file.encoding}), sends a {@link SimpleMailMessage} without setting any encoding: the server
   * gets the subject and text intact, declared UTF-8, not with every non-ASCII character turned to
   * '?'.
   */
  @Test
  void aSimpleMailMessageKeepsItsTextInAJvmWhoseDefaultCharsetIsAscii() throws Exception {
    String recipient = "ascii-jvm@good.test";
    InetSocketAddress dns = world.domains.dns().socketAddress();
    Path log = dir.resolve("child.log");
    Process child =
        new ProcessBuilder(
                ProcessHandle.current().info().command().orElseThrow(),
                "-Dmail.mime.charset=US-ASCII",
                "-cp",
                System.getProperty("java.class.path"),
                DefaultEncodingChild.class.getName(),
                dns.getAddress().getHostAddress() + ":" + dns.getPort(),
                world.anchors.toString(),
                dir.resolve("child-store").toString(),
                Integer.toString(world.domains.smtpPort()),
                recipient,
                SUBJECT,
                TEXT)
            .redirectErrorStream(true)
            .redirectOutput(log.toFile())
            .start();
    boolean ended = child.waitFor(25, TimeUnit.SECONDS);
    if (!ended) {
      child.destroyForcibly();
    }
    String output = new String(Files.readAllBytes(log), StandardCharsets.UTF_8);
    assertThat(ended).as("child ended within 25 s:%n%s", output).isTrue();
    assertThat(child.exitValue()).as("child's exit status:%n%s", output).isZero();

    MimeMessage received = parse(received(world.domains.good(), recipient));
    assertThat(received.getSubject()).isEqualTo(SUBJECT);
    assertThat(text(received)).isEqualTo(TEXT);
    assertThat(new ContentType(received.getContentType()).getParameter("charset"))
        .isEqualToIgnoringCase("UTF-8");
  }

  /**
   * As with Boot's sender, a {@link MimeMessageHelper} made on the sender's {@code
   * createMimeMessage()} without an encoding takes the configured one, and so does a {@link
   * SimpleMailMessage}: ISO-8859-1 here, declared in the message whatever the JVM's default.
   */
  @Test
  void theSendersMessagesCarryTheConfiguredEncoding() {
    runner("default")
        .run(
            context -> {
              JavaMailSender sender = context.getBean(JavaMailSender.class);
              assertThat(new MimeMessageHelper(sender.createMimeMessage()).getEncoding())
                  .isEqualTo("UTF-8");
            });
    runner("latin1")
        .withPropertyValues("mailtls.default-encoding=ISO-8859-1")
        .run(
            context -> {
              JavaMailSender sender = context.getBean(JavaMailSender.class);
              assertThat(new MimeMessageHelper(sender.createMimeMessage(), true).getEncoding())
                  .isEqualTo("ISO-8859-1");
              SimpleMailMessage m = new SimpleMailMessage();
              m.setFrom("a@sender.test");
              m.setTo("latin1@good.test");
              m.setSubject("Grüße aus Köln");
              m.setText("Schöne Grüße");
              sender.send(m);
              MimeMessage received = parse(received(world.domains.good(), "latin1@good.test"));
              assertThat(received.getSubject()).isEqualTo("Grüße aus Köln");
              assertThat(text(received)).isEqualTo("Schöne Grüße");
              assertThat(new ContentType(received.getContentType()).getParameter("charset"))
                  .isEqualToIgnoringCase("ISO-8859-1");
            });
  }

  /**
   * A charset the JVM does not know fails in Boot's binder; one in which CRLF and ASCII are not
   * themselves (UTF-16) cannot carry MIME text and fails start-up naming the property.
   */
  @Test
  void anUnknownOrUnusableEncodingFailsStartUpNamingTheProperty() {
    runner("unknown")
        .withPropertyValues("mailtls.default-encoding=no-such-charset")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(messages(context.getStartupFailure()))
                  .contains("mailtls.default-encoding")
                  .contains("no-such-charset");
            });
    runner("empty")
        .withPropertyValues("mailtls.default-encoding=")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(messages(context.getStartupFailure()))
                  .contains("mailtls.default-encoding");
            });
    runner("utf16")
        .withPropertyValues("mailtls.default-encoding=UTF-16")
        .run(
            context -> {
              assertThat(context).hasFailed();
              assertThat(messages(context.getStartupFailure()))
                  .contains("invalid mailtls.default-encoding: UTF-16");
            });
  }

  /** The first message {@code server} received for {@code recipient}, waiting up to 10 s. */
  private static SmtpMessage received(MockSmtpServer server, String recipient)
      throws InterruptedException {
    for (int n = 1; ; n++) {
      List<SmtpMessage> all = server.awaitMessages(n, Duration.ofSeconds(10));
      Optional<SmtpMessage> m =
          all.stream().filter(x -> x.recipients().contains(recipient)).findFirst();
      if (m.isPresent()) {
        return m.get();
      }
    }
  }

  private static MimeMessage parse(SmtpMessage m) throws Exception {
    return new MimeMessage(
        Session.getInstance(new Properties()), new ByteArrayInputStream(m.data()));
  }

  /**
   * The text of {@code m} without the line break the message gained in transit: the final dot of
   * DATA ends a line of its own (RFC 5321 §4.1.1.4).
   */
  private static String text(MimeMessage m) throws Exception {
    String text = (String) m.getContent();
    assertThat(text).endsWith("\r\n");
    return text.substring(0, text.length() - 2);
  }

  private static String messages(Throwable t) {
    StringBuilder s = new StringBuilder();
    for (Throwable c = t; c != null; c = c.getCause()) {
      s.append(c.getMessage()).append('\n');
    }
    return s.toString();
  }
}
