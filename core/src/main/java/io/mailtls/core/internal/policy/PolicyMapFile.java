package io.mailtls.core.internal.policy;

import io.mailtls.core.CertificatePin;
import io.mailtls.core.DestinationPolicy;
import io.mailtls.core.DestinationPolicyMap.Entry;
import io.mailtls.core.DomainName;
import io.mailtls.core.PolicyMapException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * The policy-map file format of docs/policy-map.md: one entry per line, {@code key level
 * [option...]}, fields separated by spaces or tabs, {@code #} starting a comment line, blank lines
 * ignored. A line that does not parse fails the whole file, naming its number: nothing is half
 * loaded. Stateless.
 */
public final class PolicyMapFile {

  /** The most bytes a policy-map file may have: far more than any operator's map. */
  public static final int MAX_BYTES = 16 * 1024 * 1024;

  private PolicyMapFile() {}

  /** Reads and parses {@code file} (UTF-8). */
  public static List<Entry> read(Path file) throws PolicyMapException {
    return parse(decode(bytes(file)));
  }

  /**
   * The bytes of {@code file}, at most {@link #MAX_BYTES}: the read itself is bounded, so that
   * neither a file that grows while it is read nor one whose size says nothing (a FIFO, a device)
   * can exhaust memory.
   */
  static byte[] bytes(Path file) throws PolicyMapException {
    try (InputStream in = Files.newInputStream(file)) {
      byte[] bytes = in.readNBytes(MAX_BYTES + 1);
      if (bytes.length > MAX_BYTES) {
        throw new PolicyMapException(0, file + " is larger than " + MAX_BYTES + " bytes");
      }
      return bytes;
    } catch (IOException | RuntimeException e) {
      throw new PolicyMapException(0, "cannot read " + file + ": " + e, e);
    }
  }

  /** The bytes as UTF-8, refusing malformed input rather than replacing it. */
  static String decode(byte[] bytes) throws PolicyMapException {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(bytes))
          .toString();
    } catch (CharacterCodingException e) {
      throw new PolicyMapException(0, "the file is not UTF-8", e);
    }
  }

  /**
   * Parses the text of a policy-map file.
   *
   * @throws PolicyMapException naming the first line that does not parse
   */
  public static List<Entry> parse(String text) throws PolicyMapException {
    List<Entry> out = new ArrayList<>();
    Set<String> keys = new HashSet<>();
    String[] lines = text.split("\r\n|\n|\r", -1);
    for (int i = 0; i < lines.length; i++) {
      int n = i + 1;
      String line = lines[i].strip();
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      Entry e;
      try {
        e = parseLine(line);
      } catch (IllegalArgumentException ex) {
        throw new PolicyMapException(n, printable(String.valueOf(ex.getMessage())));
      }
      if (!keys.add(e.key())) {
        throw new PolicyMapException(n, "a second entry for " + e.key());
      }
      out.add(e);
    }
    return List.copyOf(out);
  }

  /** One non-comment line. */
  static Entry parseLine(String line) {
    String[] f = line.split("[ \t]+", -1);
    if (f.length < 2) {
      throw new IllegalArgumentException("expected a key and a level: \"" + line + "\"");
    }
    String key = f[0];
    DestinationPolicy.Level level = DestinationPolicy.Level.parse(f[1]);
    List<DomainName> match = new ArrayList<>();
    List<CertificatePin> pins = new ArrayList<>();
    Optional<DestinationPolicy.Relay> relay = Optional.empty();
    EnumSet<DestinationPolicy.RecipientOverride> overrides =
        EnumSet.noneOf(DestinationPolicy.RecipientOverride.class);
    for (int i = 2; i < f.length; i++) {
      String opt = f[i];
      if (opt.startsWith("#")) {
        break; // a comment after the fields
      }
      String lower = opt.toLowerCase(Locale.ROOT);
      if (lower.startsWith("match=")) {
        for (String name : opt.substring(6).split(":", -1)) {
          if (name.startsWith(".")) {
            throw new IllegalArgumentException(
                "match=" + name + ": parent-domain match names are not supported; list the names");
          }
          DomainName d = DomainName.of(name);
          if (!d.isHostName() || d.labels().size() < 2) {
            throw new IllegalArgumentException("match=" + name + " is not a host name");
          }
          match.add(d);
        }
      } else if (lower.startsWith("sha256:") || lower.startsWith("spki-sha256:")) {
        pins.add(CertificatePin.parse(opt));
      } else if (lower.startsWith("relay=")) {
        if (relay.isPresent()) {
          throw new IllegalArgumentException("a second relay=");
        }
        relay = Optional.of(DestinationPolicy.Relay.parse(opt.substring(6)));
      } else if (lower.startsWith("override=")) {
        for (String o : lower.substring(9).split(",", -1)) {
          switch (o) {
            case "sts" -> overrides.add(DestinationPolicy.RecipientOverride.STS);
            case "dane" -> overrides.add(DestinationPolicy.RecipientOverride.DANE);
            default ->
                throw new IllegalArgumentException(
                    "override=" + o + ": expected sts or dane (or allow-downgrade for both)");
          }
        }
      } else if (lower.equals("allow-downgrade")) {
        overrides.addAll(EnumSet.allOf(DestinationPolicy.RecipientOverride.class));
      } else {
        throw new IllegalArgumentException(
            "unknown option \""
                + opt
                + "\" (expected match=, sha256:, spki-sha256:, relay=, override= or"
                + " allow-downgrade)");
      }
    }
    return new Entry(key, new DestinationPolicy(level, match, pins, relay, overrides));
  }

  /** Writes entries, one per line, in the form {@link #parse} reads. */
  public static String format(List<Entry> entries) {
    StringBuilder b = new StringBuilder();
    for (Entry e : entries) {
      b.append(e).append('\n');
    }
    return b.toString();
  }

  /** A message quoting file text, with control characters escaped for a log line. */
  private static String printable(String s) {
    StringBuilder b = new StringBuilder();
    s.codePoints()
        .limit(500)
        .forEach(
            c -> {
              if (c < 0x20 || c == 0x7f) {
                b.append(String.format(Locale.ROOT, "\\x%02x", c));
              } else {
                b.appendCodePoint(c);
              }
            });
    return b.toString();
  }
}
