package io.mailtls.redis;

import io.lettuce.core.RedisURI;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TrustAnchors;
import io.mailtls.mtasts.MtaStsResolver;
import io.mailtls.mtasts.OkHttpPolicyFetcher;
import io.mailtls.tlsrpt.DeliveryRun;
import io.mailtls.tlsrpt.HttpsReportSender;
import io.mailtls.tlsrpt.PendingReport;
import io.mailtls.tlsrpt.TlsRptAggregator;
import io.mailtls.tlsrpt.TlsRptDiscovery;
import io.mailtls.tlsrpt.TlsRptReportWriter;
import io.mailtls.tlsrpt.TlsRptReporter;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDate;
import java.time.ZoneOffset;
import java.util.List;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;

/**
 * One process of a sending fleet, run in its own JVM by {@link FleetTlsRptReportTest}, driven line
 * by line on its standard input; it answers one line on its standard output per command (logs go to
 * standard error).
 *
 * <p>Arguments: mode ({@code count} or {@code report}), redis port, DNS port (127.0.0.1), trust
 * anchor file, root certificate (PEM) file, MTA-STS port, SMTP port, the instant of its clock.
 *
 * <ul>
 *   <li>{@code count}: a {@link SecureSmtpTransport} whose sessions a {@link TlsRptAggregator}
 *       counts into a {@link RedisAggregateStore}. Commands: {@code send <recipient>} (answers the
 *       status), {@code pending} (answers {@code pendingMerges lostMerges failedMerges}), {@code
 *       quit} (closes the store, which sends what waits, and answers as {@code pending}).
 *   <li>{@code report}: a {@link TlsRptReporter} with its own {@link RedisReportClaim} and
 *       in-memory pending store, delivering over HTTPS. Answers {@code ready} once connected;
 *       {@code flush <day>} flushes and answers {@code <domain>=<stage>,... elsewhere=<n>
 *       settled=<days>}.
 * </ul>
 */
public final class FleetRptProcess {

  private FleetRptProcess() {}

