package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class NextHopTest {

  @Test
  void domainPartIsADomain() {
    assertThat(NextHop.parse("Bücher.Test"))
        .isEqualTo(new NextHop.Domain(DomainName.of("xn--bcher-kva.test")));
  }

  @Test
  void rfc5321Section4_1_3AddressLiterals() throws Exception {
    assertThat(NextHop.parse("[192.0.2.1]"))
        .isEqualTo(new NextHop.AddressLiteral(InetAddress.getByName("192.0.2.1")));
    NextHop v6 = NextHop.parse("[IPv6:2001:db8::1]");
    assertThat(v6).isEqualTo(new NextHop.AddressLiteral(InetAddress.getByName("2001:db8::1")));
    assertThat(v6.toString()).isEqualTo("[IPv6:2001:db8:0:0:0:0:0:1]");
    assertThat(NextHop.parse("[192.0.2.1]").toString()).isEqualTo("[192.0.2.1]");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "[192.0.2.1",
        "[192.0.2.256]",
        "[1.2.3]",
        "[example.test]",
        "[2001:db8::1]",
        "[IPv6:zz::1]",
        "[]",
        "exa mple.test"
      })
  void rejectsMalformedNamingTheValue(String input) {
    assertThatThrownBy(() -> NextHop.parse(input))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(input);
  }
}
