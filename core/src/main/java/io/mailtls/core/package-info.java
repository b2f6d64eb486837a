/**
 * The mailtls API: {@link io.mailtls.core.SecureSmtpTransport} and what it is built from and
 * reports. Nothing here is null unless marked {@code @Nullable}; an absent result is an {@link
 * java.util.Optional}.
 */
@NullMarked
package io.mailtls.core;

import org.jspecify.annotations.NullMarked;
