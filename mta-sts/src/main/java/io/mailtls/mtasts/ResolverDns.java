package io.mailtls.mtasts;

import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsOutcome;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.MxHost;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import okhttp3.Dns;

/**
 * OkHttp's {@link Dns} seam over a mailtls {@link DnsResolver}: the MTA-STS policy host {@code
 * mta-sts.<domain>} (RFC 8461 §3.3), and any other HTTPS host mailtls reaches (a TLS-RPT {@code
 * https:} destination, RFC 8460 §3), is resolved through the same resolver as everything else,
 * never through the JVM's resolver. Thread-safe.
 *
 * <p>A and AAAA are asked in parallel; the addresses come back A first, then AAAA. The DNSSEC state
 * does not matter here (the HTTPS certificate authenticates the host, RFC 8461 §3.3), but a lookup
 * failure (SERVFAIL, timeout, bogus) is reported as such, never as "no such host". Addresses that
 * are no server's ({@link MxHost#isUnicast}: {@code 0.0.0.0}, {@code ::}, multicast, broadcast) are
 * dropped: a host with only those is a failed lookup.
 */
public final class ResolverDns implements Dns {

  /** Why the policy host has no address; the message is the whole account. */
  static final class LookupException extends UnknownHostException {
    LookupException(String message) {
      super(message);
    }
  }

  private final DnsResolver resolver;
  private final Duration timeout;

  /**
   * Resolves through {@code resolver}, waiting at most {@code timeout} for the A and AAAA answers.
   */
  public ResolverDns(DnsResolver resolver, Duration timeout) {
    this.resolver = Objects.requireNonNull(resolver, "resolver");
    this.timeout = Objects.requireNonNull(timeout, "timeout");
  }

  /**
   * The addresses of {@code hostname}, A first; a lookup failure (SERVFAIL, timeout, bogus) is an
   * {@link UnknownHostException} that says so, never "no such host".
   */
  @Override
  public List<InetAddress> lookup(String hostname) throws UnknownHostException {
    DomainName name;
    try {
      name = DomainName.of(hostname);
    } catch (IllegalArgumentException e) {
      throw new LookupException("not a valid host name: " + e.getMessage());
    }
    CompletableFuture<DnsAnswer> a = resolver.resolveAsync(name, DnsRecordType.A);
    CompletableFuture<DnsAnswer> aaaa = resolver.resolveAsync(name, DnsRecordType.AAAA);
    try {
      // The resolver bounds its own time; this bound keeps a broken resolver from holding the
      // fetch past its call timeout.
      CompletableFuture.allOf(a, aaaa).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      a.cancel(false);
      aaaa.cancel(false);
      throw new LookupException("DNS lookup of " + name + " did not finish within " + timeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LookupException("DNS lookup of " + name + " was interrupted");
    } catch (ExecutionException e) {
      throw new LookupException("DNS lookup of " + name + " failed: " + e.getCause());
    }
    DnsAnswer answerA = a.join();
    DnsAnswer answerAaaa = aaaa.join();
    List<InetAddress> addresses = new ArrayList<>();
    List<InetAddress> dropped = new ArrayList<>();
    for (DnsAnswer answer : List.of(answerA, answerAaaa)) {
      for (DnsRecord.Address r : answer.records(DnsRecord.Address.class)) {
        // 0.0.0.0 or :: would reach this host's own HTTPS server; multicast and broadcast no
        // server at all (the names are the peer's input)
        (MxHost.isUnicast(r.address()) ? addresses : dropped).add(r.address());
      }
    }
    if (!addresses.isEmpty()) {
      return addresses;
    }
    if (!dropped.isEmpty()) {
      throw new LookupException(name + " has no unicast address: " + dropped);
    }
    if (answerA.outcome() == DnsOutcome.FAILURE || answerAaaa.outcome() == DnsOutcome.FAILURE) {
      // A lookup failure is not "no such host": say so (RFC 7672 §2.1 states).
      throw new LookupException(
          "DNS lookup of " + name + " failed: " + answerA + "; " + answerAaaa);
    }
    throw new LookupException(name + " has no A or AAAA records: " + answerA + "; " + answerAaaa);
  }
}
