package io.mailtls.core.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpMessage;
import io.mailtls.testkit.SmtpStep;
import io.mailtls.testkit.TestDnsServer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Whatever the servers answer, {@code send()} returns a report with exactly one result per
 * recipient, and a recipient is delivered only if a server received the whole message for it and
 * answered the final dot (or BDAT LAST) with a 2xx.
 *
 * <p>Each try starts real {@link MockSmtpServer}s for three domains (one with a backup MX, one with
 * STARTTLS), each scripted per command with generated behaviour: odd and out-of-place reply codes,
 * text with control and non-ASCII characters, malformed lines, partial lines and hang-ups, extra
 * replies, stalls and hangs. Tries per run: {@code jqwik.tries.default} in {@code
 * junit-platform.properties}; a longer run:
 *
 * <pre>
 * mvn -B -o -pl core -am verify -Dtest=HostilePeerPropertyTest \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Djqwik.tries.default=5000
 * </pre>
 */
class HostilePeerPropertyTest {

  private static final List<String> RECIPIENTS =
      List.of("a1@a.test", "a2@a.test", "b1@b.test", "b2@b.test", "b3@b.test", "c1@c.test");

  /** Short, so that a hang costs little; every step of the session has this bound. */
  private static final Duration TIMEOUT = Duration.ofMillis(200);

  private static final List<SmtpStep> STEPS =
      List.of(
          SmtpStep.GREETING,
          SmtpStep.EHLO,
          SmtpStep.HELO,
          SmtpStep.STARTTLS,
          SmtpStep.TLS_HANDSHAKE,
          SmtpStep.MAIL,
          SmtpStep.RCPT,
          SmtpStep.DATA,
          SmtpStep.DATA_END,
          SmtpStep.BDAT,
          SmtpStep.RSET,
          SmtpStep.QUIT);

  /**
   * Octets a step sends after its own reply that begin a reply of their own: a complete one, or the
   * start of one that the next reply completes ("250 ok" then "354 ..." reads as one 250).
   */
  private static final java.util.regex.Pattern UNASKED_REPLY =
      java.util.regex.Pattern.compile("^[2-5][0-9][0-9]([ -]|$)");

  private static TestDnsServer dns;
  private static DnsResolver resolver;

  @BeforeContainer
  static void startDns() {
    dns =
        TestDnsServer.builder()
            .zone("a.test", z -> z.mx("a.test", 10, "mx.a.test").a("mx.a.test", "127.0.0.2"))
            .zone(
                "b.test",
                z ->
                    z.mx("b.test", 10, "mx1.b.test")
                        .a("mx1.b.test", "127.0.0.3")
                        .mx("b.test", 20, "mx2.b.test")
                        .a("mx2.b.test", "127.0.0.4"))
            .zone("c.test", z -> z.mx("c.test", 10, "mx.c.test").a("mx.c.test", "127.0.0.5"))
            .start();
    resolver = Fixture.resolver(dns);
  }

  @AfterContainer
  static void stopDns() {
    if (dns != null) {
      dns.close();
    }
  }

  /** What one server offers and does. */
  record Peer(List<String> capabilities, Map<SmtpStep, List<SmtpAction>> script) {

    /** Whether some step before the final dot sends octets that begin a reply of their own. */
    boolean sendsUnaskedReplies() {
      return script.entrySet().stream()
          .filter(e -> e.getKey() != SmtpStep.DATA_END && e.getKey() != SmtpStep.QUIT)
          .flatMap(e -> e.getValue().stream())
          .anyMatch(
              a ->
                  UNASKED_REPLY
                      .matcher(new String(a.trailingBytes(), StandardCharsets.ISO_8859_1))
                      .find());
    }

    MockSmtpServer.Builder configure(MockSmtpServer.Builder b) {
      b.capabilities(capabilities.toArray(String[]::new));
      script.forEach((step, actions) -> b.on(step, actions.toArray(SmtpAction[]::new)));
      return b;
    }
  }

