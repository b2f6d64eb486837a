package io.mailtls.reliability.fuzz;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.internal.smtp.ContentScanner;
import io.mailtls.core.internal.smtp.CrlfNormalizingOutputStream;
import io.mailtls.core.internal.smtp.DotStuffingOutputStream;
import io.mailtls.core.internal.smtp.Xtext;
import io.mailtls.mtasts.CachedPolicy;
import io.mailtls.mtasts.FilePolicyStore;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.From;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.Size;

/**
 * Round trips where mailtls both writes and reads, or writes what a peer decodes, with generators
 * biased to the edges (line-break octets and dots, xtext's special characters, unpaired surrogates,
 * the extremes of {@code max_age} and of name lengths):
 *
 * <ul>
 *   <li>dot-stuffing (RFC 5321 §4.5.2) and CRLF normalisation, against {@link ReferenceSmtpData}, a
 *       receiver's decoder written here, for any content split into any writes;
 *   <li>xtext (RFC 3461 §4): {@code decode(encode(s)) == s}, and decoding anything gives text or
 *       the documented {@link IllegalArgumentException};
 *   <li>the MTA-STS policy store file: what {@link FilePolicyStore} writes, a new store on the same
 *       file reads back equal, without warnings.
 * </ul>
 *
 * The command line's JSON is in {@code io.mailtls.cli.SendReportJsonRoundTripPropertyTest}.
 */
class RoundTripPropertyTest {

  // ---- dot-stuffing and CRLF normalisation

  @Provide
  Arbitrary<byte[]> content() {
    Arbitrary<Byte> edge = Arbitraries.of((byte) '\r', (byte) '\n', (byte) '.', (byte) 0);
    Arbitrary<Byte> any = Arbitraries.bytes();
    Arbitrary<Byte> text = Arbitraries.of((byte) 'a', (byte) ' ', (byte) 0xc3, (byte) 0xa9);
    return Arbitraries.frequencyOf(
            net.jqwik.api.Tuple.of(5, edge),
            net.jqwik.api.Tuple.of(3, text),
            net.jqwik.api.Tuple.of(1, any))
        .list()
        .ofMaxSize(400)
        .map(
            list -> {
              byte[] bytes = new byte[list.size()];
              for (int i = 0; i < bytes.length; i++) {
                bytes[i] = list.get(i);
              }
              return bytes;
            });
  }

  @Property(tries = 2000)
  void dotStuffingDeliversTheNormalisedContentToAReceiver(
      @ForAll("content") byte[] content,
      @ForAll @IntRange(min = 1, max = 17) int piece,
      @ForAll @IntRange(min = 16, max = 70) int buffer)
      throws IOException {
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    DotStuffingOutputStream data = new DotStuffingOutputStream(wire, false, buffer);
    write(data, content, piece);
    data.finish();

    assertThat(ReferenceSmtpData.unstuff(wire.toByteArray()))
        .isEqualTo(ReferenceSmtpData.delivered(content));
    ContentScanner.Result scan = ContentScanner.scan(new ByteArrayInputStream(content));
    assertThat(scan.dataWireLength()).isEqualTo(wire.size());
    assertThat(scan.dataSize()).isEqualTo(ReferenceSmtpData.delivered(content).length);
  }

  @Property(tries = 2000)
  void crlfNormalisationWritesEveryLineBreakAsCrlfAndNothingElse(
      @ForAll("content") byte[] content,
      @ForAll @IntRange(min = 1, max = 17) int piece,
      @ForAll @IntRange(min = 16, max = 70) int buffer)
      throws IOException {
    ByteArrayOutputStream bdat = new ByteArrayOutputStream();
    CrlfNormalizingOutputStream out = new CrlfNormalizingOutputStream(bdat, false, buffer);
    write(out, content, piece);
    out.finish();

    assertThat(bdat.toByteArray()).isEqualTo(ReferenceSmtpData.normalize(content));
    assertThat(ContentScanner.scan(new ByteArrayInputStream(content)).size())
        .isEqualTo(bdat.size());
  }

  private static void write(java.io.OutputStream out, byte[] content, int piece)
      throws IOException {
    for (int i = 0; i < content.length; i += piece) {
      int n = Math.min(piece, content.length - i);
      if (n == 1) {
        out.write(content[i]);
      } else {
        out.write(content, i, n);
      }
    }
  }

  // ---- xtext

