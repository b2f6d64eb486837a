/**
 * The implementation of {@link io.mailtls.testkit.MtaStsServer}: certificate selection by SNI
 * ({@link io.mailtls.testkit.internal.mtasts.SniKeyManager}) and a TLS server socket factory whose
 * context can be renewed ({@link io.mailtls.testkit.internal.mtasts.RenewableSslSocketFactory}).
 *
 * <p>Not API: these types may change in any release, without notice. Only {@code
 * io.mailtls.testkit} uses them; the module does not export this package. Use {@code
 * io.mailtls.testkit}.
 */
@NullMarked
package io.mailtls.testkit.internal.mtasts;

import org.jspecify.annotations.NullMarked;
