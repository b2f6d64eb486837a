package io.mailtls.dane;

import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecMode;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.Envelope;
import io.mailtls.core.EventListener;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TrustAnchors;
import io.mailtls.mtasts.MtaStsResolver;
import io.mailtls.mtasts.OkHttpPolicyFetcher;
import io.mailtls.testkit.DnsZoneBuilder;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.SmtpCommand;
import io.mailtls.testkit.SmtpSession;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import io.mailtls.testkit.Tlsa;
import io.mailtls.testkit.ValidatingResolverServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Consumer;
import okhttp3.OkHttpClient;
import org.xbill.DNS.Type;

/**
 * The real peers of {@link DaneEndToEndTest}, started once for the whole class: one {@link
 * TestPki}, mock SMTP servers on 127.0.9.x sharing one port, the testkit's signed DNS publishing
 * them as MX hosts with TLSA records computed from the servers' certificates, a {@link
 * ValidatingResolverServer} in front of that DNS for AD-trust mode, and an {@link MtaStsServer}
 * serving {@code enforce} policies for the MTA-STS cases.
 *
 * <p>Every scenario has its own recipient domain and its own servers, so a test can count the
 * sessions a delivery opened ({@link #send}) while the servers stay up across tests and modes.
 *
 * <p>The recipient domains (all in the signed zone {@code example.test} unless stated):
 *
 * <ul>
 *   <li>{@code ee}: DANE-EE {@code 3 1 1} of the leaf; {@code ta}: DANE-TA {@code 2 1 1} of the
 *       issuing intermediate, the leaf naming the MX host.
 *   <li>{@code mismatch}: only records whose data match nothing; the certificate is PKIX-valid.
 *   <li>{@code unusable-nostarttls}, {@code unusable-selfsigned}, {@code unusable-wrongname}: a
 *       secure TLSA RRset with no usable record ({@link #unusable}); a server without STARTTLS, a
 *       self-signed certificate, a wrong-name certificate.
 *   <li>{@code notlsa}: secure zone, no TLSA (NODATA); {@code plain.test}: an unsigned zone whose
 *       (insecure) TLSA records would match.
 *   <li>{@code sts-mismatch}: MTA-STS {@code enforce}, a PKIX-valid certificate, mismatching TLSA.
 *   <li>{@code dane-<kind>} and {@code pkix-<kind>} for each {@link PkixFailure}: MTA-STS {@code
 *       enforce} and a certificate that fails PKIX; matching TLSA records for {@code dane-}, none
 *       for {@code pkix-} (the control showing PKIX really fails).
 *   <li>{@code servfail}: two MX hosts with matching TLSA records, every TLSA query SERVFAILs.
 *   <li>{@code cname}: the MX host {@code mx.cname.example.test} is a secure alias of {@code
 *       smtp.hosting.test} (signed zone), whose TLSA records match; a mismatching RRset at the
 *       original name must not be used (RFC 7672 §2.2.3).
 *   <li>{@code trusted.plain.test}: unsigned recipient domain, MX host {@code mx.trusted} in the
 *       signed zone with matching TLSA (RFC 7672 §2.2.1).
 *   <li>{@code sts-forged.plain.test}: unsigned domain with an MTA-STS {@code enforce} policy
 *       naming {@code mx.elsewhere.test}, whose (insecure) MX answer leads to {@code mx.trusted}:
 *       the shape of a forged MX answer; {@code sts-signed-mx}: the same in the signed zone.
 *   <li>{@code aaaa-fails}: DANE-EE host whose AAAA lookups SERVFAIL (the A answer is secure);
 *       {@code both-fail}: A and AAAA lookups SERVFAIL.
 *   <li>{@code failover}: MX 10 {@code mx1} mismatching, MX 20 {@code mx2} matching.
 * </ul>
 *
 * <p>Not thread-safe: tests using it run one at a time (JUnit's default).
 */
