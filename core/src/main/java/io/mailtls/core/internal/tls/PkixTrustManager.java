package io.mailtls.core.internal.tls;

import io.mailtls.core.DomainName;
import io.mailtls.core.FailureType;
import io.mailtls.core.internal.smtp.PeerText;
import java.net.Socket;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Verifies a server chain with the configured trust store (WebPKI) and then its names against the
 * reference identifiers (RFC 6125, via {@link HostnameMatcher}). Used where a policy needs an
 * authenticated peer: MTA-STS {@code enforce} (RFC 8461 §4.2) and relays. Thread-safe.
 *
 * <p>Failures are {@link CertificateFailure}s typed as RFC 8460 result types: an expired or
 * not-yet-valid certificate {@code certificate-expired}, an untrusted chain {@code
 * certificate-not-trusted}, a name mismatch {@code certificate-host-mismatch}.
 */
public final class PkixTrustManager extends ServerTrustManager {

  private final X509ExtendedTrustManager delegate;
  private final List<DomainName> referenceNames;

  public PkixTrustManager(X509ExtendedTrustManager delegate, List<DomainName> referenceNames) {
    this.delegate = delegate;
    this.referenceNames = List.copyOf(referenceNames);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    try {
      delegate.checkServerTrusted(chain, authType, socket);
    } catch (CertificateException e) {
      throw classify(e);
    }
    checkNames(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    try {
      delegate.checkServerTrusted(chain, authType, engine);
    } catch (CertificateException e) {
      throw classify(e);
    }
    checkNames(chain);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    try {
      delegate.checkServerTrusted(chain, authType);
    } catch (CertificateException e) {
      throw classify(e);
    }
    checkNames(chain);
  }

  private void checkNames(X509Certificate[] chain) throws CertificateFailure {
    if (chain.length == 0 || !HostnameMatcher.matchesDnsId(chain[0], referenceNames)) {
      throw new CertificateFailure(
          FailureType.CERTIFICATE_HOST_MISMATCH,
          "certificate DNS-IDs "
              + (chain.length == 0 ? "[]" : presented(chain[0]))
              + " match none of "
              + referenceNames
              + " (RFC 8461 §4.2, RFC 6125 §6.4; the subject CN does not count)",
          null);
    }
  }

  /** The DNS-IDs a certificate presents, each quoted: they are the peer's text. */
  private static String presented(X509Certificate leaf) {
    return HostnameMatcher.dnsIds(leaf).stream().map(PeerText::quote).toList().toString();
  }

  private static CertificateFailure classify(CertificateException e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof CertificateExpiredException
          || t instanceof CertificateNotYetValidException
          || (t instanceof CertPathValidatorException cpve
              && (cpve.getReason() == CertPathValidatorException.BasicReason.EXPIRED
                  || cpve.getReason() == CertPathValidatorException.BasicReason.NOT_YET_VALID))) {
        return new CertificateFailure(
            FailureType.CERTIFICATE_EXPIRED,
            "certificate outside its validity period: " + t.getMessage(),
            e);
      }
    }
    return new CertificateFailure(
        FailureType.CERTIFICATE_NOT_TRUSTED, "certificate chain not trusted: " + e.getMessage(), e);
  }

  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return delegate.getAcceptedIssuers();
  }
}