  /** The message sent: short, large enough for BDAT (RFC 3030), or with a line too long. */
  @SuppressWarnings("ImmutableEnumChecker") // a table of test cases: nothing writes to bytes
  enum Content {
    SHORT(Fixture.MESSAGE),
    LARGE(
        "From: a@sender.test\r\nSubject: large\r\n\r\n"
            + "a line of a message large enough for BDAT\r\n".repeat(26_000)),
    LONG_LINE("From: a@sender.test\r\nSubject: long\r\n\r\n" + "x".repeat(999) + "\r\n");

    final byte[] bytes;

    Content(String text) {
      this.bytes = text.getBytes(StandardCharsets.US_ASCII);
    }
  }

  @Property
  void everyRecipientGetsOneResultAndNothingIsDeliveredWithoutA2xxToTheFinalDot(
      @ForAll("plainPeer") Peer a,
      @ForAll("plainPeer") Peer b1,
      @ForAll("plainPeer") Peer b2,
      @ForAll("tlsPeer") Peer c,
      @ForAll("content") Content content)
      throws Exception {
    try (Fixture f = new Fixture()) {
      f.useDns(dns, resolver);
      f.timeouts = SmtpTimeouts.uniform(TIMEOUT);
      Map<String, List<Peer>> peers =
          Map.of("a.test", List.of(a), "b.test", List.of(b1, b2), "c.test", List.of(c));
      Map<String, List<MockSmtpServer>> servers =
          Map.of(
              "a.test", List.of(f.server("127.0.0.2", b -> a.configure(b.hostname("mx.a.test")))),
              "b.test",
                  List.of(
                      f.server("127.0.0.3", b -> b1.configure(b.hostname("mx1.b.test"))),
                      f.server("127.0.0.4", b -> b2.configure(b.hostname("mx2.b.test")))),
              "c.test",
                  List.of(
                      f.server(
                          "127.0.0.5",
                          b ->
                              c.configure(
                                  b.hostname("mx.c.test").tls(Fixture.certFor("mx.c.test"))))));

      DeliveryReport report =
          f.transport(TlsLevel.OPPORTUNISTIC)
              .send(
                  Envelope.of("a@sender.test", RECIPIENTS.toArray(String[]::new)),
                  MessageContent.of(content.bytes));

      assertThat(report.recipients())
          .map(r -> r.recipient().toString())
          .containsExactlyElementsOf(RECIPIENTS);
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(content.bytes);
      for (RecipientResult r : report.recipients()) {
        assertConsistent(r);
        if (r.status() == DeliveryStatus.DELIVERED) {
          String address = r.recipient().toString();
          String domain = r.recipient().domain().toString();
          List<SmtpMessage> received = new ArrayList<>();
          for (MockSmtpServer s : servers.get(domain)) {
            received.addAll(s.messages());
          }
          boolean took =
              received.stream()
                  .anyMatch(
                      m ->
                          m.recipients().contains(address)
                              && m.accepted()
                              && Arrays.equals(m.sha256(), digest));
          // A server that sends a reply nobody asked for (a forged 354 after a RCPT reply), or
          // octets that merge with its next reply into another one ("250 ok" + "354 ..." reads
          // as a 250), shifts replies onto the wrong commands; when the shift is not visible in
          // time, no client can tell (RFC 2920 §3.1 matches replies to commands by order alone).
          // Such a peer lies as one that says 250 and drops the message would: only the 2xx
          // from the server, checked above, can be asked for then.
          assertThat(took || peers.get(domain).stream().anyMatch(Peer::sendsUnaskedReplies))
              .as("%s delivered, so a server took the whole message for it", r)
              .isTrue();
        }
      }
    }
  }

