package io.mailtls.mtasts;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.testkit.FakeClock;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The JSON file store: format, atomic writes, and resistance to bad files. */
class FilePolicyStoreTest {

  private static final Instant T0 = FakeClock.START;
  private static final DomainName EXAMPLE = DomainName.of("example.test");

  @TempDir Path dir;

  private Path file() {
    return dir.resolve("mta-sts-cache.json");
  }

  private static CachedPolicy entry(String id, MtaStsMode mode, Duration maxAge, String... mx) {
    return CachedPolicy.fetched(new MtaStsPolicy(id, mode, List.of(mx), maxAge), T0);
  }

  private static final CachedPolicy ENFORCE =
      entry(
          "20250301T1200Z",
          MtaStsMode.ENFORCE,
          Duration.ofDays(7),
          "mx1.example.test",
          "*.mx.example.test");

  private List<Path> directoryListing() throws IOException {
    try (Stream<Path> s = Files.list(dir)) {
      return s.toList();
    }
  }

  /**
   * A file written before entries kept their policy text still loads, every entry whole and without
   * a text (its reports then rebuild the policy from the fields); a text that cannot be kept (not a
   * string, too long) costs only the text, never the policy.
   */
  @Test
  void aFileWithoutPolicyTextsStillLoads() throws IOException {
    String tooLong = "x".repeat(MtaStsPolicy.MAX_TEXT_LENGTH + 1);
    Files.writeString(
        file(),
        "{\"format\":\"mailtls-mta-sts-policy-cache\",\"version\":1,\"policies\":{"
            + "\"example.test\":{\"id\":\"20250301T1200Z\",\"mode\":\"enforce\","
            + "\"mx\":[\"mx1.example.test\",\"*.mx.example.test\"],\"max_age\":604800,"
            + "\"fetched_at\":\""
            + T0
            + "\",\"expires_at\":\""
            + T0.plus(Duration.ofDays(7))
            + "\"},"
            + "\"number.test\":{\"id\":\"n1\",\"mode\":\"none\",\"mx\":[],\"max_age\":60,"
            + "\"fetched_at\":\""
            + T0
            + "\",\"expires_at\":\""
            + T0.plus(Duration.ofSeconds(60))
            + "\",\"text\":42},"
            + "\"long.test\":{\"id\":\"l1\",\"mode\":\"none\",\"mx\":[],\"max_age\":60,"
            + "\"fetched_at\":\""
            + T0
            + "\",\"expires_at\":\""
            + T0.plus(Duration.ofSeconds(60))
            + "\",\"text\":\""
            + tooLong
            + "\"}}}",
        StandardCharsets.UTF_8);

    FilePolicyStore store = new FilePolicyStore(file());

    assertThat(store.loadWarnings()).isEmpty();
    assertThat(store.peek(EXAMPLE)).contains(ENFORCE);
    assertThat(store.peek(EXAMPLE).orElseThrow().policy().text()).isEmpty();
    assertThat(store.peek(DomainName.of("number.test")).orElseThrow().policy().text()).isEmpty();
    assertThat(store.peek(DomainName.of("long.test")).orElseThrow().policy().text()).isEmpty();
  }

  /** A policy's text is written with it, and read back exactly (line ends and all). */
  @Test
  void aPolicyTextIsWrittenAndReadBack() {
    CachedPolicy withText =
        CachedPolicy.fetched(
            ENFORCE.policy().withText("mode: enforce\r\nmx: mx1.example.test\nx-y: z\r\n"), T0);
    new FilePolicyStore(file()).put(EXAMPLE, withText);

    assertThat(new FilePolicyStore(file()).peek(EXAMPLE)).contains(withText);
  }

  @Test
  void entriesSurviveANewInstanceOnTheSameFile() {
    FilePolicyStore first = new FilePolicyStore(file());
    CachedPolicy none = entry("2", MtaStsMode.NONE, Duration.ofDays(1));
    first.put(EXAMPLE, ENFORCE);
    first.put(DomainName.of("other.test"), none);

    FilePolicyStore second = new FilePolicyStore(file());

    assertThat(second.loadWarnings()).isEmpty();
    assertThat(second.size()).isEqualTo(2);
    assertThat(second.get(EXAMPLE)).contains(ENFORCE);
    assertThat(second.get(DomainName.of("other.test"))).contains(none);
  }

