package io.mailtls.core;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The mail exchangers of a next hop, or why there are none. Immutable.
 *
 * @param nextHop what was resolved
 * @param kind the outcome
 * @param hosts the hosts in the order to try them (preference order, shuffled among equal
 *     preferences, RFC 5321 §5.1); empty unless {@code kind} is {@link Kind#MX} or {@link
 *     Kind#IMPLICIT_MX}
 * @param mxAnswer the MX answer; empty for an address literal
 * @param notes what was ignored or noteworthy on the way (a null MX among others, an IP address
 *     as MX target, an aliased MX host), for the decision record
 */
public record MxResolution(
    NextHop nextHop,
    Kind kind,
    List<MxHost> hosts,
    Optional<DnsAnswer> mxAnswer,
    List<String> notes) {

  /** What MX resolution established. */
  public enum Kind {
    /** MX records lead to the hosts. */
    MX(false, false),
    /** No MX records: the domain's own addresses (RFC 5321 §5.1). */
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
     * DNS did not answer usably: SERVFAIL, timeout, bogus or indeterminate data, or no usable MX
     * target. Try again later; never read as "no MX".
     */
    TEMPORARY_FAILURE(false, true);

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

  public MxResolution {
    Objects.requireNonNull(nextHop, "nextHop");
    Objects.requireNonNull(kind, "kind");
    hosts = List.copyOf(hosts);
    Objects.requireNonNull(mxAnswer, "mxAnswer");
    notes = List.copyOf(notes);
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
}
