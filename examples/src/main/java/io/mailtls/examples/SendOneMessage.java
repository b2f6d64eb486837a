package io.mailtls.examples;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.TlsLevel;
import io.mailtls.standard.StandardTransport;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Objects;

/**
 * The smallest complete use of mailtls: send one message with the standard set-up (DNSSEC
 * validation, MTA-STS with a persistent policy cache, DANE) and print what happened to each
 * recipient.
 *
 * <pre>
 * java -cp examples/target/mailtls-examples-VERSION-all.jar io.mailtls.examples.SendOneMessage \
 *     me@example.com you@example.org message.eml mail.example.com
 * </pre>
 *
 * <p>Real use needs outbound port 25 and DNS with DNSSEC; the test runs it against the testkit's
 * fixtures through {@link #send(Settings, String, String, MessageContent)}.
 */
public final class SendOneMessage {

  /**
   * Where DNS comes from, where SMTP goes, and where state is kept.
   *
   * @param dns the resolver for MX, address, MTA-STS and TLSA lookups
   * @param smtpPort the MX hosts' port (25 in real life)
   * @param heloName this host's fully qualified name for EHLO
   * @param stateDirectory where the MTA-STS policy cache lives across runs
   */
  public record Settings(DnsResolver dns, int smtpPort, String heloName, Path stateDirectory) {
    public Settings {
      Objects.requireNonNull(dns, "dns");
      Objects.requireNonNull(heloName, "heloName");
      Objects.requireNonNull(stateDirectory, "stateDirectory");
    }

    /**
     * The system's resolvers with in-process DNSSEC validation from the IANA root; port 25; state
     * in {@code ~/.mailtls}.
     */
    public static Settings defaults(String heloName) {
      return new Settings(
          DnssecResolver.builder().build(),
          25,
          heloName,
          Path.of(System.getProperty("user.home"), ".mailtls"));
    }
  }

  private SendOneMessage() {}

  /** Sends {@code message} from {@code from} to {@code to} at the opportunistic level. */
  public static DeliveryReport send(
      Settings settings, String from, String to, MessageContent message) {
    try (SecureSmtpTransport transport =
        StandardTransport.setup(settings.stateDirectory())
            .dns(settings.dns()) // validates DNSSEC; MTA-STS and DANE use it too
            .transportBuilder() // MTA-STS (RFC 8461) and DANE (RFC 7672) wired in
            .senderPolicy(SenderPolicy.uniform(TlsLevel.OPPORTUNISTIC))
            .heloName(settings.heloName())
            .port(settings.smtpPort())
            .build()) {
      return transport.send(Envelope.of(from, to), message);
    }
  }

  /** One line per recipient: status, reply, MX host, TLS and authentication. */
  public static void print(DeliveryReport report, PrintStream out) {
    for (RecipientResult r : report.recipients()) {
      out.printf(
          Locale.ROOT,
          "%s: %s %s%s%s%n",
          r.recipient(),
          r.status(),
          r.reply(),
          r.mxHost().map(h -> " via " + h).orElse(""),
          r.tls().map(t -> " " + t.protocol()).orElse("")
              + r.authentication().map(a -> " " + a).orElse(""));
    }
  }

  /**
   * {@code SendOneMessage FROM TO MESSAGE-FILE HELO-NAME}; exits 0 when delivered, 75 when
   * deferred, 69 when bounced.
   */
  public static void main(String[] args) {
    if (args.length != 4) {
      System.err.println("usage: SendOneMessage FROM TO MESSAGE-FILE HELO-NAME");
      System.exit(64);
    }
    Settings settings = Settings.defaults(args[3]);
    DeliveryReport report = send(settings, args[0], args[1], MessageContent.of(Path.of(args[2])));
    print(report, System.out);
    RecipientResult r = report.recipients().get(0);
    System.exit(
        switch (r.status()) {
          case DELIVERED -> 0;
          case DEFERRED -> 75;
          case BOUNCED -> 69;
        });
  }
}