  public static void main(String[] args) throws Exception {
    String mode = args[0];
    int redisPort = Integer.parseInt(args[1]);
    InetSocketAddress dnsAddress =
        new InetSocketAddress(InetAddress.getLoopbackAddress(), Integer.parseInt(args[2]));
    String trustAnchor = Files.readString(Path.of(args[3]), StandardCharsets.US_ASCII);
    KeyStore trust = KeyStore.getInstance("PKCS12");
    trust.load(null, null);
    try (InputStream in = Files.newInputStream(Path.of(args[4]))) {
      X509Certificate root =
          (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
      trust.setCertificateEntry("root", root);
    }
    int stsPort = Integer.parseInt(args[5]);
    int smtpPort = Integer.parseInt(args[6]);
    Clock clock = Clock.fixed(Instant.parse(args[7]), ZoneOffset.UTC);

    TrustManagerFactory tmf = TrustManagerFactory.getInstance("PKIX");
    tmf.init(trust);
    X509TrustManager tm = (X509TrustManager) tmf.getTrustManagers()[0];
    SSLContext tls = SSLContext.getInstance("TLS");
    tls.init(null, tmf.getTrustManagers(), null);
    DnssecResolver dns =
        DnssecResolver.builder()
            .upstream(dnsAddress)
            .trustAnchors(TrustAnchors.parse(trustAnchor))
            .queryTimeout(Duration.ofSeconds(2))
            .lookupTimeout(Duration.ofSeconds(10))
            .build();
    OkHttpClient http =
        new OkHttpClient.Builder().sslSocketFactory(tls.getSocketFactory(), tm).build();
    RedisURI redis = RedisURI.create("redis://127.0.0.1:" + redisPort);
    BufferedReader in =
        new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
    try {
      if (mode.equals("count")) {
        count(in, redis, dns, http, trust, stsPort, smtpPort, clock);
      } else {
        report(in, redis, dns, http, clock);
      }
    } finally {
      // OkHttp's dispatcher threads would otherwise keep the JVM alive for a minute.
      http.dispatcher().executorService().shutdown();
      http.connectionPool().evictAll();
    }
  }

  private static void count(
      BufferedReader in,
      RedisURI redis,
      DnssecResolver dns,
      OkHttpClient http,
      KeyStore trust,
      int stsPort,
      int smtpPort,
      Clock clock)
      throws Exception {
    RedisAggregateStore store =
        RedisAggregateStore.newBuilder(redis)
            .keyPrefix("fleet")
            // Generous: a JVM just started on a busy machine can be slow to connect.
            .commandTimeout(Duration.ofSeconds(5))
            .reconnectDelay(Duration.ofMillis(200))
            .build();
    TlsRptAggregator aggregator = TlsRptAggregator.builder().store(store).clock(clock).build();
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
    try (SecureSmtpTransport transport =
        SecureSmtpTransport.builder()
            .withoutDane()
            .dns(dns)
            .mtaSts(mtaSts)
            .trustStore(trust)
            .heloName("client.sender.test")
            .port(smtpPort)
            .noConnectionReuse()
            .senderPolicy(SenderPolicy.uniform(TlsLevel.OPPORTUNISTIC))
            .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)))
            .eventListenerFactory(aggregator)
            .build()) {
      for (String line; (line = in.readLine()) != null; ) {
        if (line.startsWith("send ")) {
          String rcpt = line.substring(5).strip();
          byte[] message =
              ("From: a@sender.test\r\nTo: " + rcpt + "\r\nSubject: fleet\r\n\r\nHello.\r\n")
                  .getBytes(StandardCharsets.US_ASCII);
          DeliveryReport r =
              transport.send(Envelope.of("a@sender.test", rcpt), MessageContent.of(message));
          answer(r.result(rcpt).status().toString());
        } else if (line.equals("pending")) {
          answer(
              store.pendingMerges() + " " + store.lostMerges() + " " + aggregator.failedMerges());
        } else if (line.equals("quit")) {
          break;
        } else {
          answer("unknown command " + line);
        }
      }
    } finally {
      mtaSts.close();
      store.close();
    }
    answer(store.pendingMerges() + " " + store.lostMerges() + " " + aggregator.failedMerges());
  }

  private static void report(
      BufferedReader in, RedisURI redis, DnssecResolver dns, OkHttpClient http, Clock clock)
      throws Exception {
    try (RedisAggregateStore store =
            RedisAggregateStore.newBuilder(redis)
                .keyPrefix("fleet")
                .commandTimeout(Duration.ofSeconds(5))
                .build();
        RedisReportClaim claim =
            RedisReportClaim.newBuilder(redis)
                .keyPrefix("fleet")
                .commandTimeout(Duration.ofSeconds(5))
                .build()) {
      TlsRptReporter reporter =
          TlsRptReporter.builder()
              .aggregateStore(store)
              .claim(claim)
              .discovery(TlsRptDiscovery.builder().dns(dns).clock(clock).build())
              .writer(
                  TlsRptReportWriter.builder()
                      .organizationName("Sender Inc.")
                      .contactInfo("tlsrpt@sender.test")
                      .submitter(DomainName.of("sender.test"))
                      .build())
              .channels(
                  List.of(
                      HttpsReportSender.builder()
                          .client(http)
                          .dns(dns)
                          .maxAttempts(1)
                          .callTimeout(Duration.ofSeconds(10))
                          .build()))
              .clock(clock)
              .build();
      store.days(); // connected: both reporters start their flush together
      answer("ready");
      for (String line; (line = in.readLine()) != null; ) {
        if (line.startsWith("flush ")) {
          DeliveryRun run = reporter.flush(LocalDate.parse(line.substring(6).strip()));
          StringBuilder sb = new StringBuilder();
          for (PendingReport p : run.reports()) {
            sb.append(p.policyDomain()).append('=').append(p.stage()).append(',');
          }
          sb.append(" elsewhere=").append(run.claimedElsewhere().size());
          sb.append(" settled=").append(run.settledDays());
          answer(sb.toString());
        } else if (line.equals("quit")) {
          break;
        }
      }
    }
    answer("done");
  }

  private static void answer(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
