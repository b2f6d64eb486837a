package io.mailtls.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Resolver;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;
import org.xbill.DNS.dnssec.ValidatingResolver;

/**
 * dnsjava's {@link ValidatingResolver}, pointed at a {@link TestDnsServer} as a stub with the
 * server's trust anchor, validates what the server serves (RFC 4035 §5) and rejects what it breaks
 * on purpose.
 */
class TestDnsServerDnssecTest {
  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2031-05-06T07:08:09Z"), ZoneOffset.UTC);
  private static final byte[] SPKI_SHA256 =
      HexFormat.of().parseHex("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");

  private static TestDnsServer dns;

  @BeforeAll
  static void startServer() {
    dns =
        TestDnsServer.builder()
            .clock(CLOCK)
            .zone(
                "example.test",
                z ->
                    z.mx("example.test", 10, "mx1.example.test")
                        .a("mx1.example.test", "127.0.0.2")
                        .aaaa("mx1.example.test", "::1")
                        .txt("_mta-sts.example.test", "v=STSv1; id=1")
                        .tlsa("_25._tcp.mx1.example.test", 3, 1, 1, SPKI_SHA256)
                        .cname("alias.example.test", "mx1.example.test")
                        .cname("away.example.test", "mx.other.test")
                        .cname("insecure.example.test", "mx.plain.test")
                        .cname("dangling.example.test", "gone.other.test"))
            .zone("sub.example.test", z -> z.a("www.sub.example.test", "127.0.0.4"))
            .zone("other.test", z -> z.a("mx.other.test", "127.0.0.3"))
            .zone(
                "plain.test",
                z ->
                    z.unsigned()
                        .mx("plain.test", 10, "mx.plain.test")
                        .a("mx.plain.test", "127.0.0.5"))
            .zone("signed.plain.test", z -> z.a("signed.plain.test", "127.0.0.6"))
            .zone("bad-ds.test", z -> z.wrongDs().mx("bad-ds.test", 10, "mx.bad-ds.test"))
            .zone("expired.test", z -> z.expiredSignatures().a("www.expired.test", "127.0.0.7"))
            .zone("xn--bcher-kva.test", z -> z.mx("xn--bcher-kva.test", 5, "mx.example.test"))
            .zone(
                "wild.test",
                z -> z.mx("*.wild.test", 10, "mx1.example.test").a("host.wild.test", "127.0.0.8"))
            .zone("example.org", z -> z.a("www.example.org", "127.0.0.9"))
            .start();
  }

  @AfterAll
  static void stopServer() {
    dns.close();
  }

  @AfterEach
  void clearFaults() {
    dns.clearFaults();
  }

  @Test
  void signedMxValidates() throws IOException {
    Message response = query(validator(), "example.test", Type.MX);

    assertSecure(response, Rcode.NOERROR);
    assertThat(records(response, Section.ANSWER, Type.MX))
        .singleElement()
        .satisfies(r -> assertThat(((MXRecord) r).getTarget()).hasToString("mx1.example.test."));
  }

  @Test
  void validatorWalksTheChainFromTheRoot() throws IOException {
    dns.clearQueryLog();

    assertSecure(query(validator(), "example.test", Type.MX), Rcode.NOERROR);

    // RFC 4035 §5: root DNSKEY (trust anchor DS), then DS/DNSKEY at test. and example.test.
    assertThat(dns.queryCount(".", Type.DNSKEY)).isEqualTo(1);
    assertThat(dns.queryCount("test", Type.DS)).isEqualTo(1);
    assertThat(dns.queryCount("test", Type.DNSKEY)).isEqualTo(1);
    assertThat(dns.queryCount("example.test", Type.DS)).isEqualTo(1);
    assertThat(dns.queryCount("example.test", Type.DNSKEY)).isEqualTo(1);
    assertThat(dns.queries()).allMatch(DnsQuery::dnssecOk);
  }

