package io.mailtls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpStep;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.TestPki;
import io.mailtls.testkit.Tlsa;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What {@code check} and {@code send} print must be what delivery does, and nothing a peer
 * publishes or sends may take over the operator's terminal: run in-process against testkit servers
 * with worlds of their own (an insecure MX answer, hostile TXT records and certificate names, a
 * host with very many addresses).
 */
class CliReportTruthTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String MX = "mx.example.test";

  private final List<AutoCloseable> open = new ArrayList<>();
  private Path dir;

  @BeforeEach
  void dir() throws IOException {
    dir = Files.createTempDirectory("mailtls-truth-");
  }

  @AfterEach
  void closeAll() throws Exception {
    for (int i = open.size() - 1; i >= 0; i--) {
      open.get(i).close();
    }
    try (var files = Files.walk(dir)) {
      files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    }
  }

  private <T extends AutoCloseable> T keep(T resource) {
    open.add(resource);
    return resource;
  }

  /** Options pointing the command line at {@code dns}, SMTP on {@code port}. */
  private List<String> options(TestDnsServer dns, int port, TestPki pki) throws IOException {
    Path anchor = dir.resolve("anchor.txt");
    Files.writeString(anchor, dns.trustAnchor(), StandardCharsets.US_ASCII);
    Path ca = dir.resolve("ca.pem");
    Files.writeString(ca, pki.root().certificatePem(), StandardCharsets.US_ASCII);
    return List.of(
        "--resolver",
        dns.address().getHostAddress() + ":" + dns.port(),
        "--trust-anchor",
        anchor.toString(),
        "--port",
        String.valueOf(port),
        "--mta-sts-port",
        "1",
        "--ca-file",
        ca.toString(),
        "--timeout",
        "3",
        "--helo",
        "client.sender.test");
  }

  private TestDnsServer dns(Consumer<TestDnsServer.Builder> zones) {
    TestDnsServer.Builder b = TestDnsServer.builder();
    zones.accept(b);
    return keep(b.start());
  }

  /**
   * A signed {@code example.test} whose MX is {@link #MX} at {@code address}, with a DANE-EE {@code
   * 3 1 1} record of {@code leaf}.
   */
  private TestDnsServer daneExample(String address, TestPki.Issued leaf) {
    return dns(
        b ->
            b.zone(
                "example.test",
                z ->
                    z.mx("example.test", 10, MX)
                        .a(MX, address)
                        .tlsaFor(Tlsa.smtpOwner(MX), 3, 1, 1, leaf)));
  }

  /** A mock SMTP server for {@link #MX} at {@code address}, presenting {@code leaf}. */
  private MockSmtpServer tlsServer(String address, TestPki.Issued leaf) throws IOException {
    return keep(
        MockSmtpServer.builder()
            .address(InetAddress.getByName(address))
            .hostname(MX)
            .tls(leaf.serverSslContext())
            .start());
  }

  private static void noControlCharacters(String out) {
    for (String line : out.split("\n", -1)) {
      assertThat(line.chars().filter(c -> (c < 0x20 && c != '\t') || c == 0x7f || c == 0x9b))
          .as("line %s", line)
          .isEmpty();
    }
  }

  /**
   * An unsigned domain whose MX is a host in a signed zone with matching TLSA: delivery
   * authenticates the host by DANE but reports it TRUSTED, not VERIFIED (the MX answer may be
   * forged, RFC 7672 §2.2.1). The check's posttls-finger line must not call it Verified.
   */
  @Test
  void anInsecureMxWithMatchingTlsaIsTrustedInTheCheckAsInTheSend() throws Exception {
    TestPki pki = TestPki.create();
    TestPki.Issued leaf = pki.root().leaf().dnsNames(MX).issue();
    MockSmtpServer server = tlsServer("127.0.12.1", leaf);
    TestDnsServer dns =
        dns(
            b ->
                b.zone(
                        "example.test",
                        z -> z.a(MX, "127.0.12.1").tlsaFor(Tlsa.smtpOwner(MX), 3, 1, 1, leaf))
                    .zone("plain.test", z -> z.unsigned().mx("plain.test", 10, MX)));
    List<String> opts = options(dns, server.port(), pki);

    List<String> send =
        new ArrayList<>(
            List.of("send", "--from", "a@sender.test", "--to", "b@plain.test", "--json"));
    send.addAll(opts);
    CliRun sent = CliRun.run(new ByteArrayInputStream(TestWorld.MESSAGE), send);
    assertThat(sent.exit()).as(sent.err() + sent.out()).isZero();
    JsonNode r = JSON.readTree(sent.out()).get("recipients").get(0);
    assertThat(r.get("authentication").asText()).isEqualTo("TRUSTED");

    List<String> check = new ArrayList<>(List.of("check", "plain.test", "--probe"));
    check.addAll(opts);
    CliRun checked = CliRun.run(check);
    assertThat(checked.exit()).as(checked.err()).isZero();
    assertThat(checked.out())
        .contains("TLS connection established to mx.example.test[127.0.12.1]")
        .doesNotContain("Verified TLS connection established to mx.example.test");
  }

  /**
   * An invalid {@code _mta-sts} TXT record is the recipient's own text: printed raw in the table,
   * its escape sequences reach the operator's terminal and its line feeds forge lines.
   */
  @Test
  void aHostileMtaStsTxtRecordCannotWriteControlCharactersToTheTerminal() throws Exception {
    TestPki pki = TestPki.create();
    TestDnsServer dns =
        dns(
            b ->
                b.zone(
                    "evil.test",
                    z ->
                        z.mx("evil.test", 10, "mx.evil.test")
                            .a("mx.evil.test", "127.0.12.2")
                            .txt(
                                "_mta-sts.evil.test",
                                "v=STSv1; id=\u001b[2J\u001b]0;owned\u0007\r\nVerified TLS"
                                    + " connection established to mx.evil.test")));
    List<String> check =
        new ArrayList<>(List.of("check", "evil.test", "--fail-on", "sts-broken", "-v"));
    check.addAll(options(dns, 1, pki));
    CliRun run = CliRun.run(check);
    assertThat(run.exit()).as(run.err()).isEqualTo(1);
    assertThat(run.out()).contains("MTA-STS   TXT record invalid");
    noControlCharacters(run.out());
    noControlCharacters(run.err());
    assertThat(run.out()).doesNotContain("\nVerified TLS connection");
  }

  /**
   * A certificate's subject is whatever the server (or anyone on the path of an unauthenticated
   * session) puts in it; the probe table prints it.
   */
  @Test
  void aHostileCertificateSubjectCannotWriteControlCharactersToTheTerminal() throws Exception {
    TestPki pki = TestPki.create();
    TestPki.Issued leaf =
        pki.root()
            .leaf()
            .dnsNames(MX)
            .commonName("x\u001b[2J\u001b]0;owned\u0007\nVerified TLS connection established to z")
            .issue();
    MockSmtpServer server = tlsServer("127.0.12.3", leaf);
    TestDnsServer dns =
        dns(b -> b.zone("example.test", z -> z.mx("example.test", 10, MX).a(MX, "127.0.12.3")));
    List<String> check = new ArrayList<>(List.of("check", "example.test", "--probe"));
    check.addAll(options(dns, server.port(), pki));
    CliRun run = CliRun.run(check);
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("Probe");
    noControlCharacters(run.out());
    assertThat(run.out()).doesNotContain("\nVerified TLS connection established to z");
  }

  /**
   * The recipient's DNS decides how many addresses an MX host has (thousands fit in one answer);
   * delivery tries a handful, while {@code check --probe} probes them all. Every probe of the run
   * must not get a thread and a connection of its own at the same time.
   */
  @Test
  void probesOfAHostWithManyAddressesRunWithBoundedConcurrency() throws Exception {
    int addresses = 200;
    AtomicInteger now = new AtomicInteger();
    AtomicInteger peak = new AtomicInteger();
    ServerSocket listener = keep(new ServerSocket());
    listener.bind(new InetSocketAddress(InetAddress.getByName("0.0.0.0"), 0), 1024);
    Thread acceptor =
        new Thread(
            () -> {
              while (!listener.isClosed()) {
                try {
                  Socket s = listener.accept();
                  peak.accumulateAndGet(now.incrementAndGet(), Math::max);
                  Thread holder =
                      new Thread(
                          () -> {
                            try {
                              Thread.sleep(300);
                            } catch (InterruptedException e) {
                              // closing is all that is left to do
                            } finally {
                              // counted out before the close the client sees
                              now.decrementAndGet();
                              try {
                                s.close();
                              } catch (IOException e) {
                                // closed anyway
                              }
                            }
                          });
                  holder.setDaemon(true);
                  holder.start();
                } catch (IOException e) {
                  return;
                }
              }
            });
    acceptor.setDaemon(true);
    acceptor.start();
    TestPki pki = TestPki.create();
    TestDnsServer dns =
        dns(
            b ->
                b.zone(
                    "many.test",
                    z -> {
                      z.mx("many.test", 10, "mx.many.test");
                      for (int i = 1; i <= addresses; i++) {
                        z.a("mx.many.test", "127.0.13." + i);
                      }
                    }));
    List<String> check = new ArrayList<>(List.of("check", "many.test", "--probe", "--json"));
    check.addAll(options(dns, listener.getLocalPort(), pki));
    CliRun run = CliRun.run(check);
    assertThat(run.exit()).as(run.err()).isZero();
    JsonNode probes = JSON.readTree(run.out()).get("hosts").get(0).get("probes");
    assertThat(probes).hasSize(addresses);
    assertThat(peak.get())
        .as("probe connections open at once")
        .isLessThanOrEqualTo(CheckCommand.MAX_PROBES);
  }

  /**
   * An MX host without addresses (a dangling MX, a common misconfiguration) leaves delivery no host
   * to try: the domain's mail is deferred. {@code --fail-on no-mx} ("no usable MX host") must hold
   * for it.
   */
  @Test
  void noMxHoldsWhenNoMxHostHasAnAddress() throws Exception {
    TestPki pki = TestPki.create();
    TestDnsServer dns =
        dns(b -> b.zone("dangling.test", z -> z.mx("dangling.test", 10, "gone.dangling.test")));
    List<String> opts = options(dns, 1, pki);
    List<String> check =
        new ArrayList<>(List.of("check", "dangling.test", "--json", "--fail-on", "no-mx"));
    check.addAll(opts);
    CliRun run = CliRun.run(check);
    JsonNode doc = JSON.readTree(run.out());
    assertThat(doc.get("levels").get("opportunistic").get("status").asText()).isEqualTo("DEFERRED");
    assertThat(run.exit()).as(run.err()).isEqualTo(1);
    assertThat(run.err()).contains("mailtls: fail-on no-mx: dangling.test: ");
  }

  /**
   * {@code mx} on a dangling MX exits as delivery treats it: deferred (75), never 0 ("MX hosts with
   * addresses found") nor 69 (no mail to the domain), since the host may get its address back.
   */
  @Test
  void mxOnADanglingMxIsATemporaryFailureAsDeliveryDefers() throws Exception {
    TestPki pki = TestPki.create();
    TestDnsServer dns =
        dns(b -> b.zone("dangling.test", z -> z.mx("dangling.test", 10, "gone.dangling.test")));
    List<String> opts = options(dns, 1, pki);
    for (String format : List.of("--text", "--json")) {
      List<String> mx = new ArrayList<>(List.of("mx", "dangling.test"));
      if (format.equals("--json")) {
        mx.add("--json");
      }
      mx.addAll(opts.subList(0, 4)); // --resolver and --trust-anchor
      CliRun run = CliRun.run(mx);
      assertThat(run.exit()).as(format + ": " + run.err() + run.out()).isEqualTo(75);
      if (format.equals("--json")) {
        assertThat(JSON.readTree(run.out()).get("exitCode").asInt()).isEqualTo(75);
      } else {
        assertThat(run.out()).contains("gone.dangling.test");
      }
    }
  }

  /**
   * A DANE host that answers STARTTLS with 454 (RFC 3207 §4) gets no mail: delivery needs TLS there
   * and defers. docs/cli-json.md says {@code --fail-on no-starttls} holds when an address "did not
   * offer STARTTLS, or refused it", so the refusal must trip it, whatever the host's requirement.
   */
  @Test
  void noStarttlsHoldsWhenAHostThatNeedsTlsRefusesStarttls() throws Exception {
    TestPki pki = TestPki.create();
    TestPki.Issued leaf = pki.root().leaf().dnsNames(MX).issue();
    MockSmtpServer server =
        keep(
            MockSmtpServer.builder()
                .address(InetAddress.getByName("127.0.12.5"))
                .hostname(MX)
                .tls(leaf.serverSslContext())
                .on(SmtpStep.STARTTLS, SmtpAction.reply(454, "4.7.0", "TLS not available"))
                .start());
    TestDnsServer dns = daneExample("127.0.12.5", leaf);
    List<String> check =
        new ArrayList<>(List.of("check", "example.test", "--json", "--fail-on", "no-starttls"));
    check.addAll(options(dns, server.port(), pki));
    CliRun run = CliRun.run(check);
    JsonNode probe = JSON.readTree(run.out()).get("hosts").get(0).get("probes").get(0);
    assertThat(probe.get("requirement").asText()).isEqualTo("dane");
    assertThat(probe.get("starttls").asBoolean()).isTrue();
    assertThat(run.exit()).as(run.err()).isEqualTo(1);
    assertThat(run.err()).contains("mailtls: fail-on no-starttls: example.test: ");
    assertThat(probe.get("starttlsReply").asText()).startsWith("454 4.7.0");
  }

  /**
   * docs/cli-json.md: a peer certificate's {@code spkiSha256} is the data of a TLSA {@code x 1 1}
   * record, whose SPKI(1) selector is the certificate's own SubjectPublicKeyInfo (RFC 6698 §2.1.2).
   * For an RSA key whose AlgorithmIdentifier leaves out the NULL parameters, which the JDK puts
   * back when it re-encodes the key, the value printed must still be the record that authenticates
   * this very server, or an operator who publishes it gets a record that never matches.
   */
  @Test
  void theSpkiDigestTheCheckPrintsIsTheTlsaDataThatAuthenticatesTheServer() throws Exception {
    TestPki pki = TestPki.create();
    TestPki.Issued leaf =
        pki.root().leaf().dnsNames(MX).keyType(TestPki.KeyType.RSA_2048_ABSENT_PARAMETERS).issue();
    MockSmtpServer server = tlsServer("127.0.12.6", leaf);
    TestDnsServer dns = daneExample("127.0.12.6", leaf);
    List<String> check = new ArrayList<>(List.of("check", "example.test", "--probe", "--json"));
    check.addAll(options(dns, server.port(), pki));
    CliRun run = CliRun.run(check);
    assertThat(run.exit()).as(run.err()).isZero();
    JsonNode host = JSON.readTree(run.out()).get("hosts").get(0);
    String published = host.get("tlsa").get("records").get(0).get("data").asText();
    JsonNode probe = host.get("probes").get(0);
    assertThat(probe.get("verdict").asText()).as(probe.toString()).isEqualTo("verified-dane");
    assertThat(probe.get("peerChain").get(0).get("spkiSha256").asText())
        .as("the leaf's spkiSha256 beside the 3 1 1 record that verified it")
        .isEqualTo(published);
  }

  /**
   * A host whose TLSA answer is bogus is unusable (delivery skips it and defers); probed anyway,
   * its posttls-finger line must not say Verified, as if mail went there authenticated.
   */
  @Test
  void aHostDeliverySkipsIsNotCalledVerified() throws Exception {
    TestPki pki = TestPki.create();
    TestPki.Issued leaf = pki.root().leaf().dnsNames(MX).issue();
    MockSmtpServer server = tlsServer("127.0.12.4", leaf);
    TestDnsServer dns = daneExample("127.0.12.4", leaf);
    dns.corruptSignatures(Tlsa.smtpOwner(MX));
    List<String> check = new ArrayList<>(List.of("check", "example.test", "--probe"));
    check.addAll(options(dns, server.port(), pki));
    CliRun run = CliRun.run(check);
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out())
        .contains("skip DNSSEC_INVALID")
        .contains("TLS connection established to mx.example.test[127.0.12.4]")
        .doesNotContain("Verified TLS connection established to mx.example.test");
  }

  /**
   * A recipient domain's {@code _mta-sts} TXT record is peer input: one with a CR in it must leave
   * a sender at {@code sts-required} with a deferred recipient, not an internal error (the plan's
   * local reply quoted the record, and a reply line may hold no CR).
   */
  @Test
  void aTxtRecordWithACarriageReturnDefersAtStsRequiredInsteadOfThrowing() throws Exception {
    TestPki pki = TestPki.create();
    TestDnsServer dns =
        dns(
            b ->
                b.zone(
                    "evil.test",
                    z ->
                        z.mx("evil.test", 10, "mx.evil.test")
                            .a("mx.evil.test", "127.0.12.5")
                            .txt("_mta-sts.evil.test", "v=STSv1; id=a\rb")));
    List<String> opts = options(dns, 1, pki);
    List<String> send =
        new ArrayList<>(
            List.of(
                "send",
                "--from",
                "a@sender.test",
                "--to",
                "b@evil.test",
                "--level",
                "sts-required",
                "--json"));
    send.addAll(opts);
    CliRun sent = CliRun.run(new ByteArrayInputStream(TestWorld.MESSAGE), send);
    assertThat(sent.exit()).as(sent.err()).isEqualTo(Mailtls.EX_TEMPFAIL);
    JsonNode r = JSON.readTree(sent.out()).get("recipients").get(0);
    assertThat(r.get("status").asText()).isEqualTo("DEFERRED");
    assertThat(r.get("reply").get("text").asText()).doesNotContain("\r");

    List<String> check = new ArrayList<>(List.of("check", "evil.test", "--json"));
    check.addAll(opts);
    CliRun checked = CliRun.run(check);
    assertThat(checked.exit()).as(checked.err()).isZero();
    assertThat(
            JSON.readTree(checked.out()).get("levels").get("sts-required").get("status").asText())
        .isEqualTo("DEFERRED");
  }

  /**
   * {@code --input} is bounded like every other input file: a line far longer than any domain name
   * is refused without being read whole or echoed back whole.
   */
  @Test
  void anEndlessInputLineIsRefusedWithoutEchoingIt() throws Exception {
    Path input = dir.resolve("domains.txt");
    Files.writeString(input, "a".repeat(5_000_000), StandardCharsets.US_ASCII);
    CliRun run =
        CliRun.run(List.of("check", "--input", input.toString(), "--resolver", "127.0.0.1:1"));
    assertThat(run.exit()).isEqualTo(64);
    assertThat(run.err()).hasSizeLessThan(2_000).contains("line 1");
  }

  /** Binary data on standard input is a usage error whose message holds no control character. */
  @Test
  void binaryInputOnStandardInputIsRefusedWithoutControlCharacters() {
    byte[] binary = {0x1b, '[', '2', 'J', (byte) 0xff, (byte) 0x9b, '\n'};
    CliRun run =
        CliRun.run(
            new ByteArrayInputStream(binary),
            List.of("check", "--input", "-", "--resolver", "127.0.0.1:1"));
    assertThat(run.exit()).isEqualTo(64);
    noControlCharacters(run.err());
  }
}
