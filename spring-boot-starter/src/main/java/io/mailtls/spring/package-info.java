/**
 * Spring Boot auto-configuration for mailtls: a {@link
 * org.springframework.mail.javamail.JavaMailSender} that delivers through a {@link
 * io.mailtls.core.SecureSmtpTransport} with sender TLS levels, MTA-STS (RFC 8461) and DANE (RFC
 * 7672), configured from {@code mailtls.*} properties ({@link
 * io.mailtls.spring.MailtlsProperties}), and a health indicator. See docs/spring-boot.md.
 */
@NullMarked
package io.mailtls.spring;

import org.jspecify.annotations.NullMarked;
