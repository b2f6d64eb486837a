package io.mailtls.benchmarks;

import io.mailtls.core.DaneProvider;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsOutcome;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DnssecState;
import io.mailtls.core.DomainName;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.MtaStsPolicySource;
import io.mailtls.core.NextHop;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmartHost;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TransportPolicyResolver;
import io.mailtls.core.TrustAnchors;
import io.mailtls.dane.DaneResolver;
import io.mailtls.jakartamail.MailtlsJakarta;
import io.mailtls.mtasts.InMemoryPolicyStore;
import io.mailtls.mtasts.MtaStsResolver;
import io.mailtls.mtasts.OkHttpPolicyFetcher;
import jakarta.mail.MessagingException;
import jakarta.mail.internet.MimeMessage;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.security.KeyStore;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;

/**
 * Every call the end-to-end drivers make into mailtls, in one place: when the API changes (the
 * blocking and asynchronous method names of issue 13's follow-up, result records becoming classes),
 * this file is the one to fix.
 */
public final class Mailtls {

  /** The EHLO name of every benchmark transport. */
  public static final String HELO = "client.bench.test";

  private Mailtls() {}

  // ------------------------------------------------------------------------------ DNS

  /**
   * A DNS resolver that answers from a fixed table, as {@code /etc/hosts} does for Angus Mail
   * (through {@code InetAddress}): {@code localhost} has the A record 127.0.0.1 and no AAAA, all
   * else does not exist. The relay benchmarks use it so that both clients find the relay the same
   * way; mailtls has no DNS cache, and a real resolver would add two queries per message.
   */
  public static DnsResolver hostsFile() {
    return hostsFile(Map.of("localhost", loopback()));
  }

  /**
   * As {@link #hostsFile()}, with the names of {@code table} as its only names: each has the A
   * record of its address and no AAAA; all else does not exist.
   */
  public static DnsResolver hostsFile(Map<String, InetAddress> table) {
    Map<DomainName, InetAddress> byName = new HashMap<>();
    table.forEach((name, address) -> byName.put(DomainName.of(name), address));
    return (name, type) -> {
      InetAddress address = byName.get(name);
      DnsAnswer a;
      if (address != null && type == DnsRecordType.A) {
        a =
            DnsAnswer.builder(name, type, DnsOutcome.DATA, DnssecState.INSECURE)
                .records(List.of(new DnsRecord.Address(address)))
                .build();
      } else {
        a =
            DnsAnswer.builder(
                    name,
                    type,
                    address != null ? DnsOutcome.NODATA : DnsOutcome.NXDOMAIN,
                    DnssecState.INSECURE)
                .build();
      }
      return CompletableFuture.completedFuture(a);
    };
  }

  /** 127.0.0.1, named {@code localhost}, with no lookup. */
  public static InetAddress loopback() {
    try {
      return InetAddress.getByAddress("localhost", new byte[] {127, 0, 0, 1});
    } catch (UnknownHostException e) {
      throw new AssertionError(e);
    }
  }

  /** The validating resolver against the peer's signed DNS, with its trust anchor. */
  public static DnsResolver dnssec(InetSocketAddress upstream, String anchor) {
    return DnssecResolver.builder()
        .upstream(upstream)
        .trustAnchors(TrustAnchors.parse(anchor))
        .queryTimeout(Duration.ofSeconds(5))
        .lookupTimeout(Duration.ofSeconds(20))
        .build();
  }

  // ------------------------------------------------------------------------------ transports

  /**
   * A transport that relays everything to the sink at {@code localhost:port} with STARTTLS,
   * PKIX-verified against {@code trust} (the relay's default requirement).
   *
   * @param reuse connection reuse with the library's defaults; false: one connection per message
   */
  public static SecureSmtpTransport relay(KeyStore trust, int port, boolean reuse) {
    SecureSmtpTransport.Builder b = relayBuilder(trust, "localhost", loopback(), port);
    if (!reuse) {
      b.noConnectionReuse();
    }
    return b.build();
  }

  /**
   * A transport that relays everything to the sink as {@code host} at {@code address:port}, with
   * STARTTLS, PKIX-verified against {@code trust} for that name, and connection reuse with the
   * library's defaults: {@link #relay} to another of the sink's names and addresses.
   */
  public static SecureSmtpTransport relayTo(
      KeyStore trust, String host, InetAddress address, int port) {
    return relayBuilder(trust, host, address, port).build();
  }

  private static SecureSmtpTransport.Builder relayBuilder(
      KeyStore trust, String host, InetAddress address, int port) {
    return SecureSmtpTransport.builder()
        .dns(hostsFile(Map.of(host, address)))
        .heloName(HELO)
        .trustStore(trust)
        .relay(SmartHost.builder(host).port(port).build());
  }

  /** The recipient-policy providers a direct transport uses, built on one resolver. */
  public record Policies(DnsResolver dns, MtaStsResolver mtaSts, DaneResolver dane)
      implements AutoCloseable {
    @Override
    public void close() {
      mtaSts.close();
    }
  }

