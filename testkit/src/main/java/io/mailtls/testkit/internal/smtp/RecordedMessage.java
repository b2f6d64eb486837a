package io.mailtls.testkit.internal.smtp;

import io.mailtls.testkit.SmtpMessage;
import io.mailtls.testkit.SmtpReply;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The {@link SmtpMessage} the mock server records.
 *
 * <p>Immutable and thread-safe.
 */
final class RecordedMessage implements SmtpMessage {

  private final int sessionId;
  private final String mailFrom;
  private final List<String> mailParameters;
  private final List<String> recipients;
  private final boolean tls;
  private final boolean chunked;
  private final long size;
  private final byte[] sha256;
  private final byte @Nullable [] data;
  private final byte @Nullable [] headerSection;
  private final @Nullable SmtpReply finalReply;

  RecordedMessage(
      int sessionId,
      Transaction transaction,
      boolean tls,
      MessageSink sink,
      @Nullable SmtpReply finalReply) {
    this.sessionId = sessionId;
    this.mailFrom = transaction.mailFrom;
    this.mailParameters = List.copyOf(transaction.mailParameters);
    this.recipients = List.copyOf(transaction.recipients);
    this.tls = tls;
    this.chunked = transaction.chunked;
    this.size = sink.size();
    this.sha256 = sink.finishSha256();
    this.data = sink.bytes();
    this.headerSection = sink.headerSection();
    this.finalReply = finalReply;
  }

  @Override
  public int sessionId() {
    return sessionId;
  }

  @Override
  public String mailFrom() {
    return mailFrom;
  }

  @Override
  public List<String> mailParameters() {
    return mailParameters;
  }

  @Override
  public List<String> recipients() {
    return recipients;
  }

  @Override
  public boolean tls() {
    return tls;
  }

  @Override
  public boolean chunked() {
    return chunked;
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public byte[] sha256() {
    return sha256.clone();
  }

  @Override
  public boolean hasData() {
    return data != null;
  }

  @Override
  public byte[] data() {
    if (data == null) {
      throw new IllegalStateException("the server kept only the digest of this message");
    }
    return data.clone();
  }

  @Override
  public String dataAsString() {
    return new String(data(), StandardCharsets.UTF_8);
  }

  @Override
  public Optional<String> header(String name) {
    if (data != null) {
      return HeaderScan.first(data, name);
    }
    return headerSection == null ? Optional.empty() : HeaderScan.first(headerSection, name);
  }

  @Override
  public Optional<SmtpReply> finalReply() {
    return Optional.ofNullable(finalReply);
  }

  @Override
  public String toString() {
    return "SmtpMessage{session="
        + sessionId
        + ", from=<"
        + mailFrom
        + ">, to="
        + recipients
        + ", size="
        + size
        + ", sha256="
        + HexFormat.of().formatHex(sha256)
        + ", reply="
        + finalReply
        + "}";
  }
}
