package io.mailtls.core;

import io.mailtls.core.internal.smtp.PeerText;
import java.io.BufferedInputStream;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code Received:} trace fields of a received message (RFC 5322 §3.6.7, RFC 5321 §4.4), read
 * as a path: each hop's protocol ({@code with ESMTPS}, the mail transmission types of RFC 3848 and
 * RFC 6531 in the IANA registry), the TLS version and cipher where the receiving MTA wrote them,
 * and whether every hop after submission was encrypted. This is the check an operator makes by hand
 * on a delivered message. Immutable and thread-safe.
 *
 * <p>Recognised TLS annotations, as the receiving MTAs write them:
 *
 * <ul>
 *   <li>Postfix: {@code (using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits))};
 *   <li>Exim 4.92 and later: {@code with esmtps (TLS1.3) tls TLS_AES_256_GCM_SHA384}; earlier:
 *       {@code with esmtps (TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256)}; its log form {@code
 *       X=TLS1.2:ECDHE-RSA-AES256-GCM-SHA384:256};
 *   <li>Microsoft 365 and Exchange: {@code with Microsoft SMTP Server (version=TLS1_2,
 *       cipher=TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384)};
 *   <li>Gmail: {@code (version=TLS1_3 cipher=TLS_AES_128_GCM_SHA256 bits=128/128)}.
 * </ul>
 *
 * <p><b>Hops and submission.</b> {@link #hops()} lists the fields in transit order: the bottom-most
 * field (the first MTA's) first, since each MTA prepends its own (RFC 5321 §4.4). A hop is {@link
 * Hop#internal() internal} when no network transfer between hosts is recorded: it has no {@code
 * from} clause (a host stamping mail it made or moved within itself), its {@code from} or {@code
 * by} clause names {@code localhost} or a loopback address (a content filter such as amavisd on
 * 127.0.0.1), or its protocol is local to one system (Exim's {@code local} and {@code local-*},
 * {@code spam-scanned}, Exchange's {@code mapi}). The <em>submission</em> hop is the earliest
 * non-internal hop whose protocol says the client authenticated ({@code ESMTPA}, {@code ESMTPSA},
 * {@code LMTPA}, {@code LMTPSA} and their {@code UTF8} forms): message submission by the author's
 * client (RFC 6409 §4). The hops <em>after submission</em> are the non-internal hops that follow
 * it, or every non-internal hop when no hop authenticated (a message sent straight by an MTA, as
 * {@code mailtls send} does). {@link #verdict()} says whether all of them were encrypted.
 *
 * <p>Bounded: at most {@value #MAX_HEADER_BYTES} octets of header are read, {@value
 * #MAX_FIELD_CHARS} characters of each field are kept, and at most {@value #MAX_HOPS} fields are
 * read (RFC 5321 §6.3's loop-detection bound); {@link #truncated()} says when a bound cut the
 * input. {@link #parse} never throws: unreadable input is a result with a {@link #problem()}.
 */
public final class ReceivedChain {

  /** The most header octets read. */
  public static final int MAX_HEADER_BYTES = 1 << 20;

  /** The most characters of one unfolded field kept. */
  public static final int MAX_FIELD_CHARS = 8192;

  /** The most {@code Received:} fields read (RFC 5321 §6.3 suggests 100 hops mean a loop). */
  public static final int MAX_HOPS = 100;

  /** Whether the hops after submission were encrypted. */
  public enum Verdict {
    /** There is at least one hop after submission, and every one was encrypted. */
    ALL_ENCRYPTED,
    /** At least one hop after submission was in plaintext. */
    NOT_ALL_ENCRYPTED,
    /** None was in plaintext, but the field of at least one does not say. */
    UNKNOWN,
    /** No hop after submission: no {@code Received:} field, or only internal ones. */
    NO_HOPS
  }

  /** What one hop's field says about transport encryption. */
  public enum Encryption {
    /** TLS: a TLS protocol type ({@code ESMTPS}...) or a TLS version or cipher annotation. */
    ENCRYPTED,
    /**
     * A protocol type without TLS ({@code SMTP}, {@code ESMTP}, {@code ESMTPA}, {@code LMTP}...).
     */
    PLAINTEXT,
    /** The field does not say (no {@code with} clause, or a protocol name that does not tell). */
    UNKNOWN
  }

  /**
   * One {@code Received:} field.
   *
   * @param index its position in transit order, from 0 (the bottom-most field)
   * @param from the {@code from} clause's domain (the client's EHLO name or address), if any
   * @param by the {@code by} clause's domain (the receiving host), if any
   * @param protocol the {@code with} clause's protocol as written ({@code ESMTPS}, {@code esmtpsa},
   *     {@code Microsoft SMTP Server}...), if any
   * @param type the protocol as a registered mail transmission type, upper case ({@code ESMTPS}),
   *     if it is one (RFC 3848, RFC 6531, RFC 5321)
   * @param tlsVersion the TLS version written, normalised to {@code TLSv1.2} style when recognised
   * @param cipher the cipher suite written
   * @param encryption what the field says about encryption
   * @param internal whether the hop is within one host (see the class description)
   * @param submission whether this is the submission hop
   * @param text the field's unfolded value, control characters escaped, at most {@value
   *     #MAX_FIELD_CHARS} characters
   */
  public record Hop(
      int index,
      Optional<String> from,
      Optional<String> by,
      Optional<String> protocol,
      Optional<String> type,
      Optional<String> tlsVersion,
      Optional<String> cipher,
      Encryption encryption,
      boolean internal,
      boolean submission,
      String text) {

    public Hop {
      Objects.requireNonNull(from, "from");
      Objects.requireNonNull(by, "by");
      Objects.requireNonNull(protocol, "protocol");
      Objects.requireNonNull(type, "type");
      Objects.requireNonNull(tlsVersion, "tlsVersion");
      Objects.requireNonNull(cipher, "cipher");
      Objects.requireNonNull(encryption, "encryption");
      Objects.requireNonNull(text, "text");
    }
  }

  // RFC 3848, RFC 6531 and RFC 5321 entries of the IANA "Mail Transmission Types" registry.
  private static final List<String> TYPES =
      List.of(
          "SMTP",
          "ESMTP",
          "ESMTPA",
          "ESMTPS",
          "ESMTPSA",
          "LMTP",
          "LMTPA",
          "LMTPS",
          "LMTPSA",
          "UTF8SMTP",
          "UTF8SMTPA",
          "UTF8SMTPS",
          "UTF8SMTPSA",
          "UTF8LMTP",
          "UTF8LMTPA",
          "UTF8LMTPS",
          "UTF8LMTPSA");

  private static final String VERSION = "(TLS[vV]?1(?:[._][0-3])?|SSL[vV]?[23](?:_0)?)";
  private static final String CIPHER = "([A-Za-z0-9][A-Za-z0-9_\\-]{2,127})";

  // Postfix: "(using TLSv1.3 with cipher TLS_AES_256_GCM_SHA384 (256/256 bits)"; Postini writes
  // "(using TLSv1)" without a cipher.
  private static final Pattern POSTFIX =
      Pattern.compile("\\(using " + VERSION + "(?: with cipher " + CIPHER + ")?");
  // Exim 4.92+: "(TLS1.3) tls TLS_AES_256_GCM_SHA384"
  private static final Pattern EXIM =
      Pattern.compile("\\(" + VERSION + "\\)\\s+tls\\s+" + CIPHER, Pattern.CASE_INSENSITIVE);
  // Exim before 4.92: "(TLS1.2:ECDHE_RSA_AES_256_GCM_SHA384:256)"; the log form "X=TLS1.2:...".
  private static final Pattern EXIM_OLD =
      Pattern.compile("(?:\\(|\\bX=)" + VERSION + ":" + CIPHER + "(?::\\d{1,4})?");
  // Microsoft: "(version=TLS1_2, cipher=TLS_ECDHE_RSA_...)"; Gmail: "(version=TLS1_3
  // cipher=TLS_AES_128_GCM_SHA256 bits=128/128)", older "(version=TLSv1/SSLv3 cipher=RC4-MD5)";
  // Yahoo: "(version=TLS1_3)".
  private static final Pattern VERSION_CIPHER =
      Pattern.compile(
          "\\bversion=(TLS[vV]?1(?:[._][0-3])?(?:/SSLv3)?|SSL[vV]?[23](?:_0)?)(?:,?\\s*cipher="
              + CIPHER
              + ")?");
  // an address literal as MTAs write them: [192.0.2.1], [IPv6:2001:db8::1], (192.0.2.1),
  // ([4.31.198.44]:38882), 2001:db8::1%7
  private static final Pattern ADDRESS =
      Pattern.compile(
          "(?<![\\w.:-])(?:IPv6:)?(\\d{1,3}(?:\\.\\d{1,3}){3}|[0-9A-Fa-f]{0,4}(?::[0-9A-Fa-f]{0,4}){2,7})"
              + "(?![\\w.:-])");
  private static final Pattern LOCALHOST = Pattern.compile("(?i)(?<![\\w.-])localhost(?![\\w.-])");
  private static final Pattern BY = Pattern.compile("(?i)(?:^|\\s|\\))by\\s");

  private static final Pattern WITH = Pattern.compile("(?i)\\swith\\s");
  private static final Pattern TLS_VERSION = Pattern.compile("(?i)TLSv?1(?:[._]([0-3]))?");

  private final List<Hop> hops;
  private final boolean truncated;
  private final Optional<String> problem;

  private ReceivedChain(List<Hop> hops, boolean truncated, Optional<String> problem) {
    this.hops = List.copyOf(hops);
    this.truncated = truncated;
    this.problem = problem;
  }

  /**
   * Reads the header of the message in {@code in} (up to the empty line that ends it, RFC 5322
   * §2.1) and its {@code Received:} fields. An mbox {@code From } line before the header is
   * skipped. Reads at most {@value #MAX_HEADER_BYTES} octets; does not close {@code in}.
   *
   * @return the chain; never throws for any input: a read failure gives what was read until then
   *     and a {@link #problem()}
   */
  public static ReceivedChain parse(InputStream in) {
    Objects.requireNonNull(in, "in");
    List<String> fields = new ArrayList<>();
    boolean truncated = false;
    Optional<String> problem = Optional.empty();
    try {
      truncated = readFields(new BufferedInputStream(in, 8192), fields);
    } catch (IOException | RuntimeException e) {
      problem = Optional.of("reading the message failed: " + PeerText.clean(e.toString()));
    }
    if (fields.size() > MAX_HOPS) {
      fields = fields.subList(0, MAX_HOPS);
      truncated = true;
    }
    List<Hop> hops = new ArrayList<>();
    // fields are in header order (newest first); hops in transit order (oldest first)
    for (int i = fields.size() - 1; i >= 0; i--) {
      hops.add(hop(hops.size(), fields.get(i)));
    }
    return new ReceivedChain(markSubmission(hops), truncated, problem);
  }

  /** The same for a message in memory. */
  public static ReceivedChain parse(byte[] message) {
    return parse(new ByteArrayInputStream(message));
  }

  /** Every {@code Received:} field, in transit order (the bottom-most first). */
  public List<Hop> hops() {
    return hops;
  }

  /** The submission hop, if a hop authenticated (see the class description). */
  public Optional<Hop> submission() {
    return hops.stream().filter(Hop::submission).findFirst();
  }

  /** The hops the verdict is about: the non-internal hops after submission, in transit order. */
  public List<Hop> afterSubmission() {
    int start = submission().map(h -> h.index() + 1).orElse(0);
    List<Hop> out = new ArrayList<>();
    for (Hop h : hops.subList(Math.min(start, hops.size()), hops.size())) {
      if (!h.internal()) {
        out.add(h);
      }
    }
    return List.copyOf(out);
  }

  /** Whether every hop after submission was encrypted. */
  public Verdict verdict() {
    List<Hop> after = afterSubmission();
    if (after.isEmpty()) {
      return Verdict.NO_HOPS;
    }
    if (after.stream().anyMatch(h -> h.encryption() == Encryption.PLAINTEXT)) {
      return Verdict.NOT_ALL_ENCRYPTED;
    }
    if (after.stream().anyMatch(h -> h.encryption() == Encryption.UNKNOWN)) {
      return Verdict.UNKNOWN;
    }
    return Verdict.ALL_ENCRYPTED;
  }

  /** Whether a bound cut the input (header size, field length, number of fields). */
  public boolean truncated() {
    return truncated;
  }

  /** Why the message could not be read to the end of its header, if it could not. */
  public Optional<String> problem() {
    return problem;
  }

  @Override
  public String toString() {
    return "ReceivedChain[" + hops.size() + " hops, " + verdict() + "]";
  }

  /**
   * Reads header lines and collects the unfolded {@code Received:} values; true when a bound cut
   * the input.
   */
  private static boolean readFields(InputStream in, List<String> fields) throws IOException {
    long total = 0;
    boolean first = true;
    boolean truncated = false;
    StringBuilder current = null; // the Received field being unfolded, or null
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    while (true) {
      int b = in.read();
      if (b >= 0 && ++total > MAX_HEADER_BYTES) {
        truncated = true;
        b = -1;
      }
      if (b >= 0 && b != '\n') {
        if (line.size() <= MAX_FIELD_CHARS * 4) {
          line.write(b);
        }
        continue;
      }
      String text = new String(line.toByteArray(), StandardCharsets.UTF_8);
      line.reset();
      if (text.endsWith("\r")) {
        text = text.substring(0, text.length() - 1);
      }
      boolean eof = b < 0;
      if (first && text.startsWith("From ")) {
        first = false;
        if (eof) {
          return truncated;
        }
        continue; // an mbox separator line
      }
      first = false;
      boolean continuation = !text.isEmpty() && (text.charAt(0) == ' ' || text.charAt(0) == '\t');
      if (current != null && continuation) {
        if (current.length() < MAX_FIELD_CHARS) {
          current.append(' ').append(text.strip());
        }
      } else {
        if (current != null) {
          fields.add(bound(current));
          current = null;
        }
        if (text.isEmpty()) {
          return truncated; // the end of the header
        }
        int colon = text.indexOf(':');
        if (colon > 0 && text.substring(0, colon).strip().equalsIgnoreCase("Received")) {
          current = new StringBuilder(text.substring(colon + 1).strip());
        }
      }
      if (eof) {
        if (current != null) {
          fields.add(bound(current));
        }
        return truncated;
      }
    }
  }

  private static String bound(StringBuilder field) {
    String s =
        field.length() > MAX_FIELD_CHARS ? field.substring(0, MAX_FIELD_CHARS) : field.toString();
    return PeerText.clean(s.replace('\t', ' '));
  }

  /** One field's clauses, found outside comments; comments kept for the TLS annotations. */
  private static Hop hop(int index, String value) {
    // The date follows the last ';' outside comments (RFC 5322 §3.6.7).
    StringBuilder words = new StringBuilder();
    int depth = 0;
    int semicolon = -1;
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '\\' && i + 1 < value.length()) {
        i++;
        words.append(depth == 0 ? ' ' : "");
        continue;
      }
      if (c == '(') {
        depth++;
        words.append(' ');
      } else if (c == ')' && depth > 0) {
        depth--;
        words.append(' ');
      } else if (depth > 0) {
        // inside a comment: not a clause word
      } else if (c == ';') {
        semicolon = words.length();
        words.append(' ');
      } else {
        words.append(c);
      }
    }
    String clauses = semicolon >= 0 ? words.substring(0, semicolon) : words.toString();
    String[] tokens = words(clauses);
    Optional<String> from = Optional.empty();
    Optional<String> by = Optional.empty();
    Optional<String> with = Optional.empty();
    int withAt = -1;
    for (int i = 0; i + 1 < tokens.length; i++) {
      String t = tokens[i].toLowerCase(Locale.ROOT);
      if (t.equals("from") && from.isEmpty() && by.isEmpty()) {
        from = Optional.of(tokens[i + 1]);
      } else if (t.equals("by") && by.isEmpty()) {
        by = Optional.of(tokens[i + 1]);
      } else if (t.equals("with") && with.isEmpty()) {
        with = Optional.of(tokens[i + 1]);
        withAt = i + 1;
      }
    }
    // "with Microsoft SMTP Server" is three words
    if (with.isPresent()
        && with.get().equalsIgnoreCase("Microsoft")
        && withAt + 2 < tokens.length
        && tokens[withAt + 1].equalsIgnoreCase("SMTP")
        && tokens[withAt + 2].equalsIgnoreCase("Server")) {
      with = Optional.of("Microsoft SMTP Server");
    }
    Optional<String> type = with.map(w -> w.toUpperCase(Locale.ROOT)).filter(TYPES::contains);
    String[] tls = tls(value);
    Optional<String> version = Optional.ofNullable(tls[0]).map(ReceivedChain::normalise);
    Optional<String> cipher = Optional.ofNullable(tls[1]);
    Encryption encryption = encryption(with, type, version, cipher);
    boolean internal = from.isEmpty() || isLocal(with) || loopback(hostPart(value));
    return new Hop(
        index, from, by, with, type, version, cipher, encryption, internal, false, value);
  }

  /**
   * Whether the {@code from} and {@code by} clauses place the transfer within one host: a loopback
   * address on the server side, or on the client side a loopback address or the name {@code
   * localhost} without any other address (a client that said {@code EHLO localhost} from a public
   * address is not local).
   */
  private static boolean loopback(String hosts) {
    Matcher by = BY.matcher(hosts);
    boolean hasBy = by.find();
    String fromText = hasBy ? hosts.substring(0, by.start()) : hosts;
    String byText = hasBy ? hosts.substring(by.start()) : "";
    if (addresses(byText).stream().anyMatch(ReceivedChain::isLoopback)
        || LOCALHOST.matcher(firstWords(byText, 2)).find()) {
      return true;
    }
    List<String> fromAddresses = addresses(fromText);
    if (!fromAddresses.isEmpty()) {
      return fromAddresses.stream().allMatch(ReceivedChain::isLoopback);
    }
    return LOCALHOST.matcher(fromText).find();
  }

  private static List<String> addresses(String text) {
    List<String> out = new ArrayList<>();
    Matcher m = ADDRESS.matcher(text);
    while (m.find()) {
      out.add(m.group(1));
    }
    return out;
  }

  private static boolean isLoopback(String address) {
    return address.startsWith("127.") || address.equals("::1");
  }

  private static String firstWords(String text, int n) {
    String[] w = words(text);
    return String.join(" ", java.util.Arrays.asList(w).subList(0, Math.min(n, w.length)));
  }

  /** The white-space separated words of {@code text}. */
  private static String[] words(String text) {
    List<String> out = new ArrayList<>();
    int i = 0;
    while (i < text.length()) {
      while (i < text.length() && Character.isWhitespace(text.charAt(i))) {
        i++;
      }
      int start = i;
      while (i < text.length() && !Character.isWhitespace(text.charAt(i))) {
        i++;
      }
      if (i > start) {
        out.add(text.substring(start, i));
      }
    }
    return out.toArray(new String[0]);
  }

  /**
   * The text of the {@code from} and {@code by} clauses with their comments, up to {@code with}:
   * where the client and the server are.
   */
  private static String hostPart(String value) {
    Matcher m = WITH.matcher(value);
    int end = m.find() ? m.start() : value.length();
    return value.substring(0, end);
  }

  private static boolean isLocal(Optional<String> with) {
    if (with.isEmpty()) {
      return false;
    }
    String w = with.get().toLowerCase(Locale.ROOT);
    return w.equals("local")
        || w.startsWith("local-")
        || w.equals("spam-scanned")
        || w.equals("mapi");
  }

  /** {version, cipher}, either null when the field does not say. */
  private static String[] tls(String value) {
    for (Pattern p : new Pattern[] {POSTFIX, EXIM, EXIM_OLD, VERSION_CIPHER}) {
      Matcher m = p.matcher(value);
      if (m.find()) {
        return new String[] {m.group(1), m.groupCount() >= 2 ? m.group(2) : null};
      }
    }
    return new String[] {null, null};
  }

  /** {@code TLS1_2}, {@code TLS1.2}, {@code TLSv1.2} → {@code TLSv1.2}; others as written. */
  private static String normalise(String version) {
    Matcher m = TLS_VERSION.matcher(version);
    if (m.matches()) {
      return m.group(1) == null ? "TLSv1" : "TLSv1." + m.group(1);
    }
    return version;
  }

  private static Encryption encryption(
      Optional<String> with,
      Optional<String> type,
      Optional<String> version,
      Optional<String> cipher) {
    if (version.isPresent() || cipher.isPresent()) {
      return Encryption.ENCRYPTED;
    }
    if (type.isPresent()) {
      // RFC 3848 §2: the "S" after SMTP or LMTP means STARTTLS (or implicit TLS) was negotiated
      String t = type.get();
      return t.endsWith("S") || t.endsWith("SA") ? Encryption.ENCRYPTED : Encryption.PLAINTEXT;
    }
    if (with.isPresent()) {
      String w = with.get().toUpperCase(Locale.ROOT);
      if (w.equals("HTTPS") || w.equals("SMTPS") || w.equals("SMTPSA")) {
        return Encryption.ENCRYPTED;
      }
      if (w.equals("HTTP") || w.equals("MICROSOFT SMTP SERVER")) {
        // Exchange writes (version=..., cipher=...) whenever the session used TLS
        return Encryption.PLAINTEXT;
      }
    }
    return Encryption.UNKNOWN;
  }

  private static boolean isAuthenticated(Hop h) {
    String t = h.type().orElse(h.protocol().orElse("")).toUpperCase(Locale.ROOT);
    return t.endsWith("SMTPA")
        || t.endsWith("SMTPSA")
        || t.endsWith("LMTPA")
        || t.endsWith("LMTPSA");
  }

  private static List<Hop> markSubmission(List<Hop> hops) {
    for (int i = 0; i < hops.size(); i++) {
      Hop h = hops.get(i);
      if (!h.internal() && isAuthenticated(h)) {
        List<Hop> out = new ArrayList<>(hops);
        out.set(
            i,
            new Hop(
                h.index(),
                h.from(),
                h.by(),
                h.protocol(),
                h.type(),
                h.tlsVersion(),
                h.cipher(),
                h.encryption(),
                h.internal(),
                true,
                h.text()));
        return out;
      }
    }
    return hops;
  }
}
