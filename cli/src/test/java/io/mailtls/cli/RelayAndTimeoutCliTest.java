package io.mailtls.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SampleDomains;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpSession;
import io.mailtls.testkit.SmtpStep;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code mailtls send} through a relay (STARTTLS on a submission port and implicit TLS, RFC 8314,
 * with SMTP AUTH, RFC 4954, the password from an environment variable or a file), recipients from
 * {@code --to-file}, and the final-dot wait that {@code --timeout} no longer cuts short: a server
 * that answers the final dot later than {@code --timeout} still gets the message delivered once,
 * and only {@code --data-timeout} gives up on it. All against testkit servers on loopback.
 */
class RelayAndTimeoutCliTest {

  private static final String USER = "relay-user";
  private static final String PASSWORD = "s3cret pass";

  private static TestPki pki;
  private static MockSmtpServer starttlsRelay;
  private static MockSmtpServer implicitRelay;
  private static MockSmtpServer slow;
  private static MockSmtpServer dsnRelay;
  private static TestDnsServer dns;
  private static Path dir;

  @BeforeAll
  static void start() throws IOException {
    pki = TestPki.create();
    starttlsRelay =
        MockSmtpServer.builder()
            .address(InetAddress.getByName("127.0.5.1"))
            .hostname("smtp.relay.test")
            .tls(pki.root().leaf().dnsNames("smtp.relay.test").issue().serverSslContext())
            .credentials(USER, PASSWORD)
            .start();
    implicitRelay =
        MockSmtpServer.builder()
            .address(InetAddress.getByName("127.0.5.2"))
            .hostname("smtps.relay.test")
            .tls(pki.root().leaf().dnsNames("smtps.relay.test").issue().serverSslContext())
            .implicitTls()
            .credentials(USER, PASSWORD)
            .start();
    // advertises DSN (RFC 3461 §3), without AUTH
    List<String> withDsn = new ArrayList<>(MockSmtpServer.DEFAULT_CAPABILITIES);
    withDsn.add("DSN");
    dsnRelay =
        MockSmtpServer.builder()
            .address(InetAddress.getByName("127.0.5.4"))
            .hostname("dsn.relay.test")
            .tls(pki.root().leaf().dnsNames("dsn.relay.test").issue().serverSslContext())
            .capabilities(withDsn.toArray(String[]::new))
            .start();
    // answers the final dot 3 s late: longer than --timeout 1s
    slow =
        MockSmtpServer.builder()
            .address(InetAddress.getByName("127.0.5.3"))
            .hostname("mx.slow.test")
            .on(SmtpStep.DATA_END, SmtpAction.stall(Duration.ofSeconds(3)))
            .start();
    dns =
        TestDnsServer.builder()
            .zone(
                "relay.test",
                z ->
                    z.a("smtp.relay.test", "127.0.5.1")
                        .a("smtps.relay.test", "127.0.5.2")
                        .a("dsn.relay.test", "127.0.5.4"))
            .zone("slow.test", z -> z.mailHost("slow.test", 10, "mx.slow.test", slow))
            .start();
    dir = Files.createTempDirectory("mailtls-relay-");
    Files.writeString(dir.resolve("anchor.txt"), dns.trustAnchor(), StandardCharsets.US_ASCII);
    Files.writeString(
        dir.resolve("ca.pem"), pki.root().certificatePem(), StandardCharsets.US_ASCII);
  }

