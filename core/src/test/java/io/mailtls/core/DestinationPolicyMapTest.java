package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DestinationPolicy.Level;
import io.mailtls.core.DestinationPolicy.RecipientOverride;
import io.mailtls.testkit.FakeClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 15, the policy map's file format (docs/policy-map.md), lookup order and reloading: a file
 * round trip, errors that name their line and load nothing, and a reloaded file that keeps the last
 * good map when the new one is broken.
 */
class DestinationPolicyMapTest {

  static final String PIN = "sha256:" + "AB:".repeat(31) + "AB";

  static final String FILE =
      "# operator policy, Postfix-like\n"
          + "example.com      verify  match=mx.example.com:mx.example.net\n"
          + "\n"
          + ".example.org\tfingerprint  "
          + PIN
          + "   spki-sha256:"
          + "cd".repeat(32)
          + "\n"
          + "  broken.example  enforced   override=sts   # the receiver's policy names a dead MX\n"
          + "relayed.example  dane-only  relay=gw.example.net:2525 override=sts\n"
          + "sts.example authenticated allow-downgrade-not-really\n";

  @Test
  void parsesTheDocumentedFormat() throws Exception {
    String text = FILE.replace("sts.example authenticated allow-downgrade-not-really\n", "");
    DestinationPolicyMap map = DestinationPolicyMap.parse(text);
    assertThat(map.entries())
        .extracting(DestinationPolicyMap.Entry::key)
        .containsExactly(".example.org", "broken.example", "example.com", "relayed.example");
    DestinationPolicy verify = map.lookup(DomainName.of("example.com")).orElseThrow().policy();
    assertThat(verify.level()).isEqualTo(Level.VERIFY);
    assertThat(verify.matchNames())
        .containsExactly(DomainName.of("mx.example.com"), DomainName.of("mx.example.net"));
    DestinationPolicy pinned = map.lookup(DomainName.of("a.b.example.org")).orElseThrow().policy();
    assertThat(pinned.pins())
        .containsExactly(
            new CertificatePin(CertificatePin.Kind.CERTIFICATE, "ab".repeat(32)),
            new CertificatePin(CertificatePin.Kind.PUBLIC_KEY, "cd".repeat(32)));
    assertThat(map.lookup(DomainName.of("broken.example")).orElseThrow().policy().overrides())
        .containsExactly(RecipientOverride.STS);
    DestinationPolicy relayed = map.lookup(DomainName.of("relayed.example")).orElseThrow().policy();
    assertThat(relayed.level()).isEqualTo(Level.DANE_REQUIRED);
    assertThat(relayed.relay())
        .contains(new DestinationPolicy.Relay(DomainName.of("gw.example.net"), Optional.of(2525)));
  }

  @Test
  void anExactEntryWinsThenTheClosestParentDomainEntry() throws Exception {
    DestinationPolicyMap map =
        DestinationPolicyMap.parse(
            "example.com enforced\n"
                + ".example.com verify\n"
                + ".mail.example.com authenticated\n"
                + "mail.example.com opportunistic\n");
    assertThat(level(map, "example.com")).contains(Level.ENFORCED);
    assertThat(level(map, "x.example.com")).contains(Level.VERIFY);
    assertThat(level(map, "mail.example.com")).contains(Level.OPPORTUNISTIC);
    assertThat(level(map, "a.mail.example.com")).contains(Level.AUTHENTICATED);
    assertThat(level(map, "a.b.mail.example.com")).contains(Level.AUTHENTICATED);
    assertThat(level(map, "example.net")).isEmpty();
    // a parent-domain entry covers the subdomains only, never the domain itself
    DestinationPolicyMap parentOnly = DestinationPolicyMap.parse(".example.com enforced\n");
    assertThat(level(parentOnly, "example.com")).isEmpty();
    assertThat(level(parentOnly, "EXAMPLE.com")).isEmpty();
    assertThat(level(parentOnly, "MX.Example.COM")).contains(Level.ENFORCED);
  }

  private static Optional<Level> level(DestinationPolicyMap map, String domain) {
    return map.lookup(DomainName.of(domain)).map(e -> e.policy().level());
  }

