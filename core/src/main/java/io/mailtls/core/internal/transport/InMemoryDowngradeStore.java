package io.mailtls.core.internal.transport;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.mailtls.core.DomainName;
import io.mailtls.core.DowngradeMemory;
import io.mailtls.core.TransportSecurity;
import java.time.Instant;
import java.util.Objects;

/**
 * {@link DowngradeMemory#inMemory(int)}: a bounded Caffeine cache (W-TinyLFU eviction), each raise
 * an atomic {@code compute} on its entry. Thread-safe.
 */
public final class InMemoryDowngradeStore implements DowngradeMemory {

  private final Cache<DomainName, Seen> seen;

  public InMemoryDowngradeStore(int maxDomains) {
    if (maxDomains < 1) {
      throw new IllegalArgumentException("maxDomains must be positive: " + maxDomains);
    }
    this.seen = Caffeine.newBuilder().maximumSize(maxDomains).build();
  }

  @Override
  public Seen seen(DomainName domain) {
    Seen s = seen.getIfPresent(Objects.requireNonNull(domain, "domain"));
    return s == null ? Seen.NOTHING : s;
  }

  @Override
  public void raise(DomainName domain, TransportSecurity achieved, Instant at) {
    Objects.requireNonNull(domain, "domain");
    Objects.requireNonNull(achieved, "achieved");
    Objects.requireNonNull(at, "at");
    if (achieved == TransportSecurity.PLAINTEXT) {
      return;
    }
    var unused =
        seen.asMap()
            .compute(domain, (d, old) -> (old == null ? Seen.NOTHING : old).raise(achieved, at));
  }

  @Override
  public String toString() {
    return "DowngradeMemory.inMemory(" + seen.estimatedSize() + " domains)";
  }
}
