/** Internals of mailtls-redis: the value codec and the Lua scripts. Not an API. */
@NullMarked
package io.mailtls.redis.internal;

import org.jspecify.annotations.NullMarked;
