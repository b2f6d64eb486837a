/**
 * The Jakarta Mail adapter of mailtls: deliver {@link jakarta.mail.internet.MimeMessage}s through
 * {@link io.mailtls.core.SecureSmtpTransport} with {@link io.mailtls.jakartamail.MailtlsJakarta}
 * (streamed by {@link io.mailtls.jakartamail.MimeMessageContent}), or keep Angus Mail's own
 * transport under mailtls's policy with {@link io.mailtls.jakartamail.AngusPolicySession}, or
 * switch unchanged {@code Transport.send} programs to mailtls by session property with the
 * Transport provider {@link io.mailtls.jakartamail.MailtlsTransport} (protocol {@code mailtls}).
 *
 * <p>Jakarta Mail ({@code jakarta.mail-api}, with an implementation such as Angus Mail) is the
 * application's dependency; this module declares it {@code provided}.
 */
@NullMarked
package io.mailtls.jakartamail;

import org.jspecify.annotations.NullMarked;
