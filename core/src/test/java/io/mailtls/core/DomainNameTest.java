package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class DomainNameTest {

  @Test
  void surefireRunsUnderTheTurkishLocale() {
    // The build sets -Duser.language=tr so that any case conversion without Locale.ROOT fails.
    assertThat(Locale.getDefault().getLanguage()).isEqualTo("tr");
    assertThat("MAIL".toLowerCase(Locale.getDefault())).isEqualTo("maıl");
  }

  @ParameterizedTest(name = "{0} -> {1}")
  @CsvSource({
    // case (with the dotted/dotless i that breaks under a Turkish default locale)
    "EXAMPLE.TEST, example.test",
    "MAIL.Example.Test, mail.example.test",
    "IMAP.INFO, imap.info",
    // trailing dot
    "example.test., example.test",
    // U-label vs A-label: both normalise to the A-label
    "bücher.test, xn--bcher-kva.test",
    "BÜCHER.test, xn--bcher-kva.test",
    "xn--bcher-kva.test, xn--bcher-kva.test",
    "XN--BCHER-KVA.TEST, xn--bcher-kva.test",
    "münchen.example., xn--mnchen-3ya.example",
    // ideographic full stop separates labels (RFC 3490 §3.1)
    "bücher。test, xn--bcher-kva.test",
    // service labels (RFC 8552)
    "_mta-sts.Example.test, _mta-sts.example.test",
    "_25._TCP.mx.example.test, _25._tcp.mx.example.test",
    // digits and hyphens
    "a-b.c0.test, a-b.c0.test",
    "1.2.3.4, 1.2.3.4",
  })
  void normalises(String input, String expected) {
    DomainName name = DomainName.of(input);
    assertThat(name.toString()).isEqualTo(expected);
    assertThat(name).isEqualTo(DomainName.of(expected)).hasSameHashCodeAs(DomainName.of(expected));
  }

  @Test
  void uLabelAndALabelAreEqual() {
    assertThat(DomainName.of("Bücher.Test.")).isEqualTo(DomainName.of("xn--bcher-kva.test"));
    assertThat(DomainName.of("xn--bcher-kva.test").toUnicode()).isEqualTo("bücher.test");
  }

  @ParameterizedTest(name = "[{index}] \"{0}\"")
  @ValueSource(
      strings = {
        "",
        ".",
        "..",
        "a..b",
        ".a",
        "a b.test",
        "a@b.test",
        "-a.test",
        "a-.test",
        "a/b.test",
        "a_b.test",
        "ex*mple.test",
        "xn--zz.test",
        "a\u0000b.test",
        "\"quoted\".test"
      })
  void rejectsInvalidNamesNamingTheValue(String input) {
    if (input.equals(".")) {
      assertThat(DomainName.of(input)).isEqualTo(DomainName.ROOT);
      return;
    }
    assertThatThrownBy(() -> DomainName.of(input))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("\"" + input + "\"");
  }

  @Test
  void labelOf63OctetsIsAllowedAnd64Rejected() {
    String l63 = "a".repeat(63);
    assertThat(DomainName.of(l63 + ".test").labels().get(0)).hasSize(63);
    String l64 = "a".repeat(64);
    assertThatThrownBy(() -> DomainName.of(l64 + ".test"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("label longer than 63")
        .hasMessageContaining(l64);
  }

  @Test
  void nameOf253OctetsIsAllowedAndLongerRejected() {
    // 4 labels of 63 + 3 dots = 255 > 253; 3 x 63 + 61 + 3 dots = 253.
    String ok = "a".repeat(63) + "." + "b".repeat(63) + "." + "c".repeat(63) + "." + "d".repeat(61);
    assertThat(ok).hasSize(253);
    assertThat(DomainName.of(ok).toString()).hasSize(253);
    String tooLong = ok + "d";
    assertThatThrownBy(() -> DomainName.of(tooLong))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("longer than 253")
        .hasMessageContaining(tooLong);
  }

  @Test
  void nullIsRejected() {
    assertThatThrownBy(() -> DomainName.of(null)).isInstanceOf(NullPointerException.class);
  }

  @Test
  void treeOperations() {
    DomainName mx = DomainName.of("mx.example.test");
    assertThat(mx.parent()).isEqualTo(DomainName.of("example.test"));
    assertThat(mx.parent().parent().parent()).isEqualTo(DomainName.ROOT);
    assertThat(mx.prefixed("_25", "_tcp").toString()).isEqualTo("_25._tcp.mx.example.test");
    assertThat(mx.isSubdomainOf(DomainName.of("EXAMPLE.test"))).isTrue();
    assertThat(mx.isSubdomainOf(mx)).isTrue();
    assertThat(DomainName.of("badexample.test").isSubdomainOf(DomainName.of("example.test")))
        .isFalse();
    assertThat(mx.isSubdomainOf(DomainName.ROOT)).isTrue();
    assertThat(mx.isHostName()).isTrue();
    assertThat(mx.prefixed("_25", "_tcp").isHostName()).isFalse();
    assertThat(DomainName.ROOT.isHostName()).isFalse();
    assertThat(mx.toFqdn()).isEqualTo("mx.example.test.");
    assertThat(DomainName.ROOT.toString()).isEqualTo(".");
  }
}
