package io.mailtls.redis.internal;

/** The Lua scripts of the TLS-RPT stores; each runs atomically in Redis. */
public final class CountScripts {

  private CountScripts() {}

  /**
   * Merge. KEYS[1] the day's hash, KEYS[2] the days sorted set, KEYS[3] the merge's marker ({@code
   * merged:<batch id>}), KEYS[4] the day's reported mark; ARGV[1] the day (ISO date), ARGV[2] its
   * epoch day (the score), ARGV[3] the hash's time to live in seconds, ARGV[4] the marker's, then
   * field and increment pairs. Returns 0 when this batch was merged before (a retry whose earlier
   * answer was lost; checked first, since such a batch is in the counts the day's reports read), -1
   * without adding anything when the day's reports went out (its counts were read for them, or
   * discarded), else (1; 2 when it replaced a field, 3 a key, below) adds every increment
   * (HINCRBY), records the day and the batch's marker and renews the hash's expiry, all in one
   * script: another process sees all of a merge or none of it, and a batch is added once however
   * often it is sent while its marker lives.
   *
   * <p>Redis does not undo what a script wrote before it failed, so nothing is written before every
   * field is checked: a field that holds anything but 1 to 18 decimal digits (another tool, an
   * altered value; {@code HINCRBY} would fail on it, or overflow) is deleted before the increments
   * are added, so that the counter restarts from this merge, and the script returns 2 instead of 1.
   * A value longer than 18 octets is deleted unread (HSTRLEN first): copying one another tool
   * filled with megabytes into Lua held Redis, and so every process of the fleet, on every merge of
   * the day. Without the check, {@code HINCRBY} failed after the marker was set and some counters
   * were added: the retry found the marker and the rest of the batch was lost unreported. Likewise
   * the day's key when it is not a hash, and the days set's when it is not a sorted set (written by
   * another tool; every command on it failed with WRONGTYPE), are deleted first, and the script
   * returns 3: before, such a day's key failed every merge, which the store took for Redis being
   * away, so the batch and every later one, of any day, waited behind it; such a days set failed
   * {@code ZADD} after the counts were added, and every read of the days.
   */
  public static final RedisLink.Script MERGE =
      RedisLink.Script.of(
          "if redis.call('EXISTS', KEYS[3]) == 1 then\n"
              + "  return 0\n"
              + "end\n"
              + "if redis.call('EXISTS', KEYS[4]) == 1 then\n"
              + "  return -1\n"
              + "end\n"
              + "local replaced = 1\n"
              + "local function own(key, kind)\n"
              + "  local t = redis.call('TYPE', key)['ok']\n"
              + "  if t ~= kind and t ~= 'none' then\n"
              + "    redis.call('DEL', key)\n"
              + "    replaced = 3\n"
              + "  end\n"
              + "end\n"
              + "own(KEYS[1], 'hash')\n"
              + "own(KEYS[2], 'zset')\n"
              + "for i = 5, #ARGV, 2 do\n"
              + "  local bad = redis.call('HSTRLEN', KEYS[1], ARGV[i]) > 18\n"
              + "  if not bad then\n"
              + "    local v = redis.call('HGET', KEYS[1], ARGV[i])\n"
              + "    bad = v and not string.match(v, '^%d+$')\n"
              + "  end\n"
              + "  if bad then\n"
              + "    redis.call('HDEL', KEYS[1], ARGV[i])\n"
              + "    if replaced == 1 then replaced = 2 end\n"
              + "  end\n"
              + "end\n"
              + "redis.call('SET', KEYS[3], '1', 'EX', ARGV[4])\n"
              + "for i = 5, #ARGV, 2 do\n"
              + "  redis.call('HINCRBY', KEYS[1], ARGV[i], ARGV[i + 1])\n"
              + "end\n"
              + "redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])\n"
              + "redis.call('EXPIRE', KEYS[1], ARGV[3])\n"
              + "return replaced\n");

  /**
   * The bound check of {@link #READ} and {@link #READ_FOR_REPORT}: returns {@code {'over', fields,
   * octets}} from the script when the day's hash (KEYS[1]) has more than {@code maxFields} fields
   * (HLEN, before anything is read) or its fields and values add up to more than {@code maxOctets}
   * octets; otherwise leaves its flat HGETALL reply in {@code all}.
   */
  private static String boundedHgetall(String maxFields, String maxOctets) {
    return "local n = redis.call('HLEN', KEYS[1])\n"
        + "if n > tonumber("
        + maxFields
        + ") then return {'over', tostring(n), '-1'} end\n"
        + "local all = redis.call('HGETALL', KEYS[1])\n"
        + "local octets = 0\n"
        + "for i = 1, #all do octets = octets + #all[i] end\n"
        + "if octets > tonumber("
        + maxOctets
        + ") then return {'over', tostring(n), tostring(octets)} end\n";
  }

  /**
   * Read. KEYS[1] the day's hash; ARGV[1] the most fields, ARGV[2] the most octets (fields and
   * values) read. Returns {@code {'ok', field, value, ...}} (HGETALL), or {@code {'over', fields,
   * octets}} without the hash when it holds more (octets -1: not counted, the fields were too
   * many): a reply of bounded size, however large the hash grew.
   */
  public static final RedisLink.Script READ =
      RedisLink.Script.of(
          boundedHgetall("ARGV[1]", "ARGV[2]") + "table.insert(all, 1, 'ok')\n" + "return all\n");

