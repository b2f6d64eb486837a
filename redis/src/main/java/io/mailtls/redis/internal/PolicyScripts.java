package io.mailtls.redis.internal;

/** The Lua scripts of the policy store; each runs atomically in Redis. */
public final class PolicyScripts {

  private PolicyScripts() {}

  /**
   * The most octets of a policy entry that a reader reads and the scripts decode: a policy is at
   * most 64 KiB of text, far less than this once encoded, so a larger value is not one mailtls
   * wrote. Readers ignore it unread; the scripts replace or delete it unread (decoding megabytes
   * held Redis, and every process of the fleet, on every write of the domain's policy).
   */
  public static final int MAX_VALUE_OCTETS = 256 * 1024;

  /**
   * Compare-and-set. KEYS[1] the policy key; ARGV[1] the new value, ARGV[2] its {@code
   * fetched_at_ms}, ARGV[3] its id, ARGV[4] its TTL in milliseconds, ARGV[5] the writer's now plus
   * the fleet's clock tolerance and ARGV[6] its now less the tolerance, in epoch milliseconds.
   * Stores the value unless the key holds an entry fetched later, or fetched in the same
   * millisecond with an id that sorts the same or later; a value the script cannot read (not JSON,
   * no {@code fetched_at_ms}), or a key that is not a string (written by another tool, without
   * expiry: every command on it failed with WRONGTYPE, so no process could share the domain's
   * policy), is replaced. An entry fetched after ARGV[5] is "ahead" (a host whose clock runs ahead
   * of the writer's, a clock that went back, an altered value) and counts as fetched at ARGV[6]: it
   * never loses to an entry fetched before that, so a writer whose clock runs behind cannot roll
   * the fleet back (RFC 8461 §10.2), and a fetch made since replaces it, so that it never keeps
   * later fetches out; at the same time, the entry that is not ahead wins. Without ARGV[5] (a
   * writer of an earlier version) there is no "ahead"; without ARGV[6], an entry dated ahead is
   * older than any other, as that version ordered them. Returns 1 if stored, 0 if the stored entry
   * was kept. A value over {@link #MAX_VALUE_OCTETS} is replaced unread, as readers ignore it.
   */
  public static final RedisLink.Script PUT_IF_NEWER =
      RedisLink.Script.of(
          "local kind = redis.call('TYPE', KEYS[1])['ok']\n"
              + "if kind ~= 'string' and kind ~= 'none' then redis.call('DEL', KEYS[1]) end\n"
              + "local current = false\n"
              + "if redis.call('STRLEN', KEYS[1]) <= "
              + MAX_VALUE_OCTETS
              + " then current = redis.call('GET', KEYS[1]) end\n"
              + "if current then\n"
              + "  local ok, old = pcall(cjson.decode, current)\n"
              + "  if ok and type(old) == 'table' and type(old.fetched_at_ms) == 'number' then\n"
              + "    local at = tonumber(ARGV[2])\n"
              + "    local limit = tonumber(ARGV[5])\n"
              + "    local floor = tonumber(ARGV[6]) or -1\n"
              + "    local oldAhead = limit ~= nil and old.fetched_at_ms > limit\n"
              + "    local newAhead = limit ~= nil and at > limit\n"
              + "    local oldAt = old.fetched_at_ms\n"
              + "    if oldAhead then oldAt = floor end\n"
              + "    local newAt = at\n"
              + "    if newAhead then newAt = floor end\n"
              + "    if oldAt > newAt then return 0 end\n"
              + "    if oldAt == newAt then\n"
              + "      if oldAhead ~= newAhead then\n"
              + "        if newAhead then return 0 end\n"
              + "      else\n"
              + "        if old.fetched_at_ms > at then return 0 end\n"
              + "        if old.fetched_at_ms == at and type(old.id) == 'string'"
              + " and old.id >= ARGV[3] then return 0 end\n"
              + "      end\n"
              + "    end\n"
              + "  end\n"
              + "end\n"
              + "redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[4])\n"
              + "return 1\n");

  /**
   * Compare-and-delete. KEYS[1] the policy key; ARGV[1] a {@code fetched_at_ms}. Deletes the key
   * unless it holds an entry fetched after that time (a newer policy some process stored); a key
   * that is not a string, or holds more than {@link #MAX_VALUE_OCTETS}, holds no entry and is
   * deleted unread. Returns 1 if deleted.
   */
  public static final RedisLink.Script DELETE_IF_NOT_NEWER =
      RedisLink.Script.of(
          "local kind = redis.call('TYPE', KEYS[1])['ok']\n"
              + "if kind == 'none' then return 0 end\n"
              + "if kind ~= 'string' then return redis.call('DEL', KEYS[1]) end\n"
              + "if redis.call('STRLEN', KEYS[1]) > "
              + MAX_VALUE_OCTETS
              + " then return redis.call('DEL', KEYS[1]) end\n"
              + "local current = redis.call('GET', KEYS[1])\n"
              + "local ok, old = pcall(cjson.decode, current)\n"
              + "if ok and type(old) == 'table' and type(old.fetched_at_ms) == 'number'"
              + " and old.fetched_at_ms > tonumber(ARGV[1]) then return 0 end\n"
              + "redis.call('DEL', KEYS[1])\n"
              + "return 1\n");
}
