package io.mailtls.mtasts;

import io.mailtls.core.DomainName;
import io.mailtls.core.FailureType;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The last failed policy fetch per domain, so that the same policy id is not fetched again within
 * the back-off period (RFC 8461 §3.3: "limit further attempts to a period of five minutes or longer
 * per version ID, to avoid overwhelming resource-constrained recipients with cascading failures").
 *
 * <p>Per version id: a domain whose name servers answer with two ids in turn (while its policy
 * changes, say) keeps the back-off of each, up to {@value #MAX_IDS_PER_DOMAIN} ids (the latest
 * failures), so that alternating answers do not turn every lookup into a fetch.
 *
 * <p>Bounded: past {@value #MAX_TRACKED} domains, domains whose back-offs have all ended are
 * dropped, then arbitrary ones (forgetting a failure costs at most one early retry). Thread-safe.
 */
final class FetchBackoff {

  /** The most domains whose last failure is remembered. */
  static final int MAX_TRACKED = 10_000;

  /** The most version ids per domain whose last failure is remembered. */
  static final int MAX_IDS_PER_DOMAIN = 4;

  /** A failed fetch of policy {@code id}, at {@code at}. */
  record Failure(String id, Instant at, FailureType type, String reason) {
    Failure {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(at, "at");
      Objects.requireNonNull(type, "type");
      Objects.requireNonNull(reason, "reason");
    }
  }

  private final Duration period;
  // Per domain, the last failure of each of its latest ids, oldest first; lists are immutable.
  private final ConcurrentHashMap<DomainName, List<Failure>> failures = new ConcurrentHashMap<>();

  FetchBackoff(Duration period) {
    this.period = Objects.requireNonNull(period, "period");
  }

  /** The back-off period. */
  Duration period() {
    return period;
  }

  /**
   * The failure that forbids fetching {@code id} of {@code domain} at {@code now}, if any. A
   * failure dated after now by more than {@link CachedPolicy#CLOCK_TOLERANCE} (the clock went back
   * since) forbids nothing: the back-off is a period after the failure (RFC 8461 §3.3), not one
   * after a time not yet reached, which would keep the domain's policy unfetched until the clock
   * catches up.
   */
  Optional<Failure> active(DomainName domain, String id, Instant now) {
    List<Failure> known = failures.getOrDefault(domain, List.of());
    for (Failure f : known) {
      if (f.id().equals(id)
          && now.isBefore(retryAt(f))
          && Duration.between(now, f.at()).compareTo(CachedPolicy.CLOCK_TOLERANCE) <= 0) {
        return Optional.of(f);
      }
    }
    return Optional.empty();
  }

  /** When the id of {@code failure} may be fetched again. */
  Instant retryAt(Failure failure) {
    return failure.at().plus(period);
  }

  /**
   * Records a failed fetch, replacing the previous failure of the same id; the domain's oldest
   * failure goes when it has {@value #MAX_IDS_PER_DOMAIN} ids already (RFC 8461 §3.3: the back-off
   * is per version id).
   */
  void record(DomainName domain, Failure failure) {
    failures.compute(
        domain,
        (d, known) -> {
          List<Failure> next = new ArrayList<>();
          if (known != null) {
            for (Failure f : known) {
              if (!f.id().equals(failure.id())) {
                next.add(f);
              }
            }
          }
          next.add(failure);
          while (next.size() > MAX_IDS_PER_DOMAIN) {
            next.remove(0);
          }
          return List.copyOf(next);
        });
    if (failures.size() > MAX_TRACKED) {
      prune(failure.at());
    }
  }

  /** Forgets the domain's failures (after a successful fetch). */
  void clear(DomainName domain) {
    failures.remove(domain);
  }

  private void prune(Instant now) {
    failures.values().removeIf(known -> known.stream().noneMatch(f -> now.isBefore(retryAt(f))));
    Iterator<Map.Entry<DomainName, List<Failure>>> it = failures.entrySet().iterator();
    while (failures.size() > MAX_TRACKED && it.hasNext()) {
      it.next();
      it.remove();
    }
  }
}
