package io.mailtls.mtasts;

import io.mailtls.core.DomainName;
import java.util.concurrent.CompletionStage;

/**
 * Fetches and parses {@code https://mta-sts.<domain>/.well-known/mta-sts.txt} (RFC 8461 §3.3).
 * Implementations are thread-safe; the stage completes normally, failures being {@link
 * FetchResult.Failure} values.
 */
@FunctionalInterface
public interface PolicyFetcher {

  /**
   * Fetches the policy of {@code policyDomain}; {@code id} is the TXT record's id, which the
   * returned policy carries.
   */
  CompletionStage<FetchResult> fetch(DomainName policyDomain, String id);
}