  /** The status agrees with the reply class: 2xx from the server, 4xx deferred, 5xx bounced. */
  private static void assertConsistent(RecipientResult r) {
    SmtpReply reply = r.reply();
    switch (r.status()) {
      case DELIVERED -> {
        assertThat(reply.isPositiveCompletion()).as("%s", r).isTrue();
        assertThat(reply.locallyGenerated()).as("%s", r).isFalse();
      }
      case DEFERRED -> assertThat(reply.isTransientFailure()).as("%s", r).isTrue();
      case BOUNCED -> assertThat(reply.isPermanentFailure()).as("%s", r).isTrue();
      default -> throw new AssertionError("unknown status " + r);
    }
  }

  @Provide
  Arbitrary<Content> content() {
    return Arbitraries.frequency(
        Tuple.of(14, Content.SHORT), Tuple.of(3, Content.LARGE), Tuple.of(1, Content.LONG_LINE));
  }

  @Provide
  Arbitrary<Peer> plainPeer() {
    return peer(false);
  }

  @Provide
  Arbitrary<Peer> tlsPeer() {
    return peer(true);
  }

  private static Arbitrary<Peer> peer(boolean tls) {
    Arbitrary<List<String>> capabilities =
        Arbitraries.of(
            MockSmtpServer.DEFAULT_CAPABILITIES,
            List.of("8BITMIME", "ENHANCEDSTATUSCODES"),
            List.of(),
            List.of("PIPELINING", "SIZE 100000", "CHUNKING", "ENHANCEDSTATUSCODES"));
    List<Arbitrary<List<SmtpAction>>> perStep = new ArrayList<>();
    for (SmtpStep step : STEPS) {
      Arbitrary<List<SmtpAction>> actions =
          step == SmtpStep.TLS_HANDSHAKE && !tls
              ? Arbitraries.just(List.of())
              : Arbitraries.frequencyOf(
                  Tuple.of(2, Arbitraries.just(List.<SmtpAction>of())),
                  Tuple.of(1, action(step).list().ofMinSize(1).ofMaxSize(4)));
      perStep.add(actions);
    }
    Arbitrary<Map<SmtpStep, List<SmtpAction>>> script =
        Combinators.combine(perStep)
            .as(
                lists -> {
                  Map<SmtpStep, List<SmtpAction>> m = new EnumMap<>(SmtpStep.class);
                  for (int i = 0; i < STEPS.size(); i++) {
                    if (!lists.get(i).isEmpty()) {
                      m.put(STEPS.get(i), lists.get(i));
                    }
                  }
                  return m;
                });
    return Combinators.combine(capabilities, script).as(Peer::new);
  }

  /** One step's behaviour; mostly normal, so that sessions get far enough to matter. */
  private static Arbitrary<SmtpAction> action(SmtpStep step) {
    if (step == SmtpStep.TLS_HANDSHAKE) {
      return Arbitraries.frequencyOf(
          Tuple.of(8, Arbitraries.just(SmtpAction.proceed())),
          Tuple.of(1, Arbitraries.just(SmtpAction.disconnect())),
          Tuple.of(1, garbage().map(SmtpAction::raw)));
    }
    // The client's QUIT waits 5 s, whatever the session's timeouts: no hang there.
    int hang = step == SmtpStep.QUIT ? 0 : 1;
    return Arbitraries.frequencyOf(
        Tuple.of(16, Arbitraries.just(SmtpAction.proceed())),
        Tuple.of(8, reply()),
        Tuple.of(1, reply().map(SmtpAction::thenDisconnect)),
        Tuple.of(3, garbage().map(SmtpAction::raw)),
        Tuple.of(2, partial().map(bytes -> SmtpAction.raw(bytes).thenDisconnect())),
        Tuple.of(2, Arbitraries.just(SmtpAction.disconnect())),
        Tuple.of(3, extra().map(bytes -> SmtpAction.proceed().followedBy(bytes))),
        Tuple.of(
            1,
            Arbitraries.integers()
                .between(5, 80)
                .map(ms -> SmtpAction.stall(Duration.ofMillis(ms)))),
        Tuple.of(1, Arbitraries.of(SmtpAction.endlessReply(), SmtpAction.unboundedLine())),
        Tuple.of(hang, Arbitraries.just(SmtpAction.hang())));
  }

