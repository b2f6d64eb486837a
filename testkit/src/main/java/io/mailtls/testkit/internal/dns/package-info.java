/**
 * The implementation of {@link io.mailtls.testkit.TestDnsServer}: zone compilation and DNSSEC
 * signing ({@link io.mailtls.testkit.internal.dns.ZoneCompiler}), authoritative lookups (RFC 1034
 * §4.3.2, RFC 4035 §3.1) in {@link io.mailtls.testkit.internal.dns.ServedZone}, message handling in
 * {@link io.mailtls.testkit.internal.dns.Responder}, and the UDP/TCP sockets.
 *
 * <p>Not API: these types may change in any release, without notice. Only {@code
 * io.mailtls.testkit} uses them; the module does not export this package. Use {@code
 * io.mailtls.testkit}.
 */
@NullMarked
package io.mailtls.testkit.internal.dns;

import org.jspecify.annotations.NullMarked;
