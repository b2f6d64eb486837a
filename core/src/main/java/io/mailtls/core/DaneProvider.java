package io.mailtls.core;

import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The DANE service provider interface (RFC 7672): TLSA discovery per MX host (and per port, {@link
 * #lookupAsync(MxHost, MxResolution, int)}), and the trust manager that authenticates a peer
 * against usable records. {@code mailtls-dane} implements it. Implementations are thread-safe;
 * futures complete normally. An implementation builds the {@link TlsaLookup} results and the {@link
 * TlsRequirement.Dane} in them.
 */
public interface DaneProvider {

  /**
   * Discovers the TLSA records of one MX host (RFC 7672 §2.2), given the MX answer's security
   * ({@code mx}), so that the reference identifiers and base domain follow RFC 7672 §2.2.1-§2.2.3.
   * Does not block (docs/design.md §5).
   */
  CompletableFuture<TlsaLookup> lookupAsync(MxHost host, MxResolution mx);

  /**
   * Discovers the TLSA records of one host for a connection to {@code port}: RFC 6698 §3 and RFC
   * 7672 §2.2 name them {@code _PORT._tcp.HOST}, by the port connected to. The planner passes a
   * port other than 25 only for a policy-map relay with an explicit port ({@code relay=HOST:PORT},
   * docs/policy-map.md), a real service port; MX hosts are asked at 25 also when the transport's
   * {@code port(...)} points port-25 traffic elsewhere (tests, tools), since that does not change
   * the service the records describe.
   *
   * <p>The default asks {@link #lookupAsync(MxHost, MxResolution)} for port 25, and for any other
   * port fails the host ({@link TlsaLookup.Failed}, never "no DANE"): a provider that only knows
   * port 25 cannot tell what is published at another. {@code mailtls-dane} implements it.
   *
   * @throws IllegalArgumentException if {@code port} is not in 1..65535
   */
  default CompletableFuture<TlsaLookup> lookupAsync(MxHost host, MxResolution mx, int port) {
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
    if (port == 25) {
      return lookupAsync(host, mx);
    }
    return CompletableFuture.completedFuture(
        new TlsaLookup.Failed(
            host.name(),
            "this DANE provider looks up TLSA records for port 25 only, not for port "
                + port
                + " (RFC 6698 §3)"));
  }

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
