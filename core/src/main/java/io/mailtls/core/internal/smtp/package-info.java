/**
 * The SMTP codec of {@code mailtls-core}: the bounded reply reader, command encoding, EHLO
 * capabilities, the DATA and BDAT encoders, content measurement, and {@link
 * io.mailtls.core.internal.smtp.PeerText}, which makes peer-controlled text safe.
 *
 * <p>Not API: types here may change in any release, without notice. Besides {@code
 * io.mailtls.core}, only two sibling modules may use it, and the module exports it to them alone
 * ({@code exports ... to}, docs/design.md §5): {@code io.mailtls.dane} ({@code PeerText}, for
 * certificate text in DANE failures) and {@code io.mailtls.jakartamail} ({@code ContentScanner}, so
 * that long lines are measured as the transport measures them). Any other module, yours included,
 * cannot read it on the module path and must not use it on the class path.
 */
@NullMarked
package io.mailtls.core.internal.smtp;

import org.jspecify.annotations.NullMarked;