  @Test
  void theFileHasTheDocumentedVersionedFormat() throws IOException {
    FakeClock clock = new FakeClock();
    FilePolicyStore store = new FilePolicyStore(file(), 10, Duration.ofDays(7), clock);
    store.put(EXAMPLE, ENFORCE);
    assertThat(
            new ObjectMapper()
                .readTree(file().toFile())
                .get("policies")
                .get("example.test")
                .has("last_used"))
        .isFalse(); // optional: never used
    clock.advance(Duration.ofMillis(90_250));
    store.get(EXAMPLE);

    JsonNode root = new ObjectMapper().readTree(file().toFile());

    assertThat(root.get("format").asText()).isEqualTo("mailtls-mta-sts-policy-cache");
    assertThat(root.get("version").asInt()).isEqualTo(1);
    JsonNode e = root.get("policies").get("example.test");
    assertThat(e.get("id").asText()).isEqualTo("20250301T1200Z");
    assertThat(e.get("mode").asText()).isEqualTo("enforce");
    assertThat(e.get("mx").toString()).isEqualTo("[\"mx1.example.test\",\"*.mx.example.test\"]");
    assertThat(e.get("max_age").asLong()).isEqualTo(604_800);
    assertThat(e.get("fetched_at").asText()).isEqualTo("2025-03-01T12:00:00Z");
    assertThat(e.get("expires_at").asText()).isEqualTo("2025-03-08T12:00:00Z");
    assertThat(e.get("last_used").asText()).isEqualTo("2025-03-01T12:01:30.250Z");
  }

  @Test
  void removalIsPersisted() {
    FilePolicyStore store = new FilePolicyStore(file());
    store.put(EXAMPLE, ENFORCE);
    store.remove(EXAMPLE);
    store.remove(DomainName.of("never-stored.test"));

    assertThat(new FilePolicyStore(file()).get(EXAMPLE)).isEmpty();
  }

  @Test
  void aMissingFileIsAnEmptyStoreWithoutWarnings() {
    FilePolicyStore store = new FilePolicyStore(file());

    assertThat(store.size()).isZero();
    assertThat(store.loadWarnings()).isEmpty();
    assertThat(Files.exists(file())).isFalse(); // nothing written until a change
  }

  @ParameterizedTest(name = "[{index}] {0}")
  @ValueSource(
      strings = {
        "", // empty file
        "\u0000\u0001garbage\u00ff", // not JSON
        "{\"format\":\"mailtls-mta-sts-policy-cache\",\"version\":1,\"policies\":{\"a.test\":",
        "[1, 2, 3]", // not an object
        "null",
        "{\"format\":\"mailtls-mta-sts-policy-cache\",\"version\":1,\"policies\":[]}",
        "{\"format\":\"mailtls-mta-sts-policy-cache\",\"version\":\"1\",\"policies\":{}}",
        "{\"format\":\"mailtls-mta-sts-policy-cache\",\"version\":2,\"policies\":{}}",
        "{\"format\":\"something-else\",\"version\":1,\"policies\":{}}",
        "{\"version\":1,\"policies\":{}}",
        "{\"format\":\"mailtls-mta-sts-policy-cache\",\"version\":1}",
        "{\"format\":\"mailtls-mta-sts-policy-cache\",\"version\":1,\"policies\":{}} trailing",
        "{\"format\":\"mailtls-mta-sts-policy-cache\",\"version\":1,\"version\":1,\"policies\":{}}",
      })
  void aCorruptFileIsIgnoredWithAWarningAndReplacedOnTheNextChange(String content)
      throws IOException {
    Files.writeString(file(), content, StandardCharsets.ISO_8859_1);

    FilePolicyStore store = new FilePolicyStore(file());

    assertThat(store.size()).isZero();
    assertThat(store.loadWarnings())
        .singleElement()
        .asString()
        .contains(file().toString(), "starting empty");
    store.put(EXAMPLE, ENFORCE);
    assertThat(new FilePolicyStore(file()).get(EXAMPLE)).contains(ENFORCE);
    // The ignored file is not lost: it may hold enforce policies an operator can recover.
    assertThat(rejected()).hasBinaryContent(content.getBytes(StandardCharsets.ISO_8859_1));
  }

