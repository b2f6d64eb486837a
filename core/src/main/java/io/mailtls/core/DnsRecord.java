package io.mailtls.core;

import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One resource record's data, as mailtls uses it. Immutable.
 *
 * <p>The owner name and DNSSEC state belong to the {@link DnsAnswer} that carries the record.
 */
public sealed interface DnsRecord
    permits DnsRecord.Address, DnsRecord.Mx, DnsRecord.Txt, DnsRecord.Tlsa, DnsRecord.Cname {

  /** The record's type. */
  DnsRecordType type();

  /** An A or AAAA record. */
  record Address(InetAddress address) implements DnsRecord {
    public Address {
      Objects.requireNonNull(address, "address");
    }

    @Override
    public DnsRecordType type() {
      return address.getAddress().length == 4 ? DnsRecordType.A : DnsRecordType.AAAA;
    }
  }

  /**
   * An MX record (RFC 1035 §3.3.9). An exchange of {@link DomainName#ROOT} is a null MX (RFC 7505).
   */
  record Mx(int preference, DomainName exchange) implements DnsRecord {
    public Mx {
      if (preference < 0 || preference > 0xFFFF) {
        throw new IllegalArgumentException("MX preference out of range: " + preference);
      }
      Objects.requireNonNull(exchange, "exchange");
    }

    /** Whether this is the null MX {@code 0 .} (RFC 7505 §3). */
    public boolean isNull() {
      return exchange.isRoot();
    }

    @Override
    public DnsRecordType type() {
      return DnsRecordType.MX;
    }
  }

  /**
   * A TXT record: its character-strings, each decoded as ISO-8859-1 so that every octet maps to one
   * char and non-ASCII octets stay visible to strict parsers (RFC 1035 §3.3.14).
   */
  record Txt(List<String> strings) implements DnsRecord {
    public Txt {
      strings = List.copyOf(strings);
    }

    /** The character-strings concatenated, as RFC 8461 §3.1 and RFC 8460 §3 read them. */
    public String text() {
      return String.join("", strings);
    }

    /** Whether every octet is US-ASCII (below 0x80). */
    public boolean isAscii() {
      return StandardCharsets.US_ASCII.newEncoder().canEncode(text());
    }

    @Override
    public DnsRecordType type() {
      return DnsRecordType.TXT;
    }
  }

  /**
   * A TLSA record (RFC 6698 §2.1): certificate usage, selector, matching type, association data.
   *
   * <p>The fields are the record's octets as published, so that a record with a value no RFC
   * defines is kept (and reported as unusable) rather than lost; the constants below name the
   * defined values (RFC 7218 acronyms). They are mailtls's one set of TLSA field constants.
   */
  // The array is copied in and out, and equals, hashCode and toString use its content.
  @SuppressWarnings("ArrayRecordComponent")
  record Tlsa(int usage, int selector, int matchingType, byte[] data) implements DnsRecord {

    /** Certificate usage PKIX-TA(0) (RFC 6698 §2.1.1); not usable for SMTP (RFC 7672 §3.1.3). */
    public static final int PKIX_TA = 0;

    /** Certificate usage PKIX-EE(1) (RFC 6698 §2.1.1); not usable for SMTP (RFC 7672 §3.1.3). */
    public static final int PKIX_EE = 1;

    /** Certificate usage DANE-TA(2): a trust anchor of the chain (RFC 6698 §2.1.1). */
    public static final int DANE_TA = 2;

    /** Certificate usage DANE-EE(3): the server's own certificate (RFC 6698 §2.1.1). */
    public static final int DANE_EE = 3;

    /** Selector Cert(0): the whole DER certificate (RFC 6698 §2.1.2). */
    public static final int CERT = 0;

    /** Selector SPKI(1): the DER SubjectPublicKeyInfo (RFC 6698 §2.1.2). */
    public static final int SPKI = 1;

    /** Matching type Full(0): the selected content itself (RFC 6698 §2.1.3). */
    public static final int FULL = 0;

    /** Matching type SHA2-256(1): the SHA-256 digest of the selected content (RFC 6698 §2.1.3). */
    public static final int SHA2_256 = 1;

    /** Matching type SHA2-512(2): the SHA-512 digest of the selected content (RFC 6698 §2.1.3). */
    public static final int SHA2_512 = 2;

    public Tlsa {
      checkOctet("usage", usage);
      checkOctet("selector", selector);
      checkOctet("matching type", matchingType);
      data = data.clone();
    }

    private static void checkOctet(String what, int v) {
      if (v < 0 || v > 255) {
        throw new IllegalArgumentException("TLSA " + what + " out of range: " + v);
      }
    }

    /** A copy of the certificate association data. */
    @Override
    public byte[] data() {
      return data.clone();
    }

    @Override
    public DnsRecordType type() {
      return DnsRecordType.TLSA;
    }

    @Override
    public boolean equals(@Nullable Object o) {
      return o instanceof Tlsa t
          && t.usage == usage
          && t.selector == selector
          && t.matchingType == matchingType
          && Arrays.equals(t.data, data);
    }

    @Override
    public int hashCode() {
      return ((usage * 31 + selector) * 31 + matchingType) * 31 + Arrays.hashCode(data);
    }

    /** Presentation form, e.g. {@code 3 1 1 ab12…}. */
    @Override
    public String toString() {
      return usage + " " + selector + " " + matchingType + " " + HexFormat.of().formatHex(data);
    }
  }

  /** A CNAME record. */
  record Cname(DomainName target) implements DnsRecord {
    public Cname {
      Objects.requireNonNull(target, "target");
    }

    @Override
    public DnsRecordType type() {
      return DnsRecordType.CNAME;
    }
  }
}
