package io.mailtls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * The testkit is a run-time dependency of this module for {@code mailtls demo} alone
 * (cli/README.md): only the package {@code io.mailtls.cli.demo} may name it, so {@code check},
 * {@code send} and {@code mx} can never reach a test server, a test PKI or a fake clock.
 */
class TestkitOnlyInDemoTest {

  private static final Path MAIN = Path.of("src", "main", "java", "io", "mailtls", "cli");

  @Test
  void onlyTheDemoPackageNamesTheTestkit() throws IOException {
    List<Path> sources;
    try (Stream<Path> files = Files.walk(MAIN)) {
      sources =
          files.filter(p -> p.toString().endsWith(".java")).sorted().collect(Collectors.toList());
    }
    List<Path> naming =
        sources.stream()
            .filter(TestkitOnlyInDemoTest::namesTheTestkit)
            .map(MAIN::relativize)
            .collect(Collectors.toList());

    assertThat(sources).as("the command line's sources").hasSizeGreaterThan(10);
    assertThat(naming)
        .as("sources naming io.mailtls.testkit")
        .isNotEmpty()
        .allSatisfy(p -> assertThat(p.getName(0)).hasToString("demo"));
  }

  private static boolean namesTheTestkit(Path source) {
    try {
      return Files.readString(source, StandardCharsets.UTF_8).contains("io.mailtls.testkit");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
