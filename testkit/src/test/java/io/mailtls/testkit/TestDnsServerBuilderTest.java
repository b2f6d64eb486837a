package io.mailtls.testkit;

import static io.mailtls.testkit.TestDnsServerDnssecTest.query;
import static io.mailtls.testkit.TestDnsServerDnssecTest.records;
import static java.time.temporal.ChronoUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.DSRecord;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Master;
import org.xbill.DNS.Message;
import org.xbill.DNS.NSECRecord;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;

/** The configuration API of {@link TestDnsServer}: caller mistakes fail early and clearly. */
class TestDnsServerBuilderTest {

  @Test
  void settersMayBeCalledOnceAndBuildOnce() {
    TestDnsServer.Builder builder = TestDnsServer.builder().clock(Clock.systemUTC());

    assertThatThrownBy(() -> builder.clock(Clock.systemUTC()))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("clock()");
    builder.build().close();
    assertThatThrownBy(builder::build).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void onlyLoopbackAddresses() throws IOException {
    InetAddress documentation = InetAddress.getByAddress(new byte[] {(byte) 192, 0, 2, 1});

    assertThatThrownBy(() -> TestDnsServer.builder().address(documentation))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("192.0.2.1");
    assertThatThrownBy(() -> TestDnsServer.builder().port(70000))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void namesMustLieInTheZoneAndBeAscii() {
    assertThatThrownBy(
            () -> TestDnsServer.builder().zone("example.test", z -> z.a("other.test", "127.0.0.1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("other.test.")
        .hasMessageContaining("example.test.");
    assertThatThrownBy(() -> TestDnsServer.builder().zone("bücher.test", z -> {}))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("xn--");
    assertThatThrownBy(() -> TestDnsServer.builder().zone("example.test").zone("EXAMPLE.test."))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("already defined");
  }

  @Test
  void recordArgumentsAreChecked() {
    assertThatThrownBy(
            () -> TestDnsServer.builder().zone("example.test", z -> z.a("example.test", "::1")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("IPv4");
    assertThatThrownBy(
            () ->
                TestDnsServer.builder().zone("example.test", z -> z.a("example.test", "localhost")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("localhost");
    assertThatThrownBy(
            () ->
                TestDnsServer.builder()
                    .zone("example.test", z -> z.txt("example.test", "x".repeat(256))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("255");
    assertThatThrownBy(
            () ->
                TestDnsServer.builder()
                    .zone("example.test", z -> z.tlsa("x.example.test", 256, 1, 1, new byte[32])))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("usage");
  }

  @Test
  void generatedTypesCannotBeAdded() {
    Record nsec =
        new NSECRecord(
            Name.fromConstantString("example.test."),
            DClass.IN,
            300,
            Name.fromConstantString("a.example.test."),
            new int[] {Type.A});

    assertThatThrownBy(() -> TestDnsServer.builder().zone("example.test", z -> z.record(nsec)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("NSEC");
  }

  @Test
  void cnameMustStandAlone() {
    TestDnsServer.Builder builder =
        TestDnsServer.builder()
            .zone(
                "example.test",
                z ->
                    z.cname("www.example.test", "example.test").a("www.example.test", "127.0.0.1"));

    assertThatThrownBy(builder::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("RFC 2181");
  }

  @Test
  void recordsOfAHeldChildZoneBelongThere() {
    TestDnsServer.Builder builder =
        TestDnsServer.builder()
            .zone("example.test", z -> z.a("www.sub.example.test", "127.0.0.1"))
            .zone("sub.example.test");

    assertThatThrownBy(builder::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("www.sub.example.test.")
        .hasMessageContaining("lies in zone sub.example.test.");
  }

  @Test
  void lifecycleIsChecked() {
    TestDnsServer server = TestDnsServer.builder().build();

    assertThatThrownBy(server::socketAddress).isInstanceOf(IllegalStateException.class);
    server.start();
    assertThatThrownBy(server::start).isInstanceOf(IllegalStateException.class);
    server.close();
    server.close(); // idempotent
    assertThatThrownBy(server::start).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void trustAnchorIsTheRootDsInZoneFileSyntax() throws IOException {
    try (TestDnsServer server = TestDnsServer.builder().build()) {
      Record parsed;
      try (Master master = new Master(server.trustAnchorStream(), Name.root)) {
        parsed = master.nextRecord();
      }

      assertThat(parsed).isInstanceOf(DSRecord.class).isEqualTo(server.trustAnchorRecord());
      DSRecord ds = (DSRecord) parsed;
      assertThat(ds.getName()).isEqualTo(Name.root);
      assertThat(ds.getAlgorithm()).isEqualTo(13); // ECDSAP256SHA256
      assertThat(ds.getDigestID()).isEqualTo(2); // SHA-256
    }
  }

  @Test
  void updateOfUnknownZoneOrInvalidEditKeepsTheOldData() throws IOException {
    try (TestDnsServer server =
        TestDnsServer.builder()
            .zone("example.test", z -> z.txt("example.test", "v=1"))
            .zone("sub.example.test")
            .start()) {
      assertThatThrownBy(() -> server.update("nowhere.test", z -> {}))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("nowhere.test.");
      assertThatThrownBy(
              () ->
                  server.update(
                      "example.test",
                      z -> z.remove("example.test", Type.TXT).a("x.sub.example.test", "127.0.0.1")))
          .isInstanceOf(IllegalArgumentException.class);

      SimpleResolver resolver = new SimpleResolver(server.socketAddress());
      Message response = query(resolver, "example.test", Type.TXT);
      assertThat(records(response, Section.ANSWER, Type.TXT))
          .singleElement()
          .satisfies(r -> assertThat(((TXTRecord) r).getStrings()).isEqualTo(List.of("v=1")));
    }
  }

  @Test
  void severalTypesAtOneNameAndATtl() throws IOException {
    try (TestDnsServer server =
        TestDnsServer.builder()
            .zone(
                "example.test",
                z ->
                    z.ttl(Duration.ofSeconds(60))
                        .a("host.example.test", "127.0.0.2")
                        .aaaa("host.example.test", "::1")
                        .mx("host.example.test", 10, "host.example.test")
                        .nullMx("example.test"))
            .start()) {
      SimpleResolver resolver = new SimpleResolver(server.socketAddress());

      Message any = query(resolver, "host.example.test", Type.ANY);
      Message nullMx = query(resolver, "example.test", Type.MX);

      assertThat(any.getRcode()).isEqualTo(Rcode.NOERROR);
      assertThat(any.getSection(Section.ANSWER))
          .extracting(Record::getType)
          .contains(Type.A, Type.AAAA, Type.MX);
      assertThat(any.getSection(Section.ANSWER)).allMatch(r -> r.getTTL() == 60);
      assertThat(nullMx.getSection(Section.ANSWER))
          .singleElement()
          .satisfies(r -> assertThat(r.rdataToString()).isEqualTo("0 ."));
    }
  }

  @Test
  void generatedRecordsAndNegativeAnswersTakeTheGeneratedTtl() throws IOException {
    try (TestDnsServer server =
        TestDnsServer.builder()
            .generatedTtl(Duration.ofHours(1))
            .zone(
                "example.test", z -> z.ttl(Duration.ofHours(1)).a("host.example.test", "127.0.0.2"))
            .start()) {
      SimpleResolver resolver = new SimpleResolver(server.socketAddress());
      resolver.setEDNS(0, 0, ExtendedFlags.DO);

      Message nodata = query(resolver, "host.example.test", Type.AAAA);
      Message dnskey = query(resolver, "example.test", Type.DNSKEY);
      Message ds = query(resolver, "example.test", Type.DS);

      assertThat(nodata.getRcode()).isEqualTo(Rcode.NOERROR);
      assertThat(nodata.getSection(Section.ANSWER)).isEmpty();
      assertNegativeTtl(nodata, 3600);
      assertThat(records(nodata, Section.AUTHORITY, Type.NSEC))
          .isNotEmpty()
          .allMatch(r -> r.getTTL() == 3600);
      assertThat(records(dnskey, Section.ANSWER, Type.DNSKEY))
          .isNotEmpty()
          .allMatch(r -> r.getTTL() == 3600);
      assertThat(records(ds, Section.ANSWER, Type.DS))
          .singleElement()
          .satisfies(r -> assertThat(r.getTTL()).isEqualTo(3600));
      assertThat(server.trustAnchorRecord().getTTL()).isEqualTo(3600);
      // Still a valid chain from the trust anchor: the signatures cover the new TTLs.
      Message validated =
          TestDnsServerDnssecTest.validator(server, Clock.systemUTC())
              .send(
                  Message.newQuery(
                      Record.newRecord(
                          Name.fromConstantString("host.example.test."), Type.AAAA, DClass.IN)));
      assertThat(validated.getRcode()).isEqualTo(Rcode.NOERROR);
      assertThat(validated.getHeader().getFlag(Flags.AD)).as("AD of%n%s", validated).isTrue();
    }
  }

  @Test
  void generatedTtlDefaultsTo300sAndIsChecked() throws IOException {
    try (TestDnsServer server = TestDnsServer.builder().zone("example.test").start()) {
      Message nodata = query(new SimpleResolver(server.socketAddress()), "example.test", Type.AAAA);

      assertNegativeTtl(nodata, 300);
    }
    assertThatThrownBy(() -> TestDnsServer.builder().generatedTtl(Duration.ofSeconds(-1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("RFC 2181");
    assertThatThrownBy(() -> TestDnsServer.builder().generatedTtl(Duration.ofSeconds(1L << 31)))
        .isInstanceOf(IllegalArgumentException.class);
  }

  /**
   * A zone may give its NSEC records a TTL below the SOA's, and the signatures of one type a
   * shorter validity; the chain still validates, and dnsjava's validator hands the NSEC RRsets on
   * with their signatures, as it does the SOA.
   */
  @Test
  void aZoneMayGiveItsNsecRecordsAnotherTtlAndATypeShorterSignatures() throws IOException {
    Instant now = Instant.now();
    Clock clock = Clock.fixed(now, ZoneOffset.UTC);
    try (TestDnsServer server =
        TestDnsServer.builder()
            .clock(clock)
            .zone(
                "example.test",
                z ->
                    z.nsecTtl(Duration.ofSeconds(40))
                        .signatureValidity(Type.NSEC, Duration.ofMinutes(2))
                        .a("host.example.test", "127.0.0.2"))
            .start()) {
      Message validated =
          query(TestDnsServerDnssecTest.validator(server, clock), "host.example.test", Type.AAAA);

      assertThat(validated.getRcode()).isEqualTo(Rcode.NOERROR);
      assertThat(validated.getHeader().getFlag(Flags.AD)).as("AD of%n%s", validated).isTrue();
      List<RRset> authority = validated.getSectionRRsets(Section.AUTHORITY);
      assertThat(authority)
          .filteredOn(set -> set.getType() == Type.NSEC)
          .singleElement()
          .satisfies(
              nsec -> {
                assertThat(nsec.getTTL()).isEqualTo(40);
                assertThat(nsec.sigs())
                    .singleElement()
                    .satisfies(
                        sig -> {
                          assertThat(sig.getOrigTTL()).isEqualTo(40);
                          assertThat(sig.getExpire())
                              .isEqualTo(now.plus(Duration.ofMinutes(2)).truncatedTo(SECONDS));
                        });
              });
      assertThat(authority)
          .filteredOn(set -> set.getType() == Type.SOA)
          .singleElement()
          .satisfies(
              soa -> {
                assertThat(soa.getTTL()).isEqualTo(300);
                assertThat(soa.sigs())
                    .singleElement()
                    .satisfies(
                        sig ->
                            assertThat(sig.getExpire())
                                .isEqualTo(now.plus(Duration.ofDays(30)).truncatedTo(SECONDS)));
              });
    }
    assertThatThrownBy(
            () ->
                TestDnsServer.builder()
                    .zone("example.test", z -> z.nsecTtl(Duration.ofSeconds(-1))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("RFC 2181");
    assertThatThrownBy(
            () ->
                TestDnsServer.builder()
                    .zone("example.test", z -> z.signatureValidity(Type.NSEC, Duration.ZERO)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("positive");
    assertThatThrownBy(
            () ->
                TestDnsServer.builder()
                    .zone(
                        "example.test",
                        z -> z.signatureValidity(Type.RRSIG, Duration.ofMinutes(2))))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("RRSIG");
  }

  /**
   * The SOA of a negative answer says {@code seconds} both as its TTL and as its minimum field: the
   * negative TTL is the lesser of the two (RFC 2308 §5).
   */
  private static void assertNegativeTtl(Message negative, long seconds) {
    assertThat(records(negative, Section.AUTHORITY, Type.SOA))
        .singleElement()
        .satisfies(
            r -> {
              assertThat(r.getTTL()).isEqualTo(seconds);
              assertThat(((SOARecord) r).getMinimum()).isEqualTo(seconds);
            });
  }
}
