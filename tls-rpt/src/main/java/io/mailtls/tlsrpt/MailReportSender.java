package io.mailtls.tlsrpt;

import io.mailtls.core.ContentDescriptor;
import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.DomainName;
import io.mailtls.core.EmailAddress;
import io.mailtls.core.Envelope;
import io.mailtls.core.MessageContent;
import io.mailtls.core.RecipientResult;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.tlsrpt.internal.DkimSigner;
import io.mailtls.tlsrpt.internal.MailtoUri;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.random.RandomGenerator;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers a report to a {@code mailto:} {@code rua} destination (RFC 8460 §5.3): a {@code
 * multipart/report; report-type="tlsrpt"} message (RFC 6522) with a short text part and the gzipped
 * report as an {@code application/tlsrpt+gzip} attachment named as §5.1 says, the header fields
 * {@code TLS-Report-Domain} and {@code TLS-Report-Submitter}, the §5.3 {@code Subject}, DKIM-signed
 * (RFC 6376, {@code relaxed/relaxed}), sent through the given {@link SecureSmtpTransport} to every
 * address of the URI at once.
 *
 * <p>The message carries {@code TLS-Required: No} (RFC 8689 §3) and declares it to the transport,
 * so that a receiver whose MTA-STS or DANE policy is broken still gets the report about it (RFC
 * 8460 §5.3: reports are delivered despite TLS failures): its recipient policies are checked and
 * reported but not enforced. The sender's own level ({@code sts-required}, {@code dane-required})
 * and an operator's policy-map entry for the destination are not lowered by it, nor is a relay's
 * TLS mode.
 *
 * <p>One attempt per call, on the caller's thread; trying again later is the caller's. Outcomes:
 * every recipient took the message (250 to the final dot): {@link ReportOutcome.Delivered}; any
 * recipient deferred: {@code NotDelivered(permanent=false)}; every recipient that did not take it
 * bounced (5xx), or the URI is malformed: {@code NotDelivered(permanent=true)}. When some
 * recipients took the message and the others bounced, it is delivered (the bounces are in the
 * detail). Never throws for anything a peer does. Thread-safe.
 */
public final class MailReportSender implements ReportChannel {

  private static final Logger log = LoggerFactory.getLogger(MailReportSender.class);

  /** RFC 5322 §3.3 date-time, in UTC. */
  private static final DateTimeFormatter DATE =
      DateTimeFormatter.ofPattern("EEE, d MMM yyyy HH:mm:ss xx", Locale.US)
          .withZone(ZoneOffset.UTC);

  /**
   * The fields the signature covers (RFC 6376 §5.4), From and Subject twice so that a second one
   * cannot be added without breaking it (§8.15).
   */
  static final List<String> SIGNED_FIELDS =
      List.of(
          "From",
          "To",
          "Subject",
          "Date",
          "Message-ID",
          "MIME-Version",
          "Content-Type",
          "TLS-Report-Domain",
          "TLS-Report-Submitter",
          "TLS-Required",
          "From",
          "Subject");

  private final SecureSmtpTransport transport;
  private final EmailAddress from;
  private final DomainName submitter;
  private final DkimKey dkim;
  private final Clock clock;
  private final RandomGenerator random;

  private MailReportSender(Builder b) {
    this.transport = Objects.requireNonNull(b.transport, "transport");
    this.from = Objects.requireNonNull(b.from, "from");
    this.submitter = Objects.requireNonNull(b.submitter, "submitter");
    this.dkim = Objects.requireNonNull(b.dkim, "dkim");
    this.clock = b.clock;
    this.random = b.random;
  }

  /** A builder; transport, from, submitter and dkim are required. */
  public static Builder builder() {
    return new Builder();
  }

  @Override
  public boolean supports(URI destination) {
    return destination.getScheme() != null
        && destination.getScheme().toLowerCase(Locale.ROOT).equals("mailto");
  }

  @Override
  public ReportOutcome deliver(URI destination, TlsRptReport report) {
    Objects.requireNonNull(destination, "destination");
    Objects.requireNonNull(report, "report");
    if (!report.submitter().equals(submitter)) {
      // RFC 8460 §5.3: TLS-Report-Submitter must match the file name's sender and the DKIM
      // domain. A report written by another submitter would name two; the receiver ignores it.
      // The operator's configuration, not the destination: kept and tried again, as a key that
      // does not sign.
      return new ReportOutcome.NotDelivered(
          "the report was written for submitter "
              + report.submitter()
              + ", this mail channel's is "
              + submitter
              + " (RFC 8460 §5.3: TLS-Report-Submitter matches the file name); nothing sent",
          false);
    }
    List<EmailAddress> to;
    try {
      to = MailtoUri.recipients(destination);
    } catch (IllegalArgumentException e) {
      return new ReportOutcome.NotDelivered("not a usable mailto: URI: " + e.getMessage(), true);
    }
    if (to.size() > TlsRptRecord.MAX_DESTINATIONS) {
      // The URI is the peer's input: its to= header fields (RFC 6068 §2) do not undo the bound on
      // destinations a record gives; the first ones given are used, as TlsRptRecord does.
      log.warn(
          "TLS-RPT: {} names {} addresses; the report goes to the first {}",
          destination,
          to.size(),
          TlsRptRecord.MAX_DESTINATIONS);
      to = List.copyOf(to.subList(0, TlsRptRecord.MAX_DESTINATIONS));
    }
    byte[] message;
    try {
      message = message(to, report);
    } catch (GeneralSecurityException e) {
      // the operator's key, not a peer: still reported, not thrown
      return new ReportOutcome.NotDelivered("DKIM signing failed: " + e, false);
    }
    boolean utf8 = from.needsSmtpUtf8() || to.stream().anyMatch(EmailAddress::needsSmtpUtf8);
    MessageContent content = new ReportMail(message, utf8);
    DeliveryReport delivery;
    try {
      delivery = transport.send(new Envelope(Optional.of(from), to), content);
    } catch (IllegalStateException e) {
      return new ReportOutcome.NotDelivered("the transport did not send: " + e.getMessage(), false);
    }
    return outcome(delivery);
  }

