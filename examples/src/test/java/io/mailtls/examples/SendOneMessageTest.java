package io.mailtls.examples;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SendOneMessage}, run against the testkit's signed DNS and mock SMTP servers. */
class SendOneMessageTest {

  private static TestWorld world;

  @BeforeAll
  static void start() {
    world = new TestWorld();
  }

  @AfterAll
  static void stop() {
    world.close();
  }

  @TempDir static Path state;

  private static SendOneMessage.Settings settings() {
    return new SendOneMessage.Settings(
        world.resolver(), world.smtpPort(), "client.sender.test", state);
  }

  @Test
  void sendsOneMessageOverStarttls() {
    DeliveryReport report =
        SendOneMessage.send(
            settings(), "a@sender.test", "b@good.test", MessageContent.of(TestWorld.MESSAGE));

    RecipientResult r = report.result("b@good.test");
    assertThat(r.status()).isEqualTo(DeliveryStatus.DELIVERED);
    assertThat(r.authentication()).contains(Authentication.ENCRYPTED);
    assertThat(world.good().messages())
        .anySatisfy(
            m -> {
              assertThat(m.recipients()).containsExactly("b@good.test");
              assertThat(m.dataAsString()).contains("Hello from a mailtls test.");
            });
  }

  @Test
  void daneIsHonouredWithoutAnyConfigurationBeyondTheResolver() {
    DeliveryReport report =
        SendOneMessage.send(
            settings(), "a@sender.test", "c@dane-ee.test", MessageContent.of(TestWorld.MESSAGE));
    assertThat(report.result("c@dane-ee.test").authentication()).contains(Authentication.VERIFIED);
  }

  @Test
  void printsOneLinePerRecipient() {
    DeliveryReport report =
        SendOneMessage.send(
            settings(), "a@sender.test", "n@nullmx.test", MessageContent.of(TestWorld.MESSAGE));
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    SendOneMessage.print(report, new PrintStream(bytes, true, StandardCharsets.UTF_8));
    assertThat(bytes.toString(StandardCharsets.UTF_8))
        .isEqualTo(
            "n@nullmx.test: BOUNCED 556 5.1.10 recipient domain accepts no mail (null MX,"
                + " RFC 7505)\n");
  }
}
