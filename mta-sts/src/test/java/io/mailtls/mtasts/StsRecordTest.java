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
  @CsvSource(
      delimiter = '|',
      value = {
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
  @ValueSource(
      strings = {
        "v=STSv1", // id is required
        "v=STSv1;", // id is required
        "V=STSv1; id=1", // version is case-sensitive
        "v=stsv1; id=1",
        "v=STSv2; id=1",
        "v=STSv1 id=1", // fields need ';'
        "v=STSv1; ID=1", // %s"id=" is case-sensitive: ID is an
        // extension, so id is missing
        "v=STSv1; id=", // 1*32
        "v=STSv1; id=123456789012345678901234567890123", // 33 characters
        "v=STSv1; id=abc-def", // ALPHA / DIGIT only
        "v=STSv1; id=1;; x=y",
        "v=STSv1; id=1; _x=y", // ext name starts with ALPHA / DIGIT
        "v=STSv1; id=1; x=", // ext value 1*
        "v=STSv1; id=1; x=a=b", // '=' not allowed in a value
        "v=STSv1; id=1; x=é", // visible ASCII only
        " v=STSv1; id=1", // must start with the version
      })
  void section3_1InvalidRecords(String text) {
    assertThatThrownBy(() -> StsRecord.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("RFC 8461 §3.1");
  }

  @Test
  void section3_1RecordsNotStartingWithTheVersionAreDiscarded() {
    StsRecord.Selection s =
        StsRecord.select(List.of("v=spf1 -all", "v=STSv1; id=42;", "v=STSv10; id=7"));
    assertThat(s).isEqualTo(new StsRecord.Found(new StsRecord("42", Map.of())));
  }

  @Test
  void recordsNotStartingWithVersionAndSemicolonAreDiscardedBeforeCounting() {
    // RFC 8461 §3.1: only a record that begins with "v=STSv1;" is a candidate; the rest are
    // discarded before the count, so none of these stands beside the valid record as a second one.
    for (String other :
        List.of(
            "v=STSv1",
            "v=STSv1 ",
            "v=STSv1\t",
            "v=STSv1 id=2",
            "v=STSv1\tid=2",
            "v=STSv1-x; id=2",
            "v=STSv10; id=2",
            " v=STSv1; id=2",
            "id=2; v=STSv1",
            "v=spf1 -all")) {
      assertThat(StsRecord.select(List.of(other, "v=STSv1; id=good")))
          .as("beside \"%s\"", other)
          .isEqualTo(new StsRecord.Found(new StsRecord("good", Map.of())));
      assertThat(StsRecord.select(List.of("v=STSv1; id=good", other)))
          .as("after \"%s\"", other)
          .isEqualTo(new StsRecord.Found(new StsRecord("good", Map.of())));
    }
  }

  @Test
  void aRecordBeginningWithVersionAndSemicolonCountsEvenWhenInvalid() {
    // RFC 8461 §3.1: the count comes first, validity second: two candidates mean no policy even
    // when one of them would not parse.
    for (String other : List.of("v=STSv1;", "v=STSv1; id=", "v=STSv1;id=bad-id", "v=STSv1; x")) {
      assertThat(StsRecord.select(List.of(other, "v=STSv1; id=good")))
          .as("beside \"%s\"", other)
          .isInstanceOfSatisfying(
              StsRecord.NotFound.class, n -> assertThat(n.reason()).contains("2 TXT records"));
    }
  }

  @Test
  void whiteSpaceBeforeTheFirstSemicolonStillBeginsARecord() {
    // RFC 8461 §3.1 ABNF: sts-field-delim = *WSP ";" *WSP, so "v=STSv1 ;" is the version and a
    // delimiter, and the record is valid; discarding it would take the domain's policy away.
    assertThat(StsRecord.select(List.of("v=spf1 -all", "v=STSv1 \t; id=good")))
        .isEqualTo(new StsRecord.Found(new StsRecord("good", Map.of())));
    assertThat(StsRecord.select(List.of("v=STSv1 ; id=1", "v=STSv1; id=2")))
        .isInstanceOf(StsRecord.NotFound.class);
  }

  @ParameterizedTest(name = "[{index}] \"{0}\"")
  @ValueSource(
      strings = {
        "v=STSv1; id=1 ",
        "v=STSv1; id=1\t",
        "v=STSv1; id=1;x=y  ",
        "v=STSv1;id=1 \t",
      })
  void trailingWhiteSpaceIsInvalid(String text) {
    // RFC 8461 §3.1 ABNF: white space belongs to sts-field-delim, *WSP ";" *WSP; after the last
    // field it may only come with a ";".
    assertThatThrownBy(() -> StsRecord.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("white space")
        .hasMessageContaining("RFC 8461 §3.1");
    assertThat(StsRecord.select(List.of(text))).isInstanceOf(StsRecord.NotFound.class);
  }

  @ParameterizedTest(name = "[{index}] \"{0}\"")
  @ValueSource(
      strings = {
        "v=STSv1; id=1;",
        "v=STSv1; id=1; ",
        "v=STSv1; id=1 ;\t",
        "v=STSv1; id=1 \t; x=y; "
      })
  void whiteSpaceAroundATrailingSemicolonIsValid(String text) {
    assertThat(StsRecord.parse(text).id()).isEqualTo("1");
  }

  @Test
  void repeatedKeyFirstOccurrenceCounts() {
    // RFC 8461 §3.2 (for TXT records and policies alike): of a repeated key other than mx, "all
    // entries except for the first SHALL be ignored".
    assertThat(StsRecord.parse("v=STSv1; id=1; id=2").id()).isEqualTo("1");
    StsRecord r = StsRecord.parse("v=STSv1; x=a; id=first; x=b; id=second; id=not-an-id");
    assertThat(r.id()).isEqualTo("first");
    assertThat(r.extensions()).isEqualTo(Map.of("x", "a"));
    assertThat(StsRecord.select(List.of("v=STSv1; id=1; id=2")))
        .isEqualTo(new StsRecord.Found(new StsRecord("1", Map.of())));
    // The first occurrence counts even when it is the invalid one.
    assertThatThrownBy(() -> StsRecord.parse("v=STSv1; id=a-b; id=ok"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("id must be");
    // An ignored field is still a field: it must fit the record's grammar.
    assertThatThrownBy(() -> StsRecord.parse("v=STSv1; id=1; id="))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("RFC 8461 §3.1");
    assertThatThrownBy(() -> StsRecord.parse("v=STSv1; id=1; id=a=b"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("RFC 8461 §3.1");
  }

  @Test
  void section3_1NotExactlyOneRecordMeansNoPolicy() {
    assertThat(StsRecord.select(List.of())).isInstanceOf(StsRecord.NotFound.class);
    assertThat(StsRecord.select(List.of("v=STSv1; id=1", "v=STSv1; id=2")))
        .isInstanceOfSatisfying(
            StsRecord.NotFound.class, n -> assertThat(n.reason()).contains("2 TXT records"));
    assertThat(StsRecord.select(List.of("v=STSv1; id=bad-id")))
        .isInstanceOf(StsRecord.NotFound.class);
  }
}
