/**
 * State shared by a fleet of mailtls senders through Redis: {@link RedisPolicyStore}, an MTA-STS
 * {@link io.mailtls.mtasts.PolicyStore} (RFC 8461 §5.1) that every process reads and writes, with a
 * bounded local layer in front so that a Redis outage never reads as "no policy". Key layout, value
 * format and failure rules: docs/redis.md.
 */
@NullMarked
package io.mailtls.redis;

import org.jspecify.annotations.NullMarked;
