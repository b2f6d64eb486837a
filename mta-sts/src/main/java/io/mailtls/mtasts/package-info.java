/**
 * MTA-STS (RFC 8461) for mailtls: {@link io.mailtls.mtasts.MtaStsResolver} and its policy fetcher
 * and stores.
 */
@NullMarked
package io.mailtls.mtasts;

import org.jspecify.annotations.NullMarked;