  private Path rejected() {
    return dir.resolve("mta-sts-cache.json.rejected");
  }

  @Test
  void aLaterVersionsFileIsKeptAsideNotOverwritten() throws IOException {
    // A file a later release wrote (a rollback): its enforce policies must survive the first
    // write of this release, byte for byte, where an operator can put them back.
    String later =
        "{\"format\":\"mailtls-mta-sts-policy-cache\",\"version\":2,\"policies\":"
            + "{\"bank.test\":{\"id\":\"a1\",\"mode\":\"enforce\",\"mx\":[\"mx.bank.test\"]}}}";
    Files.writeString(file(), later, StandardCharsets.UTF_8);

    FilePolicyStore store = new FilePolicyStore(file());
    assertThat(store.loadWarnings()).singleElement().asString().contains(".rejected");
    assertThat(rejected()).doesNotExist(); // nothing moves until something is written

    store.put(EXAMPLE, ENFORCE);

    assertThat(rejected()).hasContent(later);
    assertThat(new FilePolicyStore(file()).get(EXAMPLE)).contains(ENFORCE);
    store.put(DomainName.of("other.test"), ENFORCE); // the second write keeps what was kept
    assertThat(rejected()).hasContent(later);
  }

  @Test
  void anIgnoredFileRemovedMeanwhileIsNoReasonToStopWriting() throws IOException {
    Files.writeString(file(), "not json", StandardCharsets.UTF_8);
    FilePolicyStore store = new FilePolicyStore(file());
    Files.delete(file()); // an operator moved it away themselves

    store.put(EXAMPLE, ENFORCE);

    assertThat(rejected()).doesNotExist();
    assertThat(new FilePolicyStore(file()).get(EXAMPLE)).contains(ENFORCE);
  }

  @Test
  void aFileLargerThanTheBoundIsKeptAsideToo() throws IOException {
    byte[] big = new byte[FilePolicyStore.MAX_FILE_BYTES + 1];
    java.util.Arrays.fill(big, (byte) ' ');
    Files.write(file(), big);

    new FilePolicyStore(file()).put(EXAMPLE, ENFORCE);

    assertThat(Files.size(rejected())).isEqualTo(big.length);
    assertThat(new FilePolicyStore(file()).get(EXAMPLE)).contains(ENFORCE);
  }

  @Test
  void whenTheIgnoredFileCannotBeKeptNothingIsWritten() throws IOException {
    String damaged = "{\"format\":\"mailtls-mta-sts-policy-cache\",\"version\":1,\"policies\":{";
    Files.writeString(file(), damaged, StandardCharsets.UTF_8);
    Files.createDirectory(rejected());
    Files.writeString(rejected().resolve("keep"), "x"); // a non-empty directory is never replaced

    FilePolicyStore store = new FilePolicyStore(file());
    store.put(EXAMPLE, ENFORCE); // logged, not thrown

    assertThat(store.get(EXAMPLE)).contains(ENFORCE); // memory still serves
    assertThat(file()).hasContent(damaged); // never overwritten while it cannot be kept
    Files.delete(rejected().resolve("keep"));
    Files.delete(rejected());
    store.put(DomainName.of("other.test"), ENFORCE); // the next change tries again
    assertThat(rejected()).hasContent(damaged);
    assertThat(new FilePolicyStore(file()).get(EXAMPLE)).contains(ENFORCE);
  }

  @Test
  void aTruncatedCopyOfAValidFileIsIgnored() throws IOException {
    new FilePolicyStore(file()).put(EXAMPLE, ENFORCE);
    byte[] full = Files.readAllBytes(file());
    for (int length : new int[] {1, full.length / 3, full.length / 2, full.length - 2}) {
      byte[] cut = new byte[length];
      System.arraycopy(full, 0, cut, 0, length);
      Files.write(file(), cut);

      FilePolicyStore store = new FilePolicyStore(file());

      assertThat(store.size()).as("truncated to %d bytes", length).isZero();
      assertThat(store.loadWarnings()).hasSize(1);
    }
  }

