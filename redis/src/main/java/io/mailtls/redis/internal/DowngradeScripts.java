package io.mailtls.redis.internal;

/** The Lua script of the downgrade-memory store; it runs atomically in Redis. */
public final class DowngradeScripts {

  private DowngradeScripts() {}

  /** The hash field of the last time TLS (authenticated or not) was seen, epoch milliseconds. */
  public static final String TLS = "tls";

  /** The hash field of the last time authenticated TLS was seen, epoch milliseconds. */
  public static final String AUTHENTICATED_TLS = "authenticated_tls";

  /**
   * Raise. KEYS[1] the domain's hash; ARGV[1] a TLS time and ARGV[2] an authenticated-TLS time, in
   * epoch milliseconds as decimal digits, either empty for "none"; ARGV[3] the retention in
   * milliseconds; ARGV[4] how far ahead of Redis's clock ({@code TIME}) a time may be, in
   * milliseconds. Each field becomes the maximum of what it holds and the time given (a value that
   * is not 1 to 15 decimal digits, the form mailtls writes and reads, is replaced: Lua's {@code
   * tonumber} would take {@code 1e20}, {@code nan} or hex, and keep such a value as the maximum
   * forever; so is a held value further ahead of Redis's clock than ARGV[4], which as the maximum
   * would never expire and would swallow every later raise; such a time given is ignored, and a
   * field left with no readable time is removed); an authenticated time raises {@code tls} too, so
   * {@code tls} is never earlier than {@code authenticated_tls}. The key then expires the retention
   * after its newest time (PEXPIREAT). Values are written as the digits given or kept, never
   * reformatted by Lua. A held field longer than 15 octets is never read into Lua (HSTRLEN first):
   * copying and scanning one another tool filled with megabytes held Redis, and so every process of
   * the fleet, for as long as that took. A key that is not a hash (written by another tool, without
   * expiry) is replaced: every command on it failed with WRONGTYPE, so the raise was queued as if
   * Redis were away, retried by every call, and no other process learned of the domain's TLS.
   * Returns 1 if a field changed, else 0.
   */
  public static final RedisLink.Script RAISE =
      RedisLink.Script.of(
          "local now = redis.call('TIME')\n"
              + "local latest = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)"
              + " + tonumber(ARGV[4])\n"
              + "local function number(v)\n"
              + "  if v and string.len(v) <= 15"
              + " and string.match(v, '^%d+$')"
              + " and tonumber(v) <= latest then return v end\n"
              + "  return false\n"
              + "end\n"
              + "local function later(a, b)\n"
              + "  if not a then return b end\n"
              + "  if not b then return a end\n"
              + "  if tonumber(b) > tonumber(a) then return b end\n"
              + "  return a\n"
              + "end\n"
              + "local kind = redis.call('TYPE', KEYS[1])['ok']\n"
              + "if kind ~= 'hash' and kind ~= 'none' then redis.call('DEL', KEYS[1]) end\n"
              + "local function field(f)\n"
              + "  if redis.call('HSTRLEN', KEYS[1], f) > 15 then return '' end\n"
              + "  return redis.call('HGET', KEYS[1], f)\n"
              + "end\n"
              + "local cur = {field('tls'), field('authenticated_tls')}\n"
              + "local auth = later(number(cur[2]), number(ARGV[2]))\n"
              + "local tls = later(later(number(cur[1]), number(ARGV[1])), auth)\n"
              + "local changed = 0\n"
              + "if tls and tls ~= cur[1] then\n"
              + "  redis.call('HSET', KEYS[1], 'tls', tls)\n"
              + "  changed = 1\n"
              + "end\n"
              + "if auth and auth ~= cur[2] then\n"
              + "  redis.call('HSET', KEYS[1], 'authenticated_tls', auth)\n"
              + "  changed = 1\n"
              + "end\n"
              + "if not auth and cur[2] then\n"
              + "  redis.call('HDEL', KEYS[1], 'authenticated_tls')\n"
              + "  changed = 1\n"
              + "end\n"
              + "if not tls and cur[1] then\n"
              + "  redis.call('HDEL', KEYS[1], 'tls')\n"
              + "  changed = 1\n"
              + "end\n"
              + "if tls then\n"
              + "  local newest = tonumber(tls)\n"
              + "  if auth and tonumber(auth) > newest then newest = tonumber(auth) end\n"
              + "  redis.call('PEXPIREAT', KEYS[1],"
              + " string.format('%.0f', newest + tonumber(ARGV[3])))\n"
              + "end\n"
              + "return changed\n");

  /** The most octets of a field {@link #READ} sends: a time is 1 to 15 decimal digits. */
  public static final int MAX_FIELD_OCTETS = 15;

  /**
   * Read. KEYS[1] the domain's hash. Returns {@code tls} and {@code authenticated_tls}, each nil
   * when absent and the empty string when longer than {@link #MAX_FIELD_OCTETS} octets (no time
   * mailtls writes or reads; not sent, however large: HMGET sent a field another tool filled with
   * megabytes whole, on every read); answers WRONGTYPE for a key that is not a hash, as HMGET did.
   */
  public static final RedisLink.Script READ =
      RedisLink.Script.of(
          "local kind = redis.call('TYPE', KEYS[1])['ok']\n"
              + "if kind == 'none' then return {false, false} end\n"
              + "if kind ~= 'hash' then\n"
              + "  return redis.error_reply("
              + "'WRONGTYPE Operation against a key holding the wrong kind of value')\n"
              + "end\n"
              + "local out = {}\n"
              + "for i, f in ipairs({'tls', 'authenticated_tls'}) do\n"
              + "  local n = redis.call('HSTRLEN', KEYS[1], f)\n"
              + "  if n == 0 then out[i] = redis.call('HGET', KEYS[1], f) or false\n"
              + "  elseif n > "
              + MAX_FIELD_OCTETS
              + " then out[i] = ''\n"
              + "  else out[i] = redis.call('HGET', KEYS[1], f) end\n"
              + "end\n"
              + "return out\n");
}
