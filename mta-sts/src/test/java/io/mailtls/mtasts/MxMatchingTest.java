package io.mailtls.mtasts;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DomainName;
import io.mailtls.core.MtaStsPolicy;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * RFC 8461 §4.1: MX host matching against a policy's {@code mx} patterns ({@link
 * MtaStsPolicy#matches}), with the patterns as the parser produces them.
 */
class MxMatchingTest {

  /** The §3.2 example policy, plus IDN patterns given as A-labels. */
  private static final MtaStsPolicy POLICY =
      StsPolicyParser.parse(
          "version: STSv1\n"
              + "mode: enforce\n"
              + "mx: mail.example.com\n"
              + "mx: *.example.net\n"
              + "mx: backupmx.example.com\n"
              + "mx: mail.xn--bcher-kva.example\n"
              + "mx: *.XN--MNCHEN-3YA.example\n"
              + "max_age: 604800\n",
          "1");

  @ParameterizedTest(name = "{0}: {1} -> {2}")
  @CsvSource(
      delimiter = '|',
      value = {
        // §4.1: exact names.
        "§4.1 exact|mail.example.com|true",
        "§4.1 exact|backupmx.example.com|true",
        "§4.1 another host of the domain|other.example.com|false",
        "§4.1 a suffix is not a match|evilmail.example.com|false",
        "§4.1 the pattern as a prefix is not a match|mail.example.com.evil.test|false",
        "§4.1 the domain itself|example.com|false",
        // §4.1: "*." matches exactly one left-most label.
        "§4.1 wildcard, one label|mx1.example.net|true",
        "§4.1 wildcard, one label with digits and hyphens|mx-2a.example.net|true",
        "§4.1 wildcard, not the bare domain|example.net|false",
        "§4.1 wildcard, not two labels|1234.dhcp.example.net|false",
        "§4.1 wildcard, not three labels|a.b.c.example.net|false",
        "§4.1 wildcard, not another domain|mx1.example.org|false",
        "§4.1 wildcard, not a longer parent|mx1.notexample.net|false",
        // Names compare in normal form: case and the trailing dot do not matter.
        "case of the host|MAIL.Example.COM|true",
        "case under a wildcard|MX1.EXAMPLE.NET|true",
        "trailing dot|mail.example.com.|true",
        "trailing dot under a wildcard|mx1.example.net.|true",
        // IDN: the host given as U-labels matches the A-label pattern (§3.2).
        "IDN exact, U-label host|mail.b\u00fccher.example|true",
        "IDN exact, A-label host|mail.xn--bcher-kva.example|true",
        "IDN wildcard, U-label host|mx.m\u00fcnchen.example|true",
        "IDN wildcard, U-label first label|b\u00fccher.xn--mnchen-3ya.example|true",
        "IDN wildcard, two labels|a.mx.m\u00fcnchen.example|false",
        "IDN, another name|mail.buecher.example|false",
      })
  void section4_1(String rule, String host, boolean matches) {
    assertThat(POLICY.matches(DomainName.of(host))).as(rule).isEqualTo(matches);
  }
}