  @Test
  void nxdomainValidates() throws IOException {
    Message response = query(validator(), "nope.example.test", Type.A);

    assertSecure(response, Rcode.NXDOMAIN);
  }

  @Test
  void nodataValidates() throws IOException {
    Message response = query(validator(), "mx1.example.test", Type.TXT);

    assertSecure(response, Rcode.NOERROR);
    assertThat(response.getSection(Section.ANSWER)).isEmpty();
  }

  @Test
  void emptyNonTerminalIsProvenNodata() throws IOException {
    // _tcp.mx1.example.test exists only because _25._tcp.mx1.example.test does.
    Message response = query(validator(), "_tcp.mx1.example.test", Type.TLSA);

    assertSecure(response, Rcode.NOERROR);
    assertThat(response.getSection(Section.ANSWER)).isEmpty();
  }

  @Test
  void tlsaAndTxtValidate() throws IOException {
    ValidatingResolver validator = validator();

    Message tlsa = query(validator, "_25._tcp.mx1.example.test", Type.TLSA);
    Message txt = query(validator, "_mta-sts.example.test", Type.TXT);

    assertSecure(tlsa, Rcode.NOERROR);
    assertThat(records(tlsa, Section.ANSWER, Type.TLSA)).hasSize(1);
    assertSecure(txt, Rcode.NOERROR);
    assertThat(records(txt, Section.ANSWER, Type.TXT))
        .singleElement()
        .satisfies(r -> assertThat(((TXTRecord) r).getStrings()).containsExactly("v=STSv1; id=1"));
  }

  @Test
  void deeperDelegatedZoneValidates() throws IOException {
    dns.clearQueryLog();

    Message response = query(validator(), "www.sub.example.test", Type.A);

    assertSecure(response, Rcode.NOERROR);
    assertThat(dns.queryCount("sub.example.test", Type.DS)).isEqualTo(1);
    assertThat(dns.queryCount("sub.example.test", Type.DNSKEY)).isEqualTo(1);
  }

  @Test
  void zoneOutsideTestTldValidatesThroughTheRoot() throws IOException {
    // org. is an empty non-terminal of the root zone: the validator proves no DS there.
    assertSecure(query(validator(), "www.example.org", Type.A), Rcode.NOERROR);
  }

  @Test
  void idnZoneGivenAsALabelValidates() throws IOException {
    assertSecure(query(validator(), "xn--bcher-kva.test", Type.MX), Rcode.NOERROR);
  }

  @Test
  void unsignedZoneIsInsecureNeverServfail() throws IOException {
    ValidatingResolver validator = validator();

    Message mx = query(validator, "plain.test", Type.MX);
    Message missing = query(validator, "nope.plain.test", Type.A);
    Message nodata = query(validator, "mx.plain.test", Type.TLSA);

    assertInsecure(mx, Rcode.NOERROR);
    assertThat(records(mx, Section.ANSWER, Type.MX)).hasSize(1);
    assertInsecure(missing, Rcode.NXDOMAIN);
    assertInsecure(nodata, Rcode.NOERROR);
  }

  @Test
  void signedZoneBelowAnUnsignedOneIsInsecure() throws IOException {
    assertInsecure(query(validator(), "signed.plain.test", Type.A), Rcode.NOERROR);
  }

  @Test
  void wrongDsIsBogus() throws IOException {
    assertBogus(query(validator(), "bad-ds.test", Type.MX));
  }

  @Test
  void expiredSignaturesAreBogus() throws IOException {
    assertBogus(query(validator(), "www.expired.test", Type.A));
  }

  @Test
  void corruptedSignatureIsBogusUntilCleared() throws IOException {
    dns.corruptSignatures("example.test", Type.MX);

    assertBogus(query(validator(), "example.test", Type.MX));
    // Other RRsets of the zone are untouched.
    assertSecure(query(validator(), "mx1.example.test", Type.A), Rcode.NOERROR);

    dns.clearFaults();
    assertSecure(query(validator(), "example.test", Type.MX), Rcode.NOERROR);
  }

