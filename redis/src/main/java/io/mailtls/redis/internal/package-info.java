/**
 * Internals of {@code mailtls-redis}: the Redis value codec, the Lua scripts and the bounded
 * Lettuce connection behind {@link io.mailtls.redis.RedisPolicyStore}.
 *
 * <p>Not API: types here may change in any release, without notice. Only {@code io.mailtls.redis}
 * uses them, and the module does not export this package. Applications must not use them.
 */
@NullMarked
package io.mailtls.redis.internal;

import org.jspecify.annotations.NullMarked;
