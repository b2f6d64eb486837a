package io.mailtls.core;

import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Optional;

/**
 * One connection attempt to one address of an MX host (or relay), as the report records it.
 *
 * <p>Immutable. mailtls builds it and callers read it: its constructor is not public, so that it
 * may gain components without breaking callers (docs/design.md §5).
 */
public final class Attempt {

  private final Optional<DomainName> host;
  private final InetSocketAddress address;
  private final TlsRequirement requirement;
  private final PolicySource source;
  private final Optional<TlsDetails> tls;
  private final Optional<Authentication> authentication;
  private final Optional<FailureType> failure;
  private final Optional<SmtpReply> reply;
  private final String detail;
  private final Optional<String> announcedName;
  private final Optional<InetSocketAddress> localAddress;
  private final Timings timings;
  private final Optional<MtaStsPolicy> mtaStsPolicy;
  private final boolean sessionReused;
  private final Optional<FailureType> plaintextReason;
  private final boolean failedInTlsNegotiation;

  /** Not public: built by the transport. */
  Attempt(
      Optional<DomainName> host,
      InetSocketAddress address,
      TlsRequirement requirement,
      PolicySource source,
      Optional<TlsDetails> tls,
      Optional<Authentication> authentication,
      Optional<FailureType> failure,
      Optional<SmtpReply> reply,
      String detail,
      Optional<String> announcedName,
      Optional<InetSocketAddress> localAddress,
      Timings timings,
      Optional<MtaStsPolicy> mtaStsPolicy,
      boolean sessionReused,
      Optional<FailureType> plaintextReason,
      boolean failedInTlsNegotiation) {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(requirement, "requirement");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(tls, "tls");
    Objects.requireNonNull(authentication, "authentication");
    Objects.requireNonNull(failure, "failure");
    Objects.requireNonNull(reply, "reply");
    Objects.requireNonNull(detail, "detail");
    Objects.requireNonNull(announcedName, "announcedName");
    Objects.requireNonNull(localAddress, "localAddress");
    Objects.requireNonNull(timings, "timings");
    Objects.requireNonNull(mtaStsPolicy, "mtaStsPolicy");
    Objects.requireNonNull(plaintextReason, "plaintextReason");
    this.host = host;
    this.address = address;
    this.requirement = requirement;
    this.source = source;
    this.tls = tls;
    this.authentication = authentication;
    this.failure = failure;
    this.reply = reply;
    this.detail = detail;
    this.announcedName = announcedName;
    this.localAddress = localAddress;
    this.timings = timings;
    this.mtaStsPolicy = mtaStsPolicy;
    this.sessionReused = sessionReused;
    this.plaintextReason = tls.isPresent() ? Optional.empty() : plaintextReason;
    this.failedInTlsNegotiation = failedInTlsNegotiation && failure.isPresent() && tls.isEmpty();
  }

  /** The MX host name; empty for an address literal. */
  public Optional<DomainName> host() {
    return host;
  }

  /** The address and port connected to. */
  public InetSocketAddress address() {
    return address;
  }

  /** The TLS requirement that applied. */
  public TlsRequirement requirement() {
    return requirement;
  }

  /** Which policy set that requirement. */
  public PolicySource source() {
    return source;
  }

  /** The negotiated TLS session, when TLS was used. */
  public Optional<TlsDetails> tls() {
    return tls;
  }

  /** How the peer was authenticated, once a session was established. */
  public Optional<Authentication> authentication() {
    return authentication;
  }

  /** Why the attempt did not complete a transaction, if it did not. */
  public Optional<FailureType> failure() {
    return failure;
  }

  /** The server reply that ended the attempt, if any. */
  public Optional<SmtpReply> reply() {
    return reply;
  }

  /** A human-readable account (never message content or credentials). */
  public String detail() {
    return detail;
  }

  /**
   * The name the server announced for itself: the domain of its EHLO (or HELO) reply, else of its
   * 220 greeting (RFC 5321 §4.1.1.1, §4.2), lower case; empty when it announced none that is a
   * domain or address literal, or the session did not get that far. After STARTTLS, only the EHLO
   * reply over TLS counts (RFC 3207 §4.2); a failed handshake keeps the name said in plaintext. RFC
   * 8460 §4.4's {@code receiving-mx-helo}.
   */
  public Optional<String> announcedName() {
    return announcedName;
  }

  /**
   * The local end of the connection (the sending MTA's address and port), once it was connected.
   * RFC 8460 §4.4's {@code sending-mta-ip}.
   */
  public Optional<InetSocketAddress> localAddress() {
    return localAddress;
  }

