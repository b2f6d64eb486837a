/**
 * DANE for SMTP (RFC 7672, with RFC 6698 and RFC 7671): {@link io.mailtls.dane.DaneResolver}
 * discovers each MX host's TLSA records from DNSSEC-validated answers and is the {@link
 * io.mailtls.core.DaneProvider} to hand to {@code SecureSmtpTransport.Builder.dane(...)}; {@link
 * io.mailtls.dane.DaneTrustManager} authenticates one connection against the usable records; {@link
 * io.mailtls.dane.TlsaUsability} says which records an SMTP client can use.
 *
 * <p>The rules follow Postfix's SMTP client (and mox): a DNS failure is never "no DANE", DANE-TA is
 * validated against its own anchor and never against public roots, and DANE-TA always checks names.
 * Implementation details live in {@code io.mailtls.dane.internal}, which is not API.
 */
@NullMarked
package io.mailtls.dane;

import org.jspecify.annotations.NullMarked;