  /** What the recipients' results make of the attempt (see the class comment). */
  static ReportOutcome outcome(DeliveryReport delivery) {
    List<RecipientResult> all = delivery.recipients();
    String detail =
        all.stream()
            .map(r -> r.recipient().toPath() + ": " + r.status() + " " + r.reply())
            .collect(Collectors.joining("; "));
    boolean anyDeferred = all.stream().anyMatch(r -> r.status() == DeliveryStatus.DEFERRED);
    boolean anyDelivered = all.stream().anyMatch(r -> r.status() == DeliveryStatus.DELIVERED);
    if (anyDeferred) {
      return new ReportOutcome.NotDelivered(detail, false);
    }
    if (anyDelivered) {
      return new ReportOutcome.Delivered(detail);
    }
    return new ReportOutcome.NotDelivered(detail, true);
  }

  /** The whole message, signed, CRLF line ends. */
  byte[] message(List<EmailAddress> to, TlsRptReport report) throws GeneralSecurityException {
    Instant now = clock.instant();
    byte[] rnd = new byte[16];
    random.nextBytes(rnd);
    String hex = HexFormat.of().formatHex(rnd);
    String boundary = "tlsrpt-" + hex.substring(0, 16);
    String messageId = "<" + hex + "." + now.getEpochSecond() + "@" + submitter + ">";
    String domain = report.policyDomain().toString();

    StringBuilder h = new StringBuilder();
    h.append("From: ").append(from.toPath());
    h.append("\r\n");
    h.append("To: ")
        .append(to.stream().map(EmailAddress::toPath).collect(Collectors.joining(",\r\n ")))
        .append("\r\n");
    // RFC 8460 §5.3, folded as its example is
    h.append("Subject: Report Domain: ")
        .append(domain)
        .append("\r\n Submitter: ")
        .append(submitter)
        .append("\r\n Report-ID: <")
        .append(report.reportId())
        .append(">\r\n");
    h.append("Date: ").append(DATE.format(now)).append("\r\n");
    h.append("Message-ID: ").append(messageId).append("\r\n");
    h.append("MIME-Version: 1.0\r\n");
    h.append("Content-Type: multipart/report; report-type=\"tlsrpt\";\r\n boundary=\"")
        .append(boundary)
        .append("\"\r\n");
    h.append("TLS-Report-Domain: ").append(domain).append("\r\n");
    h.append("TLS-Report-Submitter: ").append(submitter).append("\r\n");
    h.append("TLS-Required: No\r\n");

    StringBuilder body = new StringBuilder();
    body.append("This is a TLS report (RFC 8460) in MIME format.\r\n\r\n");
    body.append("--").append(boundary).append("\r\n");
    body.append("Content-Type: text/plain; charset=\"us-ascii\"\r\n");
    body.append("Content-Transfer-Encoding: 7bit\r\n\r\n");
    body.append("This is an aggregate TLS report from ")
        .append(submitter)
        .append(" about ")
        .append(domain)
        .append(" for ")
        .append(report.day())
        .append(" (UTC).\r\n");
    body.append("The report is attached, gzipped JSON (RFC 8460 section 4.4).\r\n\r\n");
    body.append("--").append(boundary).append("\r\n");
    body.append("Content-Type: application/tlsrpt+gzip\r\n");
    body.append("Content-Transfer-Encoding: base64\r\n");
    body.append("Content-Disposition: attachment;\r\n filename=\"")
        .append(report.fileName(true))
        .append("\"\r\n\r\n");
    body.append(Base64.getMimeEncoder(76, new byte[] {'\r', '\n'}).encodeToString(report.gzip()));
    body.append("\r\n\r\n--").append(boundary).append("--\r\n");

    byte[] unsigned = (h + "\r\n" + body).getBytes(StandardCharsets.UTF_8);
    String tags =
        "v=1; a="
            + dkim.algorithm()
            + "; c=relaxed/relaxed; d="
            + dkim.domain()
            + "; s="
            + dkim.selector()
            + ";\r\n t="
            + now.getEpochSecond()
            + "; h="
            + String.join(":", SIGNED_FIELDS).toLowerCase(Locale.ROOT)
            + ";";
    String signature =
        DkimSigner.signatureValue(
            unsigned, tags, SIGNED_FIELDS, dkim.algorithm(), dkim.privateKey());
    byte[] field = ("DKIM-Signature: " + signature + "\r\n").getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[field.length + unsigned.length];
    System.arraycopy(field, 0, out, 0, field.length);
    System.arraycopy(unsigned, 0, out, field.length, unsigned.length);
    log.debug(
        "report mail {} for {} to {} recipient(s), {} octets",
        messageId,
        report.reportId(),
        to.size(),
        out.length);
    return out;
  }

