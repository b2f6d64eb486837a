package io.mailtls.core.internal.smtp;

import io.mailtls.core.SmtpReply;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.Set;

/**
 * What a server offers, parsed from its 250 reply to EHLO (RFC 5321 §4.1.1.1).
 *
 * <p>The first line is the server's domain and an optional greeting; every further line is an EHLO
 * keyword with optional parameters separated by spaces ({@code ehlo-line = ehlo-keyword *(SP
 * ehlo-param)}). Keywords are compared case-insensitively and kept in upper case ({@link
 * Locale#ROOT}); parameters are kept as sent, except AUTH mechanism names, which are upper-cased
 * (and dropped when they are not SASL names, RFC 4422 §3.1).
 *
 * <p>Tolerant but bounded: lines that are not valid keywords are ignored, as is everything past
 * {@value #MAX_KEYWORDS} keywords or {@value #MAX_PARAMETERS} parameters on a line. The legacy
 * {@code AUTH=LOGIN PLAIN} line of old servers is read as AUTH parameters. When a keyword repeats,
 * the first line wins, except for AUTH, whose mechanisms are merged.
 *
 * <p>After STARTTLS the client must forget these and parse the reply to its new EHLO (RFC 3207
 * §4.2).
 *
 * <p>Instances are immutable and thread-safe.
 *
 * @param domain the server's domain (or address literal) from the first line, as sent
 * @param greeting the rest of the first line, possibly empty
 * @param extensions the keywords in upper case, each with its parameters
 */