  @Test
  void aLineThatDoesNotParseFailsTheWholeFileNamingItsNumber() {
    // the last line of FILE has an unknown option
    assertThatThrownBy(() -> DestinationPolicyMap.parse(FILE))
        .isInstanceOfSatisfying(PolicyMapException.class, e -> assertThat(e.line()).isEqualTo(7))
        .hasMessageStartingWith("line 7: unknown option \"allow-downgrade-not-really\"");
    List<String[]> broken =
        List.of(
            new String[] {"example.com", "expected a key and a level"},
            new String[] {"example.com secure", "unknown level \"secure\""},
            new String[] {"example.com fingerprint", "needs at least one pin"},
            new String[] {"example.com fingerprint sha256:AB", "32 bytes"},
            new String[] {"example.com enforced sha256:" + "ab".repeat(32), "belong to level"},
            new String[] {"example.com verify match=.example.net", "not supported"},
            new String[] {"example.com enforced relay=gw.example:99999", "port out of range"},
            new String[] {"example.com verify relay=192.0.2.25", "\"192.0.2.25\" is an IP address"},
            new String[] {"example.com verify relay=192.0.2.25.:25", "is an IP address"},
            new String[] {"example.com verify relay=[::1]:25", "\"[::1]:25\" is an IP address"},
            new String[] {"example.com verify relay=::1", "\"::1\" is an IP address"},
            new String[] {"example.com sts-required override=sts", "cannot override"},
            new String[] {"example.com enforced override=tls", "expected sts or dane"},
            new String[] {"..example.com enforced", "not a domain"},
            new String[] {"example.com enforced\nexample.com verify", "a second entry"});
    for (String[] b : broken) {
      String text = "# first\n\n" + b[0] + "\n";
      assertThatThrownBy(() -> DestinationPolicyMap.parse(text))
          .as(b[0])
          .isInstanceOf(PolicyMapException.class)
          .hasMessageContaining(b[1])
          .hasMessageStartingWith("line " + (b[0].contains("\n") ? 4 : 3) + ": ");
    }
  }

  /**
   * A relay given by IP address, in a map entry or as the transport's relay, is refused where it is
   * given: looked up in DNS as a name it deferred every message (NXDOMAIN), and the relay is
   * verified against its name, which no address is (RFC 1123 §2.1).
   */
  @Test
  void aRelayByIpAddressIsRefusedWhereItIsGiven() {
    for (String host : List.of("192.0.2.25", "10.1.2.3.", "::1", "[::1]", "2001:db8::25")) {
      assertThatThrownBy(() -> SmartHost.builder(host))
          .as(host)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("relay \"" + host + "\" is an IP address, not a host name");
    }
    assertThatThrownBy(
            () -> new DestinationPolicy.Relay(DomainName.of("192.0.2.25"), Optional.empty()))
        .hasMessageContaining("is an IP address");
    // A name with digits elsewhere, or a digit-led top label with letters, is a host name.
    assertThat(SmartHost.builder("10.relay.example").build().host())
        .isEqualTo(DomainName.of("10.relay.example"));
    assertThat(DestinationPolicy.Relay.parse("smtp1.3com:25").port()).contains(25);
  }

  @Test
  void aFileRoundTripGivesAnEqualMap(@TempDir Path dir) throws Exception {
    DestinationPolicyMap built =
        DestinationPolicyMap.builder()
            .put("example.com", DestinationPolicy.verify(DomainName.of("mx.example.com")))
            .put(".example.org", DestinationPolicy.fingerprint(CertificatePin.parse(PIN)))
            .put(
                "broken.example",
                DestinationPolicy.of(Level.ENFORCED)
                    .withOverrides(RecipientOverride.STS, RecipientOverride.DANE))
            .put(
                "relayed.example",
                DestinationPolicy.of(Level.AUTHENTICATED)
                    .withRelay(DestinationPolicy.Relay.parse("gw.example.net")))
            .build();
    Path file = dir.resolve("tls_policy");
    Files.writeString(file, DestinationPolicyMap.format(built));
    DestinationPolicyMap loaded = DestinationPolicyMap.load(file);
    assertThat(loaded).isEqualTo(built);
    assertThat(loaded.entries()).isEqualTo(built.entries());
    assertThat(Files.readString(file))
        .contains("broken.example enforced override=sts override=dane\n")
        .contains(".example.org fingerprint " + PIN + "\n");
  }

  @Test
  void aMissingFileIsAnErrorNotAnEmptyMap(@TempDir Path dir) {
    assertThatThrownBy(() -> DestinationPolicyMap.load(dir.resolve("absent")))
        .isInstanceOfSatisfying(PolicyMapException.class, e -> assertThat(e.line()).isZero())
        .hasMessageContaining("cannot read");
    assertThatThrownBy(() -> DestinationPolicyMap.reloading(dir.resolve("absent"), Duration.ZERO))
        .isInstanceOf(PolicyMapException.class);
  }

  @Test
  void aReloadingMapChecksAtMostEveryIntervalAndKeepsTheLastGoodMap(@TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("tls_policy");
    Files.writeString(file, "example.com enforced\n");
    FakeClock clock = new FakeClock();
    DestinationPolicyMap.Reloading map =
        DestinationPolicyMap.reloading(file, Duration.ofSeconds(60), clock);
    assertThat(level(map, "example.com")).contains(Level.ENFORCED);

    write(file, "example.com verify\n", 1);
    assertThat(level(map, "example.com"))
        .as("not checked before the interval")
        .contains(Level.ENFORCED);
    clock.advance(Duration.ofSeconds(60));
    assertThat(level(map, "example.com")).contains(Level.VERIFY);

    write(file, "example.com verify\nexample.net secure\n", 2);
    clock.advance(Duration.ofSeconds(60));
    assertThat(level(map, "example.com")).as("the last good map").contains(Level.VERIFY);
    assertThat(level(map, "example.net")).isEmpty();
    assertThat(map.lastError().orElseThrow().line()).isEqualTo(2);
    assertThat(map.lastError().orElseThrow().getMessage())
        .startsWith("line 2: unknown level \"secure\"")
        .contains("(" + file + ")")
        .endsWith("; keeping the last good map");

    Files.delete(file);
    assertThat(map.checkNow()).isFalse();
    assertThat(level(map, "example.com")).contains(Level.VERIFY);
    assertThat(map.lastError().orElseThrow().getMessage()).contains("cannot read");

    write(file, "example.net authenticated\n", 3);
    assertThat(map.checkNow()).isTrue();
    assertThat(map.lastError()).isEmpty();
    assertThat(level(map, "example.com")).isEmpty();
    assertThat(level(map, "example.net")).contains(Level.AUTHENTICATED);
  }

