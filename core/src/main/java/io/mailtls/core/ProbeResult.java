package io.mailtls.core;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a {@link StarttlsProbe} saw at one address, and its verdict. Peer text in it (replies,
 * certificate names, failure messages) is kept as the transport keeps it in reports: control
 * characters made visible.
 *
 * <p>Immutable. mailtls builds it and callers read it: its constructor is not public, so that it
 * may gain components without breaking callers (docs/design.md §5).
 */
public final class ProbeResult {

  private final Optional<DomainName> host;
  private final InetSocketAddress address;
  private final TlsRequirement requirement;
  private final Optional<String> serverName;
  private final boolean reachable;
  private final Optional<SmtpReply> greeting;
  private final Optional<Boolean> starttlsOffered;
  private final Optional<SmtpReply> starttlsReply;
  private final Optional<TlsDetails> tls;
  private final Optional<Verification> pkix;
  private final Optional<Verification> dane;
  private final Optional<DnsRecord.Tlsa> matchedTlsa;
  private final Optional<Authentication> authentication;
  private final Optional<FailureType> failure;
  private final ProbeVerdict verdict;
  private final String reason;
  private final List<String> notes;
  private final Duration elapsed;

  /** Not public: built by the probe. */
  ProbeResult(
      Optional<DomainName> host,
      InetSocketAddress address,
      TlsRequirement requirement,
      Optional<String> serverName,
      boolean reachable,
      Optional<SmtpReply> greeting,
      Optional<Boolean> starttlsOffered,
      Optional<SmtpReply> starttlsReply,
      Optional<TlsDetails> tls,
      Optional<Verification> pkix,
      Optional<Verification> dane,
      Optional<DnsRecord.Tlsa> matchedTlsa,
      Optional<Authentication> authentication,
      Optional<FailureType> failure,
      ProbeVerdict verdict,
      String reason,
      List<String> notes,
      Duration elapsed) {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(requirement, "requirement");
    Objects.requireNonNull(serverName, "serverName");
    Objects.requireNonNull(greeting, "greeting");
    Objects.requireNonNull(starttlsOffered, "starttlsOffered");
    Objects.requireNonNull(starttlsReply, "starttlsReply");
    Objects.requireNonNull(tls, "tls");
    Objects.requireNonNull(pkix, "pkix");
    Objects.requireNonNull(dane, "dane");
    Objects.requireNonNull(matchedTlsa, "matchedTlsa");
    Objects.requireNonNull(authentication, "authentication");
    Objects.requireNonNull(failure, "failure");
    Objects.requireNonNull(verdict, "verdict");
    Objects.requireNonNull(reason, "reason");
    notes = List.copyOf(notes);
    Objects.requireNonNull(elapsed, "elapsed");
    this.host = host;
    this.address = address;
    this.requirement = requirement;
    this.serverName = serverName;
    this.reachable = reachable;
    this.greeting = greeting;
    this.starttlsOffered = starttlsOffered;
    this.starttlsReply = starttlsReply;
    this.tls = tls;
    this.pkix = pkix;
    this.dane = dane;
    this.matchedTlsa = matchedTlsa;
    this.authentication = authentication;
    this.failure = failure;
    this.verdict = verdict;
    this.reason = reason;
    this.notes = notes;
    this.elapsed = elapsed;
  }

  /** The MX host name probed; empty for an address literal. */
  public Optional<DomainName> host() {
    return host;
  }

  /** The address and port connected to. */
  public InetSocketAddress address() {
    return address;
  }

  /** The TLS requirement the verdict applies. */
  public TlsRequirement requirement() {
    return requirement;
  }

  /**
   * The SNI name the handshake sends (the TLSA base domain under DANE, RFC 7672 §8.1; else the host
   * name); empty for an address literal.
   */
  public Optional<String> serverName() {
    return serverName;
  }

  /** Whether the TCP connection was established. */
  public boolean reachable() {
    return reachable;
  }

  /** The server's greeting, when one arrived. */
  public Optional<SmtpReply> greeting() {
    return greeting;
  }

  /** Whether EHLO offered STARTTLS; empty when EHLO (and HELO) got no usable answer. */
  public Optional<Boolean> starttlsOffered() {
    return starttlsOffered;
  }

  /** The reply to STARTTLS, when it was sent and answered. */
  public Optional<SmtpReply> starttlsReply() {
    return starttlsReply;
  }

  /**
   * The TLS session as far as the handshake got: present once the server's certificate arrived,
   * also when verification then refused it (see {@link #failure()}).
   */
  public Optional<TlsDetails> tls() {
    return tls;
  }

  /**
   * The PKIX check of the server's chain and name: the requirement's own check under a {@link
   * TlsRequirement.Pkix} requirement, otherwise the check MTA-STS would make (RFC 8461 §4.2)
   * against the host name, which decides nothing; empty when no certificate arrived.
   */
  public Optional<Verification> pkix() {
    return pkix;
  }

