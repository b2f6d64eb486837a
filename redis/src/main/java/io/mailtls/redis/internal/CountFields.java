package io.mailtls.redis.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mailtls.core.DomainName;
import io.mailtls.tlsrpt.AppliedPolicy;
import io.mailtls.tlsrpt.FailureDetail;
import io.mailtls.tlsrpt.PolicyCounts;
import io.mailtls.tlsrpt.PolicyType;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * The fields of a day's TLS-RPT counts hash (docs/redis.md), version 1: each field is a compact
 * JSON array naming one counter, written with members in a fixed order so that the same counter is
 * always the same field, and the field's value is the count (an integer, for {@code HINCRBY}):
 *
 * <ul>
 *   <li>{@code ["s", P]}: total-successful-session-count of policy P;
 *   <li>{@code ["f", P]}: total-failure-session-count of policy P;
 *   <li>{@code ["d", P, D]}: failed-session-count of failure detail D under policy P.
 * </ul>
 *
 * <p>P and D use the report's member names (RFC 8460 §4.4): P is {@code {"policy-type",
 * "policy-string", "policy-domain", "mx-host"}} (the arrays always present), D is {@code
 * {"result-type", ...}} with the optional members present only when set.
 */
public final class CountFields {

  private static final JsonMapper JSON = JsonMapper.builder().build();

  private CountFields() {}

  /** The field/increment pairs for {@code counts}. */
  public static Map<String, Long> fields(Map<AppliedPolicy, PolicyCounts> counts) {
    Map<String, Long> out = new LinkedHashMap<>();
    counts.forEach(
        (policy, c) -> {
          ObjectNode p = policy(policy);
          out.merge(field("s", p, null), c.successfulSessions(), Math::addExact);
          if (c.failedSessions() > 0) {
            out.merge(field("f", p, null), c.failedSessions(), Math::addExact);
          }
          c.failures().forEach((d, n) -> out.merge(field("d", p, detail(d)), n, Math::addExact));
        });
    return out;
  }

  /**
   * The counts read from a day's hash, and what could not be read.
   *
   * @param counts the counts of every policy whose fields were all readable
   * @param skippedFields how many fields named no version 1 counter (not JSON, an unknown kind, a
   *     policy or detail that does not parse): they are no counter mailtls writes, and are skipped
   * @param leftOut the policy domains left out of {@code counts} because one of their counters held
   *     no count (anything but 1 to 18 decimal digits) or their counts did not add up (overflow): a
   *     report of those domains would state counts nobody knows
   */
  public record Read(
      Map<AppliedPolicy, PolicyCounts> counts, int skippedFields, SortedSet<DomainName> leftOut) {

    public Read {
      counts = Collections.unmodifiableMap(new LinkedHashMap<>(counts));
      leftOut = Collections.unmodifiableSortedSet(new TreeSet<>(leftOut));
    }
  }

  /** A parsed field name: its kind ({@code s}, {@code f}, {@code d}), policy and detail. */
  private record Counter(char kind, AppliedPolicy policy, @Nullable FailureDetail detail) {}

  /**
   * The counts in a day's hash. Never throws for what the hash holds: a field that names no counter
   * is skipped, and a policy domain with a counter that holds no count is left out (see {@link
   * Read}); the caller logs both.
   */
  public static Read counts(Map<String, String> hash) {
    Map<AppliedPolicy, long[]> sessions = new LinkedHashMap<>();
    Map<AppliedPolicy, Map<FailureDetail, Long>> details = new HashMap<>();
    SortedSet<DomainName> leftOut = new TreeSet<>();
    int skipped = 0;
    for (Map.Entry<String, String> e : hash.entrySet()) {
      Counter c = counter(e.getKey());
      if (c == null) {
        skipped++;
        continue;
      }
      String v = e.getValue();
      if (v == null || v.isEmpty() || v.length() > 18 || !v.chars().allMatch(CountFields::digit)) {
        leftOut.add(c.policy().policyDomain());
        continue;
      }
      long n = Long.parseLong(v);
      long[] s = sessions.computeIfAbsent(c.policy(), k -> new long[2]);
      try {
        switch (c.kind()) {
          case 's' -> s[0] = Math.addExact(s[0], n);
          case 'f' -> s[1] = Math.addExact(s[1], n);
          default -> {
            if (n > 0 && c.detail() != null) {
              details
                  .computeIfAbsent(c.policy(), k -> new HashMap<>())
                  .merge(c.detail(), n, Math::addExact);
            }
          }
        }
      } catch (ArithmeticException x) {
        leftOut.add(c.policy().policyDomain());
      }
    }
    Map<AppliedPolicy, PolicyCounts> out = new LinkedHashMap<>();
    sessions.forEach(
        (policy, s) -> {
          if (!leftOut.contains(policy.policyDomain())) {
            out.put(policy, new PolicyCounts(s[0], s[1], details.getOrDefault(policy, Map.of())));
          }
        });
    return new Read(out, skipped, leftOut);
  }

