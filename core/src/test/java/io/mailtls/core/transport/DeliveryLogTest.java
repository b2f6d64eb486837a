package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryLog;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * {@link DeliveryLog}'s lines as the test binding (slf4j-simple) really writes them to {@code
 * System.err}: one per recipient in Postfix's shape, and never the message. (slf4j-simple has no
 * MDC: mailtls-micrometer's DeliveryLogMdcTest shows the MDC, with the JUL binding.)
 */
class DeliveryLogTest {

  /** A line written. */
  private record Written(String line) {}

  /** Records what slf4j-simple writes to System.err (it asks for System.err on every write). */
  private static final class Capture extends PrintStream {
    final List<Written> lines = new CopyOnWriteArrayList<>();

    Capture() {
      super(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8);
    }

    @Override
    public void println(String x) {
      lines.add(new Written(x));
    }

    List<Written> deliveryLines() {
      return lines.stream()
          .filter(w -> w.line().contains(" " + DeliveryLog.LOGGER_NAME + " - "))
          .toList();
    }
  }

  private static final String BODY_MARK = "Hello-body-must-not-be-logged";

  @Test
  void oneLinePerRecipientInPostfixShape() throws Exception {
    try (Fixture f = new Fixture()) {
      MockSmtpServer mx =
          f.server(
              "127.0.0.2",
              b ->
                  b.hostname("mx.example.test")
                      .tls(Fixture.certFor("mx.example.test"))
                      // a multiline reply: the line stays one line
                      .onRecipient(
                          "nobody@example.test",
                          SmtpAction.raw(
                              "550-5.1.1 no such\r\n550 5.1.1 user\r\n"
                                  .getBytes(StandardCharsets.US_ASCII))));
      f.dns(
          d ->
              d.zone(
                  "example.test",
                  z ->
                      z.mailHost("example.test", 10, "mx.example.test", mx)
                          .mx("down.example.test", 10, "mx.down.example.test")
                          .a("mx.down.example.test", "127.0.0.3")));
      SecureSmtpTransport transport =
          f.transport(TlsLevel.OPPORTUNISTIC, b -> b.eventListenerFactory(DeliveryLog.create()));
      Capture capture = new Capture();
      PrintStream err = System.err;
      System.setErr(capture);
      try {
        var report =
            transport.send(
                Envelope.of(
                    "a@sender.test",
                    "b@example.test",
                    "nobody@example.test",
                    "c@down.example.test"),
                MessageContent.of(
                    ("From: a@sender.test\r\nSubject: s\r\n\r\n" + BODY_MARK + "\r\n")
                        .getBytes(StandardCharsets.UTF_8)));
        assertThat(report.result("b@example.test").status()).isEqualTo(DeliveryStatus.DELIVERED);
        assertThat(report.result("nobody@example.test").status()).isEqualTo(DeliveryStatus.BOUNCED);
        assertThat(report.result("c@down.example.test").status())
            .isEqualTo(DeliveryStatus.DEFERRED);
      } finally {
        System.setErr(err);
      }
      List<Written> lines = capture.deliveryLines();
      assertThat(lines).hasSize(3);
      String delays = "delay=[0-9.]+, delays=[0-9.]+/[0-9.]+/[0-9.]+/[0-9.]+";
      assertThat(lines.get(0).line())
          .matches(
              Pattern.compile(
                  ".* INFO io\\.mailtls\\.delivery - to=<b@example\\.test>,"
                      + " relay=mx\\.example\\.test\\[127\\.0\\.0\\.2\\]:\\d+, "
                      + delays
                      + ", tls=ENCRYPTED NONE TLSv1\\.[23] \\S+, dsn=2\\.\\d+\\.\\d+,"
                      + " status=sent \\(250 .*\\)"));
      assertThat(lines.get(1).line())
          .matches(
              Pattern.compile(
                  ".* WARN io\\.mailtls\\.delivery - to=<nobody@example\\.test>,"
                      + " relay=mx\\.example\\.test\\[127\\.0\\.0\\.2\\]:\\d+, "
                      + delays
                      + ", tls=ENCRYPTED NONE TLSv1\\.[23] \\S+, dsn=5\\.1\\.1,"
                      + " status=bounced \\(550 5\\.1\\.1 no such user\\)"));
      assertThat(lines.get(2).line())
          .matches(
              Pattern.compile(
                  ".* WARN io\\.mailtls\\.delivery - to=<c@down\\.example\\.test>,"
                      + " relay=mx\\.down\\.example\\.test\\[127\\.0\\.0\\.3\\]:\\d+, "
                      + delays
                      + ", tls=none, dsn=4\\.\\d+\\.\\d+, status=deferred \\(4\\d\\d .*\\)"));
      for (Written w : capture.lines) {
        assertThat(w.line()).doesNotContain(BODY_MARK);
      }
    }
  }
}
