package io.mailtls.tlsrpt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DomainName;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.Base64;
import org.junit.jupiter.api.Test;

/** The DKIM key's checks: key kinds and sizes (RFC 8301 §3.2, RFC 8463), selectors, PKCS #8. */
class DkimKeyTest {

  private static final DomainName D = DomainName.of("sender.test");

  private static KeyPair pair(String alg, int bits) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance(alg);
    if (bits > 0) {
      g.initialize(bits);
    }
    return g.generateKeyPair();
  }

  @Test
  void rsaAndEd25519KeysSign() throws Exception {
    DkimKey rsa = DkimKey.of(D, "Rpt2025", pair("RSA", 2048).getPrivate());
    assertThat(rsa.algorithm()).isEqualTo("rsa-sha256");
    assertThat(rsa.selector()).isEqualTo("rpt2025");
    assertThat(rsa.toString()).isEqualTo("DkimKey[rpt2025._domainkey.sender.test, rsa-sha256]");
    assertThat(DkimKey.of(D, "ed.a-b", pair("Ed25519", 0).getPrivate()).algorithm())
        .isEqualTo("ed25519-sha256");
  }

  @Test
  void otherKeysShortKeysAndBadSelectorsAreRefused() throws Exception {
    assertThatThrownBy(() -> DkimKey.of(D, "s", pair("RSA", 512).getPrivate()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("RFC 8301");
    assertThatThrownBy(() -> DkimKey.of(D, "s", pair("EC", 256).getPrivate()))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> DkimKey.of(D, "s", pair("Ed448", 0).getPrivate()))
        .isInstanceOf(IllegalArgumentException.class);
    for (String bad : new String[] {"", "a b", "-a", "a.", "_s", "a;b"}) {
      assertThatThrownBy(() -> DkimKey.of(D, bad, pair("Ed25519", 0).getPrivate()))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void pkcs8InDerOrPem() throws Exception {
    KeyPair rsa = pair("RSA", 2048);
    byte[] der = rsa.getPrivate().getEncoded();
    assertThat(DkimKey.fromPkcs8(D, "s", der).privateKey()).isEqualTo(rsa.getPrivate());
    String pem =
        "-----BEGIN PRIVATE KEY-----\n"
            + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der)
            + "\n-----END PRIVATE KEY-----\n";
    assertThat(DkimKey.fromPkcs8(D, "s", pem.getBytes(StandardCharsets.US_ASCII)).privateKey())
        .isEqualTo(rsa.getPrivate());
    byte[] ed = pair("Ed25519", 0).getPrivate().getEncoded();
    assertThat(DkimKey.fromPkcs8(D, "s", ed).algorithm()).isEqualTo("ed25519-sha256");
    assertThatThrownBy(
            () ->
                DkimKey.fromPkcs8(
                    D,
                    "s",
                    "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n".getBytes(StandardCharsets.US_ASCII)))
        .isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> DkimKey.fromPkcs8(D, "s", new byte[] {1, 2, 3}))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
