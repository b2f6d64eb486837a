package io.mailtls.benchmarks;

import io.mailtls.core.DnsRecord;
import io.mailtls.core.DomainName;
import io.mailtls.core.ProbeResult;
import io.mailtls.core.StarttlsProbe;
import io.mailtls.core.TlsRequirement;
import io.mailtls.dane.DaneResolver;
import io.mailtls.testkit.Tlsa;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * DANE against PKIX verification of the same chain (docs/benchmarks.md "Handshakes"): the sink
 * presents leaf and intermediate of the peer's PKI; each handshake is a new connection (connect,
 * EHLO, STARTTLS, full TLS handshake, verification, QUIT) made by mailtls's {@link StarttlsProbe},
 * which opens sessions exactly as the transport does, under three requirements:
 *
 * <ul>
 *   <li>{@code pkix}: the chain verified to the root in the trust store, the name {@code
 *       mx.bench.test} checked (as for MTA-STS or a relay);
 *   <li>{@code dane_ee}: TLSA {@code 3 1 1} of the leaf's key;
 *   <li>{@code dane_ta}: TLSA {@code 2 1 1} of the intermediate's key, then the path and name.
 * </ul>
 *
 * Interleaved rounds on {@code --threads} (1) threads; client CPU per handshake is the measure.
 */
public final class Handshake {

  private Handshake() {}

  public static void main(String[] argv) throws Exception {
    run(argv);
    System.exit(0);
  }

  /**
   * Options: {@code --seconds} per requirement (15) over {@code --rounds} (5), {@code --warmup}
   * (2), {@code --threads} (1), {@code --out} (benchmarks/results/handshake.csv), {@code
   * --workdir}.
   */
  public static Map<String, Rounds.Result> run(String[] argv) throws Exception {
    Args args = new Args(argv);
    double seconds = args.decimal("seconds", 15);
    int rounds = args.integer("rounds", 5);
    double warmup = args.decimal("warmup", 2);
    int threads = args.integer("threads", 1);
    Path out = Path.of(args.string("out", "benchmarks/results/handshake.csv"));
    Path work =
        Path.of(args.string("workdir", Files.createTempDirectory("mailtls-handshake").toString()));
    args.done();

    Csv csv = new Csv(out, Rounds.COLUMNS);
    Csv ratios = new Csv(EndToEnd.ratioFile(out), Rounds.RATIO_COLUMNS);
    try (PeerProcess peer = PeerProcess.start(work, List.of(), "--mx-hosts", "0")) {
      KeyStore trust = peer.trustStore();
      List<X509Certificate> chain = peer.sinkChain();
      DomainName host = DomainName.of("mx.bench.test");
      TlsRequirement pkix = new TlsRequirement.Pkix(List.of(host));
      TlsRequirement ee =
          new TlsRequirement.Dane(
              List.of(new DnsRecord.Tlsa(3, 1, 1, spkiSha256(chain.get(0)))),
              host,
              List.of(host),
              true);
      TlsRequirement ta =
          new TlsRequirement.Dane(
              List.of(new DnsRecord.Tlsa(2, 1, 1, spkiSha256(chain.get(1)))),
              host,
              List.of(host),
              true);
      try (StarttlsProbe probe =
          StarttlsProbe.builder()
              .heloName(Mailtls.HELO)
              .port(peer.port("smtp_port"))
              .trustStore(trust)
              .dane(DaneResolver.builder().dns(Mailtls.hostsFile()).build())
              .build()) {
        InetAddress address = Mailtls.loopback();
        List<Rounds.Contender> all = new ArrayList<>();
        all.add(new Probe("pkix", probe, host, address, pkix));
        all.add(new Probe("dane_ee", probe, host, address, ee));
        all.add(new Probe("dane_ta", probe, host, address, ta));
        EndToEnd.checkFirst(all);
        Map<String, Rounds.Result> totals =
            new Rounds("handshake", peer, threads, csv).run(all, warmup, rounds, seconds / rounds);
        Rounds.ratio(ratios, "handshake", 0, "dane_ee", "pkix", totals);
        Rounds.ratio(ratios, "handshake", 0, "dane_ta", "pkix", totals);
        return totals;
      }
    }
  }

  /**
   * TLSA {@code x 1 1} data of {@code c}: the digest of the certificate's own SubjectPublicKeyInfo
   * (RFC 6698 §2.1.2), read by the testkit as DANE reads it.
   */
  static byte[] spkiSha256(X509Certificate c) {
    return Tlsa.associationData(c, 1, 1);
  }

  /** One probe: a new connection with a full handshake, verified under one requirement. */
  static final class Probe extends Rounds.Contender {
    private final StarttlsProbe probe;
    private final DomainName host;
    private final InetAddress address;
    private final TlsRequirement requirement;

    Probe(
        String scenario,
        StarttlsProbe probe,
        DomainName host,
        InetAddress address,
        TlsRequirement requirement) {
      super(scenario, "mailtls", "handshake", 0, 0);
      this.probe = probe;
      this.host = host;
      this.address = address;
      this.requirement = requirement;
    }

    @Override
    protected boolean send(int thread) {
      ProbeResult r = probe.probe(Optional.of(host), address, requirement);
      return r.authentication().isPresent()
          && r.authentication().get() == io.mailtls.core.Authentication.VERIFIED;
    }
  }
}