  @Test
  void aDirectoryInsteadOfAFileIsIgnoredAndWritesFailWithoutThrowing() throws IOException {
    Files.createDirectory(file());
    Files.writeString(file().resolve("keep"), "x"); // a non-empty directory cannot be replaced

    FilePolicyStore store = new FilePolicyStore(file());
    assertThat(store.loadWarnings()).singleElement().asString().contains("directory");

    store.put(EXAMPLE, ENFORCE); // logged, not thrown
    assertThat(store.get(EXAMPLE)).contains(ENFORCE); // memory still serves
    store.remove(EXAMPLE);
    assertThat(directoryListing()).containsExactly(file()); // no temporary file left behind
    assertThat(rejected()).doesNotExist(); // a directory is never moved aside
  }

  @Test
  void aFileLargerThanTheBoundIsNotRead() throws IOException {
    new FilePolicyStore(file()).put(EXAMPLE, ENFORCE);
    byte[] valid = Files.readAllBytes(file());
    // Valid JSON, padded with whitespace past 16 MiB: refused by size alone.
    byte[] big = new byte[FilePolicyStore.MAX_FILE_BYTES + 1];
    java.util.Arrays.fill(big, (byte) ' ');
    System.arraycopy(valid, 0, big, 0, valid.length);
    Files.write(file(), big);

    FilePolicyStore store = new FilePolicyStore(file());

    assertThat(store.size()).isZero();
    assertThat(store.loadWarnings()).singleElement().asString().contains("larger than");
  }

  @Test
  void entriesThatFailValidationAreSkippedOneByOne() throws IOException {
    String valid =
        "{\"id\":\"abc\",\"mode\":\"testing\",\"mx\":[\"MX.Example.TEST\"],"
            + "\"max_age\":86400,\"fetched_at\":\"2025-03-01T12:00:00Z\","
            + "\"expires_at\":\"2025-03-02T12:00:00Z\",\"future_member\":true}";
    String[] invalid = {
      "\"bad-id.test\":" + valid.replace("\"abc\"", "\"a-b\""), // §3.1 id
      "\"long-id.test\":" + valid.replace("\"abc\"", "\"" + "a".repeat(33) + "\""),
      "\"mode.test\":" + valid.replace("\"testing\"", "\"Enforce\""),
      "\"mx-type.test\":" + valid.replace("[\"MX.Example.TEST\"]", "\"mx.example.test\""),
      "\"mx-item.test\":" + valid.replace("[\"MX.Example.TEST\"]", "[1]"),
      "\"mx-bad.test\":" + valid.replace("MX.Example.TEST", "mx..example.test"),
      "\"mx-empty.test\":" + valid.replace("[\"MX.Example.TEST\"]", "[]"), // testing needs mx
      "\"age-big.test\":" + valid.replace("86400", "31557601"),
      "\"age-neg.test\":" + valid.replace("86400", "-1"),
      "\"age-text.test\":" + valid.replace("86400", "\"86400\""),
      "\"age-frac.test\":" + valid.replace("86400", "86400.5"),
      "\"time.test\":" + valid.replace("2025-03-01T12:00:00Z", "yesterday"),
      "\"extended.test\":" + valid.replace("2025-03-02T12:00:00Z", "2025-03-03T12:00:00Z"),
      "\"backwards.test\":" + valid.replace("2025-03-02T12:00:00Z", "2025-02-28T12:00:00Z"),
      "\"no-id.test\":" + valid.replace("\"id\":\"abc\",", ""),
      "\"array.test\":[]",
      "\"not..a..domain\":" + valid,
      "\".\":" + valid,
    };
    String json =
        "{\"format\":\"mailtls-mta-sts-policy-cache\",\"version\":1,\"policies\":{"
            + "\"Good.TEST.\":"
            + valid
            + ","
            + String.join(",", invalid)
            + "}}";
    Files.writeString(file(), json);

    FilePolicyStore store = new FilePolicyStore(file());

    assertThat(store.size()).isEqualTo(1);
    CachedPolicy good = store.get(DomainName.of("good.test")).orElseThrow();
    assertThat(good.policy())
        .isEqualTo(
            new MtaStsPolicy(
                "abc", MtaStsMode.TESTING, List.of("mx.example.test"), Duration.ofDays(1)));
    assertThat(good.expiresAt()).isEqualTo(Instant.parse("2025-03-02T12:00:00Z"));
    assertThat(store.loadWarnings())
        .hasSize(invalid.length)
        .allSatisfy(w -> assertThat(w).contains("skipping entry"));
  }