  /**
   * The report mail as the transport's content: it describes itself, so the transport does not read
   * it to learn that it carries {@code TLS-Required: No}.
   */
  private static final class ReportMail implements MessageContent {
    private final byte[] bytes;
    private final boolean utf8;

    ReportMail(byte[] bytes, boolean utf8) {
      this.bytes = bytes;
      this.utf8 = utf8;
    }

    @Override
    public InputStream open() {
      return new ByteArrayInputStream(bytes);
    }

    @Override
    public Optional<ContentDescriptor> descriptor() {
      return Optional.of(
          new ContentDescriptor(utf8, utf8, OptionalLong.of(bytes.length)).withTlsRequiredNo(true));
    }
  }

  /** Builds a {@link MailReportSender}. Each setter may be called once. */
  public static final class Builder {
    private @Nullable SecureSmtpTransport transport;
    private @Nullable EmailAddress from;
    private @Nullable DomainName submitter;
    private @Nullable DkimKey dkim;
    private Clock clock = Clock.systemUTC();
    private boolean clockSet;
    private RandomGenerator random = new SecureRandom();
    private boolean randomSet;

    private Builder() {}

    /**
     * The transport that sends the reports. Give it no {@code TlsRptAggregator}: RFC 8460 §5.3 asks
     * that report deliveries not be counted in later reports.
     */
    public Builder transport(SecureSmtpTransport transport) {
      if (this.transport != null) {
        throw new IllegalStateException("transport already set");
      }
      this.transport = Objects.requireNonNull(transport, "transport");
      return this;
    }

    /** The report sender's address: the {@code From} field and the envelope's reverse-path. */
    public Builder from(EmailAddress from) {
      if (this.from != null) {
        throw new IllegalStateException("from already set");
      }
      this.from = Objects.requireNonNull(from, "from");
      return this;
    }

    /**
     * The {@code TLS-Report-Submitter} (RFC 8460 §5.3): the writer's submitter. A report written by
     * another submitter is not sent ({@code NotDelivered(permanent=false)}): its file name would
     * name another sender than the header field.
     */
    public Builder submitter(DomainName submitter) {
      if (this.submitter != null) {
        throw new IllegalStateException("submitter already set");
      }
      this.submitter = Objects.requireNonNull(submitter, "submitter");
      return this;
    }

    /**
     * The DKIM signing key (RFC 8460 §3, §5.3 ask that report mail be signed by the reporting
     * domain): its {@code d=} must be the submitter, or a parent or sub-domain of it, else {@link
     * #build} throws {@link IllegalArgumentException}.
     */
    public Builder dkim(DkimKey key) {
      if (this.dkim != null) {
        throw new IllegalStateException("dkim already set");
      }
      this.dkim = Objects.requireNonNull(key, "key");
      return this;
    }

    /** The clock of the {@code Date} field and the signature's {@code t=} (default UTC system). */
    public Builder clock(Clock clock) {
      if (clockSet) {
        throw new IllegalStateException("clock already set");
      }
      this.clock = Objects.requireNonNull(clock, "clock");
      clockSet = true;
      return this;
    }

    /** The source of Message-IDs and MIME boundaries (default a {@link SecureRandom}). */
    public Builder random(RandomGenerator random) {
      if (randomSet) {
        throw new IllegalStateException("random already set");
      }
      this.random = Objects.requireNonNull(random, "random");
      randomSet = true;
      return this;
    }

    /** The sender. */
    public MailReportSender build() {
      List<String> missing = new ArrayList<>();
      if (transport == null) {
        missing.add("transport");
      }
      if (from == null) {
        missing.add("from");
      }
      if (submitter == null) {
        missing.add("submitter");
      }
      if (dkim == null) {
        missing.add("dkim");
      }
      if (!missing.isEmpty()) {
        throw new IllegalStateException("required: " + String.join(", ", missing));
      }
      DomainName d = Objects.requireNonNull(dkim).domain();
      DomainName s = Objects.requireNonNull(submitter);
      if (!s.isSubdomainOf(d) && !d.isSubdomainOf(s)) {
        // RFC 8460 §3: reports by mail MUST carry a valid DKIM signature by the reporting domain;
        // the receiver ignores the others.
        throw new IllegalArgumentException(
            "the DKIM signing domain "
                + d
                + " is not the submitter "
                + s
                + " nor a parent or sub-domain of it (RFC 8460 §3)");
      }
      return new MailReportSender(this);
    }
  }
}
