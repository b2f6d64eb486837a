package io.mailtls.tlsrpt;

import java.time.Duration;
import java.util.Objects;

/**
 * What the {@code _smtp._tls} lookup of a policy domain found (RFC 8460 §3): a record, no record
 * (the domain takes no reports), or a failed lookup, which is never read as "no reporting": the
 * caller tries again later.
 */
public sealed interface TlsRptLookup
    permits TlsRptLookup.Found, TlsRptLookup.NotPublished, TlsRptLookup.Failed {

  /**
   * Exactly one valid record; {@code ttl} is what is left of the TXT answer's TTL.
   *
   * @param record the record
   * @param ttl how long the answer may be reused
   */
  record Found(TlsRptRecord record, Duration ttl) implements TlsRptLookup {
    public Found {
      Objects.requireNonNull(record, "record");
      Objects.requireNonNull(ttl, "ttl");
    }
  }

  /**
   * The domain does not take reports: no TXT record, no record beginning with {@code v=TLSRPTv1;},
   * several, or an invalid one ({@code reason} says which). Established by DNS: kept for {@code
   * ttl}.
   *
   * @param reason why
   * @param ttl how long the answer may be reused
   */
  record NotPublished(String reason, Duration ttl) implements TlsRptLookup {
    public NotPublished {
      Objects.requireNonNull(reason, "reason");
      Objects.requireNonNull(ttl, "ttl");
    }
  }

  /**
   * The lookup failed (SERVFAIL, timeout, an answer that failed DNSSEC validation): nothing is
   * known, nothing is cached; try again later.
   *
   * @param reason why
   */
  record Failed(String reason) implements TlsRptLookup {
    public Failed {
      Objects.requireNonNull(reason, "reason");
    }
  }
}
