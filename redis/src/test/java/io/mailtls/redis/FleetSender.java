package io.mailtls.redis;

import io.lettuce.core.RedisURI;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TrustAnchors;
import io.mailtls.mtasts.MtaStsResolver;
import io.mailtls.mtasts.OkHttpPolicyFetcher;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;

/**
 * One sender of a fleet, run in its own JVM by {@link FleetSharedPolicyTest}: a {@link
 * SecureSmtpTransport} whose MTA-STS cache is a {@link RedisPolicyStore}, sending one message.
 * Prints {@code status authentication source policy-id} on its last line.
 *
 * <p>Arguments: redis port, DNS port (127.0.0.1), trust anchor file, root certificate (PEM) file,
 * MTA-STS server port, SMTP port, recipient.
 */
public final class FleetSender {

  private FleetSender() {}

  public static void main(String[] args) throws Exception {
    int redisPort = Integer.parseInt(args[0]);
    InetSocketAddress dnsAddress =
        new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(args[1]));
    String trustAnchor = Files.readString(Path.of(args[2]), StandardCharsets.US_ASCII);
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(Path.of(args[3]))) {
      X509Certificate root =
          (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      trust.setCertificateEntry("root", root);
    }
    int stsPort = Integer.parseInt(args[4]);
    int smtpPort = Integer.parseInt(args[5]);
    String recipient = args[6];
    // Generous: this test is about sharing, not the bound, and a JVM just started on a busy
    // machine can be slow to connect and load the client.
    Sender sender =
        Sender.open(
            redisPort, dnsAddress, trustAnchor, trust, stsPort, smtpPort, Duration.ofSeconds(20));
    String result;
    try {
      result = sender.send(recipient);
    } finally {
      sender.close();
    }
    System.out.println(result);
  }

  /** A sender: its Redis policy store, MTA-STS resolver and transport. */
  static final class Sender implements AutoCloseable {
    final RedisPolicyStore store;
    private final MtaStsResolver mtaSts;
    private final SecureSmtpTransport transport;
    private final OkHttpClient http;

    private Sender(
        RedisPolicyStore store,
        MtaStsResolver mtaSts,
        SecureSmtpTransport transport,
        OkHttpClient http) {
      this.store = store;
      this.mtaSts = mtaSts;
      this.transport = transport;
      this.http = http;
    }

    static Sender open(
        int redisPort,
        InetSocketAddress dnsAddress,
        String trustAnchor,
        KeyStore trust,
        int stsPort,
        int smtpPort,
        Duration commandTimeout)
        throws Exception {
      TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
      tmf.init(trust);
      X509TrustManager tm = (X509TrustManager) tmf.getTrustManagers()[0];
      SSLContext tls = SSLContext.getInstance("TLS");
      tls.init(null, tmf.getTrustManagers(), null);
      DnsResolver dns =
          DnssecResolver.builder()
              .upstream(dnsAddress)
              .trustAnchors(TrustAnchors.parse(trustAnchor))
              .build();
      OkHttpClient http =
          new OkHttpClient.Builder().sslSocketFactory(tls.getSocketFactory(), tm).build();
      RedisPolicyStore store =
          RedisPolicyStore.newBuilder(RedisURI.create("redis://127.0.0.1:" + redisPort))
              .keyPrefix("fleet")
              .commandTimeout(commandTimeout)
              .reconnectDelay(Duration.ofMillis(200))
              .build();
      MtaStsResolver mtaSts =
          MtaStsResolver.builder()
              .dns(dns)
              .store(store)
              .fetcher(
                  OkHttpPolicyFetcher.builder()
                      .dns(dns)
                      .client(http)
                      .port(stsPort)
                      .callTimeout(Duration.ofSeconds(5))
                      .build())
              .build();
      SecureSmtpTransport transport =
          SecureSmtpTransport.builder()
              .withoutDane()
              .dns(dns)
              .mtaSts(mtaSts)
              .trustStore(trust)
              .heloName("client.sender.test")
              .port(smtpPort)
              .senderPolicy(SenderPolicy.uniform(TlsLevel.OPPORTUNISTIC))
              .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
              .build();
      return new Sender(store, mtaSts, transport, http);
    }

    /** Sends one message; {@code status authentication source policy-id}. */
    String send(String recipient) {
      byte[] message =
          ("From: a@sender.test\r\nTo: " + recipient + "\r\nSubject: fleet\r\n\r\nHello.\r\n")
              .getBytes(StandardCharsets.US_ASCII);
      DeliveryReport report =
          transport.send(Envelope.of("a@sender.test", recipient), MessageContent.of(message));
      RecipientResult r = report.result(recipient);
      return r.status()
          + " "
          + r.authentication().map(Object::toString).orElse("-")
          + " "
          + r.attempt().map(a -> a.source().toString()).orElse("-")
          + " "
          + r.plan().mtaSts().map(p -> p.id()).orElse("-");
    }

    @Override
    public void close() {
      transport.close();
      mtaSts.close();
      store.close();
      // OkHttp's dispatcher threads would otherwise keep the JVM alive for a minute.
      http.dispatcher().executorService().shutdown();
      http.connectionPool().evictAll();
    }
  }
}