  @Provide
  Arbitrary<String> text() {
    Arbitrary<Character> edge =
        Arbitraries.of('+', '=', ' ', '!', '~', '\u007f', '\u0000', '\u00e9', '\u20ac', 'A');
    Arbitrary<String> pairs = Arbitraries.of("\ud83d\udce7", "\u00ff", "+2B", "==");
    return Arbitraries.oneOf(
        Arbitraries.strings().withChars('+', '=', ' ', 'a', '\u00e9').ofMaxLength(40),
        edge.list().ofMaxSize(30).map(RoundTripPropertyTest::join),
        pairs.list().ofMaxSize(10).map(l -> String.join("", l)),
        Arbitraries.strings().all().ofMaxLength(40).filter(RoundTripPropertyTest::wellFormed));
  }

  @Property(tries = 2000)
  void xtextDecodesWhatItEncodes(@ForAll("text") String text) {
    String encoded = Xtext.encode(text);
    for (int i = 0; i < encoded.length(); i++) {
      char c = encoded.charAt(i);
      assertThat(c >= '!' && c <= '~' && c != '=').as("xtext character %s", (int) c).isTrue();
    }
    assertThat(Xtext.decode(encoded)).isEqualTo(text);
  }

  @Property(tries = 2000)
  void xtextDecodesAnythingToTextOrTheDocumentedException(@ForAll("xtextish") String xtext) {
    try {
      String decoded = Xtext.decode(xtext);
      assertThat(Xtext.decode(Xtext.encode(decoded))).isEqualTo(decoded);
    } catch (IllegalArgumentException documented) {
      assertThat(documented).hasMessageContaining("RFC 3461");
    }
  }

  @Provide
  Arbitrary<String> xtextish() {
    return Arbitraries.strings()
        .withChars('+', '=', 'A', 'F', 'f', '0', '9', 'G', ' ', '\u00e9', '~')
        .ofMaxLength(30);
  }

  @Example
  void xtextRefusesLowerCaseHex() {
    assertThatThrownBy(() -> Xtext.decode("a+2b")).isInstanceOf(IllegalArgumentException.class);
  }

  private static String join(List<Character> chars) {
    StringBuilder sb = new StringBuilder();
    chars.forEach(sb::append);
    return sb.toString();
  }

