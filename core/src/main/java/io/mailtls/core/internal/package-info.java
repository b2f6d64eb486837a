/**
 * Internal seams of {@code mailtls-core}: {@link io.mailtls.core.internal.Values}, which builds the
 * values of {@code io.mailtls.core} that callers only read (docs/design.md §5).
 *
 * <p>Not API: types here may change in any release, without notice. Only {@code io.mailtls.core}
 * uses them, in its own internal packages (the transport, the planner's rules, the probe), and the
 * module does not export this package; the tests of {@code mailtls-dane} and {@code
 * mailtls-jakarta-mail} build values with them, compiled with {@code --add-exports}. Applications
 * must not use them.
 */
@NullMarked
package io.mailtls.core.internal;

import org.jspecify.annotations.NullMarked;
