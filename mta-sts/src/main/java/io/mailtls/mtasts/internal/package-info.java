/**
 * Internal seams of the module {@code io.mailtls.mtasts}: {@link
 * io.mailtls.mtasts.internal.HttpsHardening}, what the MTA-STS policy fetch and the TLS-RPT report
 * upload both do to an application's {@code OkHttpClient} before a host that someone else's DNS
 * names is asked anything.
 *
 * <p>Not API: types here may change in any release, without notice. The module exports this package
 * only to {@code io.mailtls.tlsrpt}, whose {@code HttpsReportSender} shares the rules. Applications
 * must not use it.
 */
@NullMarked
package io.mailtls.mtasts.internal;

import org.jspecify.annotations.NullMarked;
