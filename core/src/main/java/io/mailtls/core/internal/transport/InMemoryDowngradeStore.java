package io.mailtls.core.internal.transport;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.RemovalCause;
import io.mailtls.core.DomainName;
import io.mailtls.core.DowngradeMemory;
import io.mailtls.core.TransportSecurity;
import java.time.Instant;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@link DowngradeMemory#inMemory(int)}: a bounded Caffeine cache (W-TinyLFU eviction), each raise
 * an atomic {@code compute} on its entry. Thread-safe.
 *
 * <p>A domain pushed out by the bound is unprotected from then on, and nothing in a delivery can
 * tell it from one never seen: so each such eviction is counted ({@link #forgotten()}, in {@link
 * #toString()}) and logged, the first as a warning that the memory is too small for the domains
 * mail goes to, then one line per thousand.
 */
public final class InMemoryDowngradeStore implements DowngradeMemory {

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(InMemoryDowngradeStore.class);

  private final Cache<DomainName, Seen> seen;
  private final int maxDomains;
  private final AtomicLong forgotten = new AtomicLong();

  public InMemoryDowngradeStore(int maxDomains) {
    if (maxDomains < 1) {
      throw new IllegalArgumentException("maxDomains must be positive: " + maxDomains);
    }
    this.maxDomains = maxDomains;
    this.seen =
        Caffeine.newBuilder()
            .maximumSize(maxDomains)
            .<DomainName, Seen>evictionListener(
                (domain, record, cause) -> {
                  if (cause == RemovalCause.SIZE) {
                    evicted(domain);
                  }
                })
            .executor(Runnable::run)
            .build();
  }

  private void evicted(@org.jspecify.annotations.Nullable DomainName domain) {
    long n = forgotten.incrementAndGet();
    if (n == 1) {
      log.warn(
          "downgrade memory full ({} domains): {} forgotten, and no longer protected against a"
              + " downgrade; size the memory above the number of domains mail goes to",
          maxDomains,
          domain);
    } else if (n % 1000 == 0) {
      log.warn("downgrade memory full ({} domains): {} domains forgotten so far", maxDomains, n);
    }
  }

  /** How many domains the bound has pushed out since the memory was made. */
  public long forgotten() {
    return forgotten.get();
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
    return "DowngradeMemory.inMemory("
        + seen.estimatedSize()
        + " domains, "
        + forgotten.get()
        + " forgotten)";
  }
}