final class DaneWorld implements AutoCloseable {

  static final String ZONE = "example.test";
  static final String SENDER = "a@sender.test";
  static final byte[] MESSAGE =
      ("From: a@sender.test\r\nTo: b@example.test\r\n"
              + "Subject: dane end to end\r\n\r\nHello.\r\n")
          .getBytes(StandardCharsets.US_ASCII);

  /**
   * A certificate that fails PKIX while DANE can authenticate it: the MTA-STS cases where DANE must
   * win (RFC 8461 §2).
   */
  enum PkixFailure {
    /** A leaf from a CA outside the transport's trust store, with the right name; DANE-EE. */
    UNTRUSTED_ISSUER("untrusted"),
    /** A leaf from the trusted root naming another host; DANE-EE. */
    WRONG_NAME("wrongname"),
    /** A leaf with the right name under an untrusted intermediate; DANE-TA of that CA. */
    UNTRUSTED_TA("untrusted-ta");

    final String label;

    PkixFailure(String label) {
      this.label = label;
    }
  }

  /**
   * A secure TLSA RRset in which no record is usable (RFC 7672 §3.1): PKIX-TA(0) and PKIX-EE(1)
   * usages, and DANE usages whose digests have the wrong length or whose full data is no DER
   * SEQUENCE (RFC 6698 §2.1.3). Takes the presented certificate so that the PKIX usages would match
   * it if they were (wrongly) honoured.
   */
  static void unusable(DnsZoneBuilder z, String owner, TestPki.Certified presented) {
    z.tlsaFor(owner, 0, 0, 1, presented)
        .tlsaFor(owner, 1, 1, 1, presented)
        .tlsa(owner, 3, 1, 1, new byte[31])
        .tlsa(owner, 2, 0, 2, new byte[32])
        .tlsa(owner, 3, 1, 0, new byte[] {0x04, 0x01, 0x00});
  }

  final TestPki pki = TestPki.create();
  final TestPki.Ca inter = pki.root().intermediate("mailtls E2E Intermediate");
  final TestPki.Ca otherInter = pki.otherCa().intermediate("mailtls E2E Untrusted Intermediate");

  /** The certificate each MX host presents (absent: no STARTTLS). */
  final Map<String, TestPki.Certified> presented = new LinkedHashMap<>();

  private final Map<String, MockSmtpServer> servers = new LinkedHashMap<>();
  private final List<Consumer<DnsZoneBuilder>> example = new ArrayList<>();
  private final List<Consumer<DnsZoneBuilder>> hosting = new ArrayList<>();
  private final List<Consumer<DnsZoneBuilder>> plain = new ArrayList<>();
  private final MtaStsServer sts;
  private final TestDnsServer dns;
  private final ValidatingResolverServer validator;
  private final OkHttpClient http;
  private final Map<DnssecMode, DnsResolver> resolvers = new EnumMap<>(DnssecMode.class);

  /** One MTA-STS provider (with its policy cache) per mode, shared as an MTA shares it. */
  private final Map<DnssecMode, MtaStsResolver> mtaSts = new EnumMap<>(DnssecMode.class);

  private int port;
  private int nextIp = 10;

