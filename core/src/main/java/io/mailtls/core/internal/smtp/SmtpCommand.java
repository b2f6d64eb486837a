package io.mailtls.core.internal.smtp;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One SMTP command line, validated and ready to encode (RFC 5321 §4.1.1 and the extensions the
 * client uses).
 *
 * <p>Every argument is checked when the command is built: a CR, LF, NUL or other control character
 * anywhere is rejected with {@link IllegalArgumentException}, so no caller-supplied text can end
 * the line early and smuggle in a second command. Paths and parameter values may be non-ASCII only
 * in a transaction that uses SMTPUTF8 (RFC 6531 §3.3); such a command is encoded as UTF-8, every
 * other command as ASCII.
 *
 * <p>{@link #mustEndPipelineGroup()} says whether, under PIPELINING, the client must wait for the
 * replies after sending this command (RFC 2920 §3.1).
 *
 * <p>{@link #toString()} never shows credentials: AUTH initial responses and SASL responses are
 * redacted.
 *
 * <p>Instances are immutable and thread-safe.
 */
public final class SmtpCommand {

  /** What a command does; a SASL response line is not a verb on the wire. */
  public enum Verb {
    /** {@code EHLO} (RFC 5321 §4.1.1.1). */
    EHLO,
    /** {@code HELO} (RFC 5321 §4.1.1.1). */
    HELO,
    /** {@code MAIL FROM:} (RFC 5321 §4.1.1.2). */
    MAIL,
    /** {@code RCPT TO:} (RFC 5321 §4.1.1.3). */
    RCPT,
    /** {@code DATA} (RFC 5321 §4.1.1.4). */
    DATA,
    /** {@code BDAT} (RFC 3030 §2). */
    BDAT,
    /** {@code RSET} (RFC 5321 §4.1.1.5). */
    RSET,
    /** {@code NOOP} (RFC 5321 §4.1.1.9). */
    NOOP,
    /** {@code QUIT} (RFC 5321 §4.1.1.10). */
    QUIT,
    /** {@code STARTTLS} (RFC 3207 §4). */
    STARTTLS,
    /** {@code AUTH} (RFC 4954 §4). */
    AUTH,
    /** A base64 line answering a 334 challenge, or {@code *} to cancel (RFC 4954 §4). */
    SASL_RESPONSE
  }

  private static final byte[] CRLF = {'\r', '\n'};

  private final Verb verb;
  private final String line;
  private final boolean utf8;
  private final boolean sensitive;

  private SmtpCommand(Verb verb, String line, boolean utf8, boolean sensitive) {
    this.verb = verb;
    this.line = line;
    this.utf8 = utf8;
    this.sensitive = sensitive;
  }

  /**
   * {@code EHLO name}: the client's domain (A-labels) or an address literal such as {@code
   * [192.0.2.1]} (RFC 5321 §4.1.1.1, see {@link SmtpPaths#addressLiteral}).
   *
   * @throws IllegalArgumentException quoting the name when it is neither
   */
  public static SmtpCommand ehlo(String domainOrAddressLiteral) {
    SmtpPaths.checkClientName(domainOrAddressLiteral);
    return new SmtpCommand(Verb.EHLO, "EHLO " + domainOrAddressLiteral, false, false);
  }

  /**
   * {@code HELO domain}, for servers that reject EHLO (RFC 5321 §4.1.1.1: HELO takes a domain, not
   * an address literal).
   *
   * @throws IllegalArgumentException quoting the domain when it is not one
   */
  public static SmtpCommand helo(String domain) {
    Objects.requireNonNull(domain, "domain");
    if (domain.startsWith("[")) {
      throw new IllegalArgumentException(
          "HELO takes a domain, not an address literal (RFC 5321 §4.1.1.1): "
              + SmtpText.quote(domain));
    }
    SmtpPaths.checkClientName(domain);
    return new SmtpCommand(Verb.HELO, "HELO " + domain, false, false);
  }

  /** {@code MAIL FROM:<reversePath> params...}; see {@link #mailFrom(String, List)}. */
  public static SmtpCommand mailFrom(String reversePath, EsmtpParameter... parameters) {
    return mailFrom(reversePath, List.of(parameters));
  }

  /**
   * {@code MAIL FROM:<reversePath> params...} (RFC 5321 §4.1.1.2). An empty reverse path gives the
   * null path {@code <>} of bounces (RFC 5321 §4.5.5). Non-ASCII in the path or the parameters is
   * allowed when, and only when, the parameters include {@code SMTPUTF8} (RFC 6531 §3.4).
   *
   * @param reversePath the mailbox without angle brackets, or {@code ""}
   * @throws IllegalArgumentException quoting the value when the path or a parameter is unusable
   */
  public static SmtpCommand mailFrom(String reversePath, List<EsmtpParameter> parameters) {
    Objects.requireNonNull(reversePath, "reversePath");
    boolean utf8 = parameters.stream().anyMatch(p -> p.keyword().equals("SMTPUTF8"));
    if (!reversePath.isEmpty()) {
      SmtpPaths.checkMailbox(reversePath, utf8, false, "reverse path");
    }
    StringBuilder line =
        new StringBuilder(64).append("MAIL FROM:<").append(reversePath).append('>');
    appendParameters(line, parameters, utf8);
    return new SmtpCommand(Verb.MAIL, line.toString(), utf8, false);
  }

  /** {@code RCPT TO:<forwardPath> params...} in an ASCII transaction. */
  public static SmtpCommand rcptTo(String forwardPath, EsmtpParameter... parameters) {
    return rcptTo(forwardPath, false, List.of(parameters));
  }

  /**
   * {@code RCPT TO:<forwardPath> params...} (RFC 5321 §4.1.1.3); {@code postmaster} without a
   * domain is allowed.
   *
   * @param smtpUtf8 whether the transaction's {@code MAIL FROM} carried {@code SMTPUTF8}, which
   *     allows non-ASCII here (RFC 6531 §3.4)
   * @throws IllegalArgumentException quoting the value when the path or a parameter is unusable
   */
  public static SmtpCommand rcptTo(
      String forwardPath, boolean smtpUtf8, List<EsmtpParameter> parameters) {
    SmtpPaths.checkMailbox(forwardPath, smtpUtf8, true, "forward path");
    StringBuilder line = new StringBuilder(64).append("RCPT TO:<").append(forwardPath).append('>');
    appendParameters(line, parameters, smtpUtf8);
    return new SmtpCommand(Verb.RCPT, line.toString(), smtpUtf8, false);
  }

  private static void appendParameters(
      StringBuilder line, List<EsmtpParameter> parameters, boolean utf8) {
    for (EsmtpParameter parameter : parameters) {
      Objects.requireNonNull(parameter, "parameter");
      if (!utf8 && !parameter.isAscii()) {
        throw new IllegalArgumentException(
            "ESMTP parameter "
                + parameter.keyword()
                + " has non-ASCII text, which needs SMTPUTF8 (RFC 6531 §3.3)");
      }
      // RFC 5321 §4.1.2: Mail-parameters = esmtp-param *(SP esmtp-param), after one SP.
      line.append(' ').append(parameter);
    }
  }

  /** {@code DATA} (RFC 5321 §4.1.1.4). */
  public static SmtpCommand data() {
    return new SmtpCommand(Verb.DATA, "DATA", false, false);
  }

  /**
   * {@code BDAT size} or {@code BDAT size LAST} (RFC 3030 §2: {@code bdat-cmd = "BDAT" SP
   * chunk-size [SP end-marker]}); the {@code size} octets follow the line immediately.
   *
   * @throws IllegalArgumentException when the size is negative
   */
  public static SmtpCommand bdat(long size, boolean last) {
    if (size < 0) {
      throw new IllegalArgumentException("BDAT chunk size must not be negative: " + size);
    }
    return new SmtpCommand(Verb.BDAT, "BDAT " + size + (last ? " LAST" : ""), false, false);
  }

  /** {@code RSET} (RFC 5321 §4.1.1.5). */
  public static SmtpCommand rset() {
    return new SmtpCommand(Verb.RSET, "RSET", false, false);
  }

  /** {@code NOOP} (RFC 5321 §4.1.1.9). */
  public static SmtpCommand noop() {
    return new SmtpCommand(Verb.NOOP, "NOOP", false, false);
  }

  /** {@code QUIT} (RFC 5321 §4.1.1.10). */
  public static SmtpCommand quit() {
    return new SmtpCommand(Verb.QUIT, "QUIT", false, false);
  }

  /** {@code STARTTLS} (RFC 3207 §4). */
  public static SmtpCommand starttls() {
    return new SmtpCommand(Verb.STARTTLS, "STARTTLS", false, false);
  }

  /**
   * {@code AUTH mechanism} without an initial response (RFC 4954 §4).
   *
   * @throws IllegalArgumentException when the mechanism name is not a SASL name (RFC 4422 §3.1)
   */
  public static SmtpCommand auth(String mechanism) {
    return new SmtpCommand(Verb.AUTH, "AUTH " + mechanismName(mechanism), false, false);
  }

  /**
   * {@code AUTH mechanism initial-response}, the response base64-encoded, or {@code =} when it is
   * empty (RFC 4954 §4). Redacted in {@link #toString()}.
   *
   * @throws IllegalArgumentException when the mechanism name is not a SASL name (RFC 4422 §3.1)
   */
  public static SmtpCommand auth(String mechanism, byte[] initialResponse) {
    Objects.requireNonNull(initialResponse, "initialResponse");
    // RFC 4954 §4: a zero-length initial response is sent as a single "=".
    String encoded =
        initialResponse.length == 0 ? "=" : Base64.getEncoder().encodeToString(initialResponse);
    return new SmtpCommand(
        Verb.AUTH, "AUTH " + mechanismName(mechanism) + " " + encoded, false, true);
  }

  /**
   * {@code AUTH PLAIN} with the initial response {@code [authzid] NUL authcid NUL passwd} in UTF-8
   * (RFC 4616 §2, RFC 4954 §4). Redacted in {@link #toString()}.
   *
   * @param authorizationId the identity to act as, usually {@code ""} (act as oneself)
   * @param authenticationId the user name, not empty
   * @param password the password, not empty
   * @throws IllegalArgumentException when a value contains NUL or an unpaired surrogate, or the
   *     user name or password is empty (RFC 4616 §2: {@code 1*SAFE})
   */
  public static SmtpCommand authPlain(
      String authorizationId, String authenticationId, String password) {
    Objects.requireNonNull(authorizationId, "authorizationId");
    Objects.requireNonNull(authenticationId, "authenticationId");
    Objects.requireNonNull(password, "password");
    if (authenticationId.isEmpty() || password.isEmpty()) {
      throw new IllegalArgumentException(
          "AUTH PLAIN needs a non-empty user name and password (RFC 4616 §2)");
    }
    byte[] authzid = saslString(authorizationId, "authorization identity");
    byte[] authcid = saslString(authenticationId, "authentication identity");
    byte[] passwd = saslString(password, "password");
    byte[] message = new byte[authzid.length + 1 + authcid.length + 1 + passwd.length];
    System.arraycopy(authzid, 0, message, 0, authzid.length);
    System.arraycopy(authcid, 0, message, authzid.length + 1, authcid.length);
    System.arraycopy(passwd, 0, message, authzid.length + authcid.length + 2, passwd.length);
    return auth("PLAIN", message);
  }

  /** {@code AUTH LOGIN}; the server then asks for the user name and the password (334). */
  public static SmtpCommand authLogin() {
    return auth("LOGIN");
  }

  /** The base64 user name answering the first 334 of AUTH LOGIN. Redacted in toString. */
  public static SmtpCommand authLoginUsername(String username) {
    Objects.requireNonNull(username, "username");
    return saslResponse(saslString(username, "user name"));
  }

  /** The base64 password answering the second 334 of AUTH LOGIN. Redacted in toString. */
  public static SmtpCommand authLoginPassword(String password) {
    Objects.requireNonNull(password, "password");
    return saslResponse(saslString(password, "password"));
  }

  /**
   * A SASL response line: the response base64-encoded (RFC 4954 §4; an empty response is an empty
   * line). Redacted in {@link #toString()}.
   */
  public static SmtpCommand saslResponse(byte[] response) {
    Objects.requireNonNull(response, "response");
    return new SmtpCommand(
        Verb.SASL_RESPONSE, Base64.getEncoder().encodeToString(response), false, true);
  }

  /** {@code *}: cancels a SASL exchange; the server answers 501 (RFC 4954 §4). */
  public static SmtpCommand saslCancel() {
    return new SmtpCommand(Verb.SASL_RESPONSE, "*", false, false);
  }

  /** What the command does. */
  public Verb verb() {
    return verb;
  }

  /**
   * Whether, under PIPELINING, this command must be the last of a group, so the client waits for
   * the replies before sending more.
   *
   * <p>RFC 2920 §3.1: RSET, MAIL FROM and RCPT TO may appear anywhere in a group; EHLO, DATA, QUIT
   * and NOOP only last; commands of other extensions only last unless they say otherwise. BDAT says
   * otherwise (RFC 3030 §4.2 pipelines BDAT chunks back to back). STARTTLS changes the connection,
   * and AUTH the session state (RFC 4954 §4), so both end a group; so does HELO.
   */
  public boolean mustEndPipelineGroup() {
    return switch (verb) {
      case MAIL, RCPT, RSET, BDAT -> false;
      case EHLO, HELO, DATA, NOOP, QUIT, STARTTLS, AUTH, SASL_RESPONSE -> true;
    };
  }

  /** Whether the line is encoded as UTF-8 (an SMTPUTF8 transaction, RFC 6531 §3.4) or ASCII. */
  public boolean isUtf8() {
    return utf8;
  }

  /** The encoded line, terminated by CRLF (RFC 5321 §2.3.8). */
  public byte[] toBytes() {
    byte[] text = utf8 ? line.getBytes(StandardCharsets.UTF_8) : ascii(line);
    byte[] bytes = new byte[text.length + 2];
    System.arraycopy(text, 0, bytes, 0, text.length);
    bytes[text.length] = CRLF[0];
    bytes[text.length + 1] = CRLF[1];
    return bytes;
  }

  /**
   * Writes the encoded line and CRLF in one call; the caller flushes.
   *
   * @throws IOException from the stream
   */
  public void writeTo(OutputStream out) throws IOException {
    out.write(toBytes());
  }

  /** The line as sent, without CRLF; credentials are replaced with {@code <redacted>}. */
  @Override
  public String toString() {
    if (!sensitive) {
      return line;
    }
    if (verb == Verb.SASL_RESPONSE) {
      return "<redacted>";
    }
    return line.substring(0, line.lastIndexOf(' ') + 1) + "<redacted>";
  }

  @Override
  public boolean equals(@Nullable Object other) {
    return other instanceof SmtpCommand that
        && verb == that.verb
        && utf8 == that.utf8
        && line.equals(that.line);
  }

  @Override
  public int hashCode() {
    return Objects.hash(verb, utf8, line);
  }

  /** The mechanism name in upper case, after checking it (RFC 4422 §3.1). */
  private static String mechanismName(String mechanism) {
    Objects.requireNonNull(mechanism, "mechanism");
    if (!EhloCapabilities.isSaslName(mechanism)) {
      throw new IllegalArgumentException(
          "not a SASL mechanism name (RFC 4422 §3.1): " + SmtpText.quote(mechanism));
    }
    // Checked first: upper-casing would turn a dotless 'ı' (U+0131) into an ASCII 'I'.
    return mechanism.toUpperCase(Locale.ROOT);
  }

  /** UTF-8 of a SASL string; RFC 4616 §2 forbids NUL (it separates the fields). */
  private static byte[] saslString(String value, String what) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == 0) {
        throw new IllegalArgumentException(what + " contains NUL (RFC 4616 §2)");
      }
      if (Character.isHighSurrogate(c)
          && i + 1 < value.length()
          && Character.isLowSurrogate(value.charAt(i + 1))) {
        i++;
      } else if (Character.isSurrogate(c)) {
        throw new IllegalArgumentException(what + " contains an unpaired surrogate");
      }
    }
    return value.getBytes(StandardCharsets.UTF_8);
  }

  /** ASCII encoding of a line already checked to be ASCII. */
  private static byte[] ascii(String text) {
    byte[] bytes = new byte[text.length()];
    for (int i = 0; i < bytes.length; i++) {
      char c = text.charAt(i);
      if (c > 0x7F) {
        throw new AssertionError("non-ASCII in an ASCII command");
      }
      bytes[i] = (byte) c;
    }
    return bytes;
  }
}
