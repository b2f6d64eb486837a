package io.mailtls.reliability.fuzz;

import io.mailtls.core.SmtpReply;
import io.mailtls.core.internal.smtp.EhloCapabilities;
import io.mailtls.core.internal.smtp.SmtpProtocolException;
import io.mailtls.core.internal.smtp.SmtpReplyReader;
import java.io.ByteArrayInputStream;
import java.io.InputStream;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * SMTP replies as {@link SmtpReplyReader} reads them from the server (RFC 5321 §4.2), pipelined one
 * after the other, and every 250 reply also as a reply to EHLO ({@link EhloCapabilities}, RFC 5321
 * §4.1.1.1).
 *
 * <p>The first octet picks the reader's bounds (the defaults, or the smallest allowed, so that the
 * bound checks are reached) and how many octets each {@code read} of the stream returns (1 to 8, or
 * all), as a network would split them.
 *
 * <p>Checked: replies carry a code 200..599 and text with no control, bidi or unpaired surrogate
 * character ({@code PeerText.clean}); the reader never buffers or returns more than its bounds
 * allow; EHLO keywords are upper case and fit the keyword grammar, AUTH names are SASL names.
 */
public final class SmtpReplyTarget extends FuzzTarget {

  private static final SmtpReplyReader.Limits SMALL = new SmtpReplyReader.Limits(512, 4, 1024);

  @Override
  protected void exercise(byte[] input) throws Exception {
    if (input.length == 0) {
      return;
    }
    int mode = input[0] & 0xff;
    SmtpReplyReader.Limits limits = (mode & 0x80) != 0 ? SMALL : SmtpReplyReader.Limits.DEFAULT;
    int chunk = mode & 0x0f;
    InputStream in = new Chunked(input, 1, chunk == 0 ? Integer.MAX_VALUE : Math.min(chunk, 8));
    SmtpReplyReader reader = new SmtpReplyReader(in, limits);
    for (int replies = 0; replies < input.length; replies++) {
      SmtpReply reply;
      try {
        reply = reader.read();
      } catch (SmtpProtocolException e) {
        check(e.kind() != null, "an SmtpProtocolException without a kind");
        return; // the documented outcome for a bad reply; the connection is then closed
      }
      checkReply(reply, limits);
      if (reply.code() == 250) {
        checkEhlo(EhloCapabilities.parse(reply));
      }
    }
  }

  private static void checkReply(SmtpReply reply, SmtpReplyReader.Limits limits) {
    check(reply.code() >= 200 && reply.code() <= 599, "code out of range: " + reply.code());
    List<String> lines = reply.lines();
    check(!lines.isEmpty() && lines.size() <= limits.maxLines(), "line count " + lines.size());
    long chars = 0;
    for (String line : lines) {
      chars += line.length();
      for (int i = 0; i < line.length(); i++) {
        char c = line.charAt(i);
        boolean control = (c < 0x20 && c != '\t') || c == 0x7f || (c >= 0x80 && c <= 0x9f);
        boolean bidi =
            c == 0x061C
                || c == 0x200E
                || c == 0x200F
                || (c >= 0x202A && c <= 0x202E)
                || (c >= 0x2066 && c <= 0x2069);
        boolean lone =
            (Character.isHighSurrogate(c)
                    && (i + 1 >= line.length() || !Character.isLowSurrogate(line.charAt(i + 1))))
                || (Character.isLowSurrogate(c)
                    && (i == 0 || !Character.isHighSurrogate(line.charAt(i - 1))));
        check(
            !control && !bidi && !lone,
            String.format(Locale.ROOT, "unescaped U+%04X in reply text %s", (int) c, reply));
      }
    }
    // Escaping turns one octet into at most a few characters: \\xNN or \\uNNNN.
    check(chars <= 6L * limits.maxReplyBytes(), "reply text of " + chars + " characters");
  }

  private static void checkEhlo(EhloCapabilities ehlo) {
    check(ehlo.extensions().size() <= 128, "more than 128 keywords kept");
    for (Map.Entry<String, List<String>> e : ehlo.extensions().entrySet()) {
      String keyword = e.getKey();
      check(isKeyword(keyword), "keyword outside RFC 5321 §4.1.1.1: " + keyword);
      check(e.getValue().size() <= 65, "more than 65 parameters for " + keyword);
    }
    for (String mechanism : ehlo.authMechanisms()) {
      check(
          !mechanism.isEmpty()
              && mechanism.length() <= 20
              && mechanism.chars().allMatch(c -> isUpperAlnum(c) || c == '-' || c == '_'),
          "AUTH mechanism not a SASL name: " + mechanism);
    }
    ehlo.size().ifPresent(size -> check(size > 0, "SIZE " + size));
    ehlo.pipelining();
    ehlo.starttls();
    ehlo.requireTls();
  }

  // RFC 5321 §4.1.1.1: ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"), kept in upper case
  private static boolean isKeyword(String keyword) {
    if (keyword.isEmpty() || !isUpperAlnum(keyword.charAt(0))) {
      return false;
    }
    return keyword.chars().allMatch(c -> isUpperAlnum(c) || c == '-');
  }

  private static boolean isUpperAlnum(int c) {
    return (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
  }

  private static void check(boolean condition, String what) {
    if (!condition) {
      throw new AssertionError(what);
    }
  }

  /** A stream that hands out at most {@code chunk} octets per read, as a socket may. */
  private static final class Chunked extends InputStream {
    private final ByteArrayInputStream in;
    private final int chunk;

    Chunked(byte[] data, int offset, int chunk) {
      this.in = new ByteArrayInputStream(data, offset, data.length - offset);
      this.chunk = chunk;
    }

    @Override
    public int read() {
      return in.read();
    }

    @Override
    public int read(byte[] b, int off, int len) {
      return in.read(b, off, Math.min(len, chunk));
    }

    @Override
    public int available() {
      return Math.min(in.available(), chunk);
    }
  }
}
