package io.mailtls.core.internal.dns;

import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DomainName;
import java.time.Clock;
import java.util.List;
import org.jspecify.annotations.Nullable;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;

/**
 * The package-private {@link ResponseReader}, for the reliability module's DNS fuzz target (a split
 * package: the tests run on the class path). Mirrors {@link DnsjavaResolver}'s use of it: one
 * response for one question, with the resolver's default bounds.
 */
public final class DnsFuzzAccess {

  /** What one response gave: a final answer, or the next CNAME target to ask for. */
  public record Step(@Nullable DnsAnswer answer, @Nullable Name requery, List<DomainName> chain) {}

  private DnsFuzzAccess() {}

  /**
   * Reads {@code response} as the answer to {@code type} at {@code qname}, after {@code chainSoFar}
   * CNAME hops, as {@link DnsjavaResolver} does.
   */
  public static Step read(
      Message response,
      DomainName name,
      Name qname,
      DnsRecordType type,
      List<DomainName> chainSoFar,
      int maxRecords,
      int maxCnameChain,
      Clock clock) {
    DnsjavaResolver.Chase chase = new DnsjavaResolver.Chase(name, type);
    chase.chain.addAll(chainSoFar);
    ResponseReader.Step step =
        new ResponseReader(maxRecords, maxCnameChain, clock).read(chase, qname, response);
    return new Step(step.answer(), step.requery(), List.copyOf(chase.chain));
  }

  /** The answer {@link DnsjavaResolver} gives when the exchange failed with {@code error}. */
  public static DnsAnswer fromException(DomainName name, DnsRecordType type, Throwable error) {
    return new ResponseReader(100, 8, Clock.systemUTC()).fromException(name, type, error);
  }

  /** A dnsjava name as the resolver converts it, or null when not a valid domain name. */
  public static @Nullable DomainName toDomainName(Name name) {
    return ResponseReader.toDomainName(name);
  }
}
