package io.mailtls.core.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DnsRecord;
import io.mailtls.core.DomainName;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.NextHop;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.internal.tls.TlsVerification;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.junit.jupiter.api.Test;

/**
 * The keys hashed and compared on every message (next hop, recipient, pool key and its TLS
 * verification, TLSA record) write out their equals and hashCode: each must still be value equality
 * over every component, with equal hashes for equal values.
 */
class HotKeyEqualityTest {

  private static final byte[] DIGEST = new byte[32];

  private static DnsRecord.Tlsa tlsa(int usage, int selector, int matching, int firstByte) {
    byte[] data = DIGEST.clone();
    data[0] = (byte) firstByte;
    return new DnsRecord.Tlsa(usage, selector, matching, data);
  }

  private static TlsRequirement.Dane dane(
      DnsRecord.Tlsa record, String base, String reference, boolean mxSecure) {
    return new TlsRequirement.Dane(
        List.of(record), DomainName.of(base), List.of(DomainName.of(reference)), mxSecure);
  }

  /**
   * Values made twice from fresh objects are equal, with equal hashes, and differ from each of
   * {@code others}.
   */
  @SafeVarargs
  private static <T> void valueEquality(Supplier<T> make, T... others) {
    T a = make.get();
    T b = make.get();
    assertThat(a).isNotSameAs(b).isEqualTo(b);
    assertThat(a.hashCode()).isEqualTo(b.hashCode());
    assertThat(a).isNotEqualTo(null).isNotEqualTo(new Object());
    for (T other : others) {
      assertThat(a).isNotEqualTo(other);
      assertThat(other).isNotEqualTo(a);
    }
  }

  @Test
  void nextHopsAndRecipients() {
    valueEquality(
        () -> new NextHop.Domain(DomainName.of("example.test")),
        new NextHop.Domain(DomainName.of("other.test")));
    // The domain is compared as its A-label, whatever case it was given in.
    assertThat(NextHop.parse("Example.TEST")).isEqualTo(NextHop.parse("example.test"));
    assertThat(NextHop.parse("Example.TEST").hashCode())
        .isEqualTo(NextHop.parse("example.test").hashCode());
    valueEquality(
        () -> EmailAddress.parse("a@example.test"),
        EmailAddress.parse("b@example.test"),
        EmailAddress.parse("A@example.test"), // the local part is case-sensitive (RFC 5321 §2.4)
        EmailAddress.parse("a@other.test"),
        EmailAddress.parse("a@[127.0.0.1]"));
  }

  @Test
  void tlsaRecords() {
    valueEquality(
        () -> tlsa(3, 1, 1, 0),
        tlsa(2, 1, 1, 0),
        tlsa(3, 0, 1, 0),
        tlsa(3, 1, 2, 0),
        tlsa(3, 1, 1, 1));
  }

  @Test
  void verificationsAndPoolKeys() throws Exception {
    valueEquality(
        () -> TlsVerification.of(dane(tlsa(2, 1, 1, 0), "mx.example.test", "example.test", true)),
        TlsVerification.of(dane(tlsa(2, 1, 1, 1), "mx.example.test", "example.test", true)),
        TlsVerification.of(dane(tlsa(2, 1, 1, 0), "mx2.example.test", "example.test", true)),
        TlsVerification.of(dane(tlsa(2, 1, 1, 0), "mx.example.test", "other.test", true)),
        TlsVerification.of(dane(tlsa(2, 1, 1, 0), "mx.example.test", "example.test", false)));
    valueEquality(
        () -> TlsVerification.of(new TlsRequirement.Pkix(List.of(DomainName.of("mx.test")))),
        TlsVerification.of(new TlsRequirement.Pkix(List.of(DomainName.of("mx2.test")))),
        TlsVerification.UNAUTHENTICATED);

    InetAddress loopback = InetAddress.getByAddress(new byte[] {127, 0, 0, 1});
    TlsRequirement daneEe = dane(tlsa(3, 1, 1, 0), "mx.example.test", "example.test", true);
    Optional<DomainName> mx = Optional.of(DomainName.of("mx.example.test"));
    valueEquality(
        () -> ConnectionPool.Key.of(new InetSocketAddress(loopback, 25), mx, daneEe),
        ConnectionPool.Key.of(new InetSocketAddress(loopback, 26), mx, daneEe),
        ConnectionPool.Key.of(
            new InetSocketAddress(loopback, 25), Optional.of(DomainName.of("mx2.test")), daneEe),
        ConnectionPool.Key.of(new InetSocketAddress(loopback, 25), Optional.empty(), daneEe),
        ConnectionPool.Key.of(
            new InetSocketAddress(loopback, 25),
            mx,
            dane(tlsa(3, 1, 1, 1), "mx.example.test", "example.test", true)),
        new ConnectionPool.Key(
            new InetSocketAddress(loopback, 25), mx, false, TlsVerification.of(daneEe)));
    // DANE-EE checks no name, so the recipient domain among the reference names does not split
    // one MX host's sessions (TlsVerification.Dane).
    assertThat(
            ConnectionPool.Key.of(
                new InetSocketAddress(loopback, 25),
                mx,
                dane(tlsa(3, 1, 1, 0), "mx.example.test", "other.test", true)))
        .isEqualTo(ConnectionPool.Key.of(new InetSocketAddress(loopback, 25), mx, daneEe));
  }
}
