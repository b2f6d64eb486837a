package io.mailtls.core;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The DANE service provider interface (RFC 7672): TLSA discovery per MX host, and the trust manager
 * that authenticates a peer against usable records. {@code mailtls-dane} implements it.
 * Implementations are thread-safe; futures complete normally. An implementation builds the {@link
 * TlsaLookup} results and the {@link TlsRequirement.Dane} in them.
 */
public interface DaneProvider {

  /**
   * Discovers the TLSA records of one MX host (RFC 7672 §2.2), given the MX answer's security
   * ({@code mx}), so that the reference identifiers and base domain follow RFC 7672 §2.2.1-§2.2.3.
   * Does not block (docs/design.md §5).
   */
  CompletableFuture<TlsaLookup> lookupAsync(MxHost host, MxResolution mx);

  /**
   * A trust manager for one connection under {@code requirement}: it accepts the server's chain
   * only when a record matches and, for DANE-TA, the path and name checks pass (RFC 7672 §3, RFC
   * 7671 §5). Failures are {@link java.security.cert.CertificateException}s; the manager may
   * implement {@link Matched} to tell which record matched.
   */
  X509ExtendedTrustManager trustManager(TlsRequirement.Dane requirement);

  /** Implemented by DANE trust managers that can say which record authenticated the peer. */
  interface Matched {
    /** The record that matched in the last successful check, e.g. {@code 3 1 1 ab12…}. */
    Optional<DnsRecord.Tlsa> matchedRecord();
  }
}
