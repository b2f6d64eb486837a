package io.mailtls.core;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * What a {@link StarttlsProbe} saw at one address, and its verdict. Immutable. Peer text in it
 * (replies, certificate names, failure messages) is kept as the transport keeps it in reports:
 * control characters made visible.
 *
 * @param host the MX host name probed; empty for an address literal
 * @param address the address and port connected to
 * @param requirement the TLS requirement the verdict applies
 * @param serverName the SNI name the handshake sends (the TLSA base domain under DANE, RFC 7672
 *     §8.1; else the host name); empty for an address literal
 * @param reachable whether the TCP connection was established
 * @param greeting the server's greeting, when one arrived
 * @param starttlsOffered whether EHLO offered STARTTLS; empty when EHLO (and HELO) got no
 *     usable answer
 * @param starttlsReply the reply to STARTTLS, when it was sent and answered
 * @param tls the TLS session as far as the handshake got: present once the server's certificate
 *     arrived, also when verification then refused it (see {@code failure})
 * @param pkix the PKIX check of the server's chain and name: the requirement's own check under a
 *     {@link TlsRequirement.Pkix} requirement, otherwise the check MTA-STS would make (RFC 8461
 *     §4.2) against the host name, which decides nothing; empty when no certificate arrived
 * @param dane the DANE check under a {@link TlsRequirement.Dane} requirement; empty otherwise,
 *     or when no certificate arrived
 * @param matchedTlsa the TLSA record that authenticated the server, when DANE passed and the
 *     provider names it
 * @param authentication how delivery would authenticate the server, when the session was ready
 * @param failure why the session could not be used, when it could not
 * @param verdict the verdict
 * @param reason the verdict in words, after the session's notes
 * @param notes what the session noted, as an attempt's detail would (plaintext chosen, octets
 *     discarded after STARTTLS, a TLSA record matched)
 * @param elapsed how long the probe took
 */
public record ProbeResult(
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

  public ProbeResult {
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
  }

  /**
   * One certificate check. Immutable.
   *
   * @param verified whether the check passed
   * @param failure the RFC 8460 result type when it failed ({@link FailureType#tlsRptResultType()})
   * @param detail what passed, or why it failed
   */
  public record Verification(boolean verified, Optional<FailureType> failure, String detail) {

    public Verification {
      Objects.requireNonNull(failure, "failure");
      Objects.requireNonNull(detail, "detail");
      if (verified == failure.isPresent()) {
        throw new IllegalArgumentException("a failure type exactly when not verified");
      }
    }
  }
}
