package io.mailtls.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import org.junit.jupiter.api.Test;

class TrustAnchorsTest {

  @Test
  void bundledIanaRootHasKsk2017AndKsk2024() {
    assertThat(TrustAnchors.ianaRoot().summary())
        .containsExactly(". DS 20326 8 2", ". DS 38696 8 2");
  }

  @Test
  void parsesDnskeyAnchors() {
    TrustAnchors a =
        TrustAnchors.parse(
            "test. 3600 IN DNSKEY 257 3 13 mdsswUyr3DPW132mOi8V9xESWE8jTo0dxCjjnopKl+GqJxpVXckHAeF+"
                + "KkxLbxILfDLUT0rAK9iUzy1L53eKGQ==\n");
    assertThat(a.summary()).hasSize(1);
    assertThat(a.summary().get(0)).startsWith("test. DNSKEY ");
  }

  @Test
  void rejectsOtherRecordTypes() {
    assertThatThrownBy(() -> TrustAnchors.parse(". IN A 192.0.2.1\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("DS or DNSKEY")
        .hasMessageContaining("A");
  }

  @Test
  void rejectsGarbageAndEmpty() {
    assertThatThrownBy(() -> TrustAnchors.parse(". IN DS not-a-number\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("do not parse");
    assertThatThrownBy(() -> TrustAnchors.parse("; only a comment\n"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no trust anchor");
  }

  @Test
  void rejectsOversizedInput() {
    byte[] big = new byte[(1 << 20) + 1];
    assertThatThrownBy(() -> TrustAnchors.read(new ByteArrayInputStream(big)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("larger than");
  }
}
