/**
 * Internal seams of {@code mailtls-core} shared with mailtls's own packages, modules and tests:
 * {@link io.mailtls.core.internal.Values}, which builds the read-only values of {@code
 * io.mailtls.core} (docs/design.md §5). Not API: types here may change in any release, and
 * applications must not use them.
 */
package io.mailtls.core.internal;
