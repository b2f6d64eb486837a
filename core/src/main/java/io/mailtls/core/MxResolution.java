package io.mailtls.core;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The mail exchangers of a next hop, or why there are none.
 *
 * <p>Immutable. mailtls builds it and callers read it: its constructor is not public, so that it
 * may gain components without breaking callers (docs/design.md §5).
 */
public final class MxResolution {

  private final NextHop nextHop;
  private final Kind kind;
  private final List<MxHost> hosts;
  private final Optional<DnsAnswer> mxAnswer;
  private final List<String> notes;

  /** Not public: built by {@link MxResolver} and the transport. */
  MxResolution(
      NextHop nextHop,
      Kind kind,
      List<MxHost> hosts,
      Optional<DnsAnswer> mxAnswer,
      List<String> notes) {
    Objects.requireNonNull(nextHop, "nextHop");
    Objects.requireNonNull(kind, "kind");
    hosts = List.copyOf(hosts);
    Objects.requireNonNull(mxAnswer, "mxAnswer");
    notes = List.copyOf(notes);
    this.nextHop = nextHop;
    this.kind = kind;
    this.hosts = hosts;
    this.mxAnswer = mxAnswer;
    this.notes = notes;
  }

  /** What was resolved. */
  public NextHop nextHop() {
    return nextHop;
  }

  /** The outcome. */
  public Kind kind() {
    return kind;
  }

  /**
   * The hosts in the order to try them (preference order, shuffled among equal preferences, RFC
   * 5321 §5.1); empty unless {@link #kind()} is {@link Kind#MX} or {@link Kind#IMPLICIT_MX}.
   */
  public List<MxHost> hosts() {
    return hosts;
  }

  /** The MX answer; empty for an address literal. */
  public Optional<DnsAnswer> mxAnswer() {
    return mxAnswer;
  }

  /**
   * What was ignored or noteworthy on the way (a null MX among others, an IP address as MX target,
   * an aliased MX host), for the decision record.
   */
  public List<String> notes() {
    return notes;
  }

  /** Equal when every component is. */
  @Override
  public boolean equals(Object o) {
    return o instanceof MxResolution other
        && nextHop.equals(other.nextHop)
        && kind.equals(other.kind)
        && hosts.equals(other.hosts)
        && mxAnswer.equals(other.mxAnswer)
        && notes.equals(other.notes);
  }

  @Override
  public int hashCode() {
    return Objects.hash(nextHop, kind, hosts, mxAnswer, notes);
  }

  /** What MX resolution established. */
  public enum Kind {
    /** MX records lead to the hosts. */
    MX(false, false),
    /**
     * No MX records: the domain's own addresses (RFC 5321 §5.1). Its one host may be left with no
     * address when every published one was dropped as not unicast ({@link MxResolver}); the planner
     * then defers.
     */
    IMPLICIT_MX(false, false),
    /** The next hop is an address literal; no DNS was asked. */
    ADDRESS_LITERAL(false, false),
    /** The domain publishes a null MX: it accepts no mail (RFC 7505 §3, status 5.1.10). */
    NULL_MX(true, false),
    /** The domain does not exist (NXDOMAIN). */
    NO_SUCH_DOMAIN(true, false),
    /** The domain exists but has neither MX nor address records (RFC 5321 §5.1). */
    NO_MAIL_HOST(true, false),
    /**
     * MX records are present and none names a mail host: each names an IP address (or something
     * else that is not a host name). RFC 5321 §5.1: the MX data "MUST contain a domain name", and
     * when "MX records are present, but none of them are usable ... this situation MUST be reported
     * as an error"; the addresses are not used, and the domain's own address records are not either
     * (no implicit MX when MX records exist). {@link #notes()} names each record and what is wrong
     * with it.
     */
    NO_USABLE_MX(true, false),
    /**
     * DNS did not answer usably: SERVFAIL, timeout, bogus or indeterminate data. Try again later;
     * never read as "no MX".
     */
    TEMPORARY_FAILURE(false, true),
    /**
     * Not looked up: the recipients were deferred before planning got that far (unreadable content,
     * no delivery slot or thread, planning failed). Says nothing about the domain's DNS.
     */
    NOT_RESOLVED(false, true);

    private final boolean permanent;
    private final boolean temporary;

    Kind(boolean permanent, boolean temporary) {
      this.permanent = permanent;
      this.temporary = temporary;
    }

    /** Whether mail for this next hop must bounce. */
    public boolean isPermanentFailure() {
      return permanent;
    }

    /** Whether mail for this next hop must be deferred. */
    public boolean isTemporaryFailure() {
      return temporary;
    }
  }

  /**
   * The DNSSEC state of the MX answer ({@link DnssecState#INSECURE} for an implicit MX reached
   * through an insecure answer, {@link DnssecState#INDETERMINATE} for an address literal).
   */
  public DnssecState mxState() {
    return mxAnswer.map(DnsAnswer::state).orElse(DnssecState.INDETERMINATE);
  }

  /** The hosts that have at least one address. */
  public List<MxHost> connectableHosts() {
    return hosts.stream().filter(h -> !h.addresses().isEmpty()).toList();
  }

  /** In the form a record has: {@code MxResolution[nextHop=…, …]}. */
  @Override
  public String toString() {
    return "MxResolution[nextHop="
        + nextHop
        + ", kind="
        + kind
        + ", hosts="
        + hosts
        + ", mxAnswer="
        + mxAnswer
        + ", notes="
        + notes
        + "]";
  }
}
