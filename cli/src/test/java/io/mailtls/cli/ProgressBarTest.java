package io.mailtls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.api.Test;

/** The bulk check's progress bar: drawn in place, cleared before results, gone at the end. */
class ProgressBarTest {

  @Test
  void rendersProgressAndTheLatestDomain() {
    ProgressBar bar = new ProgressBar(new PrintWriter(new StringWriter()), 10);
    assertThat(bar.render()).isEqualTo("[..............................]  0/10 ");
    bar.advance("good.test");
    bar.advance("a-very-long-domain-name-that-does-not-fit-in-the-bar.example.test");
    assertThat(bar.render())
        .startsWith("[######........................]  2/10 a-very-long")
        .endsWith("...");
  }

  @Test
  void redrawsInPlaceAndClearsAroundResults() {
    StringWriter err = new StringWriter();
    ProgressBar bar = new ProgressBar(new PrintWriter(err), 2);
    bar.advance("one.test");
    StringBuilder printed = new StringBuilder();
    bar.above(() -> printed.append("result"));
    bar.advance("two.test");
    bar.finish();
    String s = err.toString();
    assertThat(s).doesNotContain("\n").startsWith("\r[");
    assertThat(s).contains("1/2 one.test", "2/2 two.test");
    assertThat(s).endsWith("\r");
    assertThat(printed).hasToString("result");
  }
}