  DaneWorld() {
    MtaStsServer.Builder stsBuilder = MtaStsServer.builder().pki(pki);
    List<String> stsDomains = new ArrayList<>();

    // DANE pass, both usages.
    TestPki.Issued ee = inter.leaf().dnsNames(mx("ee")).issue();
    domain("ee", ee, (z, o) -> z.tlsaFor(o, 3, 1, 1, ee));
    domain("ta", inter.leaf().dnsNames(mx("ta")).issue(), (z, o) -> z.tlsaFor(o, 2, 1, 1, inter));

    // DANE mismatch with a certificate PKIX would accept.
    domain(
        "mismatch",
        pki.root().leaf().dnsNames(mx("mismatch")).issue(),
        (z, o) ->
            z.tlsa(o, 3, 1, 1, Tlsa.wrongData(1))
                .tlsa(o, 2, 1, 1, Tlsa.wrongData(1))
                .tlsa(o, 3, 0, 2, Tlsa.wrongData(2)));

    // Secure TLSA, none usable.
    TestPki.Issued unpresented = inter.leaf().dnsNames(mx("unusable-nostarttls")).issue();
    domain("unusable-nostarttls", null, (z, o) -> unusable(z, o, unpresented));
    TestPki.Issued selfSigned = TestPki.selfSigned("unrelated.invalid");
    domain("unusable-selfsigned", selfSigned, (z, o) -> unusable(z, o, selfSigned));
    TestPki.Issued wrongName = pki.root().leaf().dnsNames("wrong.invalid").issue();
    domain("unusable-wrongname", wrongName, (z, o) -> unusable(z, o, wrongName));

    // No DANE: secure NODATA; an unsigned zone (whose TLSA would match, were it secure).
    domain("notlsa", pki.root().leaf().dnsNames(mx("notlsa")).issue(), (z, o) -> {});
    TestPki.Issued plainLeaf = inter.leaf().dnsNames("mx.plain.test").issue();
    MockSmtpServer plainServer = server("mx.plain.test", plainLeaf);
    plain.add(
        z ->
            z.mailHost("plain.test", 10, "mx.plain.test", plainServer)
                .tlsaFor(Tlsa.smtpOwner("mx.plain.test"), 3, 1, 1, plainLeaf));

    // MTA-STS enforce with a DANE mismatch, the certificate PKIX-valid.
    domain(
        "sts-mismatch",
        pki.root().leaf().dnsNames(mx("sts-mismatch")).issue(),
        (z, o) -> z.tlsa(o, 3, 1, 1, Tlsa.wrongData(1)));
    stsDomains.add(domain("sts-mismatch"));

    // MTA-STS enforce with certificates that fail PKIX: DANE passes (dane-), no TLSA (pkix-).
    for (PkixFailure kind : PkixFailure.values()) {
      for (boolean withTlsa : new boolean[] {true, false}) {
        String label = (withTlsa ? "dane-" : "pkix-") + kind.label;
        TestPki.Issued leaf =
            switch (kind) {
              case UNTRUSTED_ISSUER -> pki.otherCa().leaf().dnsNames(mx(label)).issue();
              case WRONG_NAME -> pki.root().leaf().dnsNames("wrong.invalid").issue();
              case UNTRUSTED_TA -> otherInter.leaf().dnsNames(mx(label)).issue();
            };
        domain(
            label,
            leaf,
            (z, o) -> {
              if (withTlsa && kind == PkixFailure.UNTRUSTED_TA) {
                z.tlsaFor(o, 2, 1, 1, otherInter);
              } else if (withTlsa) {
                z.tlsaFor(o, 3, 1, 1, leaf);
              }
            });
        stsDomains.add(domain(label));
      }
    }

    // Two MX hosts whose TLSA lookups SERVFAIL (the records behind would match).
    for (String host : List.of("mx1.servfail." + ZONE, "mx2.servfail." + ZONE)) {
      TestPki.Issued leaf = inter.leaf().dnsNames(host).issue();
      MockSmtpServer s = server(host, leaf);
      int preference = host.startsWith("mx1") ? 10 : 20;
      example.add(
          z ->
              z.mailHost(domain("servfail"), preference, host, s)
                  .tlsaFor(Tlsa.smtpOwner(host), 3, 1, 1, leaf));
    }

    // A secure CNAME'd MX host: TLSA at the expanded name wins over the original's.
    TestPki.Issued cnameLeaf = inter.leaf().dnsNames("smtp.hosting.test").issue();
    MockSmtpServer cnameServer = server("smtp.hosting.test", cnameLeaf);
    example.add(
        z ->
            z.mx(domain("cname"), 10, mx("cname"))
                .cname(mx("cname"), "smtp.hosting.test")
                .tlsa(Tlsa.smtpOwner(mx("cname")), 3, 1, 1, Tlsa.wrongData(1)));
    hosting.add(
        z ->
            z.a("smtp.hosting.test", cnameServer.address().getHostAddress())
                .tlsaFor(Tlsa.smtpOwner("smtp.hosting.test"), 3, 1, 1, cnameLeaf));

    // Insecure MX answer (unsigned recipient zone), secure MX host with TLSA.
    TestPki.Issued trustedLeaf = inter.leaf().dnsNames(mx("trusted")).issue();
    MockSmtpServer trustedServer = server(mx("trusted"), trustedLeaf);
    plain.add(z -> z.mx("trusted.plain.test", 10, mx("trusted")));
    example.add(
        z ->
            z.a(mx("trusted"), trustedServer.address().getHostAddress())
                .tlsaFor(Tlsa.smtpOwner(mx("trusted")), 3, 1, 1, trustedLeaf));

    // A forged-MX shape: an unsigned domain with an MTA-STS enforce policy whose MX answer names
    // the signed host with TLSA above, which the policy does not name.
    plain.add(z -> z.mx("sts-forged.plain.test", 10, mx("trusted")));
    // The same host under a signed domain whose enforce policy does not name it either: the
    // secure MX answer is the owner's signed choice, so DANE stands (RFC 8461 §2).
    example.add(z -> z.mx(domain("sts-signed-mx"), 10, mx("trusted")));

    // One address family fails: AAAA SERVFAILs, the secure A and TLSA records stand.
    TestPki.Issued v4Leaf = inter.leaf().dnsNames(mx("aaaa-fails")).issue();
    domain("aaaa-fails", v4Leaf, (z, o) -> z.tlsaFor(o, 3, 1, 1, v4Leaf));
    // Both families fail.
    TestPki.Issued noAddressLeaf = inter.leaf().dnsNames(mx("both-fail")).issue();
    domain("both-fail", noAddressLeaf, (z, o) -> z.tlsaFor(o, 3, 1, 1, noAddressLeaf));

    // Failover: MX 10 mismatches, MX 20 matches.
    String mx1 = "mx1.failover." + ZONE;
    String mx2 = "mx2.failover." + ZONE;
    MockSmtpServer failover1 = server(mx1, pki.root().leaf().dnsNames(mx1).issue());
    TestPki.Issued failoverLeaf = inter.leaf().dnsNames(mx2).issue();
    MockSmtpServer failover2 = server(mx2, failoverLeaf);
    example.add(
        z ->
            z.mailHost(domain("failover"), 10, mx1, failover1)
                .mailHost(domain("failover"), 20, mx2, failover2)
                .tlsa(Tlsa.smtpOwner(mx1), 3, 1, 1, Tlsa.wrongData(1))
                .tlsaFor(Tlsa.smtpOwner(mx2), 3, 1, 1, failoverLeaf));

    for (String d : stsDomains) {
      // RFC 8461 §3.2: enforce, and the domain's one MX host matches the policy.
      stsBuilder.domain(d, MtaStsServer.policyText("enforce", 86400, "mx." + d));
    }
    for (String d : List.of("sts-forged.plain.test", domain("sts-signed-mx"))) {
      // RFC 8461 §4.1: the policy names a host the MX answer does not lead to.
      stsBuilder.domain(d, MtaStsServer.policyText("enforce", 86400, "mx.elsewhere.test"));
    }
    sts = stsBuilder.start();
    example.add(z -> stsDomains.forEach(d -> sts.publish(z, d, "e2e1")));
    example.add(z -> sts.publish(z, domain("sts-signed-mx"), "e2e1"));
    plain.add(z -> sts.publish(z, "sts-forged.plain.test", "e2e1"));
    dns =
        TestDnsServer.builder()
            .zone(ZONE, z -> example.forEach(e -> e.accept(z)))
            .zone("hosting.test", z -> hosting.forEach(e -> e.accept(z)))
            .zone(
                "plain.test",
                z -> {
                  z.unsigned();
                  plain.forEach(e -> e.accept(z));
                })
            .start();
    dns.servfail(Tlsa.smtpOwner("mx1.servfail." + ZONE), Type.TLSA);
    dns.servfail(Tlsa.smtpOwner("mx2.servfail." + ZONE), Type.TLSA);
    dns.servfail(mx("aaaa-fails"), Type.AAAA);
    dns.servfail(mx("both-fail"), Type.A);
    dns.servfail(mx("both-fail"), Type.AAAA);
    validator =
        ValidatingResolverServer.start(
            dns.socketAddress(),
            dns.trustAnchor(),
            Clock.systemUTC(),
            InetAddress.getLoopbackAddress());
    resolvers.put(
        DnssecMode.VALIDATE,
        DnssecResolver.builder()
            .upstream(dns.socketAddress())
            .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
            .queryTimeout(Duration.ofSeconds(2))
            .lookupTimeout(Duration.ofSeconds(10))
            .build());
    resolvers.put(
        DnssecMode.TRUST_AD,
        DnssecResolver.builder()
            .mode(DnssecMode.TRUST_AD)
            .upstream(validator.socketAddress())
            .queryTimeout(Duration.ofSeconds(2))
            .lookupTimeout(Duration.ofSeconds(10))
            .build());
    // The policy host's certificate is issued by the test root: trust it, as a user would.
    http =
        new OkHttpClient.Builder()
            .sslSocketFactory(pki.clientSslContext().getSocketFactory(), pki.trustManager())
            .build();
    resolvers.forEach(
        (mode, resolver) ->
            mtaSts.put(
                mode,
                MtaStsResolver.builder()
                    .dns(resolver)
                    .fetcher(
                        OkHttpPolicyFetcher.builder()
                            .client(http)
                            .dns(resolver)
                            .port(sts.port())
                            .connectTimeout(Duration.ofSeconds(2))
                            .callTimeout(Duration.ofSeconds(10))
                            .build())
                    .build()));
  }