  private static boolean wellFormed(String s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c)) {
        if (i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))) {
          return false;
        }
        i++;
      } else if (Character.isLowSurrogate(c)) {
        return false;
      }
    }
    return true;
  }

  // ---- the policy store file

  @Provide
  Arbitrary<MtaStsPolicy> policy() {
    Arbitrary<String> label =
        Arbitraries.oneOf(
            Arbitraries.strings().withCharRange('a', 'z').ofMinLength(1).ofMaxLength(12),
            Arbitraries.of("xn--bcher-kva", "xn--mnchen-3ya", "0", "a-b", "x".repeat(63)));
    Arbitrary<String> host =
        label
            .list()
            .ofMinSize(2)
            .ofMaxSize(4)
            .map(l -> String.join(".", l))
            .filter(h -> h.length() <= 240); // RFC 1035 §2.3.4, with room for "*."
    Arbitrary<String> pattern =
        Combinators.combine(Arbitraries.of(true, false), host).as((wild, h) -> wild ? "*." + h : h);
    Arbitrary<String> id = Arbitraries.strings().alpha().numeric().ofMinLength(1).ofMaxLength(32);
    Arbitrary<Long> maxAge =
        Arbitraries.oneOf(
            Arbitraries.of(0L, 1L, 86_400L, 31_557_600L),
            Arbitraries.longs().between(0, 31_557_600L));
    // The policy text as fetched (RFC 8460 §4.5), absent for a policy known by its fields: line
    // ends of both kinds, white space, UTF-8 beyond ASCII.
    Arbitrary<Optional<String>> text =
        Arbitraries.strings()
            .withChars("\r\n\t :-_.")
            .withCharRange('a', 'z')
            .withCharRange('\u00e0', '\u00ff')
            .withCharRange('\u4e00', '\u4e20')
            .ofMinLength(1)
            .ofMaxLength(MtaStsPolicy.MAX_TEXT_LENGTH)
            .optional();
    return Combinators.combine(
            id,
            Arbitraries.of(MtaStsMode.class),
            pattern.list().ofMinSize(1).ofMaxSize(5),
            maxAge,
            text)
        .as(
            (i, mode, patterns, age, t) ->
                new MtaStsPolicy(
                    i, mode, patterns.stream().distinct().toList(), Duration.ofSeconds(age), t));
  }

  @Provide
  Arbitrary<Instant> instant() {
    return Arbitraries.longs()
        .between(0, 4_102_444_800L) // 1970 .. 2100
        .map(Instant::ofEpochSecond);
  }

  /** The stores' now in the round trips: no generated fetch time lies after it. */
  private static final Clock AT_2100 =
      Clock.fixed(Instant.ofEpochSecond(4_102_444_800L), ZoneOffset.UTC);

  @Property(tries = 300)
  void policyStoreFileReadsBackWhatItWrote(
      @ForAll @Size(max = 12) List<@From("policy") MtaStsPolicy> policies,
      @ForAll("instant") Instant fetched)
      throws IOException {
    Path dir = Files.createTempDirectory("reliability-store");
    try {
      Path file = dir.resolve("policies.json");
      FilePolicyStore store = store(file);
      Map<DomainName, CachedPolicy> written = new LinkedHashMap<>();
      for (int i = 0; i < policies.size(); i++) {
        MtaStsPolicy p = policies.get(i);
        CachedPolicy entry = new CachedPolicy(p, fetched, fetched.plus(p.maxAge()));
        DomainName domain = DomainName.of("d" + i + ".example");
        store.put(domain, entry);
        written.put(domain, entry);
      }

      FilePolicyStore reread = store(file);
      assertThat(reread.loadWarnings()).isEmpty();
      assertThat(reread.size()).isEqualTo(written.size());
      for (Map.Entry<DomainName, CachedPolicy> e : written.entrySet()) {
        assertThat(reread.peek(e.getKey())).contains(e.getValue());
      }
    } finally {
      deleteTree(dir);
    }
  }

  private static FilePolicyStore store(Path file) {
    return new FilePolicyStore(file, 1000, Duration.ofDays(1), AT_2100);
  }

  /**
   * A fetch dated more than the clock tolerance after the load (a clock that went back since, or an
   * altered file) reads back as fetched at the load, expiring no later than {@code max_age} after
   * it (RFC 8461 §5.1), with a warning; the file is rewritten so, and reads back as that.
   */
  @Property(tries = 100)
  void aFetchDatedAheadReadsBackAsFetchedAtTheLoad(
      @ForAll @Size(min = 1, max = 6) List<@From("policy") MtaStsPolicy> policies,
      @ForAll @LongRange(min = 61, max = 3_000_000_000L) long aheadSeconds)
      throws IOException {
    Instant now = Instant.parse("2026-12-06T00:00:00Z");
    Clock clock = Clock.fixed(now, ZoneOffset.UTC);
    Instant fetched = now.plusSeconds(aheadSeconds);
    assertThat(Duration.between(now, fetched)).isGreaterThan(CachedPolicy.CLOCK_TOLERANCE);
    Path dir = Files.createTempDirectory("reliability-store");
    try {
      Path file = dir.resolve("policies.json");
      FilePolicyStore store = new FilePolicyStore(file, 1000, Duration.ofDays(1), clock);
      for (int i = 0; i < policies.size(); i++) {
        MtaStsPolicy p = policies.get(i);
        store.put(
            DomainName.of("d" + i + ".example"),
            new CachedPolicy(p, fetched, fetched.plus(p.maxAge())));
      }

      FilePolicyStore reread = new FilePolicyStore(file, 1000, Duration.ofDays(1), clock);
      assertThat(reread.loadWarnings()).hasSize(policies.size());
      FilePolicyStore again = new FilePolicyStore(file, 1000, Duration.ofDays(1), clock);
      assertThat(again.loadWarnings()).isEmpty();
      for (int i = 0; i < policies.size(); i++) {
        MtaStsPolicy p = policies.get(i);
        CachedPolicy asOfNow = new CachedPolicy(p, now, now.plus(p.maxAge()));
        assertThat(reread.peek(DomainName.of("d" + i + ".example"))).contains(asOfNow);
        assertThat(again.peek(DomainName.of("d" + i + ".example"))).contains(asOfNow);
      }
    } finally {
      deleteTree(dir);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    List<Path> paths = new ArrayList<>();
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(paths::add);
    }
    for (Path p : paths) {
      Files.deleteIfExists(p);
    }
  }
}