  @AfterAll
  static void stop() throws IOException {
    for (AutoCloseable c :
        new AutoCloseable[] {starttlsRelay, implicitRelay, slow, dsnRelay, dns}) {
      try {
        c.close();
      } catch (Exception e) {
        // the next one still closes
      }
    }
    try (var files = Files.walk(dir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private static List<String> common(int port) {
    return List.of(
        "--resolver",
        dns.address().getHostAddress() + ":" + dns.port(),
        "--trust-anchor",
        dir.resolve("anchor.txt").toString(),
        "--ca-file",
        dir.resolve("ca.pem").toString(),
        "--port",
        String.valueOf(port),
        "--helo",
        "client.sender.test");
  }

  /** Runs {@code send} with the message on stdin and {@code env} as the environment. */
  private static CliRun send(Map<String, String> env, List<String> args) {
    List<String> all = new ArrayList<>(List.of("send", "--from", "a@sender.test", "--json"));
    all.addAll(args);
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    CommandLine cl =
        Mailtls.commandLine(
            new Mailtls(new ByteArrayInputStream(SampleDomains.message()), env::get));
    cl.setOut(new PrintWriter(out));
    cl.setErr(new PrintWriter(err));
    int exit = cl.execute(all.toArray(String[]::new));
    return new CliRun(exit, out.toString(), err.toString());
  }

  private static JsonNode json(CliRun run) throws IOException {
    return new ObjectMapper().readTree(run.out());
  }

  @Test
  void dsnOptionsGoOnTheWireToAServerThatAdvertisesDsn() throws Exception {
    int before = dsnRelay.sessions().size();
    List<String> args = new ArrayList<>(common(25));
    args.addAll(
        List.of(
            "--to",
            "x+tag@anywhere.example",
            "--relay",
            "dsn.relay.test:" + dsnRelay.port(),
            "--dsn-notify",
            "success,failure",
            "--dsn-ret",
            "hdrs",
            "--envid",
            "batch=7"));
    CliRun run = send(Map.of(), args);

    assertThat(run.exit()).as(run.err() + run.out()).isZero();
    JsonNode r = json(run).get("recipients").get(0);
    assertThat(r.get("status").asText()).isEqualTo("DELIVERED");
    assertThat(r.get("dsn").asText()).isEqualTo("PASSED_ON");
    SmtpSession s = dsnRelay.awaitSessions(before + 1, Duration.ofSeconds(5)).get(before);
    // RFC 3461 §4: RET and ENVID (xtext: '=' is +3D) on MAIL, NOTIFY and ORCPT on RCPT.
    assertThat(s.commandLines())
        .contains(
            "MAIL FROM:<a@sender.test> SIZE=91 RET=HDRS ENVID=batch+3D7",
            "RCPT TO:<x+tag@anywhere.example> NOTIFY=SUCCESS,FAILURE"
                + " ORCPT=rfc822;x+2Btag@anywhere.example");
  }

  @Test
  void relayWithStarttlsAndThePasswordFromTheEnvironment() throws Exception {
    int before = starttlsRelay.sessions().size();
    List<String> args = new ArrayList<>(common(25));
    args.addAll(
        List.of(
            "--to",
            "x@anywhere.example",
            "--relay",
            "smtp.relay.test:" + starttlsRelay.port(),
            "--auth-user",
            USER,
            "--auth-password-env",
            "RELAY_PASSWORD"));
    CliRun run = send(Map.of("RELAY_PASSWORD", PASSWORD), args);

    assertThat(run.exit()).as(run.err() + run.out()).isZero();
    JsonNode r = json(run).get("recipients").get(0);
    assertThat(r.get("status").asText()).isEqualTo("DELIVERED");
    assertThat(r.get("mx").asText()).isEqualTo("smtp.relay.test");
    assertThat(run.out() + run.err()).doesNotContain(PASSWORD);
    SmtpSession s = starttlsRelay.awaitSessions(before + 1, Duration.ofSeconds(5)).get(before);
    assertThat(s.tlsNegotiated()).isTrue();
    assertThat(s.authenticatedUser()).contains(USER);
    assertThat(s.messages()).hasSize(1);
    assertThat(s.messages().get(0).recipients()).containsExactly("x@anywhere.example");
  }

  @Test
  void relayWithImplicitTlsAndThePasswordFromAFileAndRecipientsFromAFile() throws Exception {
    Path secret = dir.resolve("password");
    Files.writeString(secret, PASSWORD + "\n", StandardCharsets.UTF_8);
    Path rcpts = dir.resolve("rcpts.txt");
    Files.writeString(
        rcpts,
        "# the team\n\nx@anywhere.example\n  y@elsewhere.example  \n",
        StandardCharsets.UTF_8);
    int before = implicitRelay.sessions().size();
    List<String> args = new ArrayList<>(common(25));
    args.addAll(
        List.of(
            "--to-file",
            rcpts.toString(),
            "--to",
            "z@third.example",
            "--relay",
            "smtps.relay.test:" + implicitRelay.port(),
            "--implicit-tls",
            "--auth-user",
            USER,
            "--auth-password-file",
            secret.toString()));
    CliRun run = send(Map.of(), args);

    assertThat(run.exit()).as(run.err() + run.out()).isZero();
    assertThat(json(run).get("summary").get("delivered").asInt()).isEqualTo(3);
    SmtpSession s = implicitRelay.awaitSessions(before + 1, Duration.ofSeconds(5)).get(before);
    assertThat(s.tlsNegotiated()).isTrue();
    assertThat(s.commandLines()).noneMatch(l -> l.startsWith("STARTTLS"));
    assertThat(s.authenticatedUser()).contains(USER);
    assertThat(s.messages().get(0).recipients())
        .containsExactly("z@third.example", "x@anywhere.example", "y@elsewhere.example");
  }

  @Test
  void aWrongPasswordIsNotDelivered() throws Exception {
    List<String> args = new ArrayList<>(common(25));
    args.addAll(
        List.of(
            "--to",
            "x@anywhere.example",
            "--relay",
            "smtp.relay.test:" + starttlsRelay.port(),
            "--auth-user",
            USER,
            "--auth-password-env",
            "RELAY_PASSWORD"));
    CliRun run = send(Map.of("RELAY_PASSWORD", "wrong"), args);
    assertThat(run.exit()).as(run.out()).isIn(69, 75);
    assertThat(json(run).get("recipients").get(0).get("status").asText()).isNotEqualTo("DELIVERED");
  }

  /**
   * A relay given by IP address is a usage error: the relay is verified by its host name, and was
   * looked up in DNS as one ("127.0.5.1" has no A record: NXDOMAIN), so the message was deferred,
   * exit 75, however often it was retried. A dotted-decimal address is no host name (RFC 1123
   * §2.1).
   */
  @Test
  void aRelayGivenByIpAddressIsAUsageError() throws Exception {
    int before = starttlsRelay.sessions().size();
    for (String relay :
        List.of(
            "127.0.5.1:" + starttlsRelay.port(), "127.0.5.1", "[::1]:" + starttlsRelay.port())) {
      List<String> args = new ArrayList<>(common(25));
      args.addAll(List.of("--to", "x@anywhere.example", "--relay", relay));
      CliRun run = send(Map.of(), args);

      assertThat(run.exit()).as(relay + ": " + run.err() + run.out()).isEqualTo(64);
      assertThat(run.err()).as(relay).contains("is an IP address");
    }
    assertThat(starttlsRelay.sessions()).hasSize(before);
  }

  /**
   * An IPv6 address without brackets was split at its last colon: {@code --relay ::1} read as host
   * ":" and port 1, and the message named ":" as the address; {@code [::1]} without a port was an
   * "invalid port". The whole text is the host, and the message names the address given.
   */
  @Test
  void anUnbracketedIpv6RelayIsNamedWhole() throws Exception {
    for (String relay : List.of("::1", "2001:db8::25", "::ffff:127.0.5.1", "[::1]")) {
      List<String> args = new ArrayList<>(common(25));
      args.addAll(List.of("--to", "x@anywhere.example", "--relay", relay));
      CliRun run = send(Map.of(), args);

      assertThat(run.exit()).as(relay + ": " + run.err() + run.out()).isEqualTo(64);
      assertThat(run.err())
          .as(relay)
          .contains("\"" + relay + "\" is an IP address")
          .doesNotContain("invalid port");
    }
  }

  /**
   * A refused password is in neither the JSON document nor the {@code -v} trace: not as given, nor
   * as the base64 of AUTH PLAIN's initial response or of AUTH LOGIN's answer (RFC 4954, RFC 4616).
   */
  @Test
  void aRefusedPasswordIsNeverPrintedEvenEncodedOrTraced() throws Exception {
    String wrong = "wr0ng-Passw0rd!";
    List<String> args = new ArrayList<>(common(25));
    args.addAll(
        List.of(
            "-v",
            "--to",
            "x@anywhere.example",
            "--relay",
            "smtp.relay.test:" + starttlsRelay.port(),
            "--auth-user",
            USER,
            "--auth-password-env",
            "RELAY_PASSWORD"));
    CliRun run = send(Map.of("RELAY_PASSWORD", wrong), args);

    assertThat(run.exit()).as(run.out()).isIn(69, 75);
    java.util.Base64.Encoder b64 = java.util.Base64.getEncoder();
    String printed = run.out() + run.err();
    assertThat(printed)
        .doesNotContain(wrong)
        .doesNotContain(
            b64.encodeToString(("\0" + USER + "\0" + wrong).getBytes(StandardCharsets.UTF_8)))
        .doesNotContain(b64.encodeToString(wrong.getBytes(StandardCharsets.UTF_8)));
    assertThat(json(run).get("recipients").get(0).get("status").asText()).isNotEqualTo("DELIVERED");
  }

  @Test
  void theFinalDotWaitKeepsRfc5321sTenMinutesUnlessAsked() {
    CommandLine cl = Mailtls.commandLine();
    cl.parseArgs("send", "--from", "a@sender.test", "--to", "b@x.test", "--timeout", "5s");
    SendCommand send = cl.getSubcommands().get("send").getCommand();
    SmtpTimeouts t = send.common.smtpTimeouts();
    assertThat(t.dataTermination()).isEqualTo(SmtpTimeouts.RFC_5321.dataTermination());
    assertThat(t.dataTermination()).isEqualTo(Duration.ofMinutes(10));
    assertThat(t.greeting()).isEqualTo(Duration.ofSeconds(5));
    assertThat(t.dataBlock()).isEqualTo(Duration.ofSeconds(5));

    CommandLine asked = Mailtls.commandLine();
    asked.parseArgs(
        "send", "--from", "a@sender.test", "--to", "b@x.test", "--data-timeout", "PT2M");
    SendCommand s2 = asked.getSubcommands().get("send").getCommand();
    assertThat(s2.common.smtpTimeouts().dataTermination()).isEqualTo(Duration.ofMinutes(2));
    assertThat(s2.common.smtpTimeouts().command()).isEqualTo(Duration.ofSeconds(30));
  }

  /** --min-data-rate sets SmtpTimeouts.minDataRate: 10 KiB/s unless asked, 0 turns it off. */
  @Test
  void theMinimumDataRateIsTheDefaultUnlessAskedAndZeroTurnsItOff() {
    CommandLine cl = Mailtls.commandLine();
    cl.parseArgs("send", "--from", "a@sender.test", "--to", "b@x.test");
    SendCommand send = cl.getSubcommands().get("send").getCommand();
    assertThat(send.common.smtpTimeouts().minDataRate())
        .isEqualTo(SmtpTimeouts.DEFAULT_MIN_DATA_RATE)
        .isEqualTo(10240);

    CommandLine off = Mailtls.commandLine();
    off.parseArgs("send", "--from", "a@sender.test", "--to", "b@x.test", "--min-data-rate", "0");
    SendCommand s2 = off.getSubcommands().get("send").getCommand();
    assertThat(s2.common.smtpTimeouts().minDataRate()).isZero();

    CommandLine negative = Mailtls.commandLine();
    negative.parseArgs(
        "send", "--from", "a@sender.test", "--to", "b@x.test", "--min-data-rate", "-1");
    SendCommand s3 = negative.getSubcommands().get("send").getCommand();
    assertThatThrownBy(s3.common::validate)
        .isInstanceOf(CliException.class)
        .hasMessageContaining("--min-data-rate");
  }

  @Test
  void aSlowFinalDotReplyIsWaitedForDespiteAShortTimeout() throws Exception {
    // Sessions of other tests may still end meanwhile (one that gave up on the final dot is
    // recorded when the server's stall is over): only this run's session counts.
    int sessionsBefore = slow.sessions().size();
    List<String> args = new ArrayList<>(common(slow.port()));
    args.addAll(List.of("--to", "x@slow.test", "--timeout", "1s"));
    CliRun run = send(Map.of(), args);

    assertThat(run.exit()).as(run.err() + run.out()).isZero();
    assertThat(json(run).get("recipients").get(0).get("status").asText()).isEqualTo("DELIVERED");
    long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
    while (System.nanoTime() < deadline && ours(sessionsBefore).isEmpty()) {
      Thread.sleep(20);
    }
    assertThat(ours(sessionsBefore))
        .singleElement()
        .satisfies(m -> assertThat(m.finalReply().orElseThrow().code()).isEqualTo(250));
  }

  /** The slow server's messages from sessions that began at index {@code from} or later. */
  private static List<io.mailtls.testkit.SmtpMessage> ours(int from) {
    return slow.messages().stream().filter(m -> m.sessionId() >= from).toList();
  }

  @Test
  void aShorterDataTimeoutGivesUpOnTheFinalDotAndDefers() throws Exception {
    List<String> args = new ArrayList<>(common(slow.port()));
    args.addAll(List.of("--to", "x@slow.test", "--timeout", "1s", "--data-timeout", "1s"));
    CliRun run = send(Map.of(), args);

    assertThat(run.exit()).as(run.err() + run.out()).isEqualTo(75);
    JsonNode r = json(run).get("recipients").get(0);
    assertThat(r.get("status").asText()).isEqualTo("DEFERRED");
  }
}
