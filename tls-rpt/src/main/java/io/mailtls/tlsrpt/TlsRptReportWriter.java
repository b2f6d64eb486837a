package io.mailtls.tlsrpt;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mailtls.core.DomainName;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.NextHop;
import io.mailtls.tlsrpt.internal.CountsCodec;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.TreeMap;
import org.jspecify.annotations.Nullable;

/**
 * Writes the aggregate reports of one day (RFC 8460 §4.4), one per policy domain, from the counts
 * an {@link AggregateStore} holds. Thread-safe.
 *
 * <p>The JSON has the RFC's fields in the RFC's order: {@code organization-name}, {@code
 * date-range} ({@code start-datetime} the day's 00:00:00Z, {@code end-datetime} its 23:59:59Z, as
 * the §4.4 example), {@code contact-info} (an email address in the submitter's domain, §4.4, §5.1),
 * {@code report-id} and {@code policies}, each with its {@code policy}, {@code summary} and (when
 * there were failures) {@code failure-details}; policies and details in a fixed order. The {@code
 * report-id} is {@code <day>_<policy domain>_<128 random bits in hex>@<submitter>}: unique per
 * submitter without any state.
 */
public final class TlsRptReportWriter {

  private static final ObjectMapper JSON =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private final String organizationName;
  private final String contactInfo;
  private final DomainName submitter;
  private final Random random;

  private TlsRptReportWriter(Builder b) {
    this.organizationName = Objects.requireNonNull(b.organizationName, "organizationName");
    this.submitter = Objects.requireNonNull(b.submitter, "submitter");
    this.contactInfo = contact(Objects.requireNonNull(b.contactInfo, "contactInfo"), submitter);
    this.random = b.random;
  }

  /**
   * {@code contact} as the report writes it: an {@code addr-spec} (RFC 8460 §4.4, RFC 5322 §3.4.1)
   * in the submitter's domain, which is the {@code sender} of §5.1's file name and the value §5.3's
   * {@code TLS-Report-Submitter} must match; the domain in the submitter's form.
   */
  private static String contact(String contact, DomainName submitter) {
    EmailAddress address;
    try {
      address = EmailAddress.parse(contact);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "contactInfo \"" + contact + "\" is not an email address (RFC 8460 §4.4: an addr-spec)",
          e);
    }
    if (!(address.domain() instanceof NextHop.Domain d) || !d.name().equals(submitter)) {
      throw new IllegalArgumentException(
          "contactInfo \""
              + contact
              + "\" must be an address in the submitter's domain "
              + submitter
              + " (RFC 8460 §5.1, §5.3: the report's sender and TLS-Report-Submitter are the"
              + " domain of its contact-info)");
    }
    return address.localPart() + "@" + submitter;
  }

  /** A builder; every setter but {@link Builder#random} is required. */
  public static Builder builder() {
    return new Builder();
  }

  /** One report per policy domain of {@code counts}, by domain name. */
  public List<TlsRptReport> write(LocalDate day, Map<AppliedPolicy, PolicyCounts> counts) {
    Objects.requireNonNull(day, "day");
    Map<DomainName, Map<AppliedPolicy, PolicyCounts>> byDomain = new TreeMap<>();
    counts.forEach(
        (p, c) ->
            byDomain
                .computeIfAbsent(p.policyDomain(), d -> new TreeMap<>(CountsCodec.POLICY_ORDER))
                .put(p, c));
    List<TlsRptReport> reports = new ArrayList<>();
    byDomain.forEach((d, c) -> reports.add(write(day, d, c)));
    return reports;
  }

  /**
   * The report for {@code policyDomain}: the entries of {@code counts} whose policy domain it is.
   *
   * @throws IllegalArgumentException if there are none
   */
  public TlsRptReport write(
      LocalDate day, DomainName policyDomain, Map<AppliedPolicy, PolicyCounts> counts) {
    Objects.requireNonNull(day, "day");
    Objects.requireNonNull(policyDomain, "policyDomain");
    ObjectNode root = JSON.createObjectNode();
    root.put("organization-name", organizationName);
    ObjectNode range = root.putObject("date-range");
    range.put("start-datetime", day + "T00:00:00Z");
    range.put("end-datetime", day + "T23:59:59Z");
    root.put("contact-info", contactInfo);
    byte[] bits = new byte[16];
    synchronized (random) {
      random.nextBytes(bits);
    }
    String unique = HexFormat.of().formatHex(bits);
    String reportId = day + "_" + policyDomain + "_" + unique + "@" + submitter;
    root.put("report-id", reportId);
    ArrayNode policies = root.putArray("policies");
    counts.entrySet().stream()
        .filter(e -> e.getKey().policyDomain().equals(policyDomain))
        .sorted(Map.Entry.comparingByKey(CountsCodec.POLICY_ORDER))
        .forEach(e -> policies.add(CountsCodec.policyEntry(e.getKey(), e.getValue())));
    if (policies.isEmpty()) {
      throw new IllegalArgumentException("no counts for " + policyDomain + " on " + day);
    }
    byte[] json;
    try {
      json = JSON.writeValueAsString(root).getBytes(StandardCharsets.UTF_8);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree did not serialize", e);
    }
    return new TlsRptReport(submitter, policyDomain, day, reportId, unique, json);
  }

  /** Builds a {@link TlsRptReportWriter}. Each setter may be called once. */
  public static final class Builder {
    private @Nullable String organizationName;
    private @Nullable String contactInfo;
    private @Nullable DomainName submitter;
    private Random random = new SecureRandom();
    private boolean randomSet;

    private Builder() {}

    /** {@code organization-name}: who sends the reports. */
    public Builder organizationName(String name) {
      if (organizationName != null) {
        throw new IllegalStateException("organizationName already set");
      }
      this.organizationName = nonEmpty(name, "organizationName");
      return this;
    }

    /**
     * {@code contact-info}: the email address for questions about the reports (RFC 8460 §4.4: an
     * {@code addr-spec}), in the {@linkplain #submitter submitter's} domain (§5.1, §5.3); {@link
     * #build} refuses another.
     */
    public Builder contactInfo(String contact) {
      if (contactInfo != null) {
        throw new IllegalStateException("contactInfo already set");
      }
      this.contactInfo = nonEmpty(contact, "contactInfo");
      return this;
    }

    /**
     * The submitter's domain: the {@code sender} of §5.1's file name, and the scope in which report
     * ids are unique.
     */
    public Builder submitter(DomainName submitter) {
      if (this.submitter != null) {
        throw new IllegalStateException("submitter already set");
      }
      this.submitter = Objects.requireNonNull(submitter, "submitter");
      return this;
    }

    /** Where report ids' random bits come from (default: a {@link SecureRandom}). */
    public Builder random(Random random) {
      if (randomSet) {
        throw new IllegalStateException("random already set");
      }
      this.random = Objects.requireNonNull(random, "random");
      randomSet = true;
      return this;
    }

    private static String nonEmpty(String s, String what) {
      Objects.requireNonNull(s, what);
      if (s.isBlank()) {
        throw new IllegalArgumentException(what + " is blank");
      }
      return s;
    }

    /**
     * The writer.
     *
     * @throws IllegalArgumentException if the contact is not an email address in the submitter's
     *     domain
     */
    public TlsRptReportWriter build() {
      if (organizationName == null || contactInfo == null || submitter == null) {
        throw new IllegalStateException("organizationName, contactInfo and submitter are required");
      }
      return new TlsRptReportWriter(this);
    }
  }
}