  @Test
  void corruptedNsecMakesDenialBogus() throws IOException {
    dns.corruptSignatures("mx1.example.test", Type.NSEC);

    assertBogus(query(validator(), "mx1.example.test", Type.TXT));
  }

  @Test
  void corruptedDnskeyBreaksTheWholeZone() throws IOException {
    dns.corruptSignatures("example.test", Type.DNSKEY);

    assertBogus(query(validator(), "mx1.example.test", Type.A));
  }

  @Test
  void cnameWithinAZoneValidates() throws IOException {
    Message response = query(validator(), "alias.example.test", Type.A);

    assertSecure(response, Rcode.NOERROR);
    assertThat(records(response, Section.ANSWER, Type.CNAME)).hasSize(1);
    assertThat(records(response, Section.ANSWER, Type.A)).hasSize(1);
  }

  @Test
  void cnameChainAcrossTwoHeldZonesValidates() throws IOException {
    Message response = query(validator(), "away.example.test", Type.A);

    assertSecure(response, Rcode.NOERROR);
    assertThat(records(response, Section.ANSWER, Type.CNAME))
        .singleElement()
        .satisfies(r -> assertThat(((CNAMERecord) r).getTarget()).hasToString("mx.other.test."));
    assertThat(records(response, Section.ANSWER, Type.A)).hasSize(1);
  }

  @Test
  void cnameToMissingNameInAnotherZoneIsSecureNxdomain() throws IOException {
    // RFC 6604 §3: the rcode is that of the last name in the chain.
    Message response = query(validator(), "dangling.example.test", Type.A);

    assertSecure(response, Rcode.NXDOMAIN);
    assertThat(records(response, Section.ANSWER, Type.CNAME)).hasSize(1);
  }

  @Test
  void cnameIntoUnsignedZoneIsNotAuthenticated() throws IOException {
    Message response = query(validator(), "insecure.example.test", Type.A);

    assertInsecure(response, Rcode.NOERROR);
    assertThat(records(response, Section.ANSWER, Type.A)).hasSize(1);
  }

  @Test
  void wildcardAnswerValidatesWithItsNoQnameProof() throws IOException {
    Message response = query(validator(), "anything.wild.test", Type.MX);

    assertSecure(response, Rcode.NOERROR);
    assertThat(records(response, Section.ANSWER, Type.MX))
        .singleElement()
        .satisfies(r -> assertThat(r.getName()).hasToString("anything.wild.test."));
  }

  @Test
  void wildcardNodataValidates() throws IOException {
    Message response = query(validator(), "anything.wild.test", Type.TXT);

    assertSecure(response, Rcode.NOERROR);
    assertThat(response.getSection(Section.ANSWER)).isEmpty();
  }

  @Test
  void existingNameIsNotCoveredByTheWildcard() throws IOException {
    Message response = query(validator(), "host.wild.test", Type.MX);

    assertSecure(response, Rcode.NOERROR);
    assertThat(response.getSection(Section.ANSWER)).isEmpty();
  }

  @Test
  void updateIsResignedAndValidates() throws IOException {
    TestDnsServer server =
        TestDnsServer.builder()
            .clock(CLOCK)
            .zone("example.test", z -> z.txt("_mta-sts.example.test", "v=STSv1; id=1"))
            .start();
    try (server) {
      server.update(
          "example.test",
          z ->
              z.remove("_mta-sts.example.test", Type.TXT)
                  .txt("_mta-sts.example.test", "v=STSv1; id=2"));
      server.update("example.test", z -> z.a("new.example.test", "127.0.0.10"));

      Message txt = query(validator(server), "_mta-sts.example.test", Type.TXT);
      Message added = query(validator(server), "new.example.test", Type.A);

      assertSecure(txt, Rcode.NOERROR);
      assertThat(records(txt, Section.ANSWER, Type.TXT))
          .singleElement()
          .satisfies(
              r -> assertThat(((TXTRecord) r).getStrings()).containsExactly("v=STSv1; id=2"));
      assertSecure(added, Rcode.NOERROR);

      server.removeRecords("new.example.test", Type.A);
      assertSecure(query(validator(server), "new.example.test", Type.A), Rcode.NXDOMAIN);
    }
  }

