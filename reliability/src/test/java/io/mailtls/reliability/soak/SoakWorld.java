package io.mailtls.reliability.soak;

import io.mailtls.testkit.DnsZoneBuilder;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import io.mailtls.testkit.Tlsa;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The recipient side of the soak, on loopback: a DNSSEC-signed tree ({@link TestDnsServer}), an
 * MTA-STS policy host over real HTTPS ({@link MtaStsServer}) and one {@link MockSmtpServer} per
 * recipient domain (real sockets, real STARTTLS), each on its own 127.0.9.x address and all on one
 * port. Every server shares one {@link SoakFaults} injector, and keeps only digests and header
 * sections of messages.
 */
final class SoakWorld implements AutoCloseable {

  /** What a recipient domain publishes. */
  enum Kind {
    /** Signed zone, DANE-EE TLSA for its MX, no MTA-STS. */
    DANE(true, null),
    /** DANE and an MTA-STS enforce policy. */
    DANE_STS(true, "enforce"),
    /** MTA-STS enforce, PKIX-valid certificate, no TLSA. */
    STS_ENFORCE(false, "enforce"),
    /** MTA-STS testing. */
    STS_TESTING(false, "testing"),
    /** Nothing: STARTTLS with a self-signed certificate. */
    NONE_TLS(false, null),
    /** Nothing, and no STARTTLS either. */
    NONE_PLAIN(false, null);

    final boolean dane;
    final String stsMode;

    Kind(boolean dane, String stsMode) {
      this.dane = dane;
      this.stsMode = stsMode;
    }

    boolean stsEnforce() {
      return "enforce".equals(stsMode);
    }
  }

  /** One recipient domain. */
  record Domain(String name, Kind kind, String mxHost, MockSmtpServer server) {}

  static final String POLICY_ID_PREFIX = "soak";
  static final Duration TTL = Duration.ofSeconds(60);

  final TestPki pki = TestPki.create();
  final MtaStsServer sts;
  final TestDnsServer dns;
  final Map<String, Domain> domains = new LinkedHashMap<>();
  final List<MockSmtpServer> servers = new ArrayList<>();
  private int smtpPort;

  SoakWorld(SoakFaults faults, Duration stsStall) throws IOException {
    Map<String, Kind> plan = new LinkedHashMap<>();
    plan.put("dane1.test", Kind.DANE);
    plan.put("dane2.test", Kind.DANE);
    plan.put("danests.test", Kind.DANE_STS);
    plan.put("sts1.test", Kind.STS_ENFORCE);
    plan.put("sts2.test", Kind.STS_ENFORCE);
    plan.put("ststesting.test", Kind.STS_TESTING);
    plan.put("tls.test", Kind.NONE_TLS);
    plan.put("plain.test", Kind.NONE_PLAIN);
    Map<String, TestPki.Issued> leaves = new LinkedHashMap<>();
    int i = 0;
    try {
      for (Map.Entry<String, Kind> e : plan.entrySet()) {
        String domain = e.getKey();
        String mx = "mx." + domain;
        MockSmtpServer.Builder b =
            MockSmtpServer.builder()
                .address(InetAddress.getByName("127.0.9." + (10 + i++)))
                .hostname(mx)
                .idleTimeout(Duration.ofSeconds(15))
                .digestOnly()
                .keepHeaders()
                .faultInjector(faults.injector(domain));
        if (smtpPort != 0) {
          b.port(smtpPort);
        }
        if (e.getValue() == Kind.NONE_PLAIN) {
          // A minimal server: no PIPELINING, 8BITMIME, SMTPUTF8 or CHUNKING, and a 1 MiB limit.
          b.capabilities("SIZE 1048576", "ENHANCEDSTATUSCODES");
        }
        if (e.getValue() == Kind.NONE_TLS) {
          b.tls(TestPki.selfSigned(mx).serverSslContext());
        } else if (e.getValue() != Kind.NONE_PLAIN) {
          TestPki.Issued leaf = pki.root().leaf().dnsNames(mx).issue();
          leaves.put(domain, leaf);
          b.tls(leaf.serverSslContext());
        }
        MockSmtpServer server = b.start();
        smtpPort = server.port();
        servers.add(server);
        domains.put(domain, new Domain(domain, e.getValue(), mx, server));
      }
      MtaStsServer.Builder sb = MtaStsServer.builder().pki(pki).stall(stsStall);
      for (Domain d : domains.values()) {
        if (d.kind().stsMode != null) {
          sb.domain(d.name(), MtaStsServer.policyText(d.kind().stsMode, 86400, d.mxHost()));
        }
      }
      sts = sb.start();
      TestDnsServer.Builder db = TestDnsServer.builder();
      for (Domain d : domains.values()) {
        db.zone(d.name(), z -> zone(z, d, leaves.get(d.name()), 1));
      }
      dns = db.start();
    } catch (IOException | RuntimeException e) {
      servers.forEach(MockSmtpServer::close);
      throw e;
    }
  }

  private void zone(DnsZoneBuilder z, Domain d, TestPki.Issued leaf, int policyVersion) {
    z.ttl(TTL);
    z.mailHost(d.name(), 10, d.mxHost(), d.server());
    if (d.kind().dane) {
      z.tlsaFor(Tlsa.smtpOwner(d.mxHost()), 3, 1, 1, leaf);
    }
    if (d.kind().stsMode != null) {
      sts.publish(z, d.name(), POLICY_ID_PREFIX + policyVersion);
    }
  }

  /** Publishes a new policy id for an MTA-STS domain, so that the next send fetches again. */
  void bumpPolicyId(String domain, int version) {
    dns.update(
        domain,
        z -> {
          z.remove("_mta-sts." + domain, org.xbill.DNS.Type.TXT);
          z.txt("_mta-sts." + domain, MtaStsServer.stsRecord(POLICY_ID_PREFIX + version));
        });
  }

  int smtpPort() {
    return smtpPort;
  }

  @Override
  public void close() {
    servers.forEach(MockSmtpServer::close);
    if (sts != null) {
      sts.close();
    }
    if (dns != null) {
      dns.close();
    }
  }

  static UncheckedIOException unchecked(IOException e) {
    return new UncheckedIOException(e);
  }
}
