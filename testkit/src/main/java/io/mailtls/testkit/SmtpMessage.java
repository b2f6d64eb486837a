package io.mailtls.testkit;

import java.util.List;
import java.util.Optional;

/**
 * One message whose data {@link MockSmtpServer} received in full (DATA up to the final dot, or BDAT
 * up to LAST), with its envelope and the reply the server gave it.
 *
 * <p>Immutable and thread-safe.
 */
public interface SmtpMessage {

  /** The {@link SmtpSession#id()} of the session that carried the message. */
  int sessionId();

  /** The reverse-path of MAIL FROM without angle brackets; empty for the null sender {@code <>}. */
  String mailFrom();

  /** The MAIL FROM parameters as sent (e.g. {@code "SIZE=1024"}, {@code "BODY=8BITMIME"}). */
  List<String> mailParameters();

  /** The forward-paths of the RCPT TO commands the server accepted, in order. */
  List<String> recipients();

  /** Whether TLS was active when the data arrived. */
  boolean tls();

  /** Whether the data came in BDAT chunks (RFC 3030) rather than DATA. */
  boolean chunked();

  /** The message size in octets, after dot-unstuffing (RFC 5321 §4.5.2). */
  long size();

  /** SHA-256 of the message octets after dot-unstuffing. */
  byte[] sha256();

  /** Whether the server kept the octets ({@code false} in digest-only mode). */
  boolean hasData();

  /**
   * The octets as received, after dot-unstuffing and without the terminating {@code .CRLF}.
   *
   * @throws IllegalStateException in digest-only mode
   */
  byte[] data();

  /**
   * The value of the first header field named {@code name} (case-insensitive) in the message's
   * header section (RFC 5322 §2.2), unfolded and trimmed; empty if there is none, or if the server
   * kept neither the octets nor, with {@link MockSmtpServer.Builder#keepHeaders()}, the header
   * section.
   */
  default Optional<String> header(String name) {
    return Optional.empty();
  }

  /** {@link #data()} decoded as UTF-8. */
  String dataAsString();

  /** The server's reply to the final dot or BDAT LAST; empty if it sent none (e.g. it hung up). */
  Optional<SmtpReply> finalReply();

  /** Whether the final reply was a 2xx, i.e. the server took responsibility for the message. */
  default boolean accepted() {
    return finalReply().map(SmtpReply::isPositiveCompletion).orElse(false);
  }
}
