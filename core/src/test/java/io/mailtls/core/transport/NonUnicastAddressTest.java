package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DomainName;
import io.mailtls.core.FailureType;
import io.mailtls.core.PlannedHost;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SkippedHost;
import io.mailtls.core.SmartHost;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import io.mailtls.testkit.MockSmtpServer;
import org.junit.jupiter.api.Test;

/**
 * Addresses that are never a mail server: the unspecified address (0.0.0.0 or ::, which a connect
 * on Linux sends to the local host), multicast and the IPv4 limited broadcast address. An MX host,
 * an implicit MX or a policy-map relay published with them is never connected to at them; the
 * decision record says why. A listener on 127.0.0.1, on the port the transport connects to, stands
 * for the local host's own mail server: it must see no session.
 */
class NonUnicastAddressTest {

  private static MockSmtpServer good;
  private static MockSmtpServer localHost;

  private static SecureSmtpTransport world(Fixture f) {
    good = f.server("127.0.0.2", b -> b.hostname("mixed.example.test"));
    localHost = f.server("127.0.0.1", b -> b.hostname("localhost.sender.test"));
    f.dns(
        d ->
            d.zone(
                    "example.test",
                    z ->
                        z.mx("example.test", 10, "zero.example.test")
                            .a("zero.example.test", "0.0.0.0")
                            .aaaa("zero.example.test", "::")
                            .mx("example.test", 20, "multi.example.test")
                            .a("multi.example.test", "224.0.0.1")
                            .a("multi.example.test", "255.255.255.255")
                            .aaaa("multi.example.test", "ff02::1")
                            .mx("example.test", 30, "mixed.example.test")
                            .a("mixed.example.test", "0.0.0.0")
                            .a("mixed.example.test", "127.0.0.2"))
                .zone(
                    "only.test",
                    z -> z.mx("only.test", 10, "zero.only.test").a("zero.only.test", "0.0.0.0"))
                .zone("implicit.test", z -> z.a("implicit.test", "0.0.0.0")));
    return f.transport(TlsLevel.OPPORTUNISTIC);
  }

  @Test
  void mailGoesOnlyToUnicastAddressesAndTheRecordSaysWhy() throws Exception {
    try (Fixture f = new Fixture()) {
      SecureSmtpTransport t = world(f);
      RecipientResult r = Fixture.send(t, "b@example.test").result("b@example.test");
      assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
      assertThat(r.mxHost()).contains(DomainName.of("mixed.example.test"));
      assertThat(r.attempts())
          .singleElement()
          .satisfies(
              a -> assertThat(a.address().getAddress()).isEqualTo(Fixture.inet("127.0.0.2")));
      assertThat(r.plan().hosts())
          .singleElement()
          .extracting(PlannedHost::addresses)
          .isEqualTo(java.util.List.of(Fixture.inet("127.0.0.2")));
      assertThat(r.plan().skipped())
          .extracting(SkippedHost::host, SkippedHost::failure)
          .containsExactly(
              org.assertj.core.groups.Tuple.tuple(
                  DomainName.of("zero.example.test"), FailureType.CONNECTION_FAILED),
              org.assertj.core.groups.Tuple.tuple(
                  DomainName.of("multi.example.test"), FailureType.CONNECTION_FAILED));
      assertThat(r.plan().skipped())
          .allSatisfy(s -> assertThat(s.reason()).contains("no unicast address"));
      for (String a : new String[] {"0.0.0.0", "224.0.0.1", "255.255.255.255"}) {
        assertThat(r.plan().reasons())
            .as(a)
            .anyMatch(l -> l.contains(a) && l.contains("not a unicast address"));
      }
      assertThat(good.messages()).hasSize(1);
      assertThat(localHost.sessions()).isEmpty();
    }
  }

  @Test
  void aDomainWhoseOnlyHostsAreUnspecifiedIsDeferredNeverConnectedTo() throws Exception {
    try (Fixture f = new Fixture()) {
      SecureSmtpTransport t = world(f);
      for (String rcpt : new String[] {"b@only.test", "b@implicit.test"}) {
        RecipientResult r = Fixture.send(t, rcpt).result(rcpt);
        assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
        assertThat(r.attempts()).as("%s", r).isEmpty();
        assertThat(r.plan().failure().orElseThrow().type())
            .isEqualTo(FailureType.CONNECTION_FAILED);
        assertThat(r.plan().reasons())
            .anyMatch(l -> l.contains("0.0.0.0") && l.contains("not a unicast address"));
      }
      assertThat(localHost.sessions()).isEmpty();
      assertThat(good.sessions()).isEmpty();
    }
  }

  /**
   * A recipient's address literal ({@code b@[0.0.0.0]}) comes from the envelope, which may come
   * from untrusted input (a sign-up form): at every level it is bounced (no retry changes the
   * address), never connected to.
   */
  @Test
  void anAddressLiteralThatIsNoUnicastAddressIsBouncedNeverConnectedTo() throws Exception {
    try (Fixture f = new Fixture()) {
      world(f);
      for (TlsLevel level : new TlsLevel[] {TlsLevel.OPPORTUNISTIC, TlsLevel.ENFORCED}) {
        SecureSmtpTransport t = f.transport(level);
        for (String rcpt :
            new String[] {"b@[0.0.0.0]", "b@[IPv6:::]", "b@[224.0.0.1]", "b@[255.255.255.255]"}) {
          RecipientResult r = Fixture.send(t, rcpt).result(rcpt);
          assertThat(r.status()).as("%s %s", level, r).isEqualTo(DeliveryStatus.BOUNCED);
          assertThat(r.attempts()).as("%s", r).isEmpty();
          assertThat(r.reply().toString()).as("%s", r).contains("5.1.2");
          assertThat(r.plan().reasons()).anyMatch(l -> l.contains("not a unicast address"));
        }
      }
      assertThat(localHost.sessions()).isEmpty();
      assertThat(good.sessions()).isEmpty();
    }
  }

  /** A transport-wide relay published at 0.0.0.0 as well as at its real address. */
  @Test
  void aRelayIsReachedOnlyAtItsUnicastAddresses() throws Exception {
    try (Fixture f = new Fixture()) {
      world(f);
      for (String relayHost : new String[] {"mixed.example.test", "zero.only.test"}) {
        SecureSmtpTransport t =
            f.transport(
                TlsLevel.OPPORTUNISTIC,
                b ->
                    b.relay(
                        SmartHost.builder(relayHost)
                            .port(f.port())
                            .requirement(new TlsRequirement.Opportunistic())
                            .build()));
        RecipientResult r = Fixture.send(t, "b@elsewhere.invalid").result("b@elsewhere.invalid");
        assertThat(r.plan().reasons())
            .as("%s", r)
            .anyMatch(l -> l.contains("0.0.0.0") && l.contains("not a unicast address"));
        if (relayHost.startsWith("mixed")) {
          assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DELIVERED);
          assertThat(r.attempts())
              .singleElement()
              .satisfies(
                  a -> assertThat(a.address().getAddress()).isEqualTo(Fixture.inet("127.0.0.2")));
        } else {
          assertThat(r.status()).as("%s", r).isEqualTo(DeliveryStatus.DEFERRED);
          assertThat(r.attempts()).as("%s", r).isEmpty();
        }
      }
      assertThat(localHost.sessions()).isEmpty();
      assertThat(good.messages()).hasSize(1);
    }
  }
}
