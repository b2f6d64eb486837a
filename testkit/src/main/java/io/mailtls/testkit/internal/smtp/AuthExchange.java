package io.mailtls.testkit.internal.smtp;

import io.mailtls.testkit.SmtpReply;
import io.mailtls.testkit.SmtpStep;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The server side of SMTP AUTH (RFC 4954) with the PLAIN (RFC 4616) and LOGIN mechanisms, checked
 * against the configured credentials.
 *
 * <p>Thread-safe: stateless.
 */
final class AuthExchange {

  // The LOGIN mechanism's customary prompts, "Username:" and "Password:" in base64.
  private static final String USERNAME_PROMPT = "VXNlcm5hbWU6";
  private static final String PASSWORD_PROMPT = "UGFzc3dvcmQ6";

  private AuthExchange() {}

  /**
   * Runs the exchange that {@code AUTH args} opens. Returns the authenticated user, or {@code null}
   * when authentication did not succeed (the reply has been sent either way).
   */
  static @Nullable String run(Connection c, String args, boolean enhanced) throws IOException {
    String[] words = args.split(" ", 2);
    String mechanism = words[0].toUpperCase(Locale.ROOT);
    String initial = words.length > 1 ? words[1].trim() : null;
    String user;
    String password;
    switch (mechanism) {
      case "PLAIN":
        {
          byte[] response = respond(c, initial, "", enhanced);
          if (response == null) {
            return null;
          }
          // RFC 4616 §2: [authzid] NUL authcid NUL passwd
          String[] parts = new String(response, StandardCharsets.UTF_8).split("\0", -1);
          if (parts.length != 3) {
            c.send(SmtpReply.of(501, "5.5.2", "malformed PLAIN response"), enhanced);
            return null;
          }
          user = parts[1];
          password = parts[2];
          break;
        }
      case "LOGIN":
        {
          byte[] name = respond(c, initial, USERNAME_PROMPT, enhanced);
          if (name == null) {
            return null;
          }
          byte[] secret = respond(c, null, PASSWORD_PROMPT, enhanced);
          if (secret == null) {
            return null;
          }
          user = new String(name, StandardCharsets.UTF_8);
          password = new String(secret, StandardCharsets.UTF_8);
          break;
        }
      default:
        c.send(SmtpReply.of(504, "5.5.4", "unrecognized authentication mechanism"), enhanced);
        return null;
    }
    boolean valid = password.equals(c.config.credentials().get(user));
    SmtpReply normal =
        valid
            ? SmtpReply.of(235, "2.7.0", "Authentication successful")
            : SmtpReply.of(535, "5.7.8", "Authentication credentials invalid");
    SmtpReply sent = c.perform(c.action(SmtpStep.AUTH, null), normal, enhanced);
    return sent != null && sent.isPositiveCompletion() ? user : null;
  }

  /**
   * The decoded client response: {@code initial} if the client sent one with the command, otherwise
   * the answer to a 334 {@code challenge}. Returns {@code null} after replying to a cancellation or
   * bad base64, or at end of stream.
   */
  private static byte @Nullable [] respond(
      Connection c, @Nullable String initial, String challenge, boolean enhanced)
      throws IOException {
    String line = initial;
    if (line == null) {
      c.send(SmtpReply.of(334, challenge), false);
      line = c.readLine();
      if (line == null) {
        c.markClosing();
        return null;
      }
      if (SmtpInput.isTooLong(line)) {
        c.send(SmtpReply.of(500, "5.5.6", "authentication exchange line too long"), enhanced);
        return null;
      }
      if (line.equals("*")) {
        // RFC 4954 §4: "*" cancels the exchange.
        c.send(SmtpReply.of(501, "5.7.0", "authentication cancelled"), enhanced);
        return null;
      }
    } else if (line.equals("=")) {
      return new byte[0]; // RFC 4954 §4: "=" is an empty initial response.
    }
    try {
      return Base64.getDecoder().decode(line);
    } catch (IllegalArgumentException e) {
      c.send(SmtpReply.of(501, "5.5.2", "cannot decode base64 response"), enhanced);
      return null;
    }
  }
}
