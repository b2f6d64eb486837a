package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class DnsAnswerTest {

  private static final DomainName NAME = DomainName.of("example.test");

  @Test
  void aFailureCanNeverLookSecureOrInsecure() {
    assertThatThrownBy(
            () ->
                DnsAnswer.builder(NAME, DnsRecordType.MX, DnsOutcome.FAILURE, DnssecState.INSECURE)
                    .rcode(2)
                    .failure(DnsFailure.SERVFAIL)
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("INSECURE");
  }

  @Test
  void failureIsPresentExactlyForFailures() {
    assertThatThrownBy(
            () ->
                DnsAnswer.builder(NAME, DnsRecordType.MX, DnsOutcome.NODATA, DnssecState.SECURE)
                    .failure(DnsFailure.SERVFAIL)
                    .build())
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () ->
                DnsAnswer.builder(NAME, DnsRecordType.MX, DnsOutcome.FAILURE, DnssecState.BOGUS)
                    .build())
        .isInstanceOf(IllegalArgumentException.class);
    DnsAnswer failed =
        DnsAnswer.failed(
            NAME, DnsRecordType.MX, DnssecState.INDETERMINATE, DnsFailure.TIMEOUT, -1, "no answer");
    assertThat(failed.isSuccess()).isFalse();
    assertThat(failed.isNegative()).isFalse();
    assertThat(failed.records()).isEmpty();
    assertThat(failed.toString()).contains("FAILURE", "TIMEOUT", "no answer");
  }

  @Test
  void tlsaDataIsCopiedAndComparedByValue() {
    byte[] data = {1, 2, 3};
    DnsRecord.Tlsa t = new DnsRecord.Tlsa(3, 1, 1, data);
    data[0] = 9;
    assertThat(t.data()).containsExactly(1, 2, 3);
    t.data()[1] = 9;
    assertThat(t).isEqualTo(new DnsRecord.Tlsa(3, 1, 1, new byte[] {1, 2, 3}));
    assertThat(t.toString()).isEqualTo("3 1 1 010203");
  }
}
