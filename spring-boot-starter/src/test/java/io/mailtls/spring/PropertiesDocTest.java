package io.mailtls.spring;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * The configuration metadata that spring-boot-configuration-processor generated (what IDEs complete
 * from) describes every property, and docs/spring-boot.md's table lists the same properties with
 * the same defaults.
 */
class PropertiesDocTest {

  private static final Pattern ROW =
      Pattern.compile("^\\| `(mailtls\\.[a-z.\\-]+)` \\| [^|]+ \\| ([^|]+) \\|", Pattern.MULTILINE);

  private static JsonNode metadata() throws Exception {
    try (InputStream in =
        PropertiesDocTest.class
            .getClassLoader()
            .getResourceAsStream("META-INF/spring-configuration-metadata.json")) {
      assertThat(in).as("generated metadata on the class path").isNotNull();
      return new ObjectMapper().readTree(in);
    }
  }

  @Test
  void everyPropertyHasADescriptionAndTheDocTableMatchesTheMetadata() throws Exception {
    Map<String, String> generated = new LinkedHashMap<>();
    for (JsonNode p : metadata().get("properties")) {
      String name = p.get("name").asText();
      assertThat(p.path("description").asText()).as("description of " + name).isNotBlank();
      assertThat(p.get("sourceType").asText()).startsWith("io.mailtls.spring.MailtlsProperties");
      JsonNode d = p.get("defaultValue");
      generated.put(name, d == null ? "(none)" : d.asText());
    }
    assertThat(generated)
        .containsKeys(
            "mailtls.helo-name",
            "mailtls.sender.default-level",
            "mailtls.sender.levels",
            "mailtls.policy-map.file",
            "mailtls.dns.dnssec-mode",
            "mailtls.dns.resolvers",
            "mailtls.dns.trust-anchors",
            "mailtls.mta-sts.enabled",
            "mailtls.mta-sts.store-directory",
            "mailtls.mta-sts.refresh-interval",
            "mailtls.dane.enabled",
            "mailtls.relay.host",
            "mailtls.relay.username",
            "mailtls.relay.password",
            "mailtls.timeouts.connect",
            "mailtls.pool.max-sessions-per-destination");

    String doc = Files.readString(Path.of("..", "docs", "spring-boot.md"), StandardCharsets.UTF_8);
    Map<String, String> documented = new LinkedHashMap<>();
    Matcher m = ROW.matcher(doc);
    while (m.find()) {
      documented.put(m.group(1), m.group(2).strip());
    }
    assertThat(documented).isEqualTo(generated);
  }
}
