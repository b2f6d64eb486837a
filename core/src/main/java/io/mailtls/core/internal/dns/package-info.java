/**
 * The dnsjava engine behind {@code io.mailtls.core.DnssecResolver}: queries, CNAME chains,
 * responses turned into {@code DnsAnswer}s with their DNSSEC state, and the checks on trust-anchor
 * text.
 *
 * <p>Not API: types here may change in any release, without notice. Only {@code io.mailtls.core}
 * uses them; the module does not export this package. Use {@code DnssecResolver} and {@code
 * DnsResolver}.
 */
@NullMarked
package io.mailtls.core.internal.dns;

import org.jspecify.annotations.NullMarked;
