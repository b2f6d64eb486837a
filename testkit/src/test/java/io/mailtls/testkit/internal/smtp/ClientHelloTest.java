package io.mailtls.testkit.internal.smtp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import org.junit.jupiter.api.Test;

/** Parses ClientHellos that the JDK's own client produces (RFC 8446 §4.1.2, RFC 6066 §3). */
class ClientHelloTest {

  private static byte[] clientHello(String sni, String... protocols) throws Exception {
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(null, null, null);
    SSLEngine engine = context.createSSLEngine("mx.example.test", 25);
    engine.setUseClientMode(true);
    SSLParameters params = engine.getSSLParameters();
    params.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
    if (protocols.length > 0) {
      params.setProtocols(protocols);
    }
    engine.setSSLParameters(params);
    ByteBuffer out = ByteBuffer.allocate(engine.getSession().getPacketBufferSize());
    engine.wrap(ByteBuffer.allocate(0), out);
    return Arrays.copyOf(out.array(), out.position());
  }

  @Test
  void tls13HelloWithSni() throws Exception {
    byte[] wire = clientHello("mx1.example.test");
    byte[] record = ClientHello.readRecord(new ByteArrayInputStream(wire));
    ClientHello hello = ClientHello.parse(record);

    assertThat(record).isEqualTo(wire);
    assertThat(hello.serverName()).isEqualTo("mx1.example.test");
    assertThat(hello.legacyVersion()).isEqualTo(0x0303);
    assertThat(hello.offeredVersionNames()).containsExactly("TLSv1.3", "TLSv1.2");
    assertThat(hello.cipherSuites()).contains(0x1301);
  }

  @Test
  void tls12OnlyHelloWithoutSni() throws Exception {
    ClientHello hello = ClientHello.parse(clientHello(null, "TLSv1.2"));

    assertThat(hello.serverName()).isNull();
    assertThat(hello.offeredVersionNames()).containsExactly("TLSv1.2");
    assertThat(hello.cipherSuites()).doesNotContain(0x1301);
  }

  @Test
  void truncatedOrForeignInput() throws Exception {
    byte[] wire = clientHello("mx.example.test");
    byte[] cut = Arrays.copyOf(wire, 60);
    cut[3] = 0;
    cut[4] = 55; // a record that ends inside the ClientHello

    assertThat(ClientHello.parse(cut)).isNotNull();
    assertThat(ClientHello.parse("EHLO x\r\n".getBytes(StandardCharsets.US_ASCII))).isNull();
    assertThatThrownBy(
            () ->
                ClientHello.readRecord(
                    new ByteArrayInputStream("EHLO x\r\n".getBytes(StandardCharsets.US_ASCII))))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("not a TLS record");
    assertThat(ClientHello.readRecord(new ByteArrayInputStream(new byte[0]))).isNull();
  }
}
