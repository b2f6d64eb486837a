package io.mailtls.mtasts;

import io.mailtls.core.DomainName;
import java.util.Optional;

/**
 * Where cached MTA-STS policies live: in memory (default) or on disk, so that a restarted sender
 * keeps its policies (RFC 8461 §5.1, §10.2: a policy must outlive the attacker's window).
 * Implementations are thread-safe and never throw for storage trouble: they log it and carry on.
 */
public interface PolicyStore {

  /** The cached entry for a policy domain, fresh or not. */
  Optional<CachedPolicy> get(DomainName policyDomain);

  /** Stores or replaces the entry for a policy domain. */
  void put(DomainName policyDomain, CachedPolicy entry);

  /** Removes the entry for a policy domain, if any. */
  void remove(DomainName policyDomain);
}
