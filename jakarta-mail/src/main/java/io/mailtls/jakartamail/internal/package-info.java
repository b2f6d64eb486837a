/**
 * Internals of {@code mailtls-jakarta-mail}: the content pipe and writer threads, envelope
 * extraction, the re-encoding of parts with overlong lines, the policy socket factory and Angus
 * Mail's property names. Not API: types here may change in any release, without notice. Only {@code
 * io.mailtls.jakartamail} uses them, and the module does not export this package.
 *
 * <p>Core internals used here, a documented seam of {@code mailtls-core}: {@code
 * io.mailtls.core.internal.tls.TlsSupport} (the TLS layering and the trust manager each {@code
 * TlsRequirement} calls for), so that Angus Mail sessions configured by {@code AngusPolicySession}
 * make the same trust decision as {@code SecureSmtpTransport}; and {@code
 * io.mailtls.core.internal.smtp.ContentScanner}, so that {@code LongLines} measures lines exactly
 * as the transport does before it refuses a line over 998 octets. {@code io.mailtls.core} exports
 * both packages to this module by name.
 */
@NullMarked
package io.mailtls.jakartamail.internal;

import org.jspecify.annotations.NullMarked;
