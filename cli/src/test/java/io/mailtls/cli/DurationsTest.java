package io.mailtls.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.LongRange;
import net.jqwik.api.constraints.StringLength;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link Durations}: the accepted forms, the errors, and format/parse round trips. */
class DurationsTest {

  @ParameterizedTest(name = "{0} = {1} ms")
  @CsvSource({
    "10s, 10000",
    "30, 30000",
    "2m, 120000",
    "2min, 120000",
    "1h, 3600000",
    "500ms, 500",
    "PT10S, 10000",
    "pt1m30s, 90000",
    "PT0.25S, 250",
    "' 5s ', 5000",
    "10S, 10000"
  })
  void acceptedForms(String text, long millis) {
    assertThat(Durations.parse(text)).isEqualTo(Duration.ofMillis(millis));
  }

  @ParameterizedTest(name = "[{index}] \"{0}\"")
  @CsvSource(
      delimiter = '|',
      value = {
        "''|give 10s, 2m, 1h, 500ms, PT10S or seconds",
        "ten|give",
        "-5s|give",
        "5 s|give",
        "5d|give",
        "1.5s|give",
        "0|must be more than zero",
        "0ms|must be more than zero",
        "PT0S|must be more than zero",
        "PT-1S|must be more than zero",
        "PT0.0001S|millisecond precision",
        "25h|at most 24h",
        "P2D|at most 24h",
        "99999999999999999999|give",
        "PT999999999999999999H|give"
      })
  void refusedWithAClearMessage(String text, String message) {
    assertThatThrownBy(() -> Durations.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageStartingWith("invalid duration \"" + text + "\"")
        .hasMessageContaining(message);
  }

  @Test
  void formatPicksTheLargestExactUnit() {
    assertThat(Durations.format(Duration.ofMinutes(10))).isEqualTo("10m");
    assertThat(Durations.format(Duration.ofSeconds(90))).isEqualTo("90s");
    assertThat(Durations.format(Duration.ofHours(2))).isEqualTo("2h");
    assertThat(Durations.format(Duration.ofMillis(1500))).isEqualTo("1500ms");
  }

  @Property
  void formatThenParseIsTheIdentity(@ForAll @LongRange(min = 1, max = 86_400_000L) long millis) {
    Duration d = Duration.ofMillis(millis);
    assertThat(Durations.parse(Durations.format(d))).isEqualTo(d);
  }

  @Property
  void isoFormThenParseIsTheIdentity(@ForAll @LongRange(min = 1, max = 86_400_000L) long millis) {
    Duration d = Duration.ofMillis(millis);
    assertThat(Durations.parse(d.toString())).isEqualTo(d);
  }

  @Property
  void plainSecondsAreSeconds(@ForAll @LongRange(min = 1, max = 86_400) long seconds) {
    assertThat(Durations.parse(Long.toString(seconds))).isEqualTo(Duration.ofSeconds(seconds));
    assertThat(Durations.parse(seconds + "s")).isEqualTo(Duration.ofSeconds(seconds));
  }

  @Property
  void anyTextParsesOrFailsWithTheDocumentedException(
      @ForAll("durationish") @StringLength(max = 24) String text) {
    try {
      Duration d = Durations.parse(text);
      assertThat(d).isPositive().isLessThanOrEqualTo(Durations.MAX);
    } catch (IllegalArgumentException e) {
      assertThat(e).hasMessageStartingWith("invalid duration");
    }
  }

  @Provide
  Arbitrary<String> durationish() {
    return Arbitraries.strings().withChars("0123456789PTHMSmshd.-+ ").ofMaxLength(24);
  }
}
