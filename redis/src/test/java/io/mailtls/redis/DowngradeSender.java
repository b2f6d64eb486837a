package io.mailtls.redis;

import io.lettuce.core.RedisURI;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DowngradeProtection;
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
import java.util.ArrayList;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;

/**
 * One sender of a fleet with downgrade protection over a {@link RedisDowngradeMemory}, run in its
 * own JVM by {@link FleetDowngradeTest}: a {@link SecureSmtpTransport}, with MTA-STS when an
 * MTA-STS server port is given (not 0), sending one message at the opportunistic level. Prints
 * {@code status authentication failure reply-code} on its last line.
 *
 * <p>Arguments: redis port, key prefix, DNS port (127.0.0.1), trust anchor file, root certificate
 * (PEM) file, MTA-STS server port or 0, SMTP port, recipient.
 */
public final class DowngradeSender {

  private DowngradeSender() {}

  public static void main(String[] args) throws Exception {
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(Path.of(args[4]))) {
      X509Certificate root =
          (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      trust.setCertificateEntry("root", root);
    }
    // Generous: a JVM just started on a busy machine can be slow to connect and load the client.
    try (Sender sender =
        Sender.open(
            Integer.parseInt(args[0]),
            args[1],
            new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(args[2])),
            Files.readString(Path.of(args[3]), StandardCharsets.US_ASCII),
            trust,
            Integer.parseInt(args[5]),
            Integer.parseInt(args[6]),
            Duration.ofSeconds(20))) {
      System.out.println(sender.send(args[7]));
    }
  }

  /** A sender: its Redis downgrade memory, optional MTA-STS resolver and transport. */
  static final class Sender implements AutoCloseable {
    final RedisDowngradeMemory memory;
    private final SecureSmtpTransport transport;
    private final List<AutoCloseable> resources;
    @org.jspecify.annotations.Nullable RecipientResult last;

    private Sender(
        RedisDowngradeMemory memory, SecureSmtpTransport transport, List<AutoCloseable> resources) {
      this.memory = memory;
      this.transport = transport;
      this.resources = resources;
    }

    static Sender open(
        int redisPort,
        String prefix,
        InetSocketAddress dnsAddress,
        String trustAnchor,
        KeyStore trust,
        int stsPort,
        int smtpPort,
        Duration commandTimeout)
        throws Exception {
      List<AutoCloseable> resources = new ArrayList<>();
      DnsResolver dns =
          DnssecResolver.builder()
              .upstream(dnsAddress)
              .trustAnchors(TrustAnchors.parse(trustAnchor))
              .build();
      RedisDowngradeMemory memory =
          RedisDowngradeMemory.newBuilder(RedisURI.create("redis://127.0.0.1:" + redisPort))
              .keyPrefix(prefix)
              .commandTimeout(commandTimeout)
              .reconnectDelay(Duration.ofMillis(200))
              .build();
      resources.add(memory);
      SecureSmtpTransport.Builder b =
          SecureSmtpTransport.builder()
              .withoutDane()
              .dns(dns)
              .trustStore(trust)
              .heloName("client.sender.test")
              .port(smtpPort)
              .noConnectionReuse()
              .senderPolicy(SenderPolicy.uniform(TlsLevel.OPPORTUNISTIC))
              .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
              .downgradeProtection(DowngradeProtection.builder(memory).build());
      if (stsPort == 0) {
        b.withoutMtaSts();
      } else {
        TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
        tmf.init(trust);
        SSLContext tls = SSLContext.getInstance("TLS");
        tls.init(null, tmf.getTrustManagers(), null);
        OkHttpClient http =
            new OkHttpClient.Builder()
                .sslSocketFactory(
                    tls.getSocketFactory(), (X509TrustManager) tmf.getTrustManagers()[0])
                .build();
        // OkHttp's dispatcher threads would otherwise keep the JVM alive for a minute.
        resources.add(
            () -> {
              http.dispatcher().executorService().shutdown();
              http.connectionPool().evictAll();
            });
        MtaStsResolver mtaSts =
            MtaStsResolver.builder()
                .dns(dns)
                .fetcher(
                    OkHttpPolicyFetcher.builder()
                        .dns(dns)
                        .client(http)
                        .port(stsPort)
                        .callTimeout(Duration.ofSeconds(5))
                        .build())
                .build();
        resources.add(mtaSts);
        b.mtaSts(mtaSts);
      }
      SecureSmtpTransport transport = b.build();
      resources.add(transport);
      return new Sender(memory, transport, resources);
    }

    /** Sends one message; {@code status authentication failure reply-code}. */
    String send(String recipient) {
      byte[] message =
          ("From: a@sender.test\r\nTo: " + recipient + "\r\nSubject: fleet\r\n\r\nHello.\r\n")
              .getBytes(StandardCharsets.US_ASCII);
      DeliveryReport report =
          transport.send(Envelope.of("a@sender.test", recipient), MessageContent.of(message));
      last = report.result(recipient);
      return describe(last);
    }

    static String describe(RecipientResult r) {
      return r.status()
          + " "
          + r.authentication().map(Object::toString).orElse("-")
          + " "
          + r.attempt()
              .flatMap(a -> a.failure())
              .or(() -> r.plan().failure().map(f -> f.type()))
              .map(Object::toString)
              .orElse("-")
          + " "
          + r.reply().code();
    }

    @Override
    public void close() {
      for (int i = resources.size() - 1; i >= 0; i--) {
        try {
          resources.get(i).close();
        } catch (Exception e) {
          throw new IllegalStateException("closing " + resources.get(i), e);
        }
      }
    }
  }
}
