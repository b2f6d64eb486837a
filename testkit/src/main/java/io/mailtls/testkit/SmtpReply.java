package io.mailtls.testkit;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * An SMTP reply as {@link MockSmtpServer} sends it: a three-digit code (RFC 5321 §4.2), an optional
 * enhanced status code (RFC 3463, sent only when ENHANCEDSTATUSCODES is in effect, RFC 2034) and
 * one or more text lines.
 *
 * <p>Immutable and thread-safe.
 */
public final class SmtpReply {

  // RFC 3463 §2: class "." subject "." detail; class 2, 4 or 5; up to three digits each.
  private static final Pattern ENHANCED = Pattern.compile("[245]\\.[0-9]{1,3}\\.[0-9]{1,3}");

  private final int code;
  private final @Nullable String enhancedCode;
  private final List<String> lines;

  private SmtpReply(int code, @Nullable String enhancedCode, List<String> lines) {
    if (code < 200 || code > 599) {
      throw new IllegalArgumentException("SMTP reply code must be 200..599: " + code);
    }
    if (enhancedCode != null) {
      if (!ENHANCED.matcher(enhancedCode).matches()) {
        throw new IllegalArgumentException("not an RFC 3463 status code: " + enhancedCode);
      }
      if (enhancedCode.charAt(0) != Integer.toString(code).charAt(0)) {
        throw new IllegalArgumentException(
            "enhanced code " + enhancedCode + " does not match the class of " + code);
      }
    }
    if (lines.isEmpty()) {
      throw new IllegalArgumentException("a reply needs at least one line");
    }
    for (String line : lines) {
      Objects.requireNonNull(line, "line");
      if (line.indexOf('\r') >= 0 || line.indexOf('\n') >= 0) {
        throw new IllegalArgumentException("reply text must not contain CR or LF: " + line);
      }
    }
    this.code = code;
    this.enhancedCode = enhancedCode;
    this.lines = List.copyOf(lines);
  }

  /** A one-line reply without an enhanced status code. */
  public static SmtpReply of(int code, String text) {
    return new SmtpReply(code, null, List.of(text));
  }

  /** A one-line reply with an enhanced status code such as {@code "4.2.0"}. */
  public static SmtpReply of(int code, String enhancedCode, String text) {
    return new SmtpReply(code, Objects.requireNonNull(enhancedCode, "enhancedCode"), List.of(text));
  }

  /**
   * A multi-line reply (RFC 5321 §4.2.1: {@code code-text} on all lines but the last); {@code
   * enhancedCode} may be {@code null}.
   */
  public static SmtpReply multiline(int code, @Nullable String enhancedCode, List<String> lines) {
    return new SmtpReply(code, enhancedCode, lines);
  }

  /** The three-digit reply code. */
  public int code() {
    return code;
  }

  /** The RFC 3463 status code, if this reply has one. */
  public Optional<String> enhancedCode() {
    return Optional.ofNullable(enhancedCode);
  }

  /** The text lines, without codes. */
  public List<String> lines() {
    return lines;
  }

  /** The text lines joined with {@code '\n'}. */
  public String text() {
    return String.join("\n", lines);
  }

  /** 2yz: positive completion (RFC 5321 §4.2.1). */
  public boolean isPositiveCompletion() {
    return code / 100 == 2;
  }

  /** 3yz: positive intermediate, e.g. 354 to DATA or 334 to AUTH. */
  public boolean isPositiveIntermediate() {
    return code / 100 == 3;
  }

  /** 4yz: transient negative completion. */
  public boolean isTransientFailure() {
    return code / 100 == 4;
  }

  /** 5yz: permanent negative completion. */
  public boolean isPermanentFailure() {
    return code / 100 == 5;
  }

  /**
   * The reply as sent on the wire, CRLF after every line; the enhanced code precedes the text of
   * every line when {@code withEnhancedCode} is set (RFC 2034: "each line").
   */
  public String format(boolean withEnhancedCode) {
    StringBuilder out = new StringBuilder();
    for (int i = 0; i < lines.size(); i++) {
      out.append(code).append(i == lines.size() - 1 ? ' ' : '-');
      if (withEnhancedCode && enhancedCode != null) {
        out.append(enhancedCode).append(' ');
      }
      out.append(lines.get(i)).append("\r\n");
    }
    return out.toString();
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof SmtpReply r
        && r.code == code
        && Objects.equals(r.enhancedCode, enhancedCode)
        && r.lines.equals(lines);
  }

  @Override
  public int hashCode() {
    return Objects.hash(code, enhancedCode, lines);
  }

  @Override
  public String toString() {
    return code + (enhancedCode != null ? " " + enhancedCode : "") + " " + text();
  }
}