  /**
   * The real MTA-STS and DANE providers: {@link MtaStsResolver} with {@link OkHttpPolicyFetcher}
   * (policy port {@code stsPort}, the peer's root trusted) and an in-memory cache of {@code
   * cacheEntries}, and {@link DaneResolver}; both on {@code dns}.
   */
  public static Policies policies(DnsResolver dns, KeyStore trust, int stsPort, int cacheEntries) {
    OkHttpClient http =
        new OkHttpClient.Builder()
            .sslSocketFactory(sslContext(trust).getSocketFactory(), trustManager(trust))
            .build();
    MtaStsResolver sts =
        MtaStsResolver.builder()
            .dns(dns)
            .fetcher(
                OkHttpPolicyFetcher.builder()
                    .client(http)
                    .dns(dns)
                    .port(stsPort)
                    .connectTimeout(Duration.ofSeconds(5))
                    .callTimeout(Duration.ofSeconds(20))
                    .build())
            .store(new InMemoryPolicyStore(cacheEntries))
            .build();
    return new Policies(dns, sts, DaneResolver.builder().dns(dns).build());
  }

  /**
   * A transport to the recipients' MX hosts (at {@code smtpPort}) with full recipient policy:
   * DNSSEC-validated DNS, MTA-STS and DANE, sender level opportunistic, connection reuse with the
   * library's defaults.
   */
  public static SecureSmtpTransport direct(Policies p, KeyStore trust, int smtpPort) {
    return SecureSmtpTransport.builder()
        .dns(p.dns())
        .heloName(HELO)
        .trustStore(trust)
        .port(smtpPort)
        .senderPolicy(SenderPolicy.uniform(TlsLevel.OPPORTUNISTIC))
        .mtaSts(p.mtaSts())
        .dane(p.dane())
        .build();
  }

  /** A planner with full recipient policy (what a transport plans with, without sending). */
  public static TransportPolicyResolver planner(Policies p) {
    return planner(p.dns(), p.mtaSts(), p.dane());
  }

  static TransportPolicyResolver planner(
      DnsResolver dns, MtaStsPolicySource sts, DaneProvider dane) {
    return TransportPolicyResolver.builder().dns(dns).mtaSts(sts).dane(dane).build();
  }

  // ------------------------------------------------------------------------------ calls

  /** Plans delivery to {@code domain} at the opportunistic level, blocking. */
  public static DeliveryPlan plan(TransportPolicyResolver planner, String domain) {
    return planner.plan(new NextHop.Domain(DomainName.of(domain)), TlsLevel.OPPORTUNISTIC);
  }

  /**
   * Plans delivery to {@code domain} at the transport's sender level (opportunistic here) through
   * the transport's own planner and plan cache, blocking.
   */
  public static DeliveryPlan plan(SecureSmtpTransport transport, String domain) {
    return transport.plan(new NextHop.Domain(DomainName.of(domain)), TlsLevel.OPPORTUNISTIC);
  }

  /** Whether the plan authenticates its first host by DANE (a usable TLSA record). */
  public static boolean daneFirst(DeliveryPlan plan) {
    return !plan.hosts().isEmpty()
        && plan.hosts().get(0).requirement() instanceof io.mailtls.core.TlsRequirement.Dane;
  }

  /** Whether an MTA-STS policy applied to the plan. */
  public static boolean stsApplied(DeliveryPlan plan) {
    return plan.mtaSts().isPresent();
  }

  /** The MX host names of a plan's hosts, in order. */
  public static List<String> hostNames(DeliveryPlan plan) {
    return plan.hosts().stream().map(h -> h.name().map(Object::toString).orElse("")).toList();
  }

  /** Sends ready-made bytes; true when every recipient was delivered. */
  public static boolean send(SecureSmtpTransport t, String from, String to, byte[] message) {
    return t.send(Envelope.of(from, to), MessageContent.of(message)).allDelivered();
  }

  /** Sends a re-openable content; true when every recipient was delivered. */
  public static boolean send(
      SecureSmtpTransport t, String from, String to, MessageContent content) {
    return t.send(Envelope.of(from, to), content).allDelivered();
  }

  /** As {@link #send}, returning the one recipient's result for a check of how it went. */
  public static RecipientResult sendChecked(
      SecureSmtpTransport t, String from, String to, byte[] message) {
    DeliveryReport r = t.send(Envelope.of(from, to), MessageContent.of(message));
    return r.recipients().get(0);
  }

  /** Whether a result was delivered to a DANE-verified peer. */
  public static boolean deliveredDaneVerified(RecipientResult r) {
    return r.status() == io.mailtls.core.DeliveryStatus.DELIVERED
        && r.authentication().orElse(null) == io.mailtls.core.Authentication.VERIFIED
        && r.attempt().map(a -> a.source() == io.mailtls.core.PolicySource.DANE).orElse(false);
  }

  /** Whether a result was delivered to a PKIX-verified peer. */
  public static boolean deliveredVerified(RecipientResult r) {
    return r.status() == io.mailtls.core.DeliveryStatus.DELIVERED
        && r.authentication().orElse(null) == io.mailtls.core.Authentication.VERIFIED;
  }

  /** {@code MailtlsJakarta.send}; true when every recipient was delivered. */
  public static boolean sendJakarta(SecureSmtpTransport t, MimeMessage m)
      throws MessagingException {
    return MailtlsJakarta.send(t, m).allDelivered();
  }

  // ------------------------------------------------------------------------------ TLS

  /** The X.509 trust manager of a trust store. */
  public static X509TrustManager trustManager(KeyStore trust) {
    try {
      TrustManagerFactory f =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      f.init(trust);
      return (X509TrustManager) f.getTrustManagers()[0];
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  /** A client TLS context trusting {@code trust}. */
  public static SSLContext sslContext(KeyStore trust) {
    try {
      SSLContext c = SSLContext.getInstance("TLS");
      c.init(new KeyManager[0], new javax.net.ssl.TrustManager[] {trustManager(trust)}, null);
      return c;
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }
}
