package io.mailtls.interop;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.FailureType;
import io.mailtls.core.PolicySource;
import io.mailtls.core.TlsLevel;
import io.mailtls.interop.Scenario.Expect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * interop/README.md shows the scenario table exactly as {@link Scenario} defines it, and up.sh
 * serves exactly the domains the table lists. On a mismatch the rendered table is written to {@code
 * target/scenario-table.md} to paste between the markers.
 */
class ScenarioTableTest {

  static final String BEGIN =
      "<!-- scenario-table:begin (generated from Scenario.java; "
          + "ScenarioTableTest checks it) -->";
  static final String END = "<!-- scenario-table:end -->";

  static String render() {
    StringBuilder b = new StringBuilder();
    b.append(
        "| domain | set-up | MX listener | opportunistic | enforced | sts-required "
            + "| dane-required | posttls-finger |\n");
    b.append("|---|---|---|---|---|---|---|---|\n");
    for (Scenario s : Scenario.values()) {
      b.append("| `")
          .append(s.domain)
          .append("` | ")
          .append(s.setup)
          .append(" | ")
          .append(s.listener.address)
          .append(" (")
          .append(s.listener.name().toLowerCase(Locale.ROOT).replace('_', '-'))
          .append(") | ");
      for (TlsLevel level : TlsLevel.values()) {
        b.append(cell(s.expect(level))).append(" | ");
      }
      b.append('`')
          .append("-l ")
          .append(s.finger.level())
          .append(s.finger.host().map(h -> " [" + h + "]").orElse(""))
          .append("`: ")
          .append(s.finger.verdict().text)
          .append(" |\n");
    }
    return b.toString();
  }

  static String cell(Expect e) {
    String source =
        e.source() == PolicySource.MTA_STS ? "mta-sts" : e.source().name().toLowerCase(Locale.ROOT);
    String failures =
        e.failures().stream().map(ScenarioTableTest::name).collect(Collectors.joining(", "));
    if (e.status() == DeliveryStatus.DELIVERED) {
      return "**DELIVERED** "
          + e.authentication().orElseThrow()
          + " ("
          + source
          + ")"
          + (failures.isEmpty() ? "" : "; reported: " + failures);
    }
    return e.status() + " (" + source + "): " + failures;
  }

  /** The RFC 8460 result type where there is one, else the FailureType name. */
  static String name(FailureType f) {
    return f.tlsRptResultType().map(t -> "`" + t + "`").orElse(f.name());
  }

  @Test
  void readmeShowsTheTable() throws Exception {
    String table = render();
    Path out = Path.of("target", "scenario-table.md");
    Files.createDirectories(out.getParent());
    Files.writeString(out, table, StandardCharsets.UTF_8);
    String readme = Files.readString(Path.of("..", "interop", "README.md"), StandardCharsets.UTF_8);
    int begin = readme.indexOf(BEGIN);
    int end = readme.indexOf(END);
    assertThat(begin).as("marker in interop/README.md: %s", BEGIN).isNotNegative();
    assertThat(end).as("marker in interop/README.md: %s", END).isGreaterThan(begin);
    assertThat(readme.substring(begin + BEGIN.length(), end).strip())
        .as("interop/README.md scenario table; the current one is in %s", out.toAbsolutePath())
        .isEqualTo(table.strip());
  }

  @Test
  void upShServesExactlyTheseDomains() throws Exception {
    InteropEnv.requireUp();
    Properties facts = new Properties();
    try (var in = Files.newInputStream(InteropEnv.STATE.resolve("facts.properties"))) {
      facts.load(in);
    }
    Set<String> served = new TreeSet<>(List.of(facts.getProperty("domains").split(" ")));
    Set<String> listed = new TreeSet<>();
    for (Scenario s : Scenario.values()) {
      listed.add(s.domain);
    }
    assertThat(served).isEqualTo(listed);
  }
}
