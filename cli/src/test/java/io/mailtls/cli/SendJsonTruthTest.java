package io.mailtls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code send --json} says what happened, field by field as docs/cli-json.md defines them. */
class SendJsonTruthTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static TestWorld world;

  @BeforeAll
  static void start() {
    world = new TestWorld();
  }

  @AfterAll
  static void stop() {
    world.close();
  }

  /**
   * docs/cli-json.md, {@code policy.mode}: "null when no host was tried". A message refused before
   * any connection (a line over RFC 5321 §4.5.3.1.6's limit) tried no host, so no requirement
   * applied to any connection.
   */
  @Test
  void aRecipientRefusedBeforeAnyConnectionHasNoPolicyMode() throws IOException {
    String longLine = "x".repeat(1200);
    byte[] message =
        ("From: a@sender.test\r\nTo: x@good.test\r\nSubject: long\r\n\r\n" + longLine + "\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    List<String> args = new ArrayList<>(List.of("send", "--from", "a@sender.test"));
    args.addAll(List.of("--to", "x@good.test", "--json"));
    args.addAll(world.cliOptions());
    CliRun run = CliRun.run(new ByteArrayInputStream(message), args);
    JsonNode r = JSON.readTree(run.out()).get("recipients").get(0);
    assertThat(r.get("status").asText()).isEqualTo("BOUNCED");
    assertThat(r.get("reply").get("enhanced").asText()).isEqualTo("5.6.3");
    assertThat(r.get("attempts")).isEmpty();
    assertThat(r.get("mx").isNull()).isTrue();
    assertThat(r.get("policy").get("mode").isNull())
        .as("no host was tried: %s", r.get("policy"))
        .isTrue();
  }
}
