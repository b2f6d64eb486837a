package io.mailtls.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every Java snippet in the README is taken from a compiled example file: each must name its source
 * in the comment line above it, and every line of the snippet must stand in that file, so a snippet
 * cannot drift from code that compiles and runs in CI.
 */
class ReadmeSnippetsTest {

  private static final Pattern SNIPPET =
      Pattern.compile("(?:<!-- from (\\S+)[^\\n]*-->\\n)?```java\\n(.*?)```", Pattern.DOTALL);

  private static Path root() {
    Path p = Path.of("").toAbsolutePath();
    while (p != null && !Files.exists(p.resolve("README.md"))) {
      p = p.getParent();
    }
    return p;
  }

  @Test
  void everyJavaSnippetStandsInTheFileItNames() throws IOException {
    Path root = root();
    String readme = Files.readString(root.resolve("README.md"), StandardCharsets.UTF_8);
    Matcher m = SNIPPET.matcher(readme);
    List<String> checked = new ArrayList<>();
    while (m.find()) {
      assertThat(m.group(1)).as("a README java snippet without a source comment").isNotNull();
      String source = Files.readString(root.resolve(m.group(1)), StandardCharsets.UTF_8);
      for (String line : m.group(2).split("\n", -1)) {
        if (!line.isBlank()) {
          assertThat(source).as("README line from %s", m.group(1)).contains(line.strip());
        }
      }
      checked.add(m.group(1));
    }
    assertThat(checked).isNotEmpty();
  }
}
