package io.mailtls.interop;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsOutcome;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DnssecState;
import io.mailtls.core.DomainName;
import java.util.HexFormat;
import java.nio.file.Files;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** DnssecResolver against Unbound: in-process validation from the private root, and TRUST_AD. */
class ResolverInteropTest {

  @BeforeAll
  static void environment() {
    InteropEnv.requireUp();
  }

  private static DnsAnswer resolve(DnsResolver dns, String name, DnsRecordType type)
      throws Exception {
    return dns.resolve(DomainName.of(name), type).toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static void assertSignedAndUnsigned(DnssecResolver dns) throws Exception {
    DnsAnswer mx = resolve(dns, "dane-ee.test", DnsRecordType.MX);
    assertThat(mx.outcome()).as("%s", mx).isEqualTo(DnsOutcome.DATA);
    assertThat(mx.state()).as("%s", mx).isEqualTo(DnssecState.SECURE);
    assertThat(mx.records(DnsRecord.Mx.class)).extracting(m -> m.exchange().toString())
        .anySatisfy(x -> assertThat(x).startsWith("mx.dane-ee.test"));

    DnsAnswer tlsa = resolve(dns, "_25._tcp.mx.dane-ee.test", DnsRecordType.TLSA);
    assertThat(tlsa.state()).as("%s", tlsa).isEqualTo(DnssecState.SECURE);
    String expected = Files.readString(InteropEnv.STATE.resolve("tlsa-mx-3-1-1.txt")).trim();
    assertThat(tlsa.records(DnsRecord.Tlsa.class)).singleElement().satisfies(t -> {
      assertThat(t.usage()).isEqualTo(3);
      assertThat(t.selector()).isEqualTo(1);
      assertThat(t.matchingType()).isEqualTo(1);
      assertThat(HexFormat.of().formatHex(t.data())).isEqualToIgnoringCase(expected);
    });

    DnsAnswer unsigned = resolve(dns, "unsigned.test", DnsRecordType.MX);
    assertThat(unsigned.outcome()).as("%s", unsigned).isEqualTo(DnsOutcome.DATA);
    assertThat(unsigned.state()).as("%s", unsigned).isEqualTo(DnssecState.INSECURE);

    DnsAnswer unsignedTlsa = resolve(dns, "_25._tcp.mx.unsigned.test", DnsRecordType.TLSA);
    assertThat(unsignedTlsa.state()).as("%s", unsignedTlsa).isEqualTo(DnssecState.INSECURE);

    DnsAnswer nx = resolve(dns, "nonexistent.dane-ee.test", DnsRecordType.A);
    assertThat(nx.outcome()).as("%s", nx).isEqualTo(DnsOutcome.NXDOMAIN);
    assertThat(nx.state()).as("%s", nx).isEqualTo(DnssecState.SECURE);
  }

  @Test
  void validateModeWithPrivateRootAnchor() throws Exception {
    assertSignedAndUnsigned(InteropEnv.validatingResolver());
  }

  @Test
  void trustAdModeAgainstUnbound() throws Exception {
    assertSignedAndUnsigned(InteropEnv.trustAdResolver());
  }
}