  /**
   * Instants at the edge of what {@link Instant} holds: {@code fetched_at + max_age} (the bound on
   * {@code expires_at}) does not exist. Such an entry is skipped like any other invalid one; it
   * must not escape as a {@link java.time.DateTimeException} from the constructor, which promises
   * never to crash on a bad file.
   */
  @Test
  void entriesWhoseTimesOverflowAreSkippedWithAWarningNotACrash() throws IOException {
    String valid =
        "{\"id\":\"abc\",\"mode\":\"enforce\",\"mx\":[\"mx.example.test\"],"
            + "\"max_age\":86400,\"fetched_at\":\"2025-03-01T12:00:00Z\","
            + "\"expires_at\":\"2025-03-02T12:00:00Z\"}";
    String latest = "+1000000000-12-31T23:59:59Z";
    String[] overflowing = {
      "\"latest.test\":"
          + valid
              .replace("86400", "60")
              .replace("2025-03-01T12:00:00Z", latest)
              .replace("2025-03-02T12:00:00Z", latest),
      "\"latest-nanos.test\":"
          + valid
              .replace("2025-03-01T12:00:00Z", "+1000000000-12-31T23:59:59.999999999Z")
              .replace("2025-03-02T12:00:00Z", "+1000000000-12-31T23:59:59.999999999Z"),
      "\"max-age-limit.test\":"
          + valid
              .replace("86400", "31557600")
              .replace("2025-03-01T12:00:00Z", "+1000000000-06-01T00:00:00Z")
              .replace("2025-03-02T12:00:00Z", latest),
    };
    // Valid at the other edges: a use in the year 1e9 counts as a use at the load (the clock went
    // back), and a fetch in the year -1e9 has long expired.
    String earliest = "-1000000000-01-01T00:00:00Z";
    Files.writeString(
        file(),
        "{\"format\":\"mailtls-mta-sts-policy-cache\",\"version\":1,\"policies\":{"
            + "\"good.test\":"
            + valid.replace("}", ",\"last_used\":\"" + latest + "\"}")
            + ",\"earliest.test\":"
            + valid
                .replace("2025-03-01T12:00:00Z", earliest)
                .replace("2025-03-02T12:00:00Z", earliest)
                .replace("}", ",\"last_used\":\"" + earliest + "\"}")
            + ","
            + String.join(",", overflowing)
            + "}}");
    FakeClock clock = new FakeClock(Instant.parse("2025-03-01T13:00:00Z"));

    FilePolicyStore store = new FilePolicyStore(file(), 10, Duration.ofDays(7), clock);

    assertThat(store.size()).isEqualTo(2);
    assertThat(store.snapshot().get(DomainName.of("good.test")).lastUse())
        .contains(clock.instant());
    assertThat(store.pinned()).isEqualTo(1);
    CachedPolicy expired = store.peek(DomainName.of("earliest.test")).orElseThrow();
    assertThat(expired.isFresh(clock.instant())).isFalse();
    assertThat(store.snapshot().get(DomainName.of("earliest.test")).lastUse()).isEmpty();
    assertThat(store.loadWarnings())
        .hasSize(overflowing.length)
        .allSatisfy(w -> assertThat(w).contains("skipping entry", "fetched_at"))
        .anySatisfy(w -> assertThat(w).contains("\"latest.test\""))
        .anySatisfy(w -> assertThat(w).contains("\"latest-nanos.test\""))
        .anySatisfy(w -> assertThat(w).contains("\"max-age-limit.test\""));
    // The next change replaces the file without the skipped entries.
    store.put(EXAMPLE, ENFORCE);
    FilePolicyStore reloaded = new FilePolicyStore(file(), 10, Duration.ofDays(7), clock);
    assertThat(reloaded.loadWarnings()).isEmpty();
    assertThat(reloaded.size()).isEqualTo(3);
  }

