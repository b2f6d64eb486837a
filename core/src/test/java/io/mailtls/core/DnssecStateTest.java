package io.mailtls.core;

import static io.mailtls.core.DnssecState.BOGUS;
import static io.mailtls.core.DnssecState.INDETERMINATE;
import static io.mailtls.core.DnssecState.INSECURE;
import static io.mailtls.core.DnssecState.SECURE;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class DnssecStateTest {

  @Test
  void weakestLinkDecidesAChain() {
    assertThat(SECURE.weakest(SECURE)).isEqualTo(SECURE);
    assertThat(SECURE.weakest(INSECURE)).isEqualTo(INSECURE);
    assertThat(INSECURE.weakest(SECURE)).isEqualTo(INSECURE);
    assertThat(INSECURE.weakest(INDETERMINATE)).isEqualTo(INDETERMINATE);
    assertThat(INDETERMINATE.weakest(BOGUS)).isEqualTo(BOGUS);
    assertThat(BOGUS.weakest(SECURE)).isEqualTo(BOGUS);
  }
}
