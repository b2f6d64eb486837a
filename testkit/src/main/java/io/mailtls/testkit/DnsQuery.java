package io.mailtls.testkit;

import java.time.Instant;
import java.util.Objects;
import org.xbill.DNS.Type;

/**
 * One query received by a {@link TestDnsServer}, as logged for assertions.
 *
 * <p>Immutable and thread-safe.
 *
 * @param name the query name in presentation format, absolute (with the trailing dot), its letter
 *     case as received: {@code "mx1.example.test."}
 * @param type the query type, a {@link Type} constant
 * @param transport how the query arrived
 * @param time when it arrived, by the server's clock
 * @param dnssecOk whether the query set the EDNS DO bit (RFC 3225 §3)
 */
public record DnsQuery(String name, int type, Transport transport, Instant time, boolean dnssecOk) {

  /** The transport a query arrived on. */
  public enum Transport {
    /** A UDP datagram. */
    UDP,
    /** A TCP connection with two-byte length framing (RFC 1035 §4.2.2). */
    TCP
  }

  /** Validates the components. */
  public DnsQuery {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(transport, "transport");
    Objects.requireNonNull(time, "time");
  }

  @Override
  public String toString() {
    return Type.string(type)
        + " "
        + name
        + " over "
        + transport
        + (dnssecOk ? " (DO)" : "")
        + " at "
        + time;
  }
}
