package io.mailtls.cli;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DestinationPolicyMap;
import io.mailtls.core.DsnRequest;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.Envelope;
import io.mailtls.core.EventListener;
import io.mailtls.core.MessageContent;
import io.mailtls.core.PolicyFailure;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SmartHost;
import io.mailtls.core.TlsLevel;
import io.mailtls.tlsrpt.FileAggregateStore;
import io.mailtls.tlsrpt.TlsRptAggregator;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code mailtls send --from A --to B [--to C...]}: delivers one message (from {@code --file} or
 * standard input) through {@link SecureSmtpTransport} at a sender level, and prints the report of
 * every recipient as text or JSON. The exit code says what happened overall.
 */
@Command(
    name = "send",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Send a message and report on every recipient.",
      "%nDelivers to the recipients' MX hosts under a sender TLS level, honouring MTA-STS and"
          + " DANE, and prints the per-recipient report. JSON schema: docs/cli-json.md.%n"
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      " 0:every recipient delivered",
      Mailtls.EXIT_64,
      Mailtls.EXIT_69,
      Mailtls.EXIT_70,
      Mailtls.EXIT_75
    })
final class SendCommand implements Callable<Integer>, Mailtls.Verbosity {

  @Spec CommandSpec spec;

  @ParentCommand Mailtls parent;

  @Option(
      names = "--from",
      required = true,
      paramLabel = "ADDRESS",
      description = "the envelope sender (MAIL FROM); <> for the null reverse-path")
  String from;

  @Option(
      names = "--to",
      paramLabel = "ADDRESS",
      description = "a recipient (RCPT TO), repeatable; --to or --to-file is required")
  List<String> to = new ArrayList<>();

  @Option(
      names = "--to-file",
      paramLabel = "PATH",
      description =
          "recipients from a file, one address a line (blank lines and # comments skipped),"
              + " repeatable, added to any --to")
  List<Path> toFiles = new ArrayList<>();

  @Option(
      names = "--level",
      paramLabel = "LEVEL",
      defaultValue = "opportunistic",
      completionCandidates = Candidates.Levels.class,
      description = "the sender's TLS level: ${COMPLETION-CANDIDATES} (default ${DEFAULT-VALUE})")
  String level;

  @Option(
      names = "--file",
      paramLabel = "MESSAGE",
      description = "the message (RFC 5322, e.g. message.eml); default: standard input")
  @Nullable Path file;

  @Option(names = "--json", description = "print one JSON document")
  boolean json;

  @Option(
      names = "--requiretls",
      description =
          "ask for REQUIRETLS (RFC 8689): only authenticated hosts (DANE, or PKIX through a"
              + " DNSSEC-secure MX answer or an MTA-STS policy) that advertise REQUIRETLS after"
              + " STARTTLS; else nothing is sent and the recipient bounces 5.7.30 (or is"
              + " deferred 4.7.30 when a retry may help)")
  boolean requireTls;

  @Option(
      names = "--dsn-notify",
      paramLabel = "LIST",
      description =
          "ask for delivery status notifications (RFC 3461 §4.1): 'never', or any of"
              + " 'success', 'failure', 'delay' joined by commas (sendmail -N); passed on only to"
              + " servers that advertise DSN")
  @Nullable String dsnNotify;

  @Option(
      names = "--dsn-ret",
      paramLabel = "full|hdrs",
      description =
          "what a failure notification returns of the message (RFC 3461 §4.3, sendmail -R)")
  @Nullable String dsnRet;

  @Option(
      names = "--envid",
      paramLabel = "ID",
      description =
          "the envelope identifier notifications carry back (RFC 3461 §4.4, sendmail -V):"
              + " printable US-ASCII, at most 100 characters once xtext-encoded")
  @Nullable String envelopeId;

  @Option(
      names = "--policy-map",
      paramLabel = "FILE",
      description =
          "per-destination TLS policies (docs/policy-map.md): one entry a line, e.g."
              + " 'example.com verify match=mx.example.com'")
  @Nullable Path policyMap;

  @Option(
      names = "--tlsrpt-store",
      paramLabel = "DIR",
      description =
          "count this send's TLS sessions for TLS-RPT (RFC 8460) into the local store in DIR"
              + " (created if need be); tlsrpt show reads it")
  @Nullable Path tlsRptStore;

  @Mixin RelayOptions relay = new RelayOptions();

  @Mixin CommonOptions common;

