package io.mailtls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code --version} prints the version the build made, not a literal in the source. */
class VersionTest {

  @Test
  void versionIsTheBuildsVersion() {
    String expected = System.getProperty("mailtls.expectedVersion");
    assertThat(expected).as("set by the cli pom's surefire configuration").isNotBlank();

    CliRun run = CliRun.run(List.of("--version"));

    assertThat(run.exit()).isZero();
    assertThat(run.out().strip()).isEqualTo("mailtls " + expected);
  }
}
