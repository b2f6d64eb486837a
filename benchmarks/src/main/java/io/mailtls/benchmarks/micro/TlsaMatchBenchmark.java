package io.mailtls.benchmarks.micro;

import io.mailtls.core.DnsRecord;
import io.mailtls.core.DomainName;
import io.mailtls.core.TlsRequirement;
import io.mailtls.dane.DaneTrustManager;
import io.mailtls.testkit.TestPki;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Certificate checks of one chain (EC P-256 leaf and intermediate from the testkit's PKI): a new
 * {@link DaneTrustManager} per check, as mailtls makes one per connection, for DANE-EE ({@code 3 1
 * 1} of the leaf) and DANE-TA ({@code 2 1 1} of the intermediate, then path and name); and the
 * JDK's PKIX trust manager over the same chain to the root, for scale.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class TlsaMatchBenchmark {

  private static final String AUTH_TYPE = "ECDHE_ECDSA";
  private X509Certificate[] chain;
  private TlsRequirement.Dane ee;
  private TlsRequirement.Dane ta;
  private X509TrustManager pkix;

  @Setup
  public void setUp() throws Exception {
    TestPki pki = TestPki.create();
    TestPki.Ca inter = pki.root().intermediate("bench intermediate");
    TestPki.Issued leaf = inter.leaf().dnsNames("mx.bench.test").issue();
    chain = leaf.chain().toArray(X509Certificate[]::new);
    DomainName host = DomainName.of("mx.bench.test");
    ee =
        new TlsRequirement.Dane(
            List.of(new DnsRecord.Tlsa(3, 1, 1, leaf.tlsaAssociationData(1, 1))),
            host,
            List.of(host),
            true);
    ta =
        new TlsRequirement.Dane(
            List.of(new DnsRecord.Tlsa(2, 1, 1, inter.tlsaAssociationData(1, 1))),
            host,
            List.of(host),
            true);
    TrustManagerFactory f = TrustManagerFactory.getInstance("PKIX");
    f.init(pki.trustStore());
    pkix = (X509TrustManager) f.getTrustManagers()[0];
    daneEe();
    daneTa();
    jdkPkix();
  }

  @Benchmark
  public DaneTrustManager daneEe() throws CertificateException {
    DaneTrustManager tm = new DaneTrustManager(ee);
    tm.checkServerTrusted(chain, AUTH_TYPE);
    return tm;
  }

  @Benchmark
  public DaneTrustManager daneTa() throws CertificateException {
    DaneTrustManager tm = new DaneTrustManager(ta);
    tm.checkServerTrusted(chain, AUTH_TYPE);
    return tm;
  }

  @Benchmark
  public X509TrustManager jdkPkix() throws CertificateException {
    pkix.checkServerTrusted(chain, AUTH_TYPE);
    return pkix;
  }
}
