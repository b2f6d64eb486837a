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
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
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
   * The counts in a day's hash.
   *
   * @throws IllegalArgumentException naming a field that is not version 1
   */
  public static Map<AppliedPolicy, PolicyCounts> counts(Map<String, String> hash) {
    Map<AppliedPolicy, long[]> sessions = new LinkedHashMap<>();
    Map<AppliedPolicy, Map<FailureDetail, Long>> details = new HashMap<>();
    for (Map.Entry<String, String> e : hash.entrySet()) {
      long n;
      try {
        n = Long.parseLong(e.getValue());
      } catch (NumberFormatException x) {
        throw new IllegalArgumentException("not a count: " + e.getValue(), x);
      }
      JsonNode f;
      try {
        f = JSON.readTree(e.getKey());
      } catch (JsonProcessingException x) {
        throw new IllegalArgumentException("not a counts field", x);
      }
      if (f == null || !f.isArray() || f.size() < 2) {
        throw new IllegalArgumentException("not a counts field");
      }
      AppliedPolicy policy = policy(f.get(1));
      long[] s = sessions.computeIfAbsent(policy, k -> new long[2]);
      switch (f.get(0).asText()) {
        case "s" -> s[0] += n;
        case "f" -> s[1] += n;
        case "d" -> {
          if (f.size() < 3) {
            throw new IllegalArgumentException("a failure-detail field without its detail");
          }
          if (n > 0) {
            details
                .computeIfAbsent(policy, k -> new HashMap<>())
                .merge(detail(f.get(2)), n, Long::sum);
          }
        }
        default -> throw new IllegalArgumentException("unknown counter " + f.get(0));
      }
    }
    Map<AppliedPolicy, PolicyCounts> out = new LinkedHashMap<>();
    sessions.forEach(
        (policy, s) ->
            out.put(policy, new PolicyCounts(s[0], s[1], details.getOrDefault(policy, Map.of()))));
    return out;
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
