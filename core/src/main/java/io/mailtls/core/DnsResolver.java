package io.mailtls.core;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * Answers DNS questions together with their DNSSEC state: the seam through which every lookup in
 * mailtls goes (like OkHttp's {@code Dns}). Implementations are thread-safe.
 *
 * <p>Contract: the returned future completes within the implementation's time bound, and completes
 * normally for every DNS outcome, failures included ({@link DnsOutcome#FAILURE}); it completes
 * exceptionally only for programming errors. CNAME chains are followed (RFC 1034 §3.6.2), and the
 * answer's state is the weakest over the chain.
 *
 * <p>As everywhere in mailtls (docs/design.md §5), {@link #resolve} blocks and returns the answer,
 * and {@link #resolveAsync} returns a {@link CompletableFuture}. An implementation provides {@code
 * resolveAsync}, and builds its answers with {@link DnsAnswer#builder} (or {@link
 * DnsAnswer#failed}).
 *
 * @see DnssecResolver the built-in implementation
 */
@FunctionalInterface
public interface DnsResolver {

  /** Looks up {@code type} records at {@code name}, without blocking. */
  CompletableFuture<DnsAnswer> resolveAsync(DomainName name, DnsRecordType type);

  /**
   * Looks up {@code type} records at {@code name}, blocking until {@link #resolveAsync} completes;
   * a runtime exception it completed with is rethrown as it is.
   */
  default DnsAnswer resolve(DomainName name, DnsRecordType type) {
    try {
      return resolveAsync(name, type).join();
    } catch (CompletionException e) {
      if (e.getCause() instanceof RuntimeException re) {
        throw re;
      }
      throw e;
    }
  }
}