  private static void write(Path file, String text, int seconds) throws Exception {
    Files.writeString(file, text);
    // a modification time of its own, whatever the file system's resolution
    Files.setLastModifiedTime(
        file, FileTime.fromMillis(Files.getLastModifiedTime(file).toMillis() + seconds * 1000L));
  }

  // ------------------------------------------------------------------------------ property

  @Property(tries = 200)
  void anyMapSurvivesWritingAndReading(@ForAll("maps") DestinationPolicyMap map) throws Exception {
    DestinationPolicyMap read = DestinationPolicyMap.parse(DestinationPolicyMap.format(map));
    assertThat(read).isEqualTo(map);
    assertThat(read.entries()).isEqualTo(map.entries());
  }

  @Provide
  Arbitrary<DestinationPolicyMap> maps() {
    Arbitrary<String> label =
        Arbitraries.strings()
            .withChars("abcxyz0-")
            .ofMinLength(1)
            .ofMaxLength(8)
            .filter(l -> !l.startsWith("-") && !l.endsWith("-"));
    Arbitrary<String> domain = label.list().ofMinSize(1).ofMaxSize(3).map(l -> String.join(".", l));
    Arbitrary<String> key =
        Combinators.combine(domain, Arbitraries.of(true, false)).as((d, p) -> (p ? "." : "") + d);
    Arbitrary<DomainName> host =
        label
            .list()
            .ofMinSize(2)
            .ofMaxSize(3)
            // a host name's last label is not all digits (RFC 1123 §2.1)
            .filter(l -> !l.get(l.size() - 1).chars().allMatch(Character::isDigit))
            .map(l -> DomainName.of(String.join(".", l)));
    Arbitrary<CertificatePin> pin =
        Combinators.combine(
                Arbitraries.of(CertificatePin.Kind.class),
                Arbitraries.bytes().array(byte[].class).ofSize(32))
            .as(CertificatePin::of);
    Arbitrary<Optional<DestinationPolicy.Relay>> relay =
        Combinators.combine(host, Arbitraries.integers().between(0, 65535))
            .as(
                (h, p) ->
                    new DestinationPolicy.Relay(
                        h, p == 0 ? Optional.<Integer>empty() : Optional.of(p)))
            .optional(0.3);
    Arbitrary<Set<RecipientOverride>> overrides =
        Arbitraries.of(RecipientOverride.class).set().ofMaxSize(2);
    Arbitrary<DestinationPolicy> policy =
        Combinators.combine(
                Arbitraries.of(Level.class),
                host.list().ofMaxSize(3),
                pin.list().ofMinSize(1).ofMaxSize(3),
                relay,
                overrides)
            .as(
                (level, names, pins, r, o) -> {
                  Set<RecipientOverride> ov = o.isEmpty() ? Set.of() : EnumSet.copyOf(o);
                  if (level == Level.STS_REQUIRED) {
                    ov = without(ov, RecipientOverride.STS);
                  } else if (level == Level.DANE_REQUIRED) {
                    ov = without(ov, RecipientOverride.DANE);
                  } else if (level == Level.AUTHENTICATED) {
                    ov = without(ov, RecipientOverride.DANE);
                  }
                  return new DestinationPolicy(
                      level,
                      level == Level.VERIFY ? names : List.of(),
                      level == Level.FINGERPRINT ? pins : List.of(),
                      r,
                      ov);
                });
    return Combinators.combine(key, policy)
        .as(DestinationPolicyMap.Entry::new)
        .list()
        .ofMaxSize(8)
        .map(
            entries -> {
              DestinationPolicyMap.Builder b = DestinationPolicyMap.builder();
              List<String> seen = new ArrayList<>();
              for (DestinationPolicyMap.Entry e : entries) {
                if (!seen.contains(e.key())) {
                  seen.add(e.key());
                  b.put(e.key(), e.policy());
                }
              }
              return b.build();
            });
  }

  private static Set<RecipientOverride> without(Set<RecipientOverride> s, RecipientOverride o) {
    EnumSet<RecipientOverride> out = EnumSet.noneOf(RecipientOverride.class);
    out.addAll(s);
    out.remove(o);
    return out;
  }
}
