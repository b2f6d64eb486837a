package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class DnssecResolverBuilderTest {

  private static final InetSocketAddress LOOPBACK =
      new InetSocketAddress(InetAddress.getLoopbackAddress(), 53);

  @Test
  void validateIsTheDefaultModeWithTheIanaRoot() {
    DnssecResolver r = DnssecResolver.builder().upstream(LOOPBACK).build();
    assertThat(r.mode()).isEqualTo(DnssecMode.VALIDATE);
    assertThat(r.upstreams()).containsExactly(LOOPBACK);
  }

  @Test
  void trustAdRefusesARemoteResolverUnlessExplicitlyAllowed() throws Exception {
    InetSocketAddress remote = new InetSocketAddress(InetAddress.getByName("192.0.2.53"), 53);
    assertThatThrownBy(
            () -> DnssecResolver.builder().mode(DnssecMode.TRUST_AD).upstream(remote).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("192.0.2.53")
        .hasMessageContaining("non-loopback");
    assertThat(
            DnssecResolver.builder()
                .mode(DnssecMode.TRUST_AD)
                .upstream(remote)
                .allowRemoteAdTrust()
                .build()
                .mode())
        .isEqualTo(DnssecMode.TRUST_AD);
    assertThat(DnssecResolver.builder().mode(DnssecMode.TRUST_AD).upstream(LOOPBACK).build().mode())
        .isEqualTo(DnssecMode.TRUST_AD);
  }

  @Test
  void trustAnchorsMakeNoSenseInTrustAdMode() {
    assertThatThrownBy(
            () ->
                DnssecResolver.builder()
                    .mode(DnssecMode.TRUST_AD)
                    .upstream(LOOPBACK)
                    .trustAnchors(TrustAnchors.ianaRoot())
                    .build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("TRUST_AD");
  }

  @Test
  void settersRejectASecondCall() {
    DnssecResolver.Builder b = DnssecResolver.builder().queryTimeout(Duration.ofSeconds(1));
    assertThatThrownBy(() -> b.queryTimeout(Duration.ofSeconds(2)))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("queryTimeout");
  }

  @Test
  void buildValidatesValues() {
    assertThatThrownBy(
            () -> DnssecResolver.builder().upstream(LOOPBACK).queryTimeout(Duration.ZERO).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT0S");
    assertThatThrownBy(() -> DnssecResolver.builder().upstream(LOOPBACK).retries(-1).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("-1");
    assertThatThrownBy(() -> DnssecResolver.builder().upstream(LOOPBACK).maxCnameChain(99).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("99");
    assertThatThrownBy(
            () ->
                DnssecResolver.builder()
                    .upstream(InetSocketAddress.createUnresolved("dns.example", 53)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("dns.example");
  }
}
