/**
 * The implementation of {@link io.mailtls.testkit.TestPki}: key pairs, certificates minted with
 * Bouncy Castle's builders ({@link io.mailtls.testkit.internal.pki.CertificateMinter}), validity
 * windows, fixed-chain key managers and the DER, PEM and PKCS#12 encodings.
 *
 * <p>Not API: these types may change in any release, without notice. Only {@code
 * io.mailtls.testkit} uses them; the module does not export this package. Use {@code
 * io.mailtls.testkit}.
 */
@NullMarked
package io.mailtls.testkit.internal.pki;

import org.jspecify.annotations.NullMarked;
