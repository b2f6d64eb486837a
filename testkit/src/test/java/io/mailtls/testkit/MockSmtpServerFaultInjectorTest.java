package io.mailtls.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** {@link SmtpFaultInjector} and {@link MockSmtpServer.Builder#keepHeaders()}. */
class MockSmtpServerFaultInjectorTest {

  private static final Duration WAIT = Duration.ofSeconds(5);

  private static String message(String id) {
    return "Subject: x\r\nMessage-ID:\r\n <" + id + "@example.test>\r\n\r\nbody\r\n";
  }

  /** Greeting, EHLO, MAIL, RCPT, DATA; returns the DATA reply. */
  private static String upToData(MockSmtpServerTestClient client, String from) throws IOException {
    client.reply();
    client.command("EHLO client.example.test");
    client.command("MAIL FROM:<" + from + ">");
    client.command("RCPT TO:<b@example.test>");
    return client.command("DATA");
  }

  @Test
  void injectorSeesTheTransactionAndOverridesTheScript() throws Exception {
    List<SmtpFaultContext> seen = new CopyOnWriteArrayList<>();
    SmtpFaultInjector injector =
        c -> {
          seen.add(c);
          return c.step() == SmtpStep.DATA_END && c.mailFrom().orElse("").startsWith("lost")
              ? Optional.of(SmtpAction.disconnect())
              : Optional.empty();
        };
    try (MockSmtpServer smtp =
        MockSmtpServer.builder()
            .faultInjector(injector)
            .on(SmtpStep.RCPT, SmtpAction.reply(451, "4.2.0", "scripted"))
            .start()) {
      try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
        client.reply();
        client.command("EHLO client.example.test");
        client.command("MAIL FROM:<a@example.test>");
        // The injector said nothing at RCPT: the script answers.
        assertThat(client.command("RCPT TO:<b@example.test>")).startsWith("451 ");
      }
      try (MockSmtpServer plain = MockSmtpServer.builder().faultInjector(injector).start();
          MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(plain)) {
        assertThat(upToData(client, "lost@example.test")).startsWith("354 ");
        client.send(message("one") + ".\r\n");
        assertThatThrownBy(client::reply).isInstanceOf(IOException.class);
        SmtpMessage m = plain.awaitMessages(1, WAIT).get(0);
        assertThat(m.accepted()).isFalse();
        assertThat(m.finalReply()).isEmpty();
        assertThat(m.header("message-id")).hasValue("<one@example.test>");
      }
    }
    SmtpFaultContext rcpt =
        seen.stream().filter(c -> c.step() == SmtpStep.RCPT).findFirst().orElseThrow();
    assertThat(rcpt.mailFrom()).hasValue("a@example.test");
    assertThat(rcpt.recipient()).hasValue("b@example.test");
    assertThat(rcpt.transaction()).isEqualTo(1);
    assertThat(
            seen.stream()
                .filter(c -> c.step() == SmtpStep.GREETING)
                .findFirst()
                .orElseThrow()
                .mailFrom())
        .isEmpty();
  }

  @Test
  void injectorDropsMidMessageAndReadsSlowly() throws Exception {
    SmtpFaultInjector injector =
        new SmtpFaultInjector() {
          @Override
          public Optional<SmtpAction> at(SmtpFaultContext context) {
            return Optional.empty();
          }

          @Override
          public long dropAfterContentOctets(SmtpFaultContext c) {
            return c.mailFrom().orElse("").startsWith("drop") ? 10 : -1;
          }

          @Override
          public Duration contentReadPause(SmtpFaultContext c) {
            return c.mailFrom().orElse("").startsWith("slow")
                ? Duration.ofMillis(50)
                : Duration.ZERO;
          }
        };
    try (MockSmtpServer smtp = MockSmtpServer.builder().faultInjector(injector).start()) {
      try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
        assertThat(upToData(client, "drop@example.test")).startsWith("354 ");
        assertThatThrownBy(
                () -> {
                  for (int i = 0; i < 64; i++) {
                    client.send("y".repeat(1000) + "\r\n");
                  }
                  client.send(".\r\n");
                  client.reply();
                })
            .isInstanceOf(IOException.class);
      }
      smtp.awaitSessions(1, WAIT);
      assertThat(smtp.messages()).isEmpty();
      try (MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
        assertThat(upToData(client, "slow@example.test")).startsWith("354 ");
        long started = System.nanoTime();
        client.send(message("two"));
        Thread.sleep(20); // two reads at least: the head, then the rest
        client.send("more\r\n.\r\n");
        assertThat(client.reply()).startsWith("250 ");
        assertThat(Duration.ofNanos(System.nanoTime() - started).toMillis())
            .isGreaterThanOrEqualTo(45);
      }
    }
  }

  @Test
  void keepHeadersKeepsTheHeaderSectionInDigestOnlyMode() throws Exception {
    try (MockSmtpServer smtp = MockSmtpServer.builder().digestOnly().keepHeaders().start();
        MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      assertThat(upToData(client, "a@example.test")).startsWith("354 ");
      client.send(message("three") + "X-Not-A-Header: body\r\n.\r\n");
      assertThat(client.reply()).startsWith("250 ");
      SmtpMessage m = smtp.awaitMessages(1, WAIT).get(0);
      assertThat(m.hasData()).isFalse();
      assertThat(m.header("Message-ID")).hasValue("<three@example.test>");
      assertThat(m.header("X-Not-A-Header")).isEmpty();
    }
    try (MockSmtpServer smtp = MockSmtpServer.builder().digestOnly().start();
        MockSmtpServerTestClient client = MockSmtpServerTestClient.connect(smtp)) {
      assertThat(upToData(client, "a@example.test")).startsWith("354 ");
      client.send(message("four") + ".\r\n");
      assertThat(client.reply()).startsWith("250 ");
      assertThat(smtp.awaitMessages(1, WAIT).get(0).header("Message-ID")).isEmpty();
    }
  }
}