  /**
   * Where the attempt's time went: connection set-up, TLS and the transaction ({@link
   * Timings#plan()} is empty here).
   */
  public Timings timings() {
    return timings;
  }

  /**
   * The recipient domain's MTA-STS policy in the plan this attempt was made under (empty when it
   * had none, and for a relay), whether or not that policy set the requirement ({@link #source()}
   * says which did). An attempt made after RFC 8461 §5.1's re-check found a new policy carries the
   * new one; the attempts before it, the old one. RFC 8460 §4.4's policy block for the session.
   */
  public Optional<MtaStsPolicy> mtaStsPolicy() {
    return mtaStsPolicy;
  }

  /**
   * Whether the attempt ran on a pooled session that an earlier attempt to the same next hop had
   * already used: no connection was opened and no TLS handshake made for it. RFC 8460 §4.3 counts
   * such a session once, when it was set up ({@code total-successful-session-count} counts
   * "successfully negotiated TLS-enabled connections"), not once per message it carried.
   */
  public boolean sessionReused() {
    return sessionReused;
  }

  /**
   * Why a session that was allowed to go on without TLS (opportunistic TLS, RFC 7435) has none,
   * once its EHLO was answered: {@link FailureType#STARTTLS_NOT_SUPPORTED} when the server did not
   * offer STARTTLS, or refused it with a reply other than 220 (RFC 3207 §4), and the session went
   * on on the same connection; otherwise the failure of the STARTTLS command or of the TLS
   * handshake that began after its 220 (and of the EHLO over TLS), after which the session went on
   * in plaintext on a new connection, or the downgrade memory refused that ({@link
   * FailureType#DOWNGRADE_DETECTED} in {@link #failure()}). Empty when the session has TLS, when it
   * ended before its EHLO was answered, and when TLS was required: {@link #failure()} then says why
   * there is none ({@code STARTTLS_NOT_SUPPORTED} for a missing or refused STARTTLS, the
   * handshake's failure otherwise). RFC 8460 §4.3.1 reports the first as {@code
   * starttls-not-supported} and the others as the negotiation's failure.
   */
  public Optional<FailureType> plaintextReason() {
    return plaintextReason;
  }

  /**
   * Whether the attempt failed ({@link #failure()}) while negotiating TLS that the server had
   * offered: on the STARTTLS command, in the handshake after its 220, or on the EHLO over TLS (RFC
   * 3207 §4.2). That is a failure to negotiate a TLS-enabled connection (RFC 8460 §4.4) whatever
   * the failure's type, also a {@link FailureType#TIMEOUT} or {@link FailureType#CONNECTION_LOST},
   * which have no TLS-RPT result type of their own. False when the attempt did not fail or failed
   * elsewhere, and where the session could go on in plaintext after such a failure: {@link
   * #plaintextReason()} names it then.
   */
  public boolean failedInTlsNegotiation() {
    return failedInTlsNegotiation;
  }

  /** Equal when every component is. */
  @Override
  public boolean equals(Object o) {
    return o instanceof Attempt other
        && host.equals(other.host)
        && address.equals(other.address)
        && requirement.equals(other.requirement)
        && source.equals(other.source)
        && tls.equals(other.tls)
        && authentication.equals(other.authentication)
        && failure.equals(other.failure)
        && reply.equals(other.reply)
        && detail.equals(other.detail)
        && announcedName.equals(other.announcedName)
        && localAddress.equals(other.localAddress)
        && timings.equals(other.timings)
        && mtaStsPolicy.equals(other.mtaStsPolicy)
        && sessionReused == other.sessionReused
        && plaintextReason.equals(other.plaintextReason)
        && failedInTlsNegotiation == other.failedInTlsNegotiation;
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        host,
        address,
        requirement,
        source,
        tls,
        authentication,
        failure,
        reply,
        detail,
        announcedName,
        localAddress,
        timings,
        mtaStsPolicy,
        sessionReused,
        plaintextReason,
        failedInTlsNegotiation);
  }

  @Override
  public String toString() {
    return host.map(DomainName::toString).orElse("[literal]")
        + " "
        + address
        + tls.map(t -> " " + t.protocol()).orElse(" plaintext")
        + failure.map(f -> " failed: " + f).orElse("")
        + reply.map(r -> " reply: " + r).orElse("")
        + (detail.isEmpty() ? "" : " (" + detail + ")");
  }
}
