package io.mailtls.testkit;

import static io.mailtls.testkit.TestDnsServerDnssecTest.query;
import static io.mailtls.testkit.TestDnsServerDnssecTest.records;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.Message;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TLSARecord;
import org.xbill.DNS.Type;

/** {@link Tlsa} and {@link DnsZoneBuilder#tlsaFor}: TLSA data for test certificates. */
class TlsaTest {

  private static final TestPki PKI = TestPki.create();

  @Test
  void ownerNames() {
    assertThat(Tlsa.smtpOwner("mx1.example.test.")).isEqualTo("_25._tcp.mx1.example.test");
    assertThat(Tlsa.owner(465, "mx1.example.test")).isEqualTo("_465._tcp.mx1.example.test");
    assertThatThrownBy(() -> Tlsa.owner(70000, "x.test"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("70000");
  }

  @Test
  void associationDataIsWhatTheCertificateGives() {
    TestPki.Issued leaf = PKI.root().leaf().dnsNames("mx1.example.test").issue();
    assertThat(Tlsa.associationData(leaf.certificate(), 1, 1)).isEqualTo(leaf.spkiSha256());
    assertThat(Tlsa.associationData(leaf.certificate(), 0, 2)).isEqualTo(leaf.certificateSha512());
    assertThat(Tlsa.associationData(leaf.certificate(), 0, 0)).isEqualTo(leaf.certificateDer());
  }

  @Test
  void wrongDataHasTheRightShapeAndMatchesNothing() {
    assertThat(Tlsa.wrongData(1)).hasSize(32);
    assertThat(Tlsa.wrongData(2)).hasSize(64);
    assertThat(Tlsa.wrongData(0)[0]).isEqualTo((byte) 0x30);
    assertThat(Tlsa.wrongData(1)).isNotEqualTo(PKI.root().spkiSha256());
    assertThatThrownBy(() -> Tlsa.wrongData(3)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void tlsaForServesTheCertificatesData() throws IOException {
    TestPki.Ca inter = PKI.root().intermediate("mailtls Tlsa Intermediate");
    TestPki.Issued leaf = inter.leaf().dnsNames("mx1.example.test").issue();
    try (TestDnsServer dns =
        TestDnsServer.builder()
            .zone(
                "example.test",
                z ->
                    z.a("mx1.example.test", "127.0.0.2")
                        .tlsaFor(Tlsa.smtpOwner("mx1.example.test"), 3, 1, 1, leaf)
                        .tlsaFor(Tlsa.smtpOwner("mx1.example.test"), 2, 0, 1, inter.certificate()))
            .start()) {
      Message answer =
          query(
              new SimpleResolver(dns.socketAddress()),
              Tlsa.smtpOwner("mx1.example.test"),
              Type.TLSA);
      List<Record> tlsa = records(answer, Section.ANSWER, Type.TLSA);
      assertThat(tlsa).hasSize(2).allSatisfy(r -> assertThat(r).isInstanceOf(TLSARecord.class));
      assertThat(tlsa.stream().map(r -> ((TLSARecord) r).getCertificateAssociationData()))
          .containsExactlyInAnyOrder(leaf.spkiSha256(), inter.certificateSha256());
    }
  }
}