public record EhloCapabilities(
    String domain, String greeting, Map<String, List<String>> extensions) {

  /** Keywords kept from one reply; real servers send fewer than 30. */
  static final int MAX_KEYWORDS = 128;

  /** Parameters kept from one line; AUTH with every mechanism has fewer than 20. */
  static final int MAX_PARAMETERS = 64;

  /** Copies the extensions, upper-casing the keywords ({@link Locale#ROOT}). */
  public EhloCapabilities {
    Objects.requireNonNull(domain, "domain");
    Objects.requireNonNull(greeting, "greeting");
    Map<String, List<String>> copy = new LinkedHashMap<>();
    extensions.forEach(
        (keyword, parameters) ->
            copy.putIfAbsent(keyword.toUpperCase(Locale.ROOT), List.copyOf(parameters)));
    extensions = Collections.unmodifiableMap(copy);
  }

  /**
   * Parses a reply to EHLO.
   *
   * @throws IllegalArgumentException when the reply is not a 250 (the server does not do ESMTP, or
   *     refused; the caller decides what follows)
   */
  public static EhloCapabilities parse(SmtpReply reply) {
    Objects.requireNonNull(reply, "reply");
    if (reply.code() != 250) {
      throw new IllegalArgumentException("not a 250 reply to EHLO: " + reply);
    }
    List<String> lines = reply.lines();
    String first = lines.get(0).strip();
    int space = first.indexOf(' ');
    String domain = space < 0 ? first : first.substring(0, space);
    String greeting = space < 0 ? "" : first.substring(space + 1).strip();

    Map<String, List<String>> extensions = new LinkedHashMap<>();
    for (int i = 1; i < lines.size() && extensions.size() < MAX_KEYWORDS; i++) {
      List<String> tokens = tokens(lines.get(i));
      if (tokens.isEmpty()) {
        continue;
      }
      String keyword = tokens.get(0);
      List<String> parameters = tokens.subList(1, tokens.size());
      String upper = keyword.toUpperCase(Locale.ROOT);
      if (upper.startsWith("AUTH=")) {
        // Pre-RFC 2554 servers (and Outlook clients looking for them) use "AUTH=LOGIN PLAIN".
        List<String> merged = new ArrayList<>();
        merged.add(keyword.substring("AUTH=".length()));
        merged.addAll(parameters);
        mergeAuth(extensions, merged);
        continue;
      }
      if (!isKeyword(keyword)) {
        continue;
      }
      if (upper.equals("AUTH")) {
        mergeAuth(extensions, parameters);
      } else {
        extensions.putIfAbsent(upper, List.copyOf(parameters));
      }
    }
    return new EhloCapabilities(domain, greeting, extensions);
  }

  /** Whether the server advertised the keyword (case-insensitive). */
  public boolean supports(String keyword) {
    return extensions.containsKey(keyword.toUpperCase(Locale.ROOT));
  }

  /** The parameters of a keyword as sent, empty when absent or without parameters. */
  public List<String> parameters(String keyword) {
    return extensions.getOrDefault(keyword.toUpperCase(Locale.ROOT), List.of());
  }

  /** PIPELINING (RFC 2920). */
  public boolean pipelining() {
    return supports("PIPELINING");
  }

  /** STARTTLS (RFC 3207). */
  public boolean starttls() {
    return supports("STARTTLS");
  }

  /** 8BITMIME (RFC 6152). */
  public boolean eightBitMime() {
    return supports("8BITMIME");
  }

  /** SMTPUTF8 (RFC 6531). */
  public boolean smtpUtf8() {
    return supports("SMTPUTF8");
  }

  /** ENHANCEDSTATUSCODES (RFC 2034). */
  public boolean enhancedStatusCodes() {
    return supports("ENHANCEDSTATUSCODES");
  }

  /** CHUNKING, the BDAT command (RFC 3030). */
  public boolean chunking() {
    return supports("CHUNKING");
  }

  /** BINARYMIME (RFC 3030). */
  public boolean binaryMime() {
    return supports("BINARYMIME");
  }

  /** DSN (RFC 3461). */
  public boolean dsn() {
    return supports("DSN");
  }

  /** REQUIRETLS (RFC 8689). */
  public boolean requireTls() {
    return supports("REQUIRETLS");
  }

  /**
   * The largest message the server declares it accepts, in octets (RFC 1870 §4).
   *
   * <p>Empty when the server sent no SIZE keyword, SIZE without a value, or {@code SIZE 0} (RFC
   * 1870 §4: no fixed maximum), and when the value is not a number or too large for a {@code long}
   * (no limit in practice). Use {@link #supports(String) supports("SIZE")} to decide whether a
   * {@code SIZE=} parameter may be sent.
   */
  public OptionalLong size() {
    List<String> parameters = parameters("SIZE");
    if (parameters.isEmpty()) {
      return OptionalLong.empty();
    }
    String value = parameters.get(0);
    // RFC 1870 §4: size-param ::= [1*DIGIT]; ASCII digits only, at most 19 fit a long.
    boolean digits = value.chars().allMatch(c -> c >= '0' && c <= '9');
    if (value.isEmpty() || value.length() > 19 || !digits) {
      return OptionalLong.empty();
    }
    long limit;
    try {
      limit = Long.parseLong(value);
    } catch (NumberFormatException tooLarge) {
      return OptionalLong.empty();
    }
    return limit == 0 ? OptionalLong.empty() : OptionalLong.of(limit);
  }

  /** The AUTH mechanisms offered (RFC 4954 §3), upper case, in the server's order. */
  public Set<String> authMechanisms() {
    return Collections.unmodifiableSet(new LinkedHashSet<>(parameters("AUTH")));
  }

  private static void mergeAuth(Map<String, List<String>> extensions, List<String> mechanisms) {
    LinkedHashSet<String> merged = new LinkedHashSet<>(extensions.getOrDefault("AUTH", List.of()));
    for (String mechanism : mechanisms) {
      if (merged.size() >= MAX_PARAMETERS) {
        break;
      }
      // Skipped unless a SASL name: upper-casing could turn non-ASCII into a known name.
      if (isSaslName(mechanism)) {
        merged.add(mechanism.toUpperCase(Locale.ROOT));
      }
    }
    extensions.put("AUTH", List.copyOf(merged));
  }

  /** Space-separated tokens of a line (RFC 5321 §4.1.1.1: ehlo-param separated by SP). */
  private static List<String> tokens(String line) {
    List<String> tokens = new ArrayList<>();
    int i = 0;
    int length = line.length();
    while (i < length && tokens.size() <= MAX_PARAMETERS) {
      while (i < length && (line.charAt(i) == ' ' || line.charAt(i) == '\t')) {
        i++;
      }
      int start = i;
      while (i < length && line.charAt(i) != ' ' && line.charAt(i) != '\t') {
        i++;
      }
      if (i > start) {
        tokens.add(line.substring(start, i));
      }
    }
    return tokens;
  }

  /**
   * Whether the text is a SASL mechanism name, 1 to 20 ASCII letters, digits, {@code '-'} or {@code
   * '_'} (RFC 4422 §3.1 names are upper case; lower case is accepted here and upper-cased).
   */
  static boolean isSaslName(String name) {
    if (name.isEmpty() || name.length() > 20) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      boolean valid =
          (c >= 'A' && c <= 'Z')
              || (c >= 'a' && c <= 'z')
              || (c >= '0' && c <= '9')
              || c == '-'
              || c == '_';
      if (!valid) {
        return false;
      }
    }
    return true;
  }

  /** RFC 5321 §4.1.1.1: ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-"). */
  private static boolean isKeyword(String keyword) {
    for (int i = 0; i < keyword.length(); i++) {
      char c = keyword.charAt(i);
      boolean alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      if (!alnum && (i == 0 || c != '-')) {
        return false;
      }
    }
    return !keyword.isEmpty();
  }
}
