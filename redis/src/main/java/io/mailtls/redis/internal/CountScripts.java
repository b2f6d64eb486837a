package io.mailtls.redis.internal;

/** The Lua scripts of the TLS-RPT stores; each runs atomically in Redis. */
public final class CountScripts {

  private CountScripts() {}

  /**
   * Merge. KEYS[1] the day's hash, KEYS[2] the days sorted set; ARGV[1] the day (ISO date), ARGV[2]
   * its epoch day (the score), ARGV[3] the hash's time to live in seconds, then field and increment
   * pairs. Adds every increment (HINCRBY), records the day and renews the hash's expiry, all in one
   * script: another process sees all of a merge or none of it.
   */
  public static final RedisLink.Script MERGE =
      RedisLink.Script.of(
          "for i = 4, #ARGV, 2 do\n"
              + "  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])\n"
              + "end\n"
              + "redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])\n"
              + "redis.call('EXPIRE', KEYS[1], ARGV[3])\n"
              + "return 1\n");

  /**
   * Days. KEYS[1] the days sorted set; ARGV[1] the prefix of the day hashes' keys. Returns the days
   * whose hash exists, oldest first, and forgets those whose hash expired.
   */
  public static final RedisLink.Script DAYS =
      RedisLink.Script.of(
          "local out = {}\n"
              + "for _, d in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do\n"
              + "  if redis.call('EXISTS', ARGV[1] .. d) == 1 then\n"
              + "    table.insert(out, d)\n"
              + "  else\n"
              + "    redis.call('ZREM', KEYS[1], d)\n"
              + "  end\n"
              + "end\n"
              + "return out\n");

  /** Discard. KEYS[1] the day's hash, KEYS[2] the days sorted set; ARGV[1] the day. */
  public static final RedisLink.Script DISCARD =
      RedisLink.Script.of(
          "redis.call('DEL', KEYS[1])\n" + "redis.call('ZREM', KEYS[2], ARGV[1])\n" + "return 1\n");

  /** Release. KEYS[1] the claim's key; ARGV[1] the holder's token. Deletes it if still held. */
  public static final RedisLink.Script RELEASE =
      RedisLink.Script.of(
          "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
              + "  return redis.call('DEL', KEYS[1])\n"
              + "end\n"
              + "return 0\n");
}
