package io.mailtls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.testkit.ValidatingResolverServer;
import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.SocketException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.ExtendedErrorCodeOption;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;

/**
 * Issue 11 item 5 on the command line: {@code --dnssec trust-ad} needs a named resolver, and runs
 * the DNSSEC self-check before any work; a loopback server that does not validate is refused.
 */
class TrustAdCliTest {

  private static TestWorld world;
  private static ValidatingResolverServer validator;

  @BeforeAll
  static void start() throws IOException {
    world = new TestWorld();
    String[] hostPort = world.resolverAddress().split(":", -1);
    validator =
        ValidatingResolverServer.start(
            new InetSocketAddress(hostPort[0], Integer.parseInt(hostPort[1])),
            Files.readString(world.trustAnchorFile(), StandardCharsets.UTF_8));
  }

  @AfterAll
  static void stop() {
    validator.close();
    world.close();
  }

  /** The world's options, with TRUST_AD through {@code resolver} and the world's test names. */
  private static CliRun run(String command, String domain, String resolver) {
    List<String> args =
        new ArrayList<>(
            List.of(
                command,
                domain,
                "--dnssec",
                "trust-ad",
                "--resolver",
                resolver,
                "--selfcheck-bogus",
                "mx.bogus.test",
                "--selfcheck-signed",
                "good.test"));
    if (!command.equals("mx")) {
      args.addAll(List.of("--port", "1", "--timeout", "5", "--helo", "client.sender.test"));
    }
    return CliRun.run(args);
  }

  private static String validating() {
    return validator.socketAddress().getAddress().getHostAddress()
        + ":"
        + validator.socketAddress().getPort();
  }

  @Test
  void trustAdWithoutANamedResolverIsAUsageError() {
    CliRun run = CliRun.run(List.of("mx", "good.test", "--dnssec", "trust-ad"));
    assertThat(run.exit()).as(run.err()).isEqualTo(64);
    assertThat(run.err()).contains("upstream(...)").contains("forwarding stub");
    CliRun check = CliRun.run(List.of("check", "good.test", "--dnssec", "trust-ad"));
    assertThat(check.exit()).as(check.err()).isEqualTo(64);
  }

  @Test
  void aResolverThatDoesNotValidateIsRefusedBeforeAnyWork() {
    for (String command : List.of("check", "mx")) {
      CliRun run = run(command, "good.test", world.resolverAddress());
      assertThat(run.exit()).as(run.err()).isEqualTo(69);
      assertThat(run.err())
          .startsWith("mailtls: DNS resolver ")
          .contains("failed the DNSSEC self-check that --dnssec trust-ad requires")
          .contains("mx.bogus.test resolved");
      assertThat(run.out()).as("no work done").isEmpty();
    }
  }

  @Test
  void aValidatingResolverPassesAndTheWorkRuns() {
    CliRun mx = run("mx", "good.test", validating());
    assertThat(mx.exit()).as(mx.err()).isZero();
    assertThat(mx.out()).contains("mx.good.test").contains("SECURE");
    CliRun check = run("check", "good.test", validating());
    assertThat(check.err()).doesNotContain("self-check");
    assertThat(check.out()).contains("good.test");
  }

  /**
   * Text a resolver sends (RFC 8914 extra text) reaches the screen only as printable characters: a
   * resolver, or an answer spoofed on its way, must not be able to move the cursor or recolour the
   * terminal of the operator who runs {@code mx}.
   */
  @Test
  void aResolversExtraTextIsPrintedWithoutControlCharacters() throws Exception {
    try (EvilResolver evil = new EvilResolver(validator.socketAddress(), "evil.test.")) {
      CliRun mx = run("mx", "evil.test", "127.0.0.1:" + evil.socket.getLocalPort());
      assertThat(mx.err()).doesNotContain("self-check");
      assertThat(mx.out()).contains("evil.test").contains("EDE 6");
      assertThat(mx.out()).doesNotContain("\u001b").contains("\\x1b[2J\\x1b[31mpwned");
    }
  }

  /**
   * A resolver that passes every query on to {@code upstream} but those for {@code evil}, which it
   * answers SERVFAIL with an Extended DNS Error whose text holds terminal control sequences.
   */
  private static final class EvilResolver implements AutoCloseable {
    final DatagramSocket socket;
    private final Thread thread;

    EvilResolver(InetSocketAddress upstream, String evil) throws SocketException {
      socket = new DatagramSocket(0, InetAddress.getLoopbackAddress());
      thread =
          new Thread(
              () -> {
                byte[] buf = new byte[4096];
                while (!socket.isClosed()) {
                  try {
                    DatagramPacket in = new DatagramPacket(buf, buf.length);
                    socket.receive(in);
                    byte[] query = java.util.Arrays.copyOf(in.getData(), in.getLength());
                    Message q = new Message(query);
                    byte[] answer;
                    if (q.getQuestion().getName().toString().equalsIgnoreCase(evil)) {
                      Message r = new Message(q.getHeader().getID());
                      r.getHeader().setFlag(Flags.QR);
                      r.getHeader().setFlag(Flags.RD);
                      r.getHeader().setFlag(Flags.RA);
                      r.getHeader().setRcode(Rcode.SERVFAIL);
                      r.addRecord(q.getQuestion(), org.xbill.DNS.Section.QUESTION);
                      r.addRecord(
                          new OPTRecord(
                              1232,
                              0,
                              0,
                              0,
                              List.of(
                                  new ExtendedErrorCodeOption(
                                      ExtendedErrorCodeOption.DNSSEC_BOGUS,
                                      "\u001b[2J\u001b[31mpwned"))),
                          org.xbill.DNS.Section.ADDITIONAL);
                      answer = r.toWire();
                    } else {
                      try (DatagramSocket up = new DatagramSocket()) {
                        up.setSoTimeout(5_000);
                        up.send(new DatagramPacket(query, query.length, upstream));
                        DatagramPacket back = new DatagramPacket(new byte[65535], 65535);
                        up.receive(back);
                        answer = java.util.Arrays.copyOf(back.getData(), back.getLength());
                      }
                    }
                    socket.send(new DatagramPacket(answer, answer.length, in.getSocketAddress()));
                  } catch (IOException e) {
                    // closed, or one query lost: the client asks again
                  }
                }
              },
              "evil-resolver");
      thread.setDaemon(true);
      thread.start();
    }

    @Override
    public void close() {
      socket.close();
      try {
        thread.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
