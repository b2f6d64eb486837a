package io.mailtls.core;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One SMTP reply: a three-digit code, an optional enhanced status code and one or more lines of
 * text (RFC 5321 §4.2).
 *
 * <p>{@link #lines()} hold the text of each reply line without the code, the separator ({@code '-'}
 * or space) and the line break. When the first line starts with an enhanced status code whose class
 * matches the reply code (RFC 2034 §4), that code becomes {@link #enhancedStatus()} and is removed
 * from every line that repeats it; text that merely looks like a code (a different code, or a class
 * that does not match) stays in the line.
 *
 * <p>A reply is either what a server said or what this library made up itself, for an outcome the
 * server never reported (a message over the server's SIZE limit, a TLS failure, a DNS failure):
 * {@link #locallyGenerated()} tells them apart, so a delivery report never attributes a local
 * decision to the server. Build those with {@link #local(int, EnhancedStatus, String)}.
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param code the reply code, 200 to 599
 * @param enhancedStatus the enhanced status code, whose class equals the code's first digit
 * @param lines the text of each line, at least one, none containing CR or LF
 * @param locallyGenerated true when this library generated the reply, false when a server sent it
 */
public record SmtpReply(
    int code,
    Optional<EnhancedStatus> enhancedStatus,
    List<String> lines,
    boolean locallyGenerated) {

  /**
   * Validates and copies the components.
   *
   * @throws IllegalArgumentException naming the value when the code is outside 200..599, the
   *     enhanced status class differs from the code's first digit, there is no line, or a line
   *     contains CR or LF
   */
  public SmtpReply {
    Objects.requireNonNull(enhancedStatus, "enhancedStatus");
    Objects.requireNonNull(lines, "lines");
    // RFC 5321 §4.2.1: the first digit is 2 to 5; 1yz is not used in SMTP.
    if (code < 200 || code > 599) {
      throw new IllegalArgumentException("SMTP reply code must be 200..599: " + code);
    }
    // RFC 2034 §4: a 2xx reply carries a 2.X.X code, 4xx a 4.X.X code, 5xx a 5.X.X code.
    if (enhancedStatus.isPresent() && enhancedStatus.get().statusClass() != code / 100) {
      throw new IllegalArgumentException(
          "enhanced status " + enhancedStatus.get() + " does not match reply code " + code);
    }
    lines = List.copyOf(lines);
    if (lines.isEmpty()) {
      throw new IllegalArgumentException("an SMTP reply has at least one line");
    }
    for (String line : lines) {
      if (line.indexOf('\r') >= 0 || line.indexOf('\n') >= 0) {
        throw new IllegalArgumentException("reply line contains CR or LF: " + lines);
      }
    }
  }

  /**
   * A reply this library generated, with an enhanced status code; {@code text} may hold several
   * lines separated by {@code '\n'}.
   *
   * <p>Example: {@code SmtpReply.local(554, EnhancedStatus.MESSAGE_TOO_BIG, "message too big for
   * server")}.
   *
   * @throws IllegalArgumentException as the canonical constructor does
   */
  public static SmtpReply local(int code, EnhancedStatus status, String text) {
    Objects.requireNonNull(status, "status");
    return new SmtpReply(code, Optional.of(status), splitLines(text), true);
  }

  /**
   * A reply this library generated, with the enhanced status code in text form, e.g. {@code
   * SmtpReply.local(554, "5.3.4", "message too big for server")}.
   *
   * @throws IllegalArgumentException when the status is not {@code class.subject.detail}, or as the
   *     canonical constructor does
   */
  public static SmtpReply local(int code, String status, String text) {
    return local(code, EnhancedStatus.parse(status), text);
  }

  /**
   * A reply this library generated, without an enhanced status code.
   *
   * @throws IllegalArgumentException as the canonical constructor does
   */
  public static SmtpReply local(int code, String text) {
    return new SmtpReply(code, Optional.empty(), splitLines(text), true);
  }

  private static List<String> splitLines(String text) {
    Objects.requireNonNull(text, "text");
    // A CR in a local text is a caller mistake; the constructor reports it.
    return List.of(text.split("\n", -1));
  }

  /** The text of all lines, joined with {@code '\n'}. */
  public String text() {
    return String.join("\n", lines);
  }

  /** Whether the code is 2yz, positive completion (RFC 5321 §4.2.1). */
  public boolean isPositiveCompletion() {
    return code / 100 == 2;
  }

  /** Whether the code is 3yz, positive intermediate (RFC 5321 §4.2.1), e.g. 354 or 334. */
  public boolean isIntermediate() {
    return code / 100 == 3;
  }

  /** Whether the code is 4yz, transient negative completion (RFC 5321 §4.2.1): try again later. */
  public boolean isTransientFailure() {
    return code / 100 == 4;
  }

  /** Whether the code is 5yz, permanent negative completion (RFC 5321 §4.2.1): do not retry. */
  public boolean isPermanentFailure() {
    return code / 100 == 5;
  }

  /**
   * The code, the enhanced status code if any, and the text, separated by spaces, e.g. {@code "550
   * 5.1.1 user unknown"}; the lines of a multiline reply are separated by {@code '\n'}. Whether the
   * reply is {@linkplain #locallyGenerated() local} is not shown.
   */
  @Override
  public String toString() {
    StringBuilder out = new StringBuilder().append(code);
    enhancedStatus.ifPresent(status -> out.append(' ').append(status));
    String text = text();
    if (!text.isEmpty()) {
      out.append(' ').append(text);
    }
    return out.toString();
  }
}
