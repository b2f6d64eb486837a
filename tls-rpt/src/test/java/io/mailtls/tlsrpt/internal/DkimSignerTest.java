package io.mailtls.tlsrpt.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.security.KeyFactory;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.Signature;
import java.security.spec.EdECPrivateKeySpec;
import java.security.spec.NamedParameterSpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The DKIM signer against the published vectors: the canonicalisation examples of RFC 6376 §3.4.5
 * and the Ed25519 signed message of RFC 8463 Appendix A, reproduced octet for octet (Ed25519 is
 * deterministic). RSA signatures are verified by an independent verifier in {@code
 * MailReportSenderTest}.
 */
class DkimSignerTest {

  /** RFC 8463 A.2: the secret key, base64 of the 32-octet seed. */
  private static final String RFC8463_SECRET = "nWGxne/9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A=";

  /** RFC 8463 A.2: the public key, as published in the DNS record's {@code p=}. */
  private static final String RFC8463_PUBLIC = "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

  /** RFC 8463 A.1, A.3: the message. */
  private static final String RFC8463_MESSAGE =
      "From: Joe SixPack <joe@football.example.com>\r\n"
          + "To: Suzie Q <suzie@shopping.example.net>\r\n"
          + "Subject: Is dinner ready?\r\n"
          + "Date: Fri, 11 Jul 2003 21:00:37 -0700 (PDT)\r\n"
          + "Message-ID: <20030712040037.46341.5F8J@football.example.com>\r\n"
          + "\r\n"
          + "Hi.\r\n"
          + "\r\n"
          + "We lost the game.  Are you hungry yet?\r\n"
          + "\r\n"
          + "Joe.\r\n";

  @Test
  void rfc6376Section345Examples() {
    assertThat(DkimSigner.relaxedHeader("A: X")).isEqualTo("a:X");
    assertThat(DkimSigner.relaxedHeader("B : Y\t\r\n\tZ  ")).isEqualTo("b:Y Z");
    byte[] body = " C \r\nD \t E\r\n\r\n\r\n".getBytes(StandardCharsets.US_ASCII);
    assertThat(new String(DkimSigner.relaxedBody(body), StandardCharsets.US_ASCII))
        .isEqualTo(" C\r\nD E\r\n");
  }

  @Test
  void anEmptyBodyStaysEmptyAndALastLineGetsItsCrlf() {
    assertThat(DkimSigner.relaxedBody(new byte[0])).isEmpty();
    assertThat(DkimSigner.relaxedBody("\r\n\r\n".getBytes(StandardCharsets.US_ASCII))).isEmpty();
    assertThat(
            new String(
                DkimSigner.relaxedBody("x".getBytes(StandardCharsets.US_ASCII)),
                StandardCharsets.US_ASCII))
        .isEqualTo("x\r\n");
    // RFC 6376 §3.4.4: the SHA-256 of an empty relaxed body
    assertThat(DkimSigner.bodyHash(new byte[0]))
        .isEqualTo("47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  }

  @Test
  void rfc8463AppendixAEd25519SignatureIsReproduced() throws Exception {
    byte[] seed = Base64.getDecoder().decode(RFC8463_SECRET);
    PrivateKey key =
        KeyFactory.getInstance("Ed25519")
            .generatePrivate(new EdECPrivateKeySpec(NamedParameterSpec.ED25519, seed));
    // the vector's key pair: its public half is the one RFC 8463 publishes
    PublicKey pub = publicKeyOf(seed);
    byte[] spki = pub.getEncoded();
    assertThat(
            Base64.getEncoder()
                .encodeToString(Arrays.copyOfRange(spki, spki.length - 32, spki.length)))
        .isEqualTo(RFC8463_PUBLIC);

    String value =
        DkimSigner.signatureValue(
            RFC8463_MESSAGE.getBytes(StandardCharsets.US_ASCII),
            "v=1; a=ed25519-sha256; c=relaxed/relaxed;\r\n"
                + " d=football.example.com; i=@football.example.com;\r\n"
                + " q=dns/txt; s=brisbane; t=1528637909; h=from : to :\r\n"
                + " subject : date : message-id : from : subject : date;",
            List.of("from", "to", "subject", "date", "message-id", "from", "subject", "date"),
            "ed25519-sha256",
            key);
    assertThat(value).contains("bh=2jUSOH9NhtVGCQWNr9BrIAPreKQjO6Sn7XIkfJVOzv8=;");
    String b = value.substring(value.indexOf(" b=") + 3).replaceAll("\\s", "");
    assertThat(b)
        .isEqualTo(
            "/gCrinpcQOoIfuHNQIbq4pgh9kyIK3AQUdt9OdqQehSwhEIug4D11BusFa3bT3FY5OsU7ZbnKELq+eXdp1Q1Dw==");
    // and it verifies with the public key over what RFC 8463 §3 says is signed
    byte[] input =
        DkimSigner.headerHashInput(
            DkimSigner.split(RFC8463_MESSAGE.getBytes(StandardCharsets.US_ASCII)).fields(),
            List.of("from", "to", "subject", "date", "message-id", "from", "subject", "date"),
            value.substring(0, value.indexOf(" b=") + 3));
    Signature verify = Signature.getInstance("Ed25519");
    verify.initVerify(pub);
    verify.update(java.security.MessageDigest.getInstance("SHA-256").digest(input));
    assertThat(verify.verify(Base64.getDecoder().decode(b))).isTrue();
  }

  @Test
  void aFieldSignedTwiceTakesTheInstancesFromTheBottom() {
    List<String> fields = List.of("Subject: first", "X: y", "Subject: second");
    String in =
        new String(
            DkimSigner.headerHashInput(fields, List.of("subject", "subject", "subject"), "v=1; b="),
            StandardCharsets.UTF_8);
    assertThat(in).isEqualTo("subject:second\r\nsubject:first\r\ndkim-signature:v=1; b=");
  }

  /** Ed25519's public key from its seed: the generator takes the seed as its 32 random octets. */
  private static PublicKey publicKeyOf(byte[] seed) throws Exception {
    KeyPairGenerator g = KeyPairGenerator.getInstance("Ed25519");
    g.initialize(
        NamedParameterSpec.ED25519,
        new SecureRandom() {
          @Override
          public void nextBytes(byte[] bytes) {
            System.arraycopy(seed, 0, bytes, 0, bytes.length);
          }
        });
    return g.generateKeyPair().getPublic();
  }
}
