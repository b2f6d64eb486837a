package io.mailtls.core.internal.dns;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.mailtls.core.internal.CacheTime;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.jspecify.annotations.Nullable;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRSIGRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * A bounded cache of the upstream's raw responses to DNSKEY and DS queries, between dnsjava's
 * validator and the upstream, each kept for its TTL as {@link CacheTime} measures time (monotonic
 * with the system clock). Thread-safe.
 *
 * <p>Why: for every zone whose own DNSKEYs it has not validated, dnsjava's {@code
 * ValidatingResolver} walks the chain of trust from the trust anchor down (its key cache is used
 * only for the signer's exact name, not as a starting point), so each new zone asked {@code DNSKEY
 * .}, {@code DS test.} and {@code DNSKEY test.} again: three round trips before the zone's own DS
 * and DNSKEY. This cache answers those again-asked questions without a round trip.
 *
 * <p>It caches bytes, never trust: the validator checks every signature of a cached response as it
 * would a fresh one (RFC 4035 §5), so a response that was bogus stays bogus for every lookup that
 * uses it. No response is kept past the expiry of a signature in it (RFC 4035 §5.3.3), so the
 * validator never finds a kept copy's signature expired where the zone has signed afresh. {@link
 * #forget} drops the chain above a name whose validation failed, so a corrupted or spoofed key
 * response costs the lookups of its failure TTL, not those of its DNS TTL. It also notes when each
 * zone's chain of trust ends, lowers the DNSKEY TTL the validator sees to it, and tells the answers
 * how long the chains that validated them last ({@link #chainSecondsLeft}).
 *
 * <p>Kept: NOERROR answers with the asked RRset, for the smallest TTL of their answer and authority
 * records (at most {@link #MAX_TTL}); NXDOMAIN and NODATA with an SOA, for the smaller of the SOA's
 * TTL and MINIMUM field and of the other authority records' TTLs (RFC 2308 §5, at most {@link
 * #MAX_NEGATIVE_TTL}); either no longer than any of their signatures' original TTL and the time
 * left until it expires (RFC 4035 §5.3.3). A TTL or MINIMUM with the most significant bit set
 * counts as zero (RFC 2181 §8), so a response carrying one is not kept. Never kept: SERVFAIL,
 * REFUSED and other rcodes, truncated responses, referrals and negative answers without an SOA (RFC
 * 2308 §5), timeouts and I/O errors, responses over {@link #MAX_RESPONSE_BYTES}. Bounded by the
 * octets kept. A hit is a copy with the query's message id and every TTL lowered by the time it was
 * held.
 */
final class KeyResponseCache extends ForwardingResolver {

  /** The longest a positive response is kept, whatever its TTL (the answer cache's default). */
  static final Duration MAX_TTL = Duration.ofDays(1);

  /** The longest a negative response is kept (RFC 2308 §5: one to three hours work well). */
  static final Duration MAX_NEGATIVE_TTL = Duration.ofHours(1);

  /**
   * A response larger than this is not kept (a root DNSKEY response is about 1.2 KB, with a key
   * rollover under way about 1.6 KB): what the cache may hold stays bounded whatever a zone serves.
   */
  static final int MAX_RESPONSE_BYTES = 4096;

  /**
   * The budget per entry, in octets of wire format: the cache holds at most this many per entry.
   */
  static final int BYTES_PER_ENTRY = 2048;

  /**
   * A response, its size in wire format and the milliseconds of {@link CacheTime} at which it was
   * stored and at which it expires.
   */
  private record Entry(Message response, int bytes, long storedAtMillis, long expiresAtMillis) {}

  private final CacheTime time;

  /** The wall clock that signature validity is read against, as the validator reads it. */
  private final Clock clock;

  private final Cache<CoalescingResolver.Key, Entry> cache;

  /**
   * Per zone, the millisecond of {@link CacheTime} at which the chain of trust of the DNSKEY RRset
   * last handed to the validator for it ends: the earliest end among that RRset, the DS RRset that
   * vouched for it and the chain of the zone above (see {@link #handedOn}). Small entries (a name
   * and a number), twice as many as the validator's key cache holds zones, so that a zone whose
   * keys the validator still holds is found here: the validator's key cache drops the least
   * recently used zone, so this one does too ({@link RecentEnds}).
   */
  private final RecentEnds chainEnds;

  /** Per name, when the DS RRset (or its denial) last handed to the validator for it ends. */
  private final RecentEnds dsEnds;

  /**
   * Ends by name, bounded by dropping the least recently put or read: recency alone, never
   * frequency. A Caffeine cache bounded by size (W-TinyLFU) may refuse a name seen once in favour
   * of names seen often, so with more zones in rotation than its bound a zone just validated, whose
   * keys the validator holds, found no end and every answer it signed was kept for no time; a DS
   * end refused that way did not bound the chain it vouched for. Only on the resolution path (a key
   * response handed on, a validated response read), never on a cache hit. Thread-safe.
   */
  private static final class RecentEnds {
    private final Map<Name, Long> ends;

    RecentEnds(long max) {
      int bound = (int) Math.min(Integer.MAX_VALUE - 1, Math.max(1, max));
      this.ends =
          new LinkedHashMap<>(16, 0.75f, true) {
            private static final long serialVersionUID = 1L;

            @Override
            protected boolean removeEldestEntry(Map.Entry<Name, Long> eldest) {
              return size() > bound;
            }
          };
    }

    synchronized @Nullable Long getIfPresent(Name name) {
      return ends.get(name);
    }

    synchronized void put(Name name, long end) {
      ends.put(name, end);
    }
  }

  /**
   * @param upstream where misses go
   * @param clock tells when an entry expires and how much to lower its TTLs; the system clock as
   *     monotonic time ({@link CacheTime})
   * @param maxEntries the most responses of {@link #BYTES_PER_ENTRY} kept (at least 1): at most
   *     {@code maxEntries * BYTES_PER_ENTRY} octets of responses in wire format
   */
  KeyResponseCache(Resolver upstream, Clock clock, int maxEntries) {
    this(upstream, clock, maxEntries, maxEntries);
  }

  /**
   * @param zones the most zones the validator's key cache holds: the chain ends of twice as many
   *     are remembered
   */
  KeyResponseCache(Resolver upstream, Clock clock, int maxEntries, int zones) {
    super(upstream);
    this.time = CacheTime.of(clock);
    this.clock = clock;
    this.cache =
        Caffeine.newBuilder()
            .maximumWeight((long) maxEntries * BYTES_PER_ENTRY)
            .<CoalescingResolver.Key, Entry>weigher((k, e) -> e.bytes())
            // eviction runs on the calling thread: no pool of our own, none of the JVM's
            .executor(Runnable::run)
            .build();
    this.chainEnds = new RecentEnds(2L * zones);
    this.dsEnds = new RecentEnds(2L * zones);
  }

  @Override
  public CompletionStage<Message> sendAsync(Message query, Executor executor) {
    Record question = query.getQuestion();
    if (question == null || (question.getType() != Type.DNSKEY && question.getType() != Type.DS)) {
      return upstream.sendAsync(query, executor);
    }
    CoalescingResolver.Key key = CoalescingResolver.Key.of(query);
    int id = query.getHeader().getID();
    Entry hit = cache.getIfPresent(key);
    if (hit != null) {
      long now = time.millis();
      Message copy = now < hit.expiresAtMillis() ? aged(hit, id, now) : null;
      if (copy != null) {
        // On the query's executor, as the upstream's futures are (CoalescingResolver.OnExecutor):
        // the validator continues with thenComposeAsync and no executor of its own.
        CoalescingResolver.OnExecutor<Message> done = new CoalescingResolver.OnExecutor<>(executor);
        done.complete(handedOn(question, copy, hit.expiresAtMillis()));
        return done;
      }
      cache.asMap().remove(key, hit);
    }
    return upstream
        .sendAsync(query, executor)
        .thenApply(
            response -> {
              try {
                store(key, question, response);
              } catch (RuntimeException e) {
                // not kept; the validator still gets the response
              }
              return handedOn(question, response, Long.MAX_VALUE);
            });
  }

  /**
   * Drops the DNSKEY and DS responses of {@code name} and of every zone above it: called when a
   * lookup of {@code name} was found bogus, so that the next lookup fetches its chain afresh.
   */
  void forget(Name name) {
    cache.asMap().keySet().removeIf(k -> name.subdomain(k.name()));
  }

  /**
   * Notes how long the chain of trust that {@code response} extends stays valid, and hands the
   * validator a DNSKEY RRset that lasts no longer. RFC 4035 §5: the keys of a zone are
   * authenticated by its DNSKEY RRset's signature, the DS RRset in the parent that points at them,
   * and so on up to the trust anchor; none authenticates anything past its signature's expiration
   * (RFC 4035 §5.3.1, §5.3.3), nor is trusted past its TTL. So a zone's chain ends at the earliest
   * of: its DNSKEY response's end (its TTLs, its signatures' original TTL and expiration, as {@link
   * #cacheableTtlSeconds} reads them), that of the DS response for the same name the validator was
   * handed (it asks for the DS just before the DNSKEY when it walks down to a zone), and the chain
   * end of the nearest zone above whose keys it was handed. dnsjava's validator keeps a zone's
   * validated keys for their DNSKEY RRset's TTL (at most 15 minutes) and does not look at the chain
   * again meanwhile: the DNSKEY and RRSIG TTLs it gets are lowered to the time left, so that it
   * keeps them no longer than their chain, and {@link #chainSecondsLeft} bounds the answers they
   * validate. Called for every DNSKEY and DS response handed on, from the cache or not; other
   * responses are not touched. Never throws: a response it cannot rewrite is handed on as it is.
   *
   * @param keptUntil when the kept response a hit hands on expires ({@link Long#MAX_VALUE} for one
   *     fresh from upstream): ageing lowers a kept copy's TTLs but not its RRSIGs' Original TTL, so
   *     read afresh, a copy whose Original TTL bounded it would end the chain later than itself
   */
  private Message handedOn(Record question, Message response, long keptUntil) {
    try {
      long now = time.millis();
      long left = Math.max(0, cacheableTtlSeconds(question, response, clock.instant()));
      long end = Math.min(now + left * 1000, keptUntil);
      Name name = question.getName();
      if (question.getType() == Type.DS) {
        dsEnds.put(name, end);
        return response;
      }
      Long ds = dsEnds.getIfPresent(name);
      if (ds != null) {
        end = Math.min(end, ds);
      }
      for (Name above = name; above.labels() > 1; ) {
        above = new Name(above, 1);
        Long up = chainEnds.getIfPresent(above);
        if (up != null) {
          end = Math.min(end, up);
          break;
        }
      }
      chainEnds.put(name, end);
      return lowered(response, name, Math.max(0, (end - now) / 1000));
    } catch (RuntimeException e) {
      return response;
    }
  }

  /**
   * The seconds left in the chain of trust of {@code zone}'s keys as last handed to the validator;
   * 0 when none were (or they are no longer remembered), so that an answer they validated is not
   * kept on trust this cache cannot vouch for.
   */
  long chainSecondsLeft(Name zone) {
    Long end = chainEnds.getIfPresent(zone);
    return end == null ? 0 : Math.max(0, (end - time.millis()) / 1000);
  }

  /**
   * {@code response}, or a copy whose DNSKEY records of {@code name} and their RRSIGs in the answer
   * section have TTLs of at most {@code maxTtl} (the TTL fields are not signed, RFC 4034 §3.1.8.1).
   */
  private static Message lowered(Message response, Name name, long maxTtl) {
    boolean over = false;
    for (Record r : response.getSection(Section.ANSWER)) {
      over |= r.getRRsetType() == Type.DNSKEY && r.getName().equals(name) && r.getTTL() > maxTtl;
    }
    if (!over) {
      return response;
    }
    Message copy = response.clone();
    List<Record> records = copy.getSection(Section.ANSWER);
    copy.removeAllRecords(Section.ANSWER);
    for (Record r : records) {
      boolean key = r.getRRsetType() == Type.DNSKEY && r.getName().equals(name);
      copy.addRecord(key && r.getTTL() > maxTtl ? withTtl(r, maxTtl) : r, Section.ANSWER);
    }
    return copy;
  }

  /** Entries held now, expired ones not yet dropped included; for tests. */
  long size() {
    cache.cleanUp();
    return cache.estimatedSize();
  }

  private void store(CoalescingResolver.Key key, Record question, Message response) {
    long ttlSeconds = cacheableTtlSeconds(question, response, clock.instant());
    if (ttlSeconds <= 0) {
      return;
    }
    int bytes = response.toWire().length;
    if (bytes > MAX_RESPONSE_BYTES) {
      return;
    }
    long now = time.millis();
    // A copy: the validator rewrites the response it is given.
    cache.put(key, new Entry(response.clone(), bytes, now, now + ttlSeconds * 1000));
  }

  /**
   * How long {@code response} may be kept, in seconds; 0 or less if it may not be. Whatever its
   * TTLs say, no longer than any signature in its answer and authority sections is valid after
   * {@code now}, nor than a signature's original TTL (RFC 4035 §5.3.3, RFC 4034 §3.1.4): a copy
   * kept past its signatures' expiry would make every zone validated through it bogus, although the
   * zone has long been signed again.
   */
  static long cacheableTtlSeconds(Record question, Message response, Instant now) {
    long ttl = responseTtlSeconds(question, response);
    if (ttl <= 0) {
      return ttl;
    }
    for (int section : new int[] {Section.ANSWER, Section.AUTHORITY}) {
      for (Record r : response.getSection(section)) {
        if (r instanceof RRSIGRecord sig) {
          ttl = Math.min(ttl, ResponseReader.ttlValue(sig.getOrigTTL()));
          ttl = Math.min(ttl, Math.max(0, Duration.between(now, sig.getExpire()).toSeconds()));
        }
      }
    }
    return ttl;
  }

  /** How long {@code response} may be kept by its TTLs alone, in seconds; 0 or less if never. */
  private static long responseTtlSeconds(Record question, Message response) {
    if (!response.getHeader().getFlag(Flags.QR) || response.getHeader().getFlag(Flags.TC)) {
      return 0;
    }
    Record echoed = response.getQuestion();
    if (echoed == null
        || !echoed.getName().equals(question.getName())
        || echoed.getType() != question.getType()
        || echoed.getDClass() != question.getDClass()) {
      return 0;
    }
    int rcode = response.getRcode();
    if (rcode != Rcode.NOERROR && rcode != Rcode.NXDOMAIN) {
      return 0; // SERVFAIL, REFUSED...: RFC 2308 §7 failures are the answer cache's to remember
    }
    List<Record> answer = response.getSection(Section.ANSWER);
    List<Record> authority = response.getSection(Section.AUTHORITY);
    boolean positive =
        rcode == Rcode.NOERROR
            && answer.stream()
                .anyMatch(
                    r ->
                        r.getType() == question.getType()
                            && r.getName().equals(question.getName()));
    long ttl;
    long max;
    if (positive) {
      ttl = Math.min(minTtl(answer), minTtl(authority));
      max = MAX_TTL.toSeconds();
    } else {
      if (rcode == Rcode.NOERROR && !answer.isEmpty()) {
        return 0; // an answer of another type (a CNAME): nothing the validator's walk needs
      }
      // RFC 2308 §5: a negative answer is kept for the SOA's TTL or MINIMUM, the smaller; one
      // without an SOA (a referral) is not kept.
      @Nullable SOARecord soa = null;
      for (Record r : authority) {
        if (r instanceof SOARecord s) {
          soa = s;
        }
      }
      if (soa == null) {
        return 0;
      }
      ttl =
          Math.min(
              Math.min(
                  ResponseReader.ttlValue(soa.getTTL()), ResponseReader.ttlValue(soa.getMinimum())),
              minTtl(authority));
      max = MAX_NEGATIVE_TTL.toSeconds();
    }
    return Math.min(ttl, max);
  }

  /**
   * The smallest TTL of {@code records}, each read as RFC 2181 §8 says ({@link
   * ResponseReader#ttlValue}).
   */
  private static long minTtl(List<Record> records) {
    long min = Long.MAX_VALUE;
    for (Record r : records) {
      min = Math.min(min, ResponseReader.ttlValue(r.getTTL()));
    }
    return min;
  }

  /**
   * A copy of the entry's response with the query's id and its TTLs lowered by its age; null if a
   * record of it cannot be rewritten (then the question goes upstream).
   */
  private static @Nullable Message aged(Entry entry, int id, long nowMillis) {
    try {
      return agedCopy(entry, id, nowMillis);
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static Message agedCopy(Entry entry, int id, long nowMillis) {
    Message copy = entry.response().clone();
    copy.getHeader().setID(id);
    long age = (nowMillis - entry.storedAtMillis()) / 1000;
    if (age > 0) {
      for (int section : new int[] {Section.ANSWER, Section.AUTHORITY, Section.ADDITIONAL}) {
        List<Record> records = copy.getSection(section);
        copy.removeAllRecords(section);
        for (Record r : records) {
          copy.addRecord(r.getType() == Type.OPT ? r : withTtl(r, r.getTTL() - age), section);
        }
      }
    }
    return copy;
  }

  /** {@code r} with another TTL (dnsjava keeps its setter private): rewritten in wire format. */
  static Record withTtl(Record r, long ttl) {
    byte[] wire = r.toWire(Section.ANSWER);
    long t = Math.max(0, ttl);
    int at = r.getName().length() + 4; // after the owner name, TYPE and CLASS (RFC 1035 §4.1.3)
    wire[at] = (byte) (t >>> 24);
    wire[at + 1] = (byte) (t >>> 16);
    wire[at + 2] = (byte) (t >>> 8);
    wire[at + 3] = (byte) t;
    try {
      return Record.fromWire(wire, Section.ANSWER);
    } catch (IOException e) {
      throw new UncheckedIOException("a record dnsjava wrote does not parse", e);
    }
  }

  @Override
  public String toString() {
    return "KeyResponseCache(" + upstream + ")";
  }
}
