/**
 * TLS for SMTP in {@code mailtls-core}: client sockets with the TLS versions and SNI the transport
 * uses ({@link io.mailtls.core.internal.tls.TlsSupport}), mailtls's trust managers, RFC 6125 name
 * matching ({@link io.mailtls.core.internal.tls.HostnameMatcher}) and the typed {@link
 * io.mailtls.core.internal.tls.CertificateFailure}.
 *
 * <p>Not API: types here may change in any release, without notice. Besides {@code
 * io.mailtls.core}, only three sibling modules may use it, and the module exports it to them alone
 * ({@code exports ... to}, docs/design.md §5): {@code io.mailtls.dane} ({@code CertificateFailure},
 * {@code HostnameMatcher} and {@code CertificateKeys}, so that DANE failures, name checks and key
 * octets are the transport's), {@code io.mailtls.jakartamail} ({@code TlsSupport}, so that Angus
 * Mail sessions make the same trust decision as the transport) and the command line {@code
 * io.mailtls.cli} ({@code CertificateKeys}, so that the SPKI digest {@code check} prints is the one
 * DANE matches). Any other module, yours included, cannot read it on the module path and must not
 * use it on the class path.
 */
@NullMarked
package io.mailtls.core.internal.tls;

import org.jspecify.annotations.NullMarked;
