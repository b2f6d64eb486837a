package io.mailtls.examples.spring;

import org.springframework.boot.SpringApplication;
import org.springframework.boot.autoconfigure.SpringBootApplication;

/**
 * A Spring Boot application with {@code mailtls-spring-boot-starter} on its class path and its
 * {@code mailtls.*} settings in {@code spring-example.properties}. Nothing in it names mailtls:
 * {@link StatementMailer} sends through Spring's {@code JavaMailSender}, which the starter backs
 * with mailtls (docs/spring-boot.md).
 *
 * <pre>
 * java -cp ... io.mailtls.examples.spring.SpringBootExample \
 *     --mailtls.helo-name=mail.bank.example --mailtls.mta-sts.store-directory=/var/lib/mailer
 * </pre>
 */
@SpringBootApplication
public class SpringBootExample {

  /** Starts the application with {@code spring-example.properties}. */
  public static void main(String[] args) {
    SpringApplication app = new SpringApplication(SpringBootExample.class);
    app.setDefaultProperties(java.util.Map.of("spring.config.name", "spring-example"));
    app.run(args);
  }
}