  private static boolean digit(int c) {
    return c >= '0' && c <= '9';
  }

  /** The counter a field names, or null when it names none of version 1. */
  private static @Nullable Counter counter(String field) {
    JsonNode f;
    try {
      f = JSON.readTree(field);
    } catch (JsonProcessingException x) {
      return null;
    }
    if (f == null || !f.isArray() || f.size() < 2 || !f.get(0).isTextual()) {
      return null;
    }
    String kind = f.get(0).textValue();
    try {
      AppliedPolicy policy = policy(f.get(1));
      return switch (kind) {
        case "s", "f" -> f.size() == 2 ? new Counter(kind.charAt(0), policy, null) : null;
        case "d" -> f.size() == 3 ? new Counter('d', policy, detail(f.get(2))) : null;
        default -> null;
      };
    } catch (IllegalArgumentException x) {
      return null; // a policy or detail that does not parse, a domain that is not one
    }
  }

  private static String field(String kind, ObjectNode policy, @Nullable ObjectNode detail) {
    ArrayNode a = JSON.createArrayNode();
    a.add(kind);
    a.add(policy);
    if (detail != null) {
      a.add(detail);
    }
    try {
      return JSON.writeValueAsString(a);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static ObjectNode policy(AppliedPolicy policy) {
    ObjectNode p = JSON.createObjectNode();
    p.put("policy-type", policy.type().value());
    ArrayNode strings = p.putArray("policy-string");
    policy.policyString().forEach(strings::add);
    p.put("policy-domain", policy.policyDomain().toString());
    ArrayNode mx = p.putArray("mx-host");
    policy.mxHosts().forEach(mx::add);
    return p;
  }

  private static AppliedPolicy policy(JsonNode p) {
    if (p == null || !p.isObject()) {
      throw new IllegalArgumentException("a policy must be an object");
    }
    return new AppliedPolicy(
        PolicyType.of(text(p, "policy-type")),
        DomainName.of(text(p, "policy-domain")),
        strings(p.get("policy-string")),
        strings(p.get("mx-host")));
  }

  private static ObjectNode detail(FailureDetail d) {
    ObjectNode o = JSON.createObjectNode();
    o.put("result-type", d.resultType());
    d.sendingMtaIp().ifPresent(v -> o.put("sending-mta-ip", v));
    d.receivingMxHostname().ifPresent(v -> o.put("receiving-mx-hostname", v));
    d.receivingMxHelo().ifPresent(v -> o.put("receiving-mx-helo", v));
    d.receivingIp().ifPresent(v -> o.put("receiving-ip", v));
    d.failureReasonCode().ifPresent(v -> o.put("failure-reason-code", v));
    d.additionalInformation().ifPresent(v -> o.put("additional-information", v));
    return o;
  }

  private static FailureDetail detail(JsonNode o) {
    if (o == null || !o.isObject()) {
      throw new IllegalArgumentException("a failure detail must be an object");
    }
    return new FailureDetail(
        text(o, "result-type"),
        optional(o, "sending-mta-ip"),
        optional(o, "receiving-mx-hostname"),
        optional(o, "receiving-mx-helo"),
        optional(o, "receiving-ip"),
        optional(o, "failure-reason-code"),
        optional(o, "additional-information"));
  }

  private static String text(JsonNode o, String name) {
    JsonNode v = o.get(name);
    if (v == null || !v.isTextual()) {
      throw new IllegalArgumentException("\"" + name + "\" must be a string");
    }
    return v.textValue();
  }

  private static Optional<String> optional(JsonNode o, String name) {
    JsonNode v = o.get(name);
    return v == null || v.isNull() ? Optional.empty() : Optional.of(text(o, name));
  }

  private static List<String> strings(JsonNode a) {
    if (a == null || !a.isArray()) {
      throw new IllegalArgumentException("expected an array of strings");
    }
    List<String> out = new ArrayList<>();
    for (JsonNode s : a) {
      if (!s.isTextual()) {
        throw new IllegalArgumentException("expected an array of strings");
      }
      out.add(s.textValue());
    }
    return out;
  }
}