  /** {@code <label>.example.test}. */
  static String domain(String label) {
    return label + "." + ZONE;
  }

  /** {@code mx.<label>.example.test}, the one MX host of a single-host scenario. */
  static String mx(String label) {
    return "mx." + domain(label);
  }

  /** The mock server of MX host {@code host}. */
  MockSmtpServer server(String host) {
    MockSmtpServer s = servers.get(host);
    if (s == null) {
      throw new IllegalArgumentException("no server for " + host + "; have " + servers.keySet());
    }
    return s;
  }

  /**
   * Adds the recipient domain {@code <label>.example.test} with one MX host {@code
   * mx.<label>.example.test}: a new server presenting {@code cert} (null: no STARTTLS), and the
   * TLSA records {@code tlsa} adds at {@code _25._tcp.mx.<label>.example.test}.
   */
  private void domain(String label, TestPki.Certified cert, TlsaRecords tlsa) {
    String host = mx(label);
    MockSmtpServer s = server(host, cert);
    example.add(
        z -> {
          z.mailHost(domain(label), 10, host, s);
          tlsa.add(z, Tlsa.smtpOwner(host));
        });
  }

  /** Adds TLSA records at an owner name. */
  @FunctionalInterface
  private interface TlsaRecords {
    void add(DnsZoneBuilder zone, String owner);
  }

