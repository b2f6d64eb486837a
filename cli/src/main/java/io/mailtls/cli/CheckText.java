package io.mailtls.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Prints a {@link CheckReport} as human-readable tables: MX hosts, MTA-STS, TLSA, the requirement
 * per host and sender level, and the probe. Stateless and thread-safe (each call writes to the
 * writer it is given).
 */
final class CheckText {

  private static final int HEX_SHOWN = 16;

  private CheckText() {}

  /** Writes {@code r} to {@code out}. */
  static void print(PrintWriter out, CheckReport r) {
    out.printf(Locale.ROOT, "mailtls check %s%n", r.domain());
    if (r.error() != null) {
      out.printf(Locale.ROOT, "  error: %s%n%n", printable(r.error()));
      return;
    }
    CheckReport.Mx mx = Objects.requireNonNull(r.mx()); // there when there is no error
    out.printf(Locale.ROOT, "%nMX        %s, MX answer %s%n", mx.outcome(), mx.dnssec());
    if (!r.hosts().isEmpty()) {
      out.printf(Locale.ROOT, "  %-5s %-32s %-8s %s%n", "pref", "host", "DNSSEC", "addresses");
      for (CheckReport.Host h : r.hosts()) {
        out.printf(
            Locale.ROOT,
            "  %-5d %-32s %-8s %s%n",
            h.preference(),
            h.name() + (h.implicit() ? " (implicit)" : ""),
            h.addressDnssec(),
            h.addresses().isEmpty()
                ? "none (" + addressProblem(h) + ")"
                : String.join(", ", h.addresses()));
      }
    }
    mx.notes().forEach(n -> out.printf(Locale.ROOT, "  note: %s%n", printable(n)));
    if (mx.answer() != null && r.hosts().isEmpty() && mx.notes().isEmpty()) {
      out.printf(Locale.ROOT, "  %s%n", printable(mx.answer()));
    }
    if (r.mtaSts() != null) {
      CheckReport.StsRecord rec = r.mtaSts().record();
      CheckReport.StsPolicy pol = r.mtaSts().policy();
      out.printf(
          Locale.ROOT,
          "%nMTA-STS   TXT record %s (%s)%s%n",
          rec.status(),
          rec.dnssec(),
          printable(
              rec.id() != null
                  ? ": id " + rec.id()
                  : rec.reason() == null ? "" : ": " + rec.reason()));
      if ("found".equals(pol.status())) {
        out.printf(
            Locale.ROOT,
            "          policy %s, mode %s, mx %s, max_age %d s%s%n",
            pol.id(),
            pol.mode(),
            printable(String.valueOf(pol.mx())),
            pol.maxAgeSeconds(),
            pol.reason() == null ? "" : " (" + printable(pol.reason()) + ")");
      } else {
        out.printf(
            Locale.ROOT,
            "          policy %s%s: %s%n",
            pol.status(),
            pol.failure() == null ? "" : " " + pol.failure(),
            printable(String.valueOf(pol.reason())));
      }
    }
    if (r.tlsRpt() != null) {
      printTlsRpt(out, r.tlsRpt());
    }
    printTlsa(out, r.hosts());
    printRequirements(out, r);
    printProbes(out, r.hosts());
    out.println();
  }

  private static void printTlsRpt(PrintWriter out, CheckReport.TlsRpt t) {
    out.printf(
        Locale.ROOT,
        "%nTLS-RPT   _smtp._tls record %s (%s)%s%n",
        t.status(),
        t.dnssec(),
        printable(
            t.record() != null ? ": " + t.record() : t.reason() == null ? "" : ": " + t.reason()));
    if (!t.rua().isEmpty()) {
      out.printf(Locale.ROOT, "          rua %s%n", String.join(", ", t.rua()));
    }
    if (!t.ignored().isEmpty()) {
      out.printf(Locale.ROOT, "          ignored %s%n", String.join(", ", t.ignored()));
    }
    if (!"valid".equals(t.status())) {
      t.txt().forEach(x -> out.printf(Locale.ROOT, "          TXT %s%n", printable(x)));
    }
  }

  /**
   * Text a peer may have written (DNS records, policy and certificate text, reasons quoting them)
   * as it can go to a terminal on one line: control characters (C0 with LF, CR and HTAB, DEL, C1),
   * bidirectional formatting characters and lone surrogates as {@code \xNN} or {@code \x{NNNN}}.
   */
  static String printable(String s) {
    StringBuilder b = new StringBuilder(s.length());
    s.codePoints()
        .forEach(
            c -> {
              if (c >= 0x100 && unsafe(c)) {
                b.append(String.format(Locale.ROOT, "\\x{%04x}", c));
              } else if (c < 0x20 || c == 0x7f || (c >= 0x80 && c < 0xa0)) {
                b.append(String.format(Locale.ROOT, "\\x%02x", c));
              } else {
                b.appendCodePoint(c);
              }
            });
    return b.toString();
  }

  /** Free text (reasons, replies, notes) on one line, as it can go to a terminal. */
  private static String text(String s) {
    return printable(Mailtls.oneLine(s));
  }

  /** Bidirectional formatting characters and lone surrogates: they reorder or corrupt a line. */
  private static boolean unsafe(int c) {
    return c == 0x061c
        || c == 0x200e
        || c == 0x200f
        || (c >= 0x202a && c <= 0x202e)
        || (c >= 0x2066 && c <= 0x2069)
        || (c >= 0xd800 && c <= 0xdfff);
  }

