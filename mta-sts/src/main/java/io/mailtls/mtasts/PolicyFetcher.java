package io.mailtls.mtasts;

import io.mailtls.core.DomainName;
import java.util.concurrent.CompletableFuture;

/**
 * Fetches and parses {@code https://mta-sts.<domain>/.well-known/mta-sts.txt} (RFC 8461 §3.3).
 * Implementations are thread-safe; the future completes normally, failures being {@link
 * FetchResult.Failure} values, which an implementation builds, as it builds the {@link
 * FetchResult.Success} with the parsed {@link io.mailtls.core.MtaStsPolicy}.
 */
@FunctionalInterface
public interface PolicyFetcher {

  /**
   * Fetches the policy of {@code policyDomain} without blocking (docs/design.md §5); {@code id} is
   * the TXT record's id, which the returned policy carries.
   */
  CompletableFuture<FetchResult> fetchAsync(DomainName policyDomain, String id);
}
