/**
 * Internals of {@code mailtls-jakarta-mail}: the content pipe and writer threads, envelope
 * extraction, the policy socket factory and Angus Mail's property names. Not API: types here may
 * change in any release.
 *
 * <p>Core internals used here, a documented seam of {@code mailtls-core} (DESIGN §4): {@code
 * io.mailtls.core.internal.tls.TlsSupport} (the TLS layering and the trust manager each {@code
 * TlsRequirement} calls for), so that Angus Mail sessions configured by {@code
 * AngusPolicySession} make the same trust decision as {@code SecureSmtpTransport}.
 */
package io.mailtls.jakartamail.internal;
