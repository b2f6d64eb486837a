package io.mailtls.mtasts;

import io.mailtls.core.DomainName;
import java.util.Optional;

/**
 * Where cached MTA-STS policies live: in memory (default) or on disk, so that a restarted sender
 * keeps its policies (RFC 8461 §5.1, §10.2: a policy must outlive the attacker's window).
 * Implementations are thread-safe and never throw for storage trouble: they log it and carry on.
 *
 * <p>Reads come in two kinds, so that a bounded store can keep the policies senders actually use
 * (RFC 8461 §10.2: an attacker who floods the cache must not flush them): {@link #get} is a
 * sender's read for a delivery, a <em>use</em>; {@link #peek} is a bookkeeping read (background
 * refresh, compare-before-write) that must not count as one.
 *
 * <p>A store whose storage may not answer (a shared store over the network) tells "I could not read
 * it" apart from "I hold nothing" through {@link #presence}, so that the resolver never takes an
 * outage for a policy gone and stops refreshing it (RFC 8461 §3.3, §10.2).
 */
public interface PolicyStore {

  /**
   * The cached entry for a policy domain, fresh or not, read for a delivery: the store may count it
   * as a use of the policy (see {@link InMemoryPolicyStore}).
   */
  Optional<CachedPolicy> get(DomainName policyDomain);

  /**
   * The cached entry for a policy domain, fresh or not, read without counting as a use. The default
   * calls {@link #get}, for stores that do not tell uses apart.
   */
  default Optional<CachedPolicy> peek(DomainName policyDomain) {
    return get(policyDomain);
  }

  /** What a store knows of whether it holds an entry for a policy domain. */
  enum Presence {
    /** It holds an entry, fresh or not. */
    HELD,
    /** It holds none: its storage answered, with nothing for the domain. */
    ABSENT,
    /**
     * It cannot tell: its storage did not answer (down, slower than its bound) and what it keeps
     * beside holds nothing for the domain. The entry may still be there.
     */
    UNKNOWN
  }

  /**
   * Whether the store holds an entry for a policy domain, read as {@link #peek} reads (not a use).
   * The resolver gives up the proactive refresh of a domain only when this says {@link
   * Presence#ABSENT}. The default is {@link Presence#HELD} when {@link #peek} finds an entry and
   * {@link Presence#ABSENT} otherwise, right for a store whose reads cannot fail; a store whose
   * reads can fail without throwing (they never throw) overrides it to say {@link Presence#UNKNOWN}
   * when its read failed.
   */
  default Presence presence(DomainName policyDomain) {
    return peek(policyDomain).isPresent() ? Presence.HELD : Presence.ABSENT;
  }

  /** Stores or replaces the entry for a policy domain, after a fetch; not a use. */
  void put(DomainName policyDomain, CachedPolicy entry);

  /** Removes the entry for a policy domain, if any. */
  void remove(DomainName policyDomain);
}
