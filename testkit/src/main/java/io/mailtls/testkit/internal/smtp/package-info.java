/**
 * The implementation of {@link io.mailtls.testkit.MockSmtpServer}: the server's configuration and
 * running sockets, the SMTP state machine of one connection with STARTTLS, AUTH, PIPELINING and
 * CHUNKING, the scripted misbehaviour ({@link io.mailtls.testkit.internal.smtp.ActionScript}), the
 * recorded sessions and messages, and a TLS 1.0/1.1-only responder.
 *
 * <p>Not API: these types may change in any release, without notice. Only {@code
 * io.mailtls.testkit} uses them; the module does not export this package. Use {@code
 * io.mailtls.testkit}.
 */
@NullMarked
package io.mailtls.testkit.internal.smtp;

import org.jspecify.annotations.NullMarked;
