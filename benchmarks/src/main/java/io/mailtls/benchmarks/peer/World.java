package io.mailtls.benchmarks.peer;

import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The recipient side of the direct-to-MX benchmarks, in the peer process: the testkit's
 * DNSSEC-signed {@link TestDnsServer} and an {@link MtaStsServer}, publishing
 *
 * <ul>
 *   <li>zone {@code provider.test}: MX hosts {@code mx1..mxK.provider.test} at 127.0.0.11 upwards
 *       (where the sink listens), each with a DANE-EE {@code 3 1 1} TLSA record of the sink's key
 *       at {@code _25._tcp};
 *   <li>zone {@code one.test} and zones {@code d00000.test ...}: each one signed zone of its own
 *       (as real domains are), with one MX record (domain i uses {@code mx(i mod K + 1)}), the
 *       {@code _mta-sts} TXT record and the policy host's address; the MTA-STS server serves each
 *       an {@code enforce} policy naming {@code *.provider.test}.
 * </ul>
 *
 * With a DNS latency, every DNS response is held back that long; with a policy latency, every
 * policy response (the testkit's STALL fault with that stall time).
 */
public final class World implements AutoCloseable {

  public static final String PROVIDER = "provider.test";
  static final String POLICY_ID = "bench1";

  /** The signed DNS. */
  public final TestDnsServer dns;

  /** The MTA-STS policy server (its certificates from the world's PKI). */
  public final MtaStsServer sts;

  /**
   * Starts the DNS and MTA-STS servers.
   *
   * @param sinkSpkiSha256 SHA-256 of the sink's public key, for the DANE-EE records
   * @param domains how many recipient domains besides {@code one.test}
   * @param ttl the TTL of every record of the provider's and the recipient domains' zones, those
   *     the server makes (SOA, NS, DS, DNSKEY, NSEC) included, and of negative answers
   */
  public World(
      TestPki pki,
      byte[] sinkSpkiSha256,
      int domains,
      int mxHosts,
      Duration dnsLatency,
      Duration stsLatency,
      Duration ttl) {
    List<String> names = new ArrayList<>();
    names.add("one.test");
    for (int i = 0; i < domains; i++) {
      names.add(domain(i));
    }
    long t0 = System.nanoTime();
    MtaStsServer.Builder sb = MtaStsServer.builder().pki(pki);
    if (!stsLatency.isZero()) {
      sb.stall(stsLatency);
    }
    String policy = MtaStsServer.policyText("enforce", 86400, "*." + PROVIDER);
    for (String d : names) {
      sb.domain(d, policy);
    }
    this.sts = sb.start();
    if (!stsLatency.isZero()) {
      for (String d : names) {
        sts.fault(d, MtaStsServer.Fault.STALL);
      }
    }
    long t1 = System.nanoTime();
    // Every answer lives as long, negative ones too: an MX host's NODATA AAAA answer is an input
    // of every plan that names the host, and with the server's own 300 s it would expire every
    // plan of the host's domains during a timed run made with longer TTLs.
    TestDnsServer.Builder db = TestDnsServer.builder().generatedTtl(ttl);
    if (!dnsLatency.isZero()) {
      db.latency(dnsLatency);
    }
    db.zone(
        PROVIDER,
        z -> {
          z.ttl(ttl);
          for (int k = 1; k <= mxHosts; k++) {
            String host = "mx" + k + "." + PROVIDER;
            z.a(host, mxAddress(k));
            z.tlsa("_25._tcp." + host, 3, 1, 1, sinkSpkiSha256);
          }
        });
    for (int i = 0; i < names.size(); i++) {
      String d = names.get(i);
      int k = i == 0 ? 1 : ((i - 1) % mxHosts) + 1;
      db.zone(
          d,
          z -> {
            z.ttl(ttl);
            z.mx(d, 10, "mx" + k + "." + PROVIDER);
            sts.publish(z, d, POLICY_ID);
          });
    }
    this.dns = db.start();
    System.err.printf(
        Locale.ROOT,
        "world: MTA-STS server %d ms, signed DNS %d ms (%d zones)%n",
        (t1 - t0) / 1_000_000,
        (System.nanoTime() - t1) / 1_000_000,
        names.size() + 1);
  }

  /** The name of recipient domain {@code i} (0-based). */
  static String domain(int i) {
    return String.format(Locale.ROOT, "d%05d.test", i);
  }

  /** The address of MX host {@code k} (1-based), where the sink also listens. */
  static String mxAddress(int k) {
    return "127.0.0." + (10 + k);
  }

  @Override
  public void close() {
    dns.close();
    sts.close();
  }
}
