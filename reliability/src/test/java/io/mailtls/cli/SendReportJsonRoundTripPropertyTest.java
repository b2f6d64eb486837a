package io.mailtls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;
import org.jspecify.annotations.Nullable;

/**
 * The command line's JSON ({@link Json}, {@code --json} and {@code --json-lines}) round-trips: a
 * {@link SendReport} holding arbitrary peer text (reply text, host names, details: control
 * characters, quotes, backslashes, line and paragraph separators, unpaired surrogates) reads back
 * equal with a plain JSON parser, and a {@code --json-lines} document is one line.
 */
class SendReportJsonRoundTripPropertyTest {

  private static final ObjectMapper READER = new ObjectMapper();

  @Provide
  Arbitrary<String> peerText() {
    return Arbitraries.oneOf(
        Arbitraries.strings()
            .withChars('"', '\\', '\n', '\r', '\t', '\u0000', '\u001b', '\u2028', '\u2029')
            .withChars('/', '<', '>', '&', 'a', '\u00e9', '\u202e', '\ud800', '\udc00')
            .ofMaxLength(24),
        Arbitraries.strings().all().ofMaxLength(24),
        Arbitraries.of("", "250 2.0.0 Ok: queued", "mx.example.com", "null"));
  }

  @Property(tries = 1000)
  void sendReportReadsBackEqualAndJsonLinesIsOneLine(
      @ForAll @Size(min = 1, max = 40) List<@net.jqwik.api.From("peerText") String> texts,
      @ForAll long seed)
      throws Exception {
    SendReport report = report(texts, new Random(seed));

    String line = Json.line(report);
    assertThat(line).doesNotContain("\n").doesNotContain("\r");
    assertThat(READER.readValue(line, SendReport.class)).isEqualTo(report);
    assertThat(READER.readValue(Json.pretty(report), SendReport.class)).isEqualTo(report);
  }

  /** A report whose every text field is one of {@code texts}, chosen by {@code random}. */
  private static SendReport report(List<String> texts, Random random) {
    Pick pick = new Pick(texts, random);
    List<SendReport.Recipient> recipients = new ArrayList<>();
    int count = 1 + random.nextInt(3);
    for (int i = 0; i < count; i++) {
      SendReport.Tls tls =
          random.nextBoolean()
              ? null
              : new SendReport.Tls(pick.text(), pick.text(), pick.orNull(), List.of());
      CheckReport.Reply reply =
          new CheckReport.Reply(200 + random.nextInt(400), pick.orNull(), pick.text(), false);
      List<SendReport.AttemptEntry> attempts = new ArrayList<>();
      for (int a = random.nextInt(3); a > 0; a--) {
        attempts.add(
            new SendReport.AttemptEntry(
                pick.orNull(),
                pick.text(),
                random.nextInt(65536),
                pick.text(),
                pick.text(),
                tls,
                pick.orNull(),
                pick.orNull(),
                pick.orNull(),
                random.nextBoolean() ? reply : null,
                pick.text()));
      }
      recipients.add(
          new SendReport.Recipient(
              pick.text(),
              pick.text(),
              reply,
              pick.orNull(),
              pick.orNull(),
              random.nextBoolean() ? null : random.nextInt(65536),
              tls,
              pick.orNull(),
              pick.text(),
              new SendReport.Policy(
                  pick.text(),
                  pick.orNull(),
                  pick.orNull(),
                  random.nextBoolean()
                      ? null
                      : new SendReport.StsPolicyRef(pick.text(), pick.text())),
              pick.text(),
              List.of(pick.text(), pick.text()),
              List.of(new SendReport.Skipped(pick.text(), pick.text(), pick.text())),
              attempts,
              List.of(
                  new SendReport.PolicyFailureEntry(
                      pick.text(),
                      random.nextBoolean(),
                      pick.orNull(),
                      pick.orNull(),
                      pick.text(),
                      pick.orNull(),
                      pick.text()))));
    }
    return new SendReport(
        SendReport.SCHEMA,
        pick.text(),
        pick.text(),
        random.nextInt(256),
        new SendReport.Summary(random.nextInt(5), random.nextInt(5), random.nextInt(5)),
        recipients);
  }

  private record Pick(List<String> texts, Random random) {
    String text() {
      return texts.get(random.nextInt(texts.size()));
    }

    @Nullable String orNull() {
      return random.nextInt(4) == 0 ? null : text();
    }
  }
}
