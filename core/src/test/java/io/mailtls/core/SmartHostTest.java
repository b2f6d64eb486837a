package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A relay's port follows how TLS starts unless given: submission with STARTTLS on 587 (RFC 6409),
 * implicit TLS on 465 (RFC 8314 §3.3). A TLS ClientHello sent to the STARTTLS port reaches nothing,
 * so the CLI, the Jakarta provider and the Spring starter, which set the port only when told, all
 * get this default.
 */
class SmartHostTest {

  @Test
  void thePortFollowsHowTlsStartsUnlessGiven() {
    assertThat(SmartHost.builder("relay.example").build().port()).isEqualTo(587);
    SmartHost implicit = SmartHost.builder("relay.example").implicitTls().build();
    assertThat(implicit.implicitTls()).isTrue();
    assertThat(implicit.port()).isEqualTo(465);
    assertThat(SmartHost.builder("relay.example").port(2465).implicitTls().build().port())
        .isEqualTo(2465);
    assertThat(SmartHost.builder("relay.example").implicitTls().port(587).build().port())
        .isEqualTo(587);
    assertThat(SmartHost.builder("relay.example").port(2525).build().port()).isEqualTo(2525);
  }
}
