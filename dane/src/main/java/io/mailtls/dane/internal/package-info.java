/**
 * Internals of {@code mailtls-dane}: TLSA association data, digest agility and DANE-TA path
 * validation. Not API: types here may change in any release, without notice. Only {@code
 * io.mailtls.dane} uses them, and the module does not export this package; use {@link
 * io.mailtls.dane.DaneResolver} and {@link io.mailtls.dane.DaneTrustManager}.
 *
 * <p>Core internals used here, each a documented seam of {@code mailtls-core}: {@code
 * io.mailtls.core.internal.tls.CertificateFailure} (the typed certificate failure the transport
 * reads from a failed handshake) and {@code io.mailtls.core.internal.tls.HostnameMatcher} (RFC 6125
 * name matching shared with PKIX verification), which {@code io.mailtls.core} exports to this
 * module by name.
 */
@NullMarked
package io.mailtls.dane.internal;

import org.jspecify.annotations.NullMarked;
