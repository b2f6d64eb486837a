package io.mailtls.core;

import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * Answers DNS questions together with their DNSSEC state: the seam through which every lookup in
 * mailtls goes (like OkHttp's {@code Dns}). Implementations are thread-safe.
 *
 * <p>Contract: the returned stage completes within the implementation's time bound, and completes
 * normally for every DNS outcome, failures included ({@link DnsOutcome#FAILURE}); it completes
 * exceptionally only for programming errors. CNAME chains are followed (RFC 1034 §3.6.2), and the
 * answer's state is the weakest over the chain.
 *
 * @see DnssecResolver the built-in implementation
 */
@FunctionalInterface
public interface DnsResolver {

  /** Looks up {@code type} records at {@code name}. */
  CompletionStage<DnsAnswer> resolve(DomainName name, DnsRecordType type);

  /** Blocking convenience for {@link #resolve}. */
  default DnsAnswer resolveBlocking(DomainName name, DnsRecordType type) {
    try {
      return resolve(name, type).toCompletableFuture().join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw e;
    }
  }
}
