/**
 * State shared by a fleet of mailtls senders through Redis: {@link RedisPolicyStore}, an MTA-STS
 * {@link io.mailtls.mtasts.PolicyStore} (RFC 8461 §5.1) that every process reads and writes; {@link
 * RedisDowngradeMemory}, the {@link io.mailtls.core.DowngradeMemory} of the fleet; {@link
 * RedisAggregateStore}, the TLS-RPT daily counts of every process (RFC 8460 §4.1); and {@link
 * RedisReportClaim}, which lets one process write each report. Each keeps a bounded local layer or
 * queue in front of Redis, so that a Redis outage never reads as "no policy", "nothing seen" or "no
 * sessions", and bounds every call on Redis by its command timeout. Key layout, value formats and
 * failure rules: docs/redis.md.
 */
@NullMarked
package io.mailtls.redis;

import org.jspecify.annotations.NullMarked;
