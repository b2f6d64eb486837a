package io.mailtls.spring;

import io.mailtls.mtasts.OkHttpPolicyFetcher;

/**
 * Changes the MTA-STS policy fetcher's builder (its HTTPS client, timeouts) before the
 * auto-configured MTA-STS resolver is built. Every bean of this type is applied, in {@link
 * org.springframework.core.annotation.Order} order.
 */
@FunctionalInterface
public interface MailtlsPolicyFetcherCustomizer {

  /** Changes {@code builder}. */
  void customize(OkHttpPolicyFetcher.Builder builder);
}
