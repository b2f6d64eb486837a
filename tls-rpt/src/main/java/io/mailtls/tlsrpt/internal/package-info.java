/**
 * Internals of {@code mailtls-tls-rpt}: the session accounting of one delivery and the JSON form of
 * the file store's log. Not API: types here may change in any release, without notice. Only {@code
 * io.mailtls.tlsrpt} uses them, and the module does not export this package.
 */
@NullMarked
package io.mailtls.tlsrpt.internal;

import org.jspecify.annotations.NullMarked;