  private static String addressProblem(CheckReport.Host h) {
    // A host without addresses was looked up: both answers are there (a literal has its address).
    CheckReport.Answer a = Objects.requireNonNull(h.a());
    CheckReport.Answer aaaa = Objects.requireNonNull(h.aaaa());
    return "A " + a.outcome() + " " + a.dnssec() + ", AAAA " + aaaa.outcome() + " " + aaaa.dnssec();
  }

  private static void printTlsa(PrintWriter out, List<CheckReport.Host> hosts) {
    if (hosts.isEmpty()) {
      return;
    }
    out.printf(Locale.ROOT, "%nTLSA%n");
    for (CheckReport.Host h : hosts) {
      CheckReport.Tlsa t = h.tlsa();
      out.printf(
          Locale.ROOT,
          "  %-32s %s%s: %s%n",
          h.name(),
          t.status(),
          t.baseDomain() == null ? "" : " (base domain " + t.baseDomain() + ")",
          text(t.reason()));
      for (CheckReport.TlsaRecord rec : t.records()) {
        String data =
            rec.data().length() > HEX_SHOWN
                ? rec.data().substring(0, HEX_SHOWN) + "..."
                : rec.data();
        out.printf(
            Locale.ROOT,
            "      %d %d %d %-19s %-8s %s%n",
            rec.usage(),
            rec.selector(),
            rec.matchingType(),
            data,
            rec.usageName(),
            rec.usable() ? "usable" : "unusable: " + printable(String.valueOf(rec.why())));
      }
    }
  }

  private static void printRequirements(PrintWriter out, CheckReport r) {
    Map<String, CheckReport.Level> levels = r.levels();
    out.printf(Locale.ROOT, "%nRequirement per MX host and sender level%n");
    out.printf(Locale.ROOT, "  %-32s", "host");
    levels.keySet().forEach(l -> out.printf(Locale.ROOT, " %-24s", l));
    out.println();
    for (CheckReport.Host h : r.hosts()) {
      out.printf(Locale.ROOT, "  %-32s", h.name());
      for (String level : levels.keySet()) {
        out.printf(Locale.ROOT, " %-24s", cell(h.requirements().get(level)));
      }
      out.println();
    }
    out.printf(Locale.ROOT, "  %-32s", "plan");
    for (CheckReport.Level l : levels.values()) {
      out.printf(
          Locale.ROOT,
          " %-24s",
          l.reply() == null
              ? l.status()
              : l.status()
                  + " "
                  + l.reply().code()
                  + " "
                  + (l.reply().enhanced() == null ? "" : l.reply().enhanced()));
    }
    out.println();
    out.printf(Locale.ROOT, "  why:%n");
    levels.forEach(
        (level, l) -> {
          if (l.reply() != null) {
            out.printf(
                Locale.ROOT, "    %-14s %s (%s)%n", level, text(l.reply().text()), l.failure());
          }
        });
    for (CheckReport.Host h : r.hosts()) {
      // One line per distinct decision, naming every level it holds for: DANE notes are long.
      Map<String, List<String>> levelsByWhy = new LinkedHashMap<>();
      h.requirements()
          .forEach(
              (level, q) -> {
                if (!"none".equals(q.action())) {
                  levelsByWhy.computeIfAbsent(q.why(), k -> new ArrayList<>()).add(level);
                }
              });
      levelsByWhy.forEach(
          (why, names) ->
              out.printf(
                  Locale.ROOT,
                  "    %-14s %s: %s%n",
                  String.join(", ", names),
                  h.name(),
                  text(why)));
    }
  }

  private static String cell(CheckReport.@Nullable Requirement q) {
    if (q == null) {
      return "-";
    }
    return switch (q.action()) {
      case "try" ->
          q.requirement()
              + " ("
              + q.source()
              + ")"
              + (q.reportOnly() == null ? "" : " +" + q.reportOnly() + "?");
      case "skip" -> "skip " + q.failure();
      default -> "-";
    };
  }

  private static void printProbes(PrintWriter out, List<CheckReport.Host> hosts) {
    if (hosts.stream().allMatch(h -> h.probes() == null)) {
      return;
    }
    out.printf(Locale.ROOT, "%nProbe%n");
    out.printf(
        Locale.ROOT,
        "  %-28s %-22s %-8s %-8s %-28s %-14s %s%n",
        "host",
        "address",
        "STARTTLS",
        "protocol",
        "cipher",
        "verdict",
        "reason");
    for (CheckReport.Host h : hosts) {
      if (h.probes() == null) {
        continue;
      }
      for (CheckReport.Probe p : h.probes()) {
        String starttls = p.starttls() == null ? "-" : p.starttls() ? "yes" : "no";
        out.printf(
            Locale.ROOT,
            "  %-28s %-22s %-8s %-8s %-28s %-14s %s%n",
            h.name(),
            p.address() + ":" + p.port(),
            starttls,
            p.protocol() == null ? "-" : p.protocol(),
            p.cipher() == null ? "-" : p.cipher(),
            p.verdict(),
            printable(p.reason()));
        for (CheckReport.Certificate c : p.peerChain()) {
          out.printf(
              Locale.ROOT,
              "      %s (issuer %s, until %s, SPKI SHA-256 %s)%n",
              printable(c.subject()),
              printable(c.issuer()),
              c.notAfter(),
              c.spkiSha256() == null ? "-" : c.spkiSha256());
        }
      }
    }
    out.printf(Locale.ROOT, "%nVerdict%n");
    for (CheckReport.Host h : hosts) {
      if (h.probes() != null) {
        h.probes().forEach(p -> out.printf(Locale.ROOT, "  %s%n", printable(p.summary())));
      }
    }
  }
}
