package io.mailtls.core;

import java.util.concurrent.CompletableFuture;

/**
 * The MTA-STS service provider interface: where {@link TransportPolicyResolver} gets a recipient
 * domain's policy. {@code mailtls-mta-sts} implements it with DNS discovery, an HTTPS fetch and an
 * RFC 8461 cache. Implementations are thread-safe, and their futures complete normally.
 *
 * <p>Both methods are asynchronous, and named so ({@code ...Async}, docs/design.md §5). An
 * implementation builds the {@link MtaStsLookup} results and the {@link MtaStsPolicy} in them.
 */
public interface MtaStsPolicySource {

  /**
   * The policy for {@code policyDomain} (the recipient domain, RFC 8461 §3.4), per §5.1, without
   * blocking.
   */
  CompletableFuture<MtaStsLookup> lookupAsync(DomainName policyDomain);

  /**
   * RFC 8461 §5.1 step 3: before a delivery under an {@code enforce} policy fails, check the TXT
   * record for a new policy id and, if it changed, fetch and return the new policy; otherwise
   * return what {@link #lookupAsync} would. Does not block.
   */
  CompletableFuture<MtaStsLookup> recheckAsync(DomainName policyDomain);
}
