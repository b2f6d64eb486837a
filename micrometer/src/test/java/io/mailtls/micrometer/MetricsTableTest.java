package io.mailtls.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.SecureSmtpTransport;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The meters table of docs/metrics.md says exactly what a real registry holds after the {@link
 * ScriptedDeliveries} (which meet every meter: a delivery, a bounce, a policy failure): each
 * meter's name, type, base unit and tag keys, and no meter the table leaves out. The unit matters
 * to whoever queries the meters: some registries put it in the exported name.
 */
class MetricsTableTest {

  private static final Pattern CODE = Pattern.compile("`([^`]+)`");

  /** A row of the table: name to "type unit [tag keys]". */
  private static Map<String, String> documented() throws IOException {
    String text = Files.readString(Path.of("..", "docs", "metrics.md"));
    int start = text.indexOf("### Meters");
    int end = text.indexOf("\n### ", start + 1);
    Map<String, String> rows = new TreeMap<>();
    List<String> header = null;
    for (String line : text.substring(start, end).lines().toList()) {
      if (!line.startsWith("|") || line.startsWith("|---")) {
        continue;
      }
      List<String> cells = new ArrayList<>();
      for (String c : line.substring(1, line.length() - 1).split("\\|", -1)) {
        cells.add(c.strip());
      }
      if (header == null) {
        header = cells;
        continue;
      }
      String name = first(cells.get(header.indexOf("Name")));
      String type = cells.get(header.indexOf("Type"));
      int unitColumn = header.indexOf("Unit");
      String unit = unitColumn < 0 ? "(no unit column)" : first(cells.get(unitColumn));
      // The tags the meter always has: "(+ domain when enabled)" and gauges' own are not.
      String tagCell = cells.get(header.indexOf("Tags")).replaceAll("\\(\\+.*\\)", "");
      TreeSet<String> tags = new TreeSet<>();
      Matcher m = CODE.matcher(tagCell);
      while (m.find()) {
        tags.add(m.group(1));
      }
      rows.put(name, type + " " + unit + " " + tags);
    }
    return rows;
  }

  private static String first(String cell) {
    Matcher m = CODE.matcher(cell);
    return m.find() ? m.group(1) : cell;
  }

  private static Map<String, String> registered(SimpleMeterRegistry registry) {
    Map<String, String> out = new TreeMap<>();
    for (Meter m : registry.getMeters()) {
      Meter.Id id = m.getId();
      TreeSet<String> tags = new TreeSet<>();
      id.getTags().stream().map(Tag::getKey).forEach(tags::add);
      String row =
          id.getType().name().toLowerCase(Locale.ROOT) + " " + id.getBaseUnit() + " " + tags;
      String before = out.put(id.getName(), row);
      assertThat(before == null || before.equals(row))
          .as("%s registered with two shapes: %s and %s", id.getName(), before, row)
          .isTrue();
    }
    return out;
  }

  @Test
  void theTableListsEveryMeterWithItsTypeUnitAndTags() throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    try (ScriptedDeliveries peers = new ScriptedDeliveries();
        SecureSmtpTransport transport = peers.transport(MailtlsMetrics.builder(registry).build())) {
      new TransportPoolMetrics(transport).bindTo(registry);
      ScriptedDeliveries.sendAll(transport);
    }
    assertThat(documented())
        .as("docs/metrics.md's meters table (left) against the registry")
        .containsExactlyInAnyOrderEntriesOf(registered(registry));
  }
}