  /** Starts the mock server of {@code host} on the next 127.0.9.x, on the shared port. */
  private MockSmtpServer server(String host, TestPki.Certified cert) {
    MockSmtpServer.Builder b =
        MockSmtpServer.builder().address(loopback("127.0.9." + nextIp++)).hostname(host);
    if (port != 0) {
      b.port(port);
    }
    if (cert != null) {
      b.tls(cert.serverSslContext());
      presented.put(host, cert);
    }
    MockSmtpServer s;
    try {
      s = b.start();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the mock server of " + host, e);
    }
    port = s.port();
    servers.put(host, s);
    return s;
  }

  private static InetAddress loopback(String ip) {
    try {
      return InetAddress.getByName(ip);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(ip, e);
    }
  }

  /**
   * What one delivery did: the recipient's result, and per MX host the sessions the delivery opened
   * at its server (ended before this is returned).
   */
  record Delivery(RecipientResult result, Map<String, List<SmtpSession>> sessions) {

    /** The sessions opened at {@code host}'s server. */
    List<SmtpSession> at(String host) {
      return sessions.getOrDefault(host, List.of());
    }

    /** Every command verb the server of {@code host} received, in order. */
    List<String> verbs(String host) {
      return at(host).stream().flatMap(s -> s.commands().stream()).map(SmtpCommand::verb).toList();
    }

