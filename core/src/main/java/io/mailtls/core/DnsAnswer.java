package io.mailtls.core;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The answer to one DNS question, with its DNSSEC state. Immutable.
 *
 * <p>Non-existence is an answer ({@link DnsOutcome#NXDOMAIN}, {@link DnsOutcome#NODATA}) with a
 * state, not an exception; so is failure ({@link DnsOutcome#FAILURE}, with a {@link DnsFailure}
 * and a state of {@link DnssecState#BOGUS} or {@link DnssecState#INDETERMINATE}).
 *
 * @param name the name asked for
 * @param type the type asked for
 * @param outcome what the lookup established
 * @param state the DNSSEC state: the weakest over every response the answer was built from
 * @param records the records of {@code type} at the end of the CNAME chain (empty unless {@link
 *     DnsOutcome#DATA})
 * @param cnameChain the CNAME targets followed, in order (empty when {@code name} had no CNAME);
 *     the last one is the canonical name
 * @param rcode the DNS response code of the last response (RFC 1035 §4.1.1, RFC 6895), or -1 when
 *     no response arrived
 * @param failure why nothing was established, present exactly when {@code outcome} is {@link
 *     DnsOutcome#FAILURE}
 * @param reason the validator's reason or the Extended DNS Error text (RFC 8914), when given
 */
public record DnsAnswer(
    DomainName name,
    DnsRecordType type,
    DnsOutcome outcome,
    DnssecState state,
    List<DnsRecord> records,
    List<DomainName> cnameChain,
    int rcode,
    Optional<DnsFailure> failure,
    Optional<String> reason) {

  public DnsAnswer {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(state, "state");
    records = List.copyOf(records);
    cnameChain = List.copyOf(cnameChain);
    Objects.requireNonNull(failure, "failure");
    Objects.requireNonNull(reason, "reason");
    if ((outcome == DnsOutcome.FAILURE) != failure.isPresent()) {
      throw new IllegalArgumentException("failure must be present exactly for FAILURE: " + outcome);
    }
    if (outcome == DnsOutcome.FAILURE
        && state != DnssecState.BOGUS
        && state != DnssecState.INDETERMINATE) {
      throw new IllegalArgumentException("a failed lookup cannot be " + state);
    }
    if (outcome != DnsOutcome.DATA && !records.isEmpty()) {
      throw new IllegalArgumentException("records present for outcome " + outcome);
    }
  }

  /** A failed lookup. */
  public static DnsAnswer failed(
      DomainName name, DnsRecordType type, DnssecState state, DnsFailure failure, int rcode,
      String reason) {
    return new DnsAnswer(name, type, DnsOutcome.FAILURE, state, List.of(), List.of(), rcode,
        Optional.of(failure), Optional.ofNullable(reason));
  }

  /** The name at the end of the CNAME chain ({@link #name()} when there was none). */
  public DomainName canonicalName() {
    return cnameChain.isEmpty() ? name : cnameChain.get(cnameChain.size() - 1);
  }

  /** Whether the lookup established something (data, or its absence). */
  public boolean isSuccess() {
    return outcome != DnsOutcome.FAILURE;
  }

  /** Whether the name or the type provably does not exist ({@code NXDOMAIN} or {@code NODATA}). */
  public boolean isNegative() {
    return outcome == DnsOutcome.NXDOMAIN || outcome == DnsOutcome.NODATA;
  }

  /** Whether the state is {@link DnssecState#SECURE}. */
  public boolean isSecure() {
    return state == DnssecState.SECURE;
  }

  /** The records of one kind, e.g. {@code answer.records(DnsRecord.Mx.class)}. */
  public <T extends DnsRecord> List<T> records(Class<T> kind) {
    return records.stream().filter(kind::isInstance).map(kind::cast).toList();
  }

  /** A short human-readable form, e.g. {@code MX example.test: DATA SECURE (2 records)}. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder()
        .append(type).append(' ').append(name).append(": ").append(outcome).append(' ')
        .append(state);
    failure.ifPresent(f -> sb.append(' ').append(f));
    if (!cnameChain.isEmpty()) {
      sb.append(" via CNAME ").append(cnameChain);
    }
    if (!records.isEmpty()) {
      sb.append(" (").append(records.size()).append(records.size() == 1 ? " record)" : " records)");
    }
    reason.ifPresent(r -> sb.append(" [").append(r).append(']'));
    return sb.toString();
  }
}