  /**
   * A well-formed reply with any code, the odd ones for each step included (251 to EHLO, 354 to
   * RCPT, 220 to MAIL, 3xx to the final dot), and text with control and non-ASCII characters.
   */
  private static Arbitrary<SmtpAction> reply() {
    Arbitrary<Integer> code =
        Arbitraries.frequencyOf(
            Tuple.of(
                3,
                Arbitraries.of(
                    250, 251, 252, 220, 221, 235, 354, 334, 421, 450, 451, 452, 454, 500, 501, 502,
                    503, 550, 552, 553, 554)),
            Tuple.of(1, Arbitraries.integers().between(200, 599)));
    Arbitrary<String> text =
        Arbitraries.strings()
            .withCharRange('\u0000', '\u007f')
            .withChars('é', 'ü', '\u0085', '\u202e', '\ufffd', '☃')
            .ofMaxLength(40)
            .map(s -> s.replace('\r', '?').replace('\n', '?'));
    return Combinators.combine(code, text, Arbitraries.of(true, false))
        .as(
            (c, t, enhanced) ->
                enhanced && c / 100 != 3
                    ? SmtpAction.reply(c, (c / 100) + ".0.0", t)
                    : SmtpAction.reply(c, t));
  }

  /**
   * Octets whose first line no SMTP reply parser may accept: codes outside 2yz..5yz, letters, bad
   * separators, a bare CR, mixed codes, an overlong line, too many lines, noise.
   */
  private static Arbitrary<byte[]> garbage() {
    Arbitrary<byte[]> noise =
        Arbitraries.bytes()
            .array(byte[].class)
            .ofMinSize(0)
            .ofMaxSize(40)
            .map(b -> concat("X".getBytes(StandardCharsets.US_ASCII), b, crlf()));
    Arbitrary<byte[]> fixed =
        Arbitraries.of(
                "100 too low\r\n",
                "199-still too low\r\n199 x\r\n",
                "600 too high\r\n",
                "999\r\n",
                "000 zero\r\n",
                "2x0 letters\r\n",
                "25\r\n",
                "2500 no separator\r\n",
                "250 bare\rCR inside\r\n",
                "250-first\r\n550 second code\r\n",
                "\r\n",
                " 250 indented\r\n",
                "250 " + "x".repeat(5000) + "\r\n",
                "250-x\r\n".repeat(600) + "250 x\r\n")
            .map(s -> s.getBytes(StandardCharsets.ISO_8859_1));
    return Arbitraries.oneOf(noise, fixed);
  }

  /** Part of a reply, the connection closing before its line end. */
  private static Arbitrary<byte[]> partial() {
    return Arbitraries.of(
            "", "2", "25", "250", "250 ok", "250-more\r\n", "250-more\r\n250 o", "354 go ahe")
        .map(s -> s.getBytes(StandardCharsets.US_ASCII));
  }

  /** What a server sends after its reply: another reply, garbage, or a partial line. */
  private static Arbitrary<byte[]> extra() {
    Arbitrary<byte[]> replies =
        Arbitraries.of(
                "250 2.0.0 extra, honest\r\n",
                "354 go on\r\n",
                "550 5.1.1 late refusal\r\n",
                "250-PIPELINING\r\n250 INJECTED\r\n")
            .map(s -> s.getBytes(StandardCharsets.US_ASCII));
    return Arbitraries.oneOf(replies, garbage(), partial());
  }

  private static byte[] crlf() {
    return new byte[] {'\r', '\n'};
  }

  private static byte[] concat(byte[]... parts) {
    int n = Arrays.stream(parts).mapToInt(p -> p.length).sum();
    byte[] out = new byte[n];
    int at = 0;
    for (byte[] p : parts) {
      System.arraycopy(p, 0, out, at, p.length);
      at += p.length;
    }
    return out;
  }
}
