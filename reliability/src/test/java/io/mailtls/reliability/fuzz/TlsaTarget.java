package io.mailtls.reliability.fuzz;

import io.mailtls.core.DnsRecord;
import io.mailtls.core.DomainName;
import io.mailtls.core.TlsRequirement;
import io.mailtls.dane.DaneTrustManager;
import io.mailtls.dane.TlsaUsability;
import io.mailtls.dane.internal.TlsaData;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.X509EncodedKeySpec;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;
import org.xbill.DNS.TLSARecord;
import org.xbill.DNS.Type;

/**
 * TLSA record data (RFC 6698 §2.1, RFC 7671): a TLSA RRset in wire form, each record's RDATA
 * preceded by a two-octet length, parsed by dnsjava and converted as the DNS layer does, filtered
 * by {@link TlsaUsability} as the DANE resolver does (RFC 7672 §3.1.3), then used by {@link
 * DaneTrustManager} to check a fixed chain for {@code mx.example.com} (leaf, intermediate, root in
 * {@code fuzz/Tlsa/chain.pem}), which parses DANE-TA full certificates from the data.
 *
 * <p>Documented: {@link CertificateException} from the trust manager. Checked: a record is used
 * only when usable; an accepted chain names the record that matched, and that record is usable and
 * really matches one of the certificates.
 */
public final class TlsaTarget extends FuzzTarget {

  private static final List<X509Certificate> CHAIN = chain();
  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2030-01-01T00:00:00Z"), ZoneOffset.UTC);
  private static final Name OWNER = name("_25._tcp.mx.example.com.");
  private static final DomainName MX = DomainName.of("mx.example.com");

  @Override
  protected void exercise(byte[] input) throws Exception {
    List<DnsRecord.Tlsa> usable = new ArrayList<>();
    int pos = 0;
    while (pos + 2 <= input.length && usable.size() < 8) {
      int length = ((input[pos] & 0xff) << 8) | (input[pos + 1] & 0xff);
      pos += 2;
      length = Math.min(length, input.length - pos);
      byte[] rdata = new byte[length];
      System.arraycopy(input, pos, rdata, 0, length);
      pos += length;
      DnsRecord.Tlsa record = convert(rdata);
      if (record != null) {
        TlsaData.describe(record);
        if (TlsaUsability.isUsable(record)) {
          usable.add(record);
        } else if (TlsaUsability.whyUnusable(record).isEmpty()) {
          throw new AssertionError("unusable without a reason: " + TlsaData.describe(record));
        }
      }
    }
    if (usable.isEmpty()) {
      return; // RFC 7672 §2.2: no usable record, no DANE; nothing for the trust manager
    }
    DaneTrustManager trust =
        new DaneTrustManager(new TlsRequirement.Dane(usable, MX, List.of(MX), true), CLOCK);
    try {
      trust.checkServerTrusted(CHAIN.toArray(X509Certificate[]::new), "ECDHE_ECDSA");
    } catch (CertificateException rejected) {
      Objects.requireNonNull(rejected.getMessage(), "a rejection says why");
      return; // documented
    }
    DnsRecord.Tlsa matched =
        trust.matchedRecord().orElseThrow(() -> new AssertionError("accepted, no record named"));
    if (!usable.contains(matched)) {
      throw new AssertionError("accepted by a record not in the RRset: " + matched);
    }
    if (!vouchesForChain(matched)) {
      throw new AssertionError(
          "accepted by a record that vouches for no certificate of the chain: "
              + TlsaData.describe(matched));
    }
  }

  /**
   * Whether the record matches a certificate of the chain, or, a DANE-TA record carrying the trust
   * anchor itself (matching type Full, RFC 7671 §5.2.2: the anchor need not be in the chain), holds
   * the key that signed one of them. The anchor's own signature and validity do not matter then:
   * DNSSEC vouches for the key.
   */
  private static boolean vouchesForChain(DnsRecord.Tlsa record) {
    for (X509Certificate c : CHAIN) {
      if (TlsaData.matches(record, c)) {
        return true;
      }
    }
    if (record.usage() != DnsRecord.Tlsa.DANE_TA || record.matchingType() != DnsRecord.Tlsa.FULL) {
      return false;
    }
    PublicKey key = anchorKey(record);
    if (key == null) {
      return false;
    }
    for (X509Certificate c : CHAIN) {
      try {
        c.verify(key);
        return true;
      } catch (GeneralSecurityException notThisOne) {
        // signed by another key
      }
    }
    return false;
  }

  /** The key of a DANE-TA Full record: of the certificate (Cert) or the SPKI itself. */
  private static @Nullable PublicKey anchorKey(DnsRecord.Tlsa record) {
    try {
      if (record.selector() == DnsRecord.Tlsa.CERT) {
        return CertificateFactory.getInstance("X.509")
            .generateCertificate(new ByteArrayInputStream(record.data()))
            .getPublicKey();
      }
      for (String algorithm : List.of("EC", "RSA", "Ed25519")) {
        try {
          return KeyFactory.getInstance(algorithm)
              .generatePublic(new X509EncodedKeySpec(record.data()));
        } catch (GeneralSecurityException otherAlgorithm) {
          // try the next
        }
      }
      return null;
    } catch (CertificateException | RuntimeException unparsable) {
      return null;
    }
  }

  /** The RDATA as dnsjava parses it and the DNS layer converts it; null when refused. */
  private static DnsRecord.Tlsa convert(byte[] rdata) {
    Record parsed;
    try {
      parsed = Record.newRecord(OWNER, Type.TLSA, DClass.IN, 300, rdata);
    } catch (RuntimeException refused) {
      return null; // dnsjava refuses the RDATA: the whole message would fail to parse
    }
    if (!(parsed instanceof TLSARecord t)) {
      return null;
    }
    try {
      return new DnsRecord.Tlsa(
          t.getCertificateUsage(),
          t.getSelector(),
          t.getMatchingType(),
          t.getCertificateAssociationData());
    } catch (IllegalArgumentException invalid) {
      return null; // the DNS layer drops such a record as malformed
    }
  }

  private static Name name(String text) {
    try {
      return Name.fromString(text);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<X509Certificate> chain() {
    try (InputStream in = TlsaTarget.class.getResourceAsStream("/fuzz/Tlsa/chain.pem")) {
      List<X509Certificate> certs = new ArrayList<>();
      for (var c : CertificateFactory.getInstance("X.509").generateCertificates(in)) {
        certs.add((X509Certificate) c);
      }
      return List.copyOf(certs);
    } catch (IOException | CertificateException e) {
      throw new IllegalStateException("fuzz/Tlsa/chain.pem", e);
    }
  }
}
