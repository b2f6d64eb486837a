package io.mailtls.tlsrpt;

import io.mailtls.core.DnsRecord;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.testkit.DnsZoneBuilder;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import org.apache.james.jdkim.api.PublicKeyRecordRetriever;
import org.apache.james.jdkim.exceptions.PermFailException;
import org.apache.james.jdkim.exceptions.TempFailException;

/**
 * A report sender's DKIM key for the tests' worlds: a fresh RSA key pair, its public key record
 * published in a test zone at {@code selector._domainkey.domain}, and the record looked up again by
 * a verifier through the project's validating resolver.
 */
final class TestDkimKey {

  final DomainName domain;
  final String selector;
  final KeyPair keys;

  private TestDkimKey(DomainName domain, String selector, KeyPair keys) {
    this.domain = domain;
    this.selector = selector;
    this.keys = keys;
  }

  /** A new 2048-bit RSA key for {@code domain} and {@code selector}. */
  static TestDkimKey generate(DomainName domain, String selector) {
    try {
      KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
      g.initialize(2048);
      return new TestDkimKey(domain, selector, g.generateKeyPair());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The key as the report sender signs with it. */
  DkimKey signingKey() {
    return DkimKey.of(domain, selector, keys.getPrivate());
  }

  /**
   * Publishes the key record (RFC 6376 §3.6.1: {@code v=DKIM1; k=rsa; s=email:tlsrpt; p=<base64
   * SubjectPublicKeyInfo>}, split in strings of at most 255 octets) in {@code zone}: the service
   * types RFC 8460 §3 asks for ({@code tlsrpt}) and a plain DKIM verifier needs ({@code email}), as
   * docs/tls-rpt.md tells operators to publish it.
   */
  void publish(DnsZoneBuilder zone) {
    String record =
        "v=DKIM1; k=rsa; s=email:tlsrpt; p="
            + Base64.getEncoder().encodeToString(keys.getPublic().getEncoded());
    List<String> strings = new ArrayList<>();
    for (int i = 0; i < record.length(); i += 250) {
      strings.add(record.substring(i, Math.min(record.length(), i + 250)));
    }
    zone.txt(selector + "._domainkey." + domain, strings.toArray(String[]::new));
  }

  /**
   * The DKIM key records as a verifier gets them: a real TXT lookup of {@code
   * selector._domainkey.domain} at the test DNS server, through {@code resolver}.
   */
  static PublicKeyRecordRetriever fromDns(DnssecResolver resolver) {
    return (method, selector, token) -> {
      if (!method.toString().equalsIgnoreCase("dns/txt")) {
        throw new PermFailException("only dns/txt: " + method);
      }
      DomainName name = DomainName.of(selector + "._domainkey." + token);
      try {
        List<String> out = new ArrayList<>();
        resolver
            .resolveAsync(name, DnsRecordType.TXT)
            .get()
            .records(DnsRecord.Txt.class)
            .forEach(t -> out.add(t.text()));
        return out;
      } catch (Exception e) {
        throw new TempFailException("TXT lookup of " + name + " failed: " + e);
      }
    };
  }
}
