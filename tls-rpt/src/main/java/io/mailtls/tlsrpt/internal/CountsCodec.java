package io.mailtls.tlsrpt.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mailtls.core.DomainName;
import io.mailtls.tlsrpt.AppliedPolicy;
import io.mailtls.tlsrpt.FailureDetail;
import io.mailtls.tlsrpt.PolicyCounts;
import io.mailtls.tlsrpt.PolicyType;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Counts as JSON, for the file store's log: the policy and failure-detail objects use the report's
 * field names (RFC 8460 §4.4), so a log line reads as a report does. Entries are written in a fixed
 * order, so the same counts always make the same text.
 */
public final class CountsCodec {

  private static final JsonNodeFactory F = JsonNodeFactory.instance;

  private CountsCodec() {}

  /** {@code [{"policy": {...}, "summary": {...}, "failure-details": [...]}, ...]}. */
  public static ArrayNode write(Map<AppliedPolicy, PolicyCounts> counts) {
    ArrayNode out = F.arrayNode();
    counts.entrySet().stream()
        .sorted(Map.Entry.comparingByKey(POLICY_ORDER))
        .forEach(e -> out.add(policyEntry(e.getKey(), e.getValue())));
    return out;
  }

  /** One element of a report's {@code policies} array. */
  public static ObjectNode policyEntry(AppliedPolicy policy, PolicyCounts counts) {
    ObjectNode entry = F.objectNode();
    ObjectNode p = entry.putObject("policy");
    p.put("policy-type", policy.type().value());
    // Left out when empty (no-policy-found, a policy that could not be had): an empty list says
    // nothing, and RFC 8460 §4.4 has no value for "no policy text".
    if (!policy.policyString().isEmpty()) {
      ArrayNode strings = p.putArray("policy-string");
      policy.policyString().forEach(strings::add);
    }
    p.put("policy-domain", policy.policyDomain().toString());
    if (!policy.mxHosts().isEmpty()) {
      ArrayNode mx = p.putArray("mx-host");
      policy.mxHosts().forEach(mx::add);
    }
    ObjectNode summary = entry.putObject("summary");
    summary.put("total-successful-session-count", counts.successfulSessions());
    summary.put("total-failure-session-count", counts.failedSessions());
    if (!counts.failures().isEmpty()) {
      ArrayNode details = entry.putArray("failure-details");
      counts.failures().entrySet().stream()
          .sorted(Map.Entry.comparingByKey(DETAIL_ORDER))
          .forEach(
              d -> {
                FailureDetail f = d.getKey();
                ObjectNode o = details.addObject();
                o.put("result-type", f.resultType());
                f.sendingMtaIp().ifPresent(v -> o.put("sending-mta-ip", v));
                f.receivingMxHostname().ifPresent(v -> o.put("receiving-mx-hostname", v));
                f.receivingMxHelo().ifPresent(v -> o.put("receiving-mx-helo", v));
                f.receivingIp().ifPresent(v -> o.put("receiving-ip", v));
                o.put("failed-session-count", d.getValue());
                f.additionalInformation().ifPresent(v -> o.put("additional-information", v));
                f.failureReasonCode().ifPresent(v -> o.put("failure-reason-code", v));
              });
    }
    return entry;
  }

  /**
   * Reads what {@link #write} wrote.
   *
   * @throws IllegalArgumentException if it is not that
   */
  public static Map<AppliedPolicy, PolicyCounts> read(JsonNode array) {
    if (!array.isArray()) {
      throw new IllegalArgumentException("counts are not an array");
    }
    Map<AppliedPolicy, PolicyCounts> out = new HashMap<>();
    for (JsonNode entry : array) {
      JsonNode p = field(entry, "policy");
      AppliedPolicy policy =
          new AppliedPolicy(
              PolicyType.of(text(p, "policy-type")),
              DomainName.of(text(p, "policy-domain")),
              p.has("policy-string") ? strings(p.get("policy-string")) : List.of(),
              p.has("mx-host") ? strings(p.get("mx-host")) : List.of());
      JsonNode summary = field(entry, "summary");
      Map<FailureDetail, Long> failures = new HashMap<>();
      JsonNode details = entry.get("failure-details");
      if (details != null) {
        for (JsonNode d : details) {
          FailureDetail f =
              new FailureDetail(
                  text(d, "result-type"),
                  optional(d, "sending-mta-ip"),
                  optional(d, "receiving-mx-hostname"),
                  optional(d, "receiving-mx-helo"),
                  optional(d, "receiving-ip"),
                  optional(d, "failure-reason-code"),
                  optional(d, "additional-information"));
          failures.merge(f, number(d, "failed-session-count"), Math::addExact);
        }
      }
      PolicyCounts c =
          new PolicyCounts(
              number(summary, "total-successful-session-count"),
              number(summary, "total-failure-session-count"),
              failures);
      out.merge(policy, c, PolicyCounts::plus);
    }
    return out;
  }

  private static JsonNode field(JsonNode o, String name) {
    JsonNode v = o.get(name);
    if (v == null || v.isNull()) {
      throw new IllegalArgumentException("missing " + name);
    }
    return v;
  }

  private static String text(JsonNode o, String name) {
    JsonNode v = field(o, name);
    if (!v.isTextual()) {
      throw new IllegalArgumentException(name + " is not a string");
    }
    return v.asText();
  }

  private static Optional<String> optional(JsonNode o, String name) {
    return o.has(name) ? Optional.of(text(o, name)) : Optional.empty();
  }

  private static long number(JsonNode o, String name) {
    JsonNode v = field(o, name);
    if (!v.isIntegralNumber() || !v.canConvertToLong()) {
      throw new IllegalArgumentException(name + " is not an integer");
    }
    return v.asLong();
  }

  private static List<String> strings(JsonNode a) {
    if (!a.isArray()) {
      throw new IllegalArgumentException("not an array of strings");
    }
    List<String> out = new ArrayList<>();
    for (JsonNode s : a) {
      if (!s.isTextual()) {
        throw new IllegalArgumentException("not an array of strings");
      }
      out.add(s.asText());
    }
    return out;
  }

  /** The order of a report's policies: by domain, type, text and hosts. */
  public static final Comparator<AppliedPolicy> POLICY_ORDER =
      Comparator.comparing((AppliedPolicy p) -> p.policyDomain().toString())
          .thenComparing(AppliedPolicy::type)
          .thenComparing(p -> String.join("\n", p.policyString()))
          .thenComparing(p -> String.join("\n", p.mxHosts()));

  private static final Comparator<FailureDetail> DETAIL_ORDER =
      Comparator.comparing(FailureDetail::resultType)
          .thenComparing(f -> f.receivingMxHostname().orElse(""))
          .thenComparing(f -> f.receivingIp().orElse(""))
          .thenComparing(f -> f.sendingMtaIp().orElse(""))
          .thenComparing(f -> f.receivingMxHelo().orElse(""))
          .thenComparing(f -> f.failureReasonCode().orElse(""))
          .thenComparing(f -> f.additionalInformation().orElse(""));
}
