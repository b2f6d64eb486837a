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

  /** Stores or replaces the entry for a policy domain, after a fetch; not a use. */
  void put(DomainName policyDomain, CachedPolicy entry);

  /** Removes the entry for a policy domain, if any. */
  void remove(DomainName policyDomain);
}