  @Test
  void wildcardPatternsRoundTrip() {
    CachedPolicy wild = entry("1", MtaStsMode.ENFORCE, Duration.ofDays(1), "*.example.test");
    new FilePolicyStore(file()).put(EXAMPLE, wild);

    assertThat(new FilePolicyStore(file()).get(EXAMPLE)).contains(wild);
  }

  @Test
  void everyWriteIsAtomicAndLeavesNoTemporaryFiles() throws Exception {
    FilePolicyStore store = new FilePolicyStore(file());
    store.put(EXAMPLE, ENFORCE);
    ObjectMapper json = new ObjectMapper();
    AtomicBoolean writing = new AtomicBoolean(true);
    // A reader racing the writer only ever sees a complete file, old or new.
    CompletableFuture<Integer> reader =
        CompletableFuture.supplyAsync(
            () -> {
              int reads = 0;
              while (writing.get()) {
                try {
                  JsonNode root = json.readTree(Files.readAllBytes(file()));
                  assertThat(root.get("policies").size()).isPositive();
                  reads++;
                } catch (IOException e) {
                  throw new AssertionError("a reader saw a partial file", e);
                }
              }
              return reads;
            });
    for (int i = 0; i < 300; i++) {
      store.put(DomainName.of("d" + i + ".test"), ENFORCE);
    }
    writing.set(false);

    assertThat(reader.get(30, TimeUnit.SECONDS)).isPositive();
    assertThat(directoryListing()).containsExactly(file());
    assertThat(new FilePolicyStore(file()).size()).isEqualTo(301);
  }

  @Test
  void theFileHoldsExactlyWhatTheBoundedStoreKeepsThroughAFlood() {
    FakeClock clock = new FakeClock();
    FilePolicyStore store = new FilePolicyStore(file(), 5, Duration.ofHours(1), clock);
    store.put(EXAMPLE, ENFORCE);
    assertThat(store.get(EXAMPLE)).contains(ENFORCE); // a sender's use: pinned
    List<DomainName> names = new ArrayList<>(List.of(EXAMPLE));

    for (int i = 0; i < 40; i++) {
      DomainName flood = DomainName.of("flood" + i + ".test");
      names.add(flood);
      store.put(flood, entry("1", MtaStsMode.ENFORCE, Duration.ofDays(365), "mx.example.test"));

      FilePolicyStore onDisk = new FilePolicyStore(file());
      assertThat(store.size()).isLessThanOrEqualTo(5);
      assertThat(onDisk.size()).as("after %d", i).isEqualTo(store.size());
      for (DomainName name : names) {
        assertThat(onDisk.peek(name)).as("%s after %d", name, i).isEqualTo(store.peek(name));
      }
    }
    assertThat(store.peek(EXAMPLE)).contains(ENFORCE);
  }

  @Test
  void theBoundAppliesOnLoadAndOnWrite() {
    FilePolicyStore big = new FilePolicyStore(file(), 10);
    List<DomainName> names = new ArrayList<>();
    for (int i = 0; i < 10; i++) {
      DomainName name = DomainName.of("d" + i + ".test");
      names.add(name);
      big.put(name, entry("1", MtaStsMode.ENFORCE, Duration.ofDays(1 + i), "mx.example.test"));
    }

    FilePolicyStore small = new FilePolicyStore(file(), 3);

    assertThat(small.size()).isEqualTo(3);
    // Nothing was used yet: the most protective are kept, enforce ones that expire last.
    assertThat(small.peek(names.get(9))).isPresent();
    assertThat(small.peek(names.get(8))).isPresent();
    assertThat(small.peek(names.get(7))).isPresent();
    assertThat(small.peek(names.get(0))).isEmpty();
    small.put(DomainName.of("new.test"), ENFORCE);
    assertThat(new FilePolicyStore(file()).size()).isEqualTo(3);
  }
}
