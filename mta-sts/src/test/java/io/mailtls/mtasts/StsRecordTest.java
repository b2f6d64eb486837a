package io.mailtls.mtasts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

/** RFC 8461 §3.1: the {@code _mta-sts} TXT record. */
class StsRecordTest {

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(delimiter = '|', value = {
      "v=STSv1; id=20160831085700Z;|20160831085700Z",
      "v=STSv1; id=20160831085700Z|20160831085700Z",
      "v=STSv1;id=abc|abc",
      "v=STSv1 ;\tid=abc ; |abc",
      "v=STSv1; id=12345678901234567890123456789012|12345678901234567890123456789012",
      "v=STSv1; ext-1.a_b=val!ue; id=X|X",
  })
  void section3_1ValidRecords(String text, String id) {
    assertThat(StsRecord.parse(text).id()).isEqualTo(id);
  }

  @Test
  void section3_1ExtensionsAreKept() {
    assertThat(StsRecord.parse("v=STSv1; id=1; foo=bar; foo=baz").extensions())
        .isEqualTo(Map.of("foo", "bar"));
  }

  @ParameterizedTest(name = "[{index}] \"{0}\"")
  @ValueSource(strings = {
      "v=STSv1",                                      // id is required
      "v=STSv1;",                                      // id is required
      "V=STSv1; id=1",                                // version is case-sensitive
      "v=stsv1; id=1",
      "v=STSv2; id=1",
      "v=STSv1 id=1",                                 // fields need ';'
      "v=STSv1; ID=1",                                 // %s"id=" is case-sensitive: ID is an
                                                       // extension, so id is missing
      "v=STSv1; id=",                                  // 1*32
      "v=STSv1; id=123456789012345678901234567890123", // 33 characters
      "v=STSv1; id=abc-def",                           // ALPHA / DIGIT only
      "v=STSv1; id=1; id=2",                           // which one? refused
      "v=STSv1; id=1;; x=y",
      "v=STSv1; id=1; _x=y",                           // ext name starts with ALPHA / DIGIT
      "v=STSv1; id=1; x=",                             // ext value 1*
      "v=STSv1; id=1; x=a=b",                          // '=' not allowed in a value
      "v=STSv1; id=1; x=é",                            // visible ASCII only
      " v=STSv1; id=1",                                // must start with the version
  })
  void section3_1InvalidRecords(String text) {
    assertThatThrownBy(() -> StsRecord.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("RFC 8461 §3.1");
  }

  @Test
  void section3_1RecordsNotStartingWithTheVersionAreDiscarded() {
    StsRecord.Selection s = StsRecord.select(List.of("v=spf1 -all", "v=STSv1; id=42;",
        "v=STSv10; id=7"));
    assertThat(s).isEqualTo(new StsRecord.Found(new StsRecord("42", Map.of())));
  }

  @Test
  void section3_1NotExactlyOneRecordMeansNoPolicy() {
    assertThat(StsRecord.select(List.of())).isInstanceOf(StsRecord.NotFound.class);
    assertThat(StsRecord.select(List.of("v=STSv1; id=1", "v=STSv1; id=2")))
        .isInstanceOfSatisfying(StsRecord.NotFound.class,
            n -> assertThat(n.reason()).contains("2 TXT records"));
    assertThat(StsRecord.select(List.of("v=STSv1; id=bad-id")))
        .isInstanceOf(StsRecord.NotFound.class);
  }
}
