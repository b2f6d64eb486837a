package io.mailtls.core.internal.policy;

import io.mailtls.core.DestinationPolicyMap;
import io.mailtls.core.DomainName;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * An immutable {@link DestinationPolicyMap}: a hash lookup for the exact name, then one for each
 * parent domain's {@code .parent} key, closest first. Thread-safe.
 */
public final class InMemoryPolicyMap implements DestinationPolicyMap {

  /** The map without entries. */
  public static final InMemoryPolicyMap EMPTY = new InMemoryPolicyMap(List.of());

  private final Map<String, Entry> byKey;
  private final List<Entry> entries;

  /**
   * @throws IllegalArgumentException when two entries have the same key
   */
  public InMemoryPolicyMap(List<Entry> entries) {
    Map<String, Entry> m = new HashMap<>();
    for (Entry e : entries) {
      if (m.putIfAbsent(e.key(), Objects.requireNonNull(e, "entry")) != null) {
        throw new IllegalArgumentException("duplicate key " + e.key());
      }
    }
    this.byKey = Map.copyOf(m);
    this.entries = entries.stream().sorted(Comparator.comparing(Entry::key)).toList();
  }

  /**
   * The normal form of a key: {@code example.com} or {@code .example.com}, lower case, A-labels.
   *
   * @throws IllegalArgumentException when it is neither form of a domain name
   */
  public static String normalizeKey(String key) {
    boolean parent = key.startsWith(".");
    String name = parent ? key.substring(1) : key;
    if (name.isEmpty() || name.startsWith(".") || name.endsWith(".")) {
      throw new IllegalArgumentException("not a domain or .domain: \"" + key + "\"");
    }
    DomainName d = DomainName.of(name);
    if (d.isRoot()) {
      throw new IllegalArgumentException("not a domain or .domain: \"" + key + "\"");
    }
    return (parent ? "." : "") + d;
  }

  @Override
  public Optional<Entry> lookup(DomainName domain) {
    Entry exact = byKey.get(domain.toString());
    if (exact != null) {
      return Optional.of(exact);
    }
    for (DomainName p = domain.parent(); !p.isRoot(); p = p.parent()) {
      Entry e = byKey.get("." + p);
      if (e != null) {
        return Optional.of(e);
      }
    }
    return Optional.empty();
  }

  @Override
  public List<Entry> entries() {
    return entries;
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof InMemoryPolicyMap other && byKey.equals(other.byKey);
  }

  @Override
  public int hashCode() {
    return byKey.hashCode();
  }

  @Override
  public String toString() {
    return "DestinationPolicyMap" + entries;
  }
}
