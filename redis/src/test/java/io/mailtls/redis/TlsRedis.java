package io.mailtls.redis;

import static org.assertj.core.api.Assertions.assertThat;

import io.lettuce.core.RedisURI;
import io.lettuce.core.SslOptions;
import io.lettuce.core.SslVerifyMode;
import io.mailtls.testkit.TestPki;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;

/**
 * A real redis-server whose TLS port serves a certificate for redis.test from a private test CA,
 * and the {@link SslOptions} that trust that CA. Its plain port serves only the start-up PING.
 */
record TlsRedis(RedisServerProcess server, int tlsPort) implements AutoCloseable {

  private static final TestPki PKI = TestPki.create();

  /** Lettuce's TLS options trusting the CA that issued the server's certificate. */
  static final SslOptions TRUST_THE_TEST_CA =
      SslOptions.builder().jdkSslProvider().trustManager(PKI.trustManagerFactory()).build();

  /** Starts the server with its certificate, key and CA written into {@code tmp}. */
  static TlsRedis start(Path tmp) throws Exception {
    TestPki.Issued issued = PKI.root().leaf().dnsNames("redis.test").issue();
    Path cert = tmp.resolve("redis.crt");
    Path key = tmp.resolve("redis.key");
    Path ca = tmp.resolve("ca.crt");
    Files.writeString(cert, pem("CERTIFICATE", issued.certificate().getEncoded()));
    Files.writeString(key, pem("PRIVATE KEY", issued.privateKey().getEncoded()));
    Files.writeString(ca, pem("CERTIFICATE", PKI.root().certificate().getEncoded()));
    int tlsPort = RedisServerProcess.freePort();
    RedisServerProcess server =
        RedisServerProcess.start(
            "--tls-port", Integer.toString(tlsPort),
            "--tls-cert-file", cert.toString(),
            "--tls-key-file", key.toString(),
            "--tls-ca-cert-file", ca.toString(),
            "--tls-auth-clients", "no");
    assertThat(server.port()).isNotEqualTo(tlsPort); // plain port for the start-up PING only
    return new TlsRedis(server, tlsPort);
  }

  /**
   * {@code rediss://} to the TLS port; the certificate names redis.test, not 127.0.0.1, so the
   * chain is what is checked.
   */
  RedisURI uri() {
    return RedisURI.builder()
        .withHost("127.0.0.1")
        .withPort(tlsPort)
        .withSsl(true)
        .withVerifyPeer(SslVerifyMode.CA)
        .build();
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN "
        + type
        + "-----\n"
        + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
        + "\n-----END "
        + type
        + "-----\n";
  }

  @Override
  public void close() {
    server.close();
  }
}
