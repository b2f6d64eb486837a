package io.mailtls.core;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The answer to one DNS question, with its DNSSEC state.
 *
 * <p>Non-existence is an answer ({@link DnsOutcome#NXDOMAIN}, {@link DnsOutcome#NODATA}) with a
 * state, not an exception; so is failure ({@link DnsOutcome#FAILURE}, with a {@link DnsFailure} and
 * a state of {@link DnssecState#BOGUS} or {@link DnssecState#INDETERMINATE}).
 *
 * <p>Immutable. Callers read answers; a {@link DnsResolver} implementation makes them with {@link
 * #builder} or {@link #failed}, the only public ways to build one, so that an answer may gain
 * components without breaking either (docs/design.md §5).
 */
public final class DnsAnswer {

  private final DomainName name;
  private final DnsRecordType type;
  private final DnsOutcome outcome;
  private final DnssecState state;
  private final List<DnsRecord> records;
  private final List<DomainName> cnameChain;
  private final int rcode;
  private final Optional<DnsFailure> failure;
  private final Optional<String> reason;
  private final Duration ttl;

  /**
   * The longest {@link #ttl()} an answer may carry: RFC 2181 §8 limits a TTL to 2<sup>31</sup>-1
   * seconds.
   */
  public static final Duration MAX_TTL = Duration.ofSeconds(Integer.MAX_VALUE);

  /** Private: {@link #builder} and {@link #failed} build answers. */
  private DnsAnswer(
      DomainName name,
      DnsRecordType type,
      DnsOutcome outcome,
      DnssecState state,
      List<DnsRecord> records,
      List<DomainName> cnameChain,
      int rcode,
      Optional<DnsFailure> failure,
      Optional<String> reason,
      Duration ttl) {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(type, "type");
    Objects.requireNonNull(outcome, "outcome");
    Objects.requireNonNull(state, "state");
    records = List.copyOf(records);
    cnameChain = List.copyOf(cnameChain);
    Objects.requireNonNull(failure, "failure");
    Objects.requireNonNull(reason, "reason");
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.isNegative() || ttl.compareTo(MAX_TTL) > 0) {
      throw new IllegalArgumentException("ttl out of range: " + ttl);
    }
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
    this.name = name;
    this.type = type;
    this.outcome = outcome;
    this.state = state;
    this.records = records;
    this.cnameChain = cnameChain;
    this.rcode = rcode;
    this.failure = failure;
    this.reason = reason;
    this.ttl = ttl;
  }

  /**
   * A builder of one answer, for {@link DnsResolver} implementations: the only way to make an
   * answer outside mailtls. {@code outcome} and {@code state} are required; everything else has a
   * default (no records, no CNAME chain, response code 0, no failure, no reason, a {@link #ttl()}
   * of zero).
   *
   * <p>Example: {@code DnsAnswer.builder(name, DnsRecordType.A, DnsOutcome.DATA,
   * DnssecState.SECURE).records(List.of(new DnsRecord.Address(address))).build()}.
   */
  public static Builder builder(
      DomainName name, DnsRecordType type, DnsOutcome outcome, DnssecState state) {
    return new Builder(name, type, outcome, state);
  }

  /** A failed lookup. */
  public static DnsAnswer failed(
      DomainName name,
      DnsRecordType type,
      DnssecState state,
      DnsFailure failure,
      int rcode,
      String reason) {
    return new DnsAnswer(
        name,
        type,
        DnsOutcome.FAILURE,
        state,
        List.of(),
        List.of(),
        rcode,
        Optional.of(failure),
        Optional.ofNullable(reason),
        Duration.ZERO);
  }

  /** The name asked for. */
  public DomainName name() {
    return name;
  }

  /** The type asked for. */
  public DnsRecordType type() {
    return type;
  }

  /** What the lookup established. */
  public DnsOutcome outcome() {
    return outcome;
  }

  /** The DNSSEC state: the weakest over every response the answer was built from. */
  public DnssecState state() {
    return state;
  }

  /**
   * The records of {@link #type()} at the end of the CNAME chain (empty unless {@link
   * DnsOutcome#DATA}).
   */
  public List<DnsRecord> records() {
    return records;
  }

  /**
   * The CNAME targets followed, in order (empty when {@link #name()} had no CNAME); the last one is
   * the canonical name.
   */
  public List<DomainName> cnameChain() {
    return cnameChain;
  }

  /**
   * The DNS response code of the last response (RFC 1035 §4.1.1, RFC 6895), or -1 when no response
   * arrived.
   */
  public int rcode() {
    return rcode;
  }

  /**
   * Why nothing was established, present exactly when {@link #outcome()} is {@link
   * DnsOutcome#FAILURE}.
   */
  public Optional<DnsFailure> failure() {
    return failure;
  }

  /** The validator's reason or the Extended DNS Error text (RFC 8914), when given. */
  public Optional<String> reason() {
    return reason;
  }

  /**
   * How long this answer may be reused from when it was delivered: for data the smallest TTL of the
   * RRsets it was built from (the answer and every CNAME on the way, RFC 2181 §5.2, §10.1.1), no
   * longer than the original TTL or the expiry of their signatures (RFC 4034 §3.1.4, RFC 4035
   * §5.3.3); for {@link DnsOutcome#NXDOMAIN} and {@link DnsOutcome#NODATA} the negative TTL of RFC
   * 2308 §5, the smaller of the SOA record's TTL and its MINIMUM field, no longer than the TTL, the
   * original TTL or the signatures' expiry of the NSEC or NSEC3 records that prove the denial (RFC
   * 9077 §3–§4). An answer read from a cache carries what is left of it.
   *
   * <p>Zero means "do not reuse": the default for answers built without a TTL (so a {@link
   * DnsResolver} that says nothing about TTLs makes no answer or plan outlive its lookup), and what
   * every {@link DnsOutcome#FAILURE} carries (RFC 2308 §7 lets a resolver remember failures
   * briefly; that is a cache's decision, never a property of the failed answer).
   */
  public Duration ttl() {
    return ttl;
  }

  /**
   * This answer with {@code ttl} in place of its {@link #ttl()}: what a cache hands out, with the
   * time that is left.
   */
  public DnsAnswer withTtl(Duration ttl) {
    if (ttl.equals(this.ttl) || outcome == DnsOutcome.FAILURE) {
      return this;
    }
    return new DnsAnswer(
        name, type, outcome, state, records, cnameChain, rcode, failure, reason, ttl);
  }

  /**
   * Equal when every component is but {@link #ttl()}: the same data read from a cache at two
   * moments is the same answer.
   */
  @Override
  public boolean equals(Object o) {
    if (o == this) {
      return true;
    }
    return o instanceof DnsAnswer other
        && name.equals(other.name)
        && type.equals(other.type)
        && outcome.equals(other.outcome)
        && state.equals(other.state)
        && records.equals(other.records)
        && cnameChain.equals(other.cnameChain)
        && rcode == other.rcode
        && failure.equals(other.failure)
        && reason.equals(other.reason);
  }

  @Override
  public int hashCode() {
    return Objects.hash(name, type, outcome, state, records, cnameChain, rcode, failure, reason);
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
    StringBuilder sb =
        new StringBuilder()
            .append(type)
            .append(' ')
            .append(name)
            .append(": ")
            .append(outcome)
            .append(' ')
            .append(state);
    failure.ifPresent(f -> sb.append(' ').append(f));
    if (!cnameChain.isEmpty()) {
      sb.append(" via CNAME ").append(cnameChain);
    }
    if (!records.isEmpty()) {
      sb.append(" (").append(records.size()).append(records.size() == 1 ? " record)" : " records)");
    }
    if (!ttl.isZero()) {
      sb.append(" ttl ").append(ttl.toSeconds()).append('s');
    }
    reason.ifPresent(r -> sb.append(" [").append(r).append(']'));
    return sb.toString();
  }

  /**
   * Builds a {@link DnsAnswer}; {@link #build()} checks the answer as a whole (a failure exactly
   * for {@link DnsOutcome#FAILURE}, records only for {@link DnsOutcome#DATA}). Not thread-safe.
   */
  public static final class Builder {
    private final DomainName name;
    private final DnsRecordType type;
    private final DnsOutcome outcome;
    private final DnssecState state;
    private List<DnsRecord> records = List.of();
    private List<DomainName> cnameChain = List.of();
    private int rcode;
    private Optional<DnsFailure> failure = Optional.empty();
    private Optional<String> reason = Optional.empty();
    private Duration ttl = Duration.ZERO;

    private Builder(DomainName name, DnsRecordType type, DnsOutcome outcome, DnssecState state) {
      this.name = Objects.requireNonNull(name, "name");
      this.type = Objects.requireNonNull(type, "type");
      this.outcome = Objects.requireNonNull(outcome, "outcome");
      this.state = Objects.requireNonNull(state, "state");
    }

    /** The records of the type asked for at the end of the CNAME chain; default none. */
    public Builder records(List<? extends DnsRecord> records) {
      this.records = List.copyOf(records);
      return this;
    }

    /** The CNAME targets followed, in order; default none. */
    public Builder cnameChain(List<DomainName> cnameChain) {
      this.cnameChain = List.copyOf(cnameChain);
      return this;
    }

    /** The response code of the last response, or -1 when none arrived; default 0 (NOERROR). */
    public Builder rcode(int rcode) {
      this.rcode = rcode;
      return this;
    }

    /** Why nothing was established; required for, and only for, {@link DnsOutcome#FAILURE}. */
    public Builder failure(DnsFailure failure) {
      this.failure = Optional.of(failure);
      return this;
    }

    /** The validator's reason or the Extended DNS Error text (RFC 8914); default none. */
    public Builder reason(String reason) {
      this.reason = Optional.of(reason);
      return this;
    }

    /**
     * How long the answer may be reused, see {@link DnsAnswer#ttl()}; default zero (not reused).
     * Ignored for {@link DnsOutcome#FAILURE}, which is never reused as an answer.
     *
     * @throws IllegalArgumentException when negative or above {@link DnsAnswer#MAX_TTL}
     */
    public Builder ttl(Duration ttl) {
      Objects.requireNonNull(ttl, "ttl");
      if (ttl.isNegative() || ttl.compareTo(MAX_TTL) > 0) {
        throw new IllegalArgumentException("ttl out of range: " + ttl);
      }
      this.ttl = ttl;
      return this;
    }

    /**
     * The answer.
     *
     * @throws IllegalArgumentException when the parts do not make an answer (see {@link DnsAnswer})
     */
    public DnsAnswer build() {
      return new DnsAnswer(
          name,
          type,
          outcome,
          state,
          records,
          cnameChain,
          rcode,
          failure,
          reason,
          outcome == DnsOutcome.FAILURE ? Duration.ZERO : ttl);
    }
  }
}