  /**
   * Read for the report. KEYS[1] the day's hash, KEYS[2] the day's reported mark; ARGV[1] the
   * mark's time to live in seconds, ARGV[2] and ARGV[3] the bounds of {@link #READ}. Marks the day
   * reported and returns its hash as {@link #READ} does, in one script: a merge either came before
   * and is in what was read, or comes after and is refused ({@link #MERGE} returns -1), never added
   * to counts the report no longer reads and that {@link #DISCARD} then deletes. A hash over the
   * bounds is answered {@code {'over', ...}} and the day is not marked: nothing is reported from
   * it, and merges go on.
   */
  public static final RedisLink.Script READ_FOR_REPORT =
      RedisLink.Script.of(
          boundedHgetall("ARGV[2]", "ARGV[3]")
              + "redis.call('SET', KEYS[2], '1', 'EX', ARGV[1])\n"
              + "table.insert(all, 1, 'ok')\n"
              + "return all\n");

  /**
   * Days. KEYS[1] the days sorted set; ARGV[1] the prefix of the day hashes' keys, ARGV[2] the most
   * members looked at. Forgets the members whose hash expired, or whose key is not a hash (nothing
   * mailtls counted, and every read of it would fail), and those longer than an ISO date's 10
   * characters, and returns {@code {'ok', day, ...}}, the days whose hash exists, oldest first; or,
   * when the set holds more than ARGV[2] members, forgets those of the oldest ARGV[2] that hold
   * nothing and returns {@code {'over', members}}: a set filled with members that hold nothing
   * shrinks from call to call, and no answer leaves a member unread.
   */
  public static final RedisLink.Script DAYS =
      RedisLink.Script.of(
          "local max = tonumber(ARGV[2])\n"
              + "local n = redis.call('ZCARD', KEYS[1])\n"
              + "local out = {'ok'}\n"
              + "for _, d in ipairs(redis.call('ZRANGE', KEYS[1], 0, max - 1)) do\n"
              + "  if #d <= 10 and redis.call('TYPE', ARGV[1] .. d)['ok'] == 'hash' then\n"
              + "    table.insert(out, d)\n"
              + "  else\n"
              + "    redis.call('ZREM', KEYS[1], d)\n"
              + "  end\n"
              + "end\n"
              + "if n > max then return {'over', tostring(n)} end\n"
              + "return out\n");

  /**
   * Discard. KEYS[1] the day's hash, KEYS[2] the days sorted set, KEYS[3] the day's reported mark;
   * ARGV[1] the day, ARGV[2] the mark's time to live in seconds. Deletes the counts and marks the
   * day reported, so that a merge arriving later (a batch kept while Redis was away) is refused
   * instead of starting a second report for the day.
   */
  public static final RedisLink.Script DISCARD =
      RedisLink.Script.of(
          "redis.call('DEL', KEYS[1])\n"
              + "redis.call('ZREM', KEYS[2], ARGV[1])\n"
              + "redis.call('SET', KEYS[3], '1', 'EX', ARGV[2])\n"
              + "return 1\n");

  /**
   * Claim. KEYS[1] the claim's key, KEYS[2] the report's settled mark; ARGV[1] the holder's token,
   * ARGV[2] the lease in milliseconds. 1 when claimed; 0 when another holds it or the report is
   * settled; 2 when claimed after deleting a key without expiry at either place. mailtls writes
   * both with a time to live (the lease, the settled retention), so a key without one was left by
   * another tool: kept, it would hold the claim or fake the settled mark for ever, and the report
   * would never be sent.
   */
  public static final RedisLink.Script CLAIM =
      RedisLink.Script.of(
          "local foreign = 0\n"
              + "for _, k in ipairs(KEYS) do\n"
              + "  if redis.call('PTTL', k) == -1 then\n"
              + "    redis.call('DEL', k)\n"
              + "    foreign = 1\n"
              + "  end\n"
              + "end\n"
              + "if redis.call('EXISTS', KEYS[2]) == 1 then\n"
              + "  return 0\n"
              + "end\n"
              + "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then\n"
              + "  return 1 + foreign\n"
              + "end\n"
              + "return 0\n");

  /**
   * Renew. KEYS[1] the claim's key; ARGV[1] the holder's token, ARGV[2] the lease in milliseconds.
   * 1 when the claim was still this holder's and now lasts the lease from now; 0 otherwise. The
   * value is read only when it is as long as the token (STRLEN first): copying one another tool
   * filled with megabytes into Lua held Redis, and every process of the fleet, for the copy.
   */
  public static final RedisLink.Script RENEW =
      RedisLink.Script.of(
          "if redis.call('STRLEN', KEYS[1]) == #ARGV[1]"
              + " and redis.call('GET', KEYS[1]) == ARGV[1] then\n"
              + "  redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
              + "  return 1\n"
              + "end\n"
              + "return 0\n");

  /**
   * Release. KEYS[1] the claim's key; ARGV[1] the holder's token. Deletes it if still held; reads
   * the value only when it is as long as the token, as {@link #RENEW} does.
   */
  public static final RedisLink.Script RELEASE =
      RedisLink.Script.of(
          "if redis.call('STRLEN', KEYS[1]) == #ARGV[1]"
              + " and redis.call('GET', KEYS[1]) == ARGV[1] then\n"
              + "  return redis.call('DEL', KEYS[1])\n"
              + "end\n"
              + "return 0\n");
}
