package io.mailtls.spring;

import java.nio.file.Path;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import org.springframework.mail.SimpleMailMessage;
import org.springframework.mail.javamail.JavaMailSender;

/**
 * The program {@link DefaultEncodingTest} runs in a JVM of its own, whose Jakarta Mail default MIME
 * charset it sets: an application with the starter and no {@code mailtls.default-encoding} sends a
 * {@link SimpleMailMessage} to {@code good.test} of the parent's {@link SpringTestWorld}.
 *
 * <p>Arguments: the test DNS server ({@code address:port}), the trust-anchor file, the MTA-STS
 * store directory, the mock servers' SMTP port, the recipient, the subject and the text. Exits
 * non-zero (a stack trace on standard error) unless the message was delivered.
 */
final class DefaultEncodingChild {

  private DefaultEncodingChild() {}

  public static void main(String[] args) {
    String dns = args[0];
    Path anchors = Path.of(args[1]);
    Path store = Path.of(args[2]);
    int smtpPort = Integer.parseInt(args[3]);
    SimpleMailMessage message = new SimpleMailMessage();
    message.setFrom("a@sender.test");
    message.setTo(args[4]);
    message.setSubject(args[5]);
    message.setText(args[6]);
    new ApplicationContextRunner()
        .withConfiguration(AutoConfigurations.of(MailtlsAutoConfiguration.class))
        .withPropertyValues(
            "mailtls.helo-name=client.sender.test",
            "mailtls.dns.resolvers=" + dns,
            "mailtls.dns.trust-anchors=" + anchors,
            "mailtls.dns.query-timeout=2s",
            "mailtls.mta-sts.store-directory=" + store,
            "mailtls.timeouts.connect=10s",
            "mailtls.timeouts.command=30s")
        .withBean(
            MailtlsTransportCustomizer.class,
            () -> (MailtlsTransportCustomizer) b -> b.port(smtpPort))
        // send() throws unless the recipient got the message; the runner rethrows it
        .run(context -> context.getBean(JavaMailSender.class).send(message));
    // The context is closed; a pooled session's thread must not keep the parent waiting.
    System.exit(0);
  }
}
