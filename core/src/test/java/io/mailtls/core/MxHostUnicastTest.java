package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * {@link MxHost#isUnicast}: the addresses that are never a mail server (RFC 1122 §3.2.1.3, RFC 4291
 * §2.5.2, §2.5.5.2, §2.7), and that loopback and private addresses are not among them.
 */
class MxHostUnicastTest {

  @ParameterizedTest
  @CsvSource({
    "0.0.0.0, false",
    "::, false",
    "255.255.255.255, false",
    "224.0.0.1, false",
    "239.255.255.250, false",
    "ff02::1, false",
    "127.0.0.1, true",
    "127.0.0.2, true",
    "::1, true",
    "10.0.0.1, true",
    "192.168.1.255, true",
    "192.0.2.1, true",
    "2001:db8::1, true",
  })
  void rfc1122Section3_2_1_3_onlyUnicastAddressesAreMailServers(String ip, boolean unicast)
      throws Exception {
    assertThat(MxHost.isUnicast(InetAddress.getByName(ip))).isEqualTo(unicast);
  }

  /** An IPv4-mapped IPv6 address (RFC 4291 §2.5.5.2) built as Inet6Address is judged as IPv4. */
  @ParameterizedTest
  @CsvSource({
    "0, 0, 0, 0, false",
    "255, 255, 255, 255, false",
    "224, 0, 0, 1, false",
    "127, 0, 0, 2, true"
  })
  void anIpv4MappedAddressIsJudgedByItsIpv4Address(int a, int b, int c, int d, boolean unicast)
      throws Exception {
    byte[] bytes = new byte[16];
    bytes[10] = (byte) 0xff;
    bytes[11] = (byte) 0xff;
    bytes[12] = (byte) a;
    bytes[13] = (byte) b;
    bytes[14] = (byte) c;
    bytes[15] = (byte) d;
    InetAddress mapped = java.net.Inet6Address.getByAddress(null, bytes, -1);
    assertThat(MxHost.isUnicast(mapped)).isEqualTo(unicast);
  }
}
