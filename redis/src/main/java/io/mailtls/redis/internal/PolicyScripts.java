package io.mailtls.redis.internal;

/** The Lua scripts of the policy store; each runs atomically in Redis. */
public final class PolicyScripts {

  private PolicyScripts() {}

  /**
   * Compare-and-set. KEYS[1] the policy key; ARGV[1] the new value, ARGV[2] its {@code
   * fetched_at_ms}, ARGV[3] its id, ARGV[4] its TTL in milliseconds, ARGV[5] the writer's now plus
   * the fleet's clock tolerance, in epoch milliseconds. Stores the value unless the key holds an
   * entry fetched later, or fetched in the same millisecond with an id that sorts the same or
   * later; a value the script cannot read (not JSON, no {@code fetched_at_ms}) is replaced. An
   * entry fetched after ARGV[5] (a clock that ran ahead and went back, or an altered value) is
   * older than one that is not: it never keeps a later fetch out (RFC 8461 §10.2). Without ARGV[5]
   * (a writer of an earlier version) that rule is left out. Returns 1 if stored, 0 if the stored
   * entry was kept.
   */
  public static final RedisLink.Script PUT_IF_NEWER =
      RedisLink.Script.of(
          "local current = redis.call('GET', KEYS[1])\n"
              + "if current then\n"
              + "  local ok, old = pcall(cjson.decode, current)\n"
              + "  if ok and type(old) == 'table' and type(old.fetched_at_ms) == 'number' then\n"
              + "    local at = tonumber(ARGV[2])\n"
              + "    local now = tonumber(ARGV[5])\n"
              + "    local oldAhead = now ~= nil and old.fetched_at_ms > now\n"
              + "    local newAhead = now ~= nil and at > now\n"
              + "    if oldAhead ~= newAhead then\n"
              + "      if newAhead then return 0 end\n"
              + "    else\n"
              + "      if old.fetched_at_ms > at then return 0 end\n"
              + "      if old.fetched_at_ms == at and type(old.id) == 'string'"
              + " and old.id >= ARGV[3] then return 0 end\n"
              + "    end\n"
              + "  end\n"
              + "end\n"
              + "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])\n"
              + "return 1\n");

  /**
   * Compare-and-delete. KEYS[1] the policy key; ARGV[1] a {@code fetched_at_ms}. Deletes the key
   * unless it holds an entry fetched after that time (a newer policy some process stored). Returns
   * 1 if deleted.
   */
  public static final RedisLink.Script DELETE_IF_NOT_NEWER =
      RedisLink.Script.of(
          "local current = redis.call('GET', KEYS[1])\n"
              + "if not current then return 0 end\n"
              + "local ok, old = pcall(cjson.decode, current)\n"
              + "if ok and type(old) == 'table' and type(old.fetched_at_ms) == 'number'"
              + " and old.fetched_at_ms > tonumber(ARGV[1]) then return 0 end\n"
              + "redis.call('DEL', KEYS[1])\n"
              + "return 1\n");
}
