package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class EnhancedStatusTest {

  @ParameterizedTest(name = "RFC 3463 §2 parses {0}")
  @CsvSource({
    "2.0.0,   2, 0, 0,     2.0.0",
    "5.1.1,   5, 1, 1,     5.1.1",
    "4.7.1,   4, 7, 1,     4.7.1",
    "5.1.10,  5, 1, 10,    5.1.10",
    "5.7.26,  5, 7, 26,    5.7.26",
    "4.999.999, 4, 999, 999, 4.999.999",
    "5.01.001, 5, 1, 1,    5.1.1",
  })
  void parsesValidCodes(String text, int statusClass, int subject, int detail, String canonical) {
    EnhancedStatus status = EnhancedStatus.parse(text);

    assertThat(status).isEqualTo(new EnhancedStatus(statusClass, subject, detail));
    assertThat(status.toString()).isEqualTo(canonical);
    assertThat(EnhancedStatus.tryParse(text)).contains(status);
  }

  @ParameterizedTest(name = "RFC 3463 §2 rejects \"{0}\"")
  @ValueSource(
      strings = {
        "",
        "5",
        "5.1",
        "5.1.",
        "5..1",
        ".1.1",
        "3.1.1",
        "1.1.1",
        "6.0.0",
        "5.1000.1",
        "5.1.1000",
        "5.1.1.1",
        " 5.1.1",
        "5.1.1 ",
        "5.-1.1",
        "5.+1.1",
        "5.a.1",
        "5.1.a",
        "5,1,1",
        "5.١.1",
        "55.1.1"
      })
  void rejectsInvalidCodes(String text) {
    assertThat(EnhancedStatus.tryParse(text)).isEqualTo(Optional.empty());
    assertThatThrownBy(() -> EnhancedStatus.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"" + text + "\"");
  }

  @Test
  void constructorValidatesRanges() {
    assertThatThrownBy(() -> new EnhancedStatus(3, 0, 0)).hasMessageContaining("3");
    assertThatThrownBy(() -> new EnhancedStatus(5, 1000, 0)).hasMessageContaining("1000");
    assertThatThrownBy(() -> new EnhancedStatus(5, 0, -1)).hasMessageContaining("-1");
  }

  @Test
  void classPredicates() {
    assertThat(EnhancedStatus.parse("2.0.0").isSuccess()).isTrue();
    assertThat(EnhancedStatus.parse("4.4.1").isTransientFailure()).isTrue();
    assertThat(EnhancedStatus.parse("5.1.1").isPermanentFailure()).isTrue();
    assertThat(EnhancedStatus.parse("5.1.1").isTransientFailure()).isFalse();
  }

  @Test
  void constantsMatchTheirRfcs() {
    assertThat(EnhancedStatus.MESSAGE_TOO_BIG).hasToString("5.3.4");
    assertThat(EnhancedStatus.CONVERSION_NOT_SUPPORTED).hasToString("5.6.3");
    assertThat(EnhancedStatus.NON_ASCII_ADDRESS_NOT_PERMITTED).hasToString("5.6.7");
    assertThat(EnhancedStatus.NULL_MX).hasToString("5.1.10");
    assertThat(EnhancedStatus.NO_ANSWER_FROM_HOST).hasToString("4.4.1");
    assertThat(EnhancedStatus.BAD_CONNECTION).hasToString("4.4.2");
    assertThat(EnhancedStatus.DIRECTORY_SERVER_FAILURE).hasToString("4.4.3");
    assertThat(EnhancedStatus.UNABLE_TO_ROUTE).hasToString("5.4.4");
    assertThat(EnhancedStatus.PROTOCOL_ERROR).hasToString("4.5.0");
    assertThat(EnhancedStatus.SECURITY_FEATURES_NOT_SUPPORTED).hasToString("4.7.4");
    assertThat(EnhancedStatus.CRYPTOGRAPHIC_FAILURE).hasToString("4.7.5");
    assertThat(EnhancedStatus.REQUIRETLS_NEEDED).hasToString("5.7.30");
  }

  @Test
  void withStatusClass() {
    assertThat(EnhancedStatus.UNABLE_TO_ROUTE.withStatusClass(4)).hasToString("4.4.4");
    assertThat(EnhancedStatus.UNABLE_TO_ROUTE.withStatusClass(5))
        .isSameAs(EnhancedStatus.UNABLE_TO_ROUTE);
    assertThatThrownBy(() -> EnhancedStatus.UNABLE_TO_ROUTE.withStatusClass(3))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
