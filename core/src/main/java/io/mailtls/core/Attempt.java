package io.mailtls.core;

import java.net.InetSocketAddress;
import java.util.Objects;
import java.util.Optional;

/**
 * One connection attempt to one address of an MX host (or relay), as the report records it.
 * Immutable.
 *
 * @param host the MX host name; empty for an address literal
 * @param address the address and port connected to
 * @param requirement the TLS requirement that applied
 * @param source which policy set that requirement
 * @param tls the negotiated TLS session, when TLS was used
 * @param authentication how the peer was authenticated, once a session was established
 * @param failure why the attempt did not complete a transaction, if it did not
 * @param reply the server reply that ended the attempt, if any
 * @param detail a human-readable account (never message content or credentials)
 */
public record Attempt(
    Optional<DomainName> host,
    InetSocketAddress address,
    TlsRequirement requirement,
    PolicySource source,
    Optional<TlsDetails> tls,
    Optional<Authentication> authentication,
    Optional<FailureType> failure,
    Optional<SmtpReply> reply,
    String detail) {

  public Attempt {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(requirement, "requirement");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(tls, "tls");
    Objects.requireNonNull(authentication, "authentication");
    Objects.requireNonNull(failure, "failure");
    Objects.requireNonNull(reply, "reply");
    Objects.requireNonNull(detail, "detail");
  }

  @Override
  public String toString() {
    return host.map(DomainName::toString).orElse("[literal]") + " " + address
        + tls.map(t -> " " + t.protocol()).orElse(" plaintext")
        + failure.map(f -> " failed: " + f).orElse("")
        + reply.map(r -> " reply: " + r).orElse("")
        + (detail.isEmpty() ? "" : " (" + detail + ")");
  }
}