  /**
   * The DANE check under a {@link TlsRequirement.Dane} requirement; empty otherwise, or when no
   * certificate arrived.
   */
  public Optional<Verification> dane() {
    return dane;
  }

  /** The TLSA record that authenticated the server, when DANE passed and the provider names it. */
  public Optional<DnsRecord.Tlsa> matchedTlsa() {
    return matchedTlsa;
  }

  /** How delivery would authenticate the server, when the session was ready. */
  public Optional<Authentication> authentication() {
    return authentication;
  }

  /** Why the session could not be used, when it could not. */
  public Optional<FailureType> failure() {
    return failure;
  }

  /** The verdict. */
  public ProbeVerdict verdict() {
    return verdict;
  }

  /** The verdict in words, after the session's notes. */
  public String reason() {
    return reason;
  }

  /**
   * What the session noted, as an attempt's detail would (plaintext chosen, octets discarded after
   * STARTTLS, a TLSA record matched).
   */
  public List<String> notes() {
    return notes;
  }

  /** How long the probe took. */
  public Duration elapsed() {
    return elapsed;
  }

  /** Equal when every component is. */
  @Override
  public boolean equals(Object o) {
    return o instanceof ProbeResult other
        && host.equals(other.host)
        && address.equals(other.address)
        && requirement.equals(other.requirement)
        && serverName.equals(other.serverName)
        && reachable == other.reachable
        && greeting.equals(other.greeting)
        && starttlsOffered.equals(other.starttlsOffered)
        && starttlsReply.equals(other.starttlsReply)
        && tls.equals(other.tls)
        && pkix.equals(other.pkix)
        && dane.equals(other.dane)
        && matchedTlsa.equals(other.matchedTlsa)
        && authentication.equals(other.authentication)
        && failure.equals(other.failure)
        && verdict.equals(other.verdict)
        && reason.equals(other.reason)
        && notes.equals(other.notes)
        && elapsed.equals(other.elapsed);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        host,
        address,
        requirement,
        serverName,
        reachable,
        greeting,
        starttlsOffered,
        starttlsReply,
        tls,
        pkix,
        dane,
        matchedTlsa,
        authentication,
        failure,
        verdict,
        reason,
        notes,
        elapsed);
  }

  /**
   * One certificate check.
   *
   * <p>Immutable; built by mailtls, read by callers (docs/design.md §5).
   */
  public static final class Verification {

    private final boolean verified;
    private final Optional<FailureType> failure;
    private final String detail;

    /** Not public: built by the probe. */
    Verification(boolean verified, Optional<FailureType> failure, String detail) {
      Objects.requireNonNull(failure, "failure");
      Objects.requireNonNull(detail, "detail");
      if (verified == failure.isPresent()) {
        throw new IllegalArgumentException("a failure type exactly when not verified");
      }
      this.verified = verified;
      this.failure = failure;
      this.detail = detail;
    }

    /** Whether the check passed. */
    public boolean verified() {
      return verified;
    }

    /** The RFC 8460 result type when it failed ({@link FailureType#tlsRptResultType()}). */
    public Optional<FailureType> failure() {
      return failure;
    }

    /** What passed, or why it failed. */
    public String detail() {
      return detail;
    }

    /** Equal when every component is. */
    @Override
    public boolean equals(Object o) {
      return o instanceof Verification other
          && verified == other.verified
          && failure.equals(other.failure)
          && detail.equals(other.detail);
    }

    @Override
    public int hashCode() {
      return Objects.hash(verified, failure, detail);
    }

    /** In the form a record has: {@code Verification[verified=…, …]}. */
    @Override
    public String toString() {
      return "Verification[verified="
          + verified
          + ", failure="
          + failure
          + ", detail="
          + detail
          + "]";
    }
  }

  /** In the form a record has: {@code ProbeResult[host=…, …]}. */
  @Override
  public String toString() {
    return "ProbeResult[host="
        + host
        + ", address="
        + address
        + ", requirement="
        + requirement
        + ", serverName="
        + serverName
        + ", reachable="
        + reachable
        + ", greeting="
        + greeting
        + ", starttlsOffered="
        + starttlsOffered
        + ", starttlsReply="
        + starttlsReply
        + ", tls="
        + tls
        + ", pkix="
        + pkix
        + ", dane="
        + dane
        + ", matchedTlsa="
        + matchedTlsa
        + ", authentication="
        + authentication
        + ", failure="
        + failure
        + ", verdict="
        + verdict
        + ", reason="
        + reason
        + ", notes="
        + notes
        + ", elapsed="
        + elapsed
        + "]";
  }
}