  @Override
  public boolean verbose() {
    return common != null && common.verbose;
  }

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    Envelope envelope = envelope();
    TlsLevel tlsLevel;
    try {
      tlsLevel = TlsLevel.parse(level);
    } catch (IllegalArgumentException e) {
      throw CliException.usage("--level: " + e.getMessage(), e);
    }
    common.validate();
    Optional<SmartHost> smartHost = relay.smartHost(parent.env());
    Optional<DestinationPolicyMap> destinations = Optional.empty();
    if (policyMap != null) {
      try {
        destinations = Optional.of(DestinationPolicyMap.load(policyMap));
      } catch (IOException e) { // PolicyMapException names the line
        throw CliException.usage("--policy-map " + policyMap + ": " + e.getMessage(), e);
      }
    }
    Path spooled = null;
    DeliveryReport report;
    // what the RFC 8460 report would carry, connection-time failures included
    Set<PolicyFailure> policyFailures = Collections.synchronizedSet(new LinkedHashSet<>());
    EventListener collector =
        new EventListener() {
          @Override
          public void policyFailure(PolicyFailure failure) {
            policyFailures.add(failure);
          }
        };
    Optional<FileAggregateStore> rptStore =
        tlsRptStore == null
            ? Optional.empty()
            : Optional.of(TlsRptStoreDir.openForWriting("--tlsrpt-store", tlsRptStore));
    Optional<TlsRptAggregator> aggregator =
        rptStore.map(s -> TlsRptAggregator.builder().store(s).build());
    EventListener.Factory listeners =
        call ->
            aggregator.isEmpty()
                ? collector
                : EventListener.all(collector, aggregator.get().create(call));
    try {
      rptStore
          .flatMap(FileAggregateStore::recovery)
          .ifPresent(r -> err.println("mailtls: warning: " + Mailtls.oneLine(r)));
      MessageContent content;
      if (file != null) {
        checkMessageFile(file);
        content = MessageContent.of(file);
      } else {
        spooled = spool(parent.stdin());
        content = MessageContent.of(spooled);
      }
      try (CliContext ctx = CliContext.open(common, parent.env(), err);
          SecureSmtpTransport transport =
              ctx.transport(tlsLevel, smartHost, destinations, listeners)) {
        ctx.preflight();
        report = transport.send(envelope, content);
      }
    } finally {
      try {
        if (spooled != null) {
          Files.deleteIfExists(spooled);
        }
      } finally {
        if (rptStore.isPresent()) {
          rptStore.get().close();
        }
      }
    }
    if (aggregator.isPresent() && aggregator.get().failedMerges() > 0) {
      err.println(
          "mailtls: warning: the TLS-RPT counts of this send could not be kept in "
              + TlsRptStoreDir.log(Objects.requireNonNull(tlsRptStore))
              + " (run with -v for the log)");
      err.flush();
    }
    SendReport result;
    synchronized (policyFailures) {
      result = SendReport.of(envelope.sender(), tlsLevel, report, List.copyOf(policyFailures));
    }
    if (json) {
      out.println(Json.pretty(result));
    } else {
      printText(out, result);
    }
    out.flush();
    return result.exitCode();
  }

  private Envelope envelope() {
    Optional<EmailAddress> sender = Optional.empty();
    if (!"<>".equals(from)) {
      sender = Optional.of(address("--from", from));
    }
    List<EmailAddress> recipients = new ArrayList<>();
    for (String t : to) {
      recipients.add(address("--to", t));
    }
    for (Path f : toFiles) {
      recipients.addAll(RecipientFile.read(f));
    }
    if (recipients.isEmpty()) {
      throw CliException.usage(
          toFiles.isEmpty()
              ? "give at least one recipient: --to ADDRESS or --to-file PATH"
              : "no recipient in --to-file " + toFiles);
    }
    Envelope envelope = new Envelope(sender, recipients).requireTls(requireTls);
    return dsnRequest().map(envelope::withDsn).orElse(envelope);
  }

  /**
   * The DSN request of {@code --dsn-notify}, {@code --dsn-ret} and {@code --envid} (RFC 3461), with
   * ORCPT on every recipient as Postfix sends it; empty when none of them is given.
   */
  private Optional<DsnRequest> dsnRequest() {
    if (dsnNotify == null && dsnRet == null && envelopeId == null) {
      return Optional.empty();
    }
    Set<DsnRequest.Notify> on = EnumSet.noneOf(DsnRequest.Notify.class);
    if (dsnNotify != null) {
      for (String word : dsnNotify.split(",", -1)) {
        if (!on.add(token("--dsn-notify", word, DsnRequest.Notify.class))) {
          // RFC 3461 §4.1 lists each condition once; as the Jakarta provider's
          // mail.smtp.dsn.notify, a repeat is an error rather than silently merged.
          throw CliException.usage(
              "--dsn-notify: \""
                  + word.strip()
                  + "\" is given twice in \""
                  + dsnNotify
                  + "\" (RFC 3461 §4.1: each condition once)");
        }
      }
    }
    DsnRequest request;
    try {
      request = DsnRequest.on(on.toArray(DsnRequest.Notify[]::new));
    } catch (IllegalArgumentException e) {
      throw CliException.usage("--dsn-notify: " + e.getMessage(), e);
    }
    if (dsnRet != null) {
      request = request.withRet(token("--dsn-ret", dsnRet, DsnRequest.Ret.class));
    }
    if (envelopeId != null) {
      try {
        request = request.withEnvelopeId(envelopeId);
      } catch (IllegalArgumentException e) {
        throw CliException.usage("--envid: " + e.getMessage(), e);
      }
    }
    return Optional.of(request);
  }

  /**
   * {@code word} as a constant of {@code type}, case-insensitive; a usage error naming the option.
   */
  private static <E extends Enum<E>> E token(String option, String word, Class<E> type) {
    for (E e : type.getEnumConstants()) {
      if (e.name().equalsIgnoreCase(word.strip())) {
        return e;
      }
    }
    List<String> allowed = new ArrayList<>();
    for (E e : type.getEnumConstants()) {
      allowed.add(e.name().toLowerCase(Locale.ROOT));
    }
    throw CliException.usage(option + ": \"" + word + "\" is not one of " + allowed);
  }

  private static EmailAddress address(String option, String text) {
    try {
      return EmailAddress.parse(text);
    } catch (IllegalArgumentException e) {
      throw CliException.usage(option + ": " + e.getMessage(), e);
    }
  }

  private static void checkMessageFile(Path file) throws IOException {
    if (!Files.isRegularFile(file)) {
      throw CliException.usage(
          "cannot read --file "
              + file
              + ": "
              + (Files.exists(file) ? "not a regular file" : "no such file"));
    }
    if (!Files.isReadable(file)) {
      throw CliException.usage("cannot read --file " + file + ": permission denied");
    }
    if (Files.size(file) == 0) {
      throw CliException.usage("--file " + file + " is empty");
    }
  }

  /**
   * Copies standard input to a private temporary file: the transport reads the content once to
   * measure it and once per attempt, so it must be re-readable, and it is never held in memory.
   */
  private static Path spool(InputStream stdin) throws IOException {
    Path tmp = Files.createTempFile("mailtls-message-", ".eml");
    try {
      long n = Files.copy(stdin, tmp, StandardCopyOption.REPLACE_EXISTING);
      if (n == 0) {
        throw CliException.usage(
            "no message: standard input is empty (give --file MESSAGE or"
                + " pipe the message in)");
      }
      return tmp;
    } catch (IOException | RuntimeException e) {
      Files.deleteIfExists(tmp);
      throw e;
    }
  }

  private static void printText(PrintWriter out, SendReport r) {
    for (SendReport.Recipient x : r.recipients()) {
      CheckReport.Reply reply = x.reply();
      out.printf(
          Locale.ROOT,
          "%s: %s %d%s %s%s%n",
          x.recipient(),
          x.status(),
          reply.code(),
          reply.enhanced() == null ? "" : " " + reply.enhanced(),
          reply.text().replace('\n', ' '),
          reply.local() ? " (generated locally)" : "");
      if (x.mx() != null || x.address() != null) {
        out.printf(
            Locale.ROOT,
            "  via       %s [%s]:%d, %s, %s%n",
            x.mx() == null ? "(address literal)" : x.mx(),
            x.address(),
            x.port(),
            x.tls() == null ? "no TLS" : x.tls().protocol() + " " + x.tls().cipher(),
            x.authentication() == null ? "no session" : x.authentication());
      }
      SendReport.Policy p = x.policy();
      out.printf(
          Locale.ROOT,
          "  policy    source %s, requirement %s, sender level %s%s%n",
          p.source(),
          p.mode() == null ? "-" : p.mode(),
          p.level(),
          p.mtaSts() == null
              ? ""
              : ", MTA-STS " + p.mtaSts().mode() + " (id " + p.mtaSts().id() + ")");
      out.printf(Locale.ROOT, "  reason    %s%n", x.reason());
      for (SendReport.Skipped s : x.skipped()) {
        out.printf(Locale.ROOT, "  skipped   %s %s: %s%n", s.host(), s.failure(), s.reason());
      }
      for (SendReport.AttemptEntry a : x.attempts()) {
        out.printf(
            Locale.ROOT,
            "  attempt   %s [%s]:%d %s/%s %s%s%n",
            a.mx() == null ? "(literal)" : a.mx(),
            a.address(),
            a.port(),
            a.requirement(),
            a.source(),
            a.tls() == null ? "plaintext" : a.tls().protocol(),
            a.failure() == null ? "" : " failed " + a.failure() + ": " + a.detail());
      }
    }
    SendReport.Summary s = r.summary();
    out.printf(
        Locale.ROOT,
        "%d delivered, %d deferred, %d bounced (level %s, exit %d)%n",
        s.delivered(),
        s.deferred(),
        s.bounced(),
        r.level(),
        r.exitCode());
  }
}
