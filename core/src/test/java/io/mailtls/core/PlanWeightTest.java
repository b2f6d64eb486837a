package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * The estimate of the peer data a cached plan holds, which bounds the plan cache ({@code
 * PlanCache}): the MTA-STS policy is the plan's own, kept alive by the plan after the policy store
 * evicted or replaced it (the plan cache holds more next hops than the default store; a store that
 * deserializes, as Redis's, shares nothing), so its text (up to {@link
 * MtaStsPolicy#MAX_TEXT_LENGTH} characters) and its {@code mx} patterns count.
 */
class PlanWeightTest {

  private static final NextHop HOP = NextHop.parse("example.com");
  private static final MxResolution NO_MX =
      new MxResolution(HOP, MxResolution.Kind.MX, List.of(), Optional.empty(), List.of());

  private static MtaStsLookup found(MtaStsPolicy policy) {
    return new MtaStsLookup.Found(DomainName.of("example.com"), policy, false, "fetched");
  }

  @Test
  void thePolicyTextCountsInThePlansWeight() {
    MtaStsPolicy fields =
        new MtaStsPolicy("id1", MtaStsMode.ENFORCE, List.of("mx.example.com"), Duration.ofDays(1));
    String text = "version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n";
    text += "x-padding: " + "a".repeat(MtaStsPolicy.MAX_TEXT_LENGTH - text.length() - 12) + "\n";
    MtaStsPolicy withText = fields.withText(text);
    assertThat(withText.text()).contains(text);

    long without =
        TransportPolicyResolver.estimatedBytes(NO_MX, Optional.of(found(fields)), Map.of());
    long with =
        TransportPolicyResolver.estimatedBytes(NO_MX, Optional.of(found(withText)), Map.of());
    assertThat(with - without)
        .as(
            "estimate with a %d-character policy text: %d, without: %d",
            text.length(), with, without)
        .isGreaterThanOrEqualTo(text.length());
  }

  @Test
  void thePolicysMxPatternsCountInThePlansWeight() {
    List<String> patterns = new ArrayList<>();
    for (int i = 0; i < 200; i++) {
      patterns.add("mx" + i + ".a-rather-long-label-chosen-by-the-peer.example.com");
    }
    MtaStsPolicy one =
        new MtaStsPolicy("id1", MtaStsMode.ENFORCE, patterns.subList(0, 1), Duration.ofDays(1));
    MtaStsPolicy many = new MtaStsPolicy("id1", MtaStsMode.ENFORCE, patterns, Duration.ofDays(1));
    long patternChars = patterns.stream().mapToLong(String::length).sum();

    long small = TransportPolicyResolver.estimatedBytes(NO_MX, Optional.of(found(one)), Map.of());
    long large = TransportPolicyResolver.estimatedBytes(NO_MX, Optional.of(found(many)), Map.of());
    assertThat(large - small)
        .as(
            "estimate with 200 mx patterns (%d characters): %d, with one: %d",
            patternChars, large, small)
        .isGreaterThanOrEqualTo(patternChars - patterns.get(0).length());
  }
}
