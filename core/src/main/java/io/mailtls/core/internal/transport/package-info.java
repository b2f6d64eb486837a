/**
 * The SMTP session and transaction behind {@code io.mailtls.core.SecureSmtpTransport}: opening a
 * session under a TLS requirement, the mail transaction, delivery to one next hop with MX failover,
 * the connection pool, time bounds on every socket operation, and the STARTTLS probe's session.
 *
 * <p>Not API: types here may change in any release, without notice. Only {@code io.mailtls.core}
 * uses them; the module does not export this package. Use {@code SecureSmtpTransport} and {@code
 * StarttlsProbe}.
 */
@NullMarked
package io.mailtls.core.internal.transport;

import org.jspecify.annotations.NullMarked;