    /** Every session the delivery opened, at any server. */
    List<SmtpSession> all() {
      return sessions.values().stream().flatMap(List::stream).toList();
    }
  }

  /**
   * Sends one message to {@code b@<recipientDomain>} through a new transport with both recipient
   * policy providers (a new {@link DaneResolver}; the mode's {@link MtaStsResolver} with {@link
   * OkHttpPolicyFetcher}, whose cache persists across sends as an MTA's does), the DNS of {@code
   * mode}, the test root as PKIX trust store, and the sender level {@code level}; closes the
   * transport and waits for the sessions it opened to end.
   */
  Delivery send(DnssecMode mode, TlsLevel level, String recipientDomain) {
    Map<String, Integer> before = new LinkedHashMap<>();
    servers.forEach((h, s) -> before.put(h, s.sessions().size()));
    String rcpt = "b@" + recipientDomain;
    RecipientResult result;
    try (SecureSmtpTransport transport = builder(mode, level).build()) {
      result = transport.send(Envelope.of(SENDER, rcpt), MessageContent.of(MESSAGE)).result(rcpt);
    }
    // A session is recorded when accepted, before the greeting the transport waits for: every
    // connection this delivery made is counted by now.
    Map<String, List<SmtpSession>> opened = new LinkedHashMap<>();
    servers.forEach(
        (h, s) -> {
          int from = before.get(h);
          int to = s.sessions().size();
          if (to > from) {
            try {
              opened.put(h, s.awaitSessions(to, Duration.ofSeconds(5)).subList(from, to));
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
              throw new AssertionError("interrupted waiting for sessions at " + h, e);
            }
          }
        });
    return new Delivery(result, opened);
  }

  /**
   * A transport as {@link #send} builds it, whose calls' listeners {@code listeners} makes, for a
   * test that sends on it itself (and closes it).
   */
  SecureSmtpTransport transport(DnssecMode mode, TlsLevel level, EventListener.Factory listeners) {
    return builder(mode, level).eventListenerFactory(listeners).build();
  }

  private SecureSmtpTransport.Builder builder(DnssecMode mode, TlsLevel level) {
    DnsResolver resolver = resolvers.get(mode);
    return SecureSmtpTransport.builder()
        .dns(resolver)
        .dane(DaneResolver.builder().dns(resolver).build())
        .mtaSts(mtaSts.get(mode))
        .trustStore(pki.trustStore())
        .heloName("client.sender.test")
        .port(port)
        .random(new Random(1))
        .noConnectionReuse()
        .senderPolicy(SenderPolicy.uniform(level))
        .timeouts(SmtpTimeouts.uniform(Duration.ofSeconds(5)));
  }

  @Override
  public void close() {
    mtaSts.values().forEach(MtaStsResolver::close);
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
    servers.values().forEach(MockSmtpServer::close);
    validator.close();
    dns.close();
    sts.close();
  }
}