  @Test
  void zoneTurnedBogusByUpdateAndBackAgain() throws IOException {
    TestDnsServer server =
        TestDnsServer.builder()
            .clock(CLOCK)
            .zone("example.test", z -> z.mx("example.test", 10, "mx1.example.test"))
            .start();
    try (server) {
      server.update("example.test", DnsZoneBuilder::wrongDs);
      assertBogus(query(validator(server), "example.test", Type.MX));

      server.update("example.test", z -> z.wrongDs(false).unsigned());
      assertInsecure(query(validator(server), "example.test", Type.MX), Rcode.NOERROR);

      server.update("example.test", z -> z.unsigned(false));
      assertSecure(query(validator(server), "example.test", Type.MX), Rcode.NOERROR);
    }
  }

  @Test
  void signaturesFollowTheClockAndResignRenewsThem() throws IOException {
    FakeClock clock = new FakeClock(Instant.parse("2031-01-01T00:00:00Z"));
    TestDnsServer server =
        TestDnsServer.builder()
            .clock(clock)
            .zone("example.test", z -> z.mx("example.test", 10, "mx1.example.test"))
            .start();
    try (server) {
      assertSecure(query(validator(server, clock), "example.test", Type.MX), Rcode.NOERROR);

      clock.advance(Duration.ofDays(31)); // past the 30-day validity
      assertBogus(query(validator(server, clock), "example.test", Type.MX));

      server.resign();
      assertSecure(query(validator(server, clock), "example.test", Type.MX), Rcode.NOERROR);
    }
  }

  // ------------------------------------------------------------------ helpers

  private static ValidatingResolver validator() throws IOException {
    return validator(dns, CLOCK);
  }

  private static ValidatingResolver validator(TestDnsServer server) throws IOException {
    return validator(server, CLOCK);
  }

  static ValidatingResolver validator(TestDnsServer server, Clock clock) throws IOException {
    SimpleResolver head = new SimpleResolver(server.socketAddress());
    head.setTimeout(Duration.ofSeconds(2));
    ValidatingResolver validator = new ValidatingResolver(head, clock);
    validator.loadTrustAnchors(server.trustAnchorStream());
    validator.setAddReasonToAdditional(true);
    return validator;
  }

  static Message query(Resolver resolver, String name, int type) throws IOException {
    Record question = Record.newRecord(Name.fromString(name, Name.root), type, DClass.IN);
    return resolver.send(Message.newQuery(question));
  }

  static List<Record> records(Message message, int section, int type) {
    return message.getSection(section).stream()
        .filter(r -> r.getType() == type)
        .collect(Collectors.toList());
  }

  private static void assertSecure(Message response, int rcode) {
    assertThat(response.getRcode()).as("rcode of\n%s", response).isEqualTo(rcode);
    assertThat(response.getHeader().getFlag(Flags.AD)).as("AD of\n%s", response).isTrue();
  }

  private static void assertInsecure(Message response, int rcode) {
    assertThat(response.getRcode()).as("rcode of\n%s", response).isEqualTo(rcode);
    assertThat(response.getHeader().getFlag(Flags.AD)).as("AD of\n%s", response).isFalse();
  }

  private static void assertBogus(Message response) {
    assertThat(response.getRcode()).as("rcode of\n%s", response).isEqualTo(Rcode.SERVFAIL);
    assertThat(response.getHeader().getFlag(Flags.AD)).isFalse();
    assertThat(response.getSection(Section.ADDITIONAL))
        .as("validation reason in\n%s", response)
        .anySatisfy(
            r -> {
              assertThat(r.getType()).isEqualTo(Type.TXT);
              assertThat(r.getDClass()).isEqualTo(ValidatingResolver.VALIDATION_REASON_QCLASS);
            });
  }
}
