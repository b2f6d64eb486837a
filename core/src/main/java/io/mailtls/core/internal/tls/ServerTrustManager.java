package io.mailtls.core.internal.tls;

import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * Base of mailtls's trust managers, which only ever judge servers: an SMTP client never accepts
 * client certificates. Subclasses decide {@code checkServerTrusted}.
 */
public abstract class ServerTrustManager extends X509ExtendedTrustManager {

  private static CertificateException noClients() {
    return new CertificateException("client certificates are not accepted by an SMTP client");
  }

  @Override
  public final void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    throw noClients();
  }

  @Override
  public final void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    throw noClients();
  }

  @Override
  public final void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    throw noClients();
  }
}
