package io.mailtls.core;

import java.util.concurrent.CompletionStage;

/**
 * The MTA-STS service provider interface: where {@link TransportPolicyResolver} gets a recipient
 * domain's policy. {@code mailtls-mta-sts} implements it with DNS discovery, an HTTPS fetch and
 * an RFC 8461 cache. Implementations are thread-safe, and their stages complete normally.
 */
public interface MtaStsPolicySource {

  /** The policy for {@code policyDomain} (the recipient domain, RFC 8461 §3.4), per §5.1. */
  CompletionStage<MtaStsLookup> lookup(DomainName policyDomain);

  /**
   * RFC 8461 §5.1 step 3: before a delivery under an {@code enforce} policy fails, check the TXT
   * record for a new policy id and, if it changed, fetch and return the new policy; otherwise
   * return what {@link #lookup} would.
   */
  CompletionStage<MtaStsLookup> recheck(DomainName policyDomain);
}
