package io.mailtls.core;

import io.mailtls.core.internal.policy.InMemoryPolicyMap;
import io.mailtls.core.internal.policy.PolicyMapFile;
import io.mailtls.core.internal.policy.ReloadingPolicyMap;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The operator's per-destination TLS policies, keyed by recipient domain (docs/design.md §1, "Per
 * destination"; file format in docs/policy-map.md), as Postfix's {@code smtp_tls_policy_maps} with
 * {@code parent_domain_matches_subdomains}: an exact entry ({@code example.com}) first, then the
 * closest parent-domain entry ({@code .example.com} covers every subdomain of {@code example.com},
 * not {@code example.com} itself).
 *
 * <p>Implementations are thread-safe; {@link #lookup} never throws for a valid domain name and does
 * no network I/O.
 */
public interface DestinationPolicyMap {

  /**
   * One entry.
   *
   * @param key {@code example.com} (that domain) or {@code .example.com} (its subdomains), lower
   *     case, A-labels
   * @param policy what applies
   */
  record Entry(String key, DestinationPolicy policy) {
    public Entry {
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(policy, "policy");
      key = InMemoryPolicyMap.normalizeKey(key);
    }

    /** Whether the entry is a parent-domain entry ({@code .example.com}). */
    public boolean coversSubdomains() {
      return key.startsWith(".");
    }

    /** The entry as one line of a policy-map file. */
    @Override
    public String toString() {
      return key + " " + policy;
    }
  }

  /** The entry for {@code domain}: the exact one, else that of the closest parent domain. */
  Optional<Entry> lookup(DomainName domain);

  /** Every entry, in key order. */
  List<Entry> entries();

  /** A map without entries: every destination as the sender's level and its own policies say. */
  static DestinationPolicyMap empty() {
    return InMemoryPolicyMap.EMPTY;
  }

  /** A builder of an immutable in-memory map. */
  static Builder builder() {
    return new Builder();
  }

  /**
   * Parses the text of a policy-map file (docs/policy-map.md).
   *
   * @throws PolicyMapException naming the first line that does not parse; nothing is loaded then
   */
  static DestinationPolicyMap parse(String text) throws PolicyMapException {
    return new InMemoryPolicyMap(PolicyMapFile.parse(text));
  }

  /**
   * Reads a policy-map file (UTF-8) once.
   *
   * @throws PolicyMapException when the file cannot be read or a line does not parse
   */
  static DestinationPolicyMap load(Path file) throws PolicyMapException {
    return new InMemoryPolicyMap(PolicyMapFile.read(file));
  }

  /**
   * A map that follows {@code file}: checked for a change (modification time, size, content) at
   * most every {@code checkEvery} by the system clock, when a lookup comes. See {@link Reloading}.
   *
   * @throws PolicyMapException when the file cannot be read or parsed now: there is no last good
   *     map to keep
   */
  static Reloading reloading(Path file, Duration checkEvery) throws PolicyMapException {
    return reloading(file, checkEvery, Clock.systemUTC());
  }

  /** {@link #reloading(Path, Duration)} with the clock that tells when to check again. */
  static Reloading reloading(Path file, Duration checkEvery, Clock clock)
      throws PolicyMapException {
    return new ReloadingPolicyMap(file, checkEvery, clock);
  }

  /** Writes {@code map} in the file format, one entry per line; {@link #parse} reads it back. */
  static String format(DestinationPolicyMap map) {
    return PolicyMapFile.format(map.entries());
  }

  /**
   * A map reloaded from its file without a restart. A changed file that does not parse (or cannot
   * be read) is not used: the last good map stays in force and {@link #lastError()} says why (and a
   * warning is logged), until a good file replaces it.
   */
  interface Reloading extends DestinationPolicyMap {

    /** Checks the file now, whatever the interval; returns whether a new map was loaded. */
    boolean checkNow();

    /** Why the newest version of the file is not in use, if it is not. */
    Optional<PolicyMapException> lastError();
  }

  /** Builds an immutable in-memory map. Not thread-safe. */
  final class Builder {
    private final java.util.Map<String, Entry> entries = new java.util.TreeMap<>();

    private Builder() {}

    /**
     * Adds an entry for {@code key} ({@code example.com}, or {@code .example.com} for its
     * subdomains).
     *
     * @throws IllegalArgumentException when the key is not a domain name or already has an entry
     */
    public Builder put(String key, DestinationPolicy policy) {
      Entry e = new Entry(key, policy);
      if (entries.putIfAbsent(e.key(), e) != null) {
        throw new IllegalArgumentException("duplicate key " + e.key());
      }
      return this;
    }

    public DestinationPolicyMap build() {
      return new InMemoryPolicyMap(List.copyOf(entries.values()));
    }
  }
}
