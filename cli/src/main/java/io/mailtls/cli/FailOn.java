package io.mailtls.cli;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.BiConsumer;
import org.jspecify.annotations.Nullable;

/**
 * The conditions {@code mailtls check --fail-on} turns into exit code {@value Mailtls#EX_FAILED_ON}
 * for monitoring: each is a test on a {@link CheckReport}. Conditions marked "probe" look at live
 * connections, so asking for one turns {@code --probe} on.
 */
enum FailOn {
  /** The MTA-STS TXT record is invalid or its lookup failed, or the policy fetch failed. */
  STS_BROKEN("sts-broken", false),
  /** A TLSA RRset is secure but has no usable record, or its lookup failed (RFC 7672 §2.2). */
  TLSA_UNUSABLE("tlsa-unusable", false),
  /** A DNS answer the check used (MX, A, AAAA, MTA-STS TXT) failed DNSSEC validation. */
  DNSSEC_BOGUS("dnssec-bogus", false),
  /**
   * The domain has no usable MX: null MX, no such domain, no mail host, a DNS failure, or no MX
   * host with a usable address.
   */
  NO_MX("no-mx", false),
  /** Probe: DANE applied to an MX host and no TLSA record matched its certificate. */
  DANE_MISMATCH("dane-mismatch", true),
  /** Probe: an MX host did not offer STARTTLS (or refused it). */
  NO_STARTTLS("no-starttls", true),
  /** Probe: an MX host's certificate failed PKIX verification of chain or name. */
  PKIX_INVALID("pkix-invalid", true),
  /** Probe: an MX address could not be connected to or gave no usable session. */
  UNREACHABLE("unreachable", true);

  private final String token;
  private final boolean needsProbe;

  FailOn(String token, boolean needsProbe) {
    this.token = token;
    this.needsProbe = needsProbe;
  }

  /** The token {@code --fail-on} takes. */
  String token() {
    return token;
  }

  /** Whether the condition needs {@code --probe}. */
  boolean needsProbe() {
    return needsProbe;
  }

  /**
   * Parses a token.
   *
   * @throws CliException a usage error listing the tokens
   */
  static FailOn parse(String token) {
    for (FailOn f : values()) {
      if (f.token.equals(token.strip().toLowerCase(Locale.ROOT))) {
        return f;
      }
    }
    throw CliException.usage(
        "--fail-on: unknown condition \"" + token + "\"; one of " + new Tokens());
  }

  /**
   * Tests every condition of {@code asked} on {@code r} and reports each that holds, with what made
   * it hold, to {@code found}.
   */
  static void evaluate(CheckReport r, Set<FailOn> asked, BiConsumer<FailOn, String> found) {
    for (FailOn f : asked) {
      for (String why : f.why(r)) {
        found.accept(f, r.domain() + ": " + why);
      }
    }
  }

  private List<String> why(CheckReport r) {
    List<String> out = new ArrayList<>();
    if (r.error() != null) {
      // The check itself failed, so nothing is known of the posture: no condition is claimed. The
      // command exits 70 for it instead, which outranks any condition.
      return out;
    }
    switch (this) {
      case STS_BROKEN -> {
        if (r.mtaSts() != null) {
          CheckReport.StsRecord rec = r.mtaSts().record();
          CheckReport.StsPolicy pol = r.mtaSts().policy();
          if (rec.status().equals("invalid") || rec.status().equals("failed")) {
            out.add("MTA-STS TXT record " + rec.status() + ": " + rec.reason());
          }
          if (pol.status().equals("failed")) {
            out.add("MTA-STS policy failed " + pol.failure() + ": " + pol.reason());
          }
        }
      }
      case TLSA_UNUSABLE -> {
        for (CheckReport.Host h : r.hosts()) {
          String s = h.tlsa().status();
          if (s.equals("unusable") || s.equals("failed")) {
            out.add(h.name() + " TLSA " + s + ": " + h.tlsa().reason());
          }
        }
      }
      case DNSSEC_BOGUS -> {
        if (r.mx() != null && bogus(r.mx().dnssec())) {
          out.add("MX answer BOGUS");
        }
        if (r.mtaSts() != null && bogus(r.mtaSts().record().dnssec())) {
          out.add("MTA-STS TXT answer BOGUS");
        }
        for (CheckReport.Host h : r.hosts()) {
          if (bogus(h.addressDnssec())
              || (h.a() != null && bogus(h.a().dnssec()))
              || (h.aaaa() != null && bogus(h.aaaa().dnssec()))) {
            out.add(h.name() + " address answer BOGUS");
          }
        }
      }
      case NO_MX -> {
        String outcome = r.mx() == null ? "" : r.mx().outcome();
        if (!outcome.equals("MX")
            && !outcome.equals("IMPLICIT_MX")
            && !outcome.equals("ADDRESS_LITERAL")) {
          out.add("MX " + outcome);
        } else if (r.hosts().isEmpty()) {
          out.add("no usable MX host");
        } else if (r.hosts().stream().allMatch(h -> h.addresses().isEmpty())) {
          // a dangling MX (no address records, or only unusable ones): delivery has no host to try
          out.add("no MX host has a usable address");
        }
      }
      default -> probes(r, out);
    }
    return out;
  }

  private void probes(CheckReport r, List<String> out) {
    for (CheckReport.Host h : r.hosts()) {
      if (h.probes() == null) {
        continue;
      }
      for (CheckReport.Probe p : h.probes()) {
        if (holds(p)) {
          out.add(p.summary());
        }
      }
    }
  }

  private boolean holds(CheckReport.Probe p) {
    return switch (this) {
      case DANE_MISMATCH -> Boolean.FALSE.equals(p.daneVerified());
      // Refused whatever the requirement: under one that needs TLS the probe fails there (RFC
      // 3207 §4), and that is a missing STARTTLS, not an unreachable host.
      case NO_STARTTLS ->
          Boolean.FALSE.equals(p.starttls())
              || (Boolean.TRUE.equals(p.starttls())
                  && p.protocol() == null
                  && p.verdict().equals("plaintext"))
              || starttlsRefused(p);
      case PKIX_INVALID -> p.protocol() != null && Boolean.FALSE.equals(p.pkixVerified());
      case UNREACHABLE ->
          !p.reachable()
              || (p.protocol() == null
                  && p.verdict().equals("failed")
                  && !Boolean.FALSE.equals(p.starttls())
                  && !starttlsRefused(p));
      default -> false;
    };
  }

  /** STARTTLS was offered and sent, and the server answered other than 220 (RFC 3207 §4). */
  private static boolean starttlsRefused(CheckReport.Probe p) {
    String reply = p.starttlsReply();
    return Boolean.TRUE.equals(p.starttls())
        && p.protocol() == null
        && reply != null
        && !reply.startsWith("220");
  }

  private static boolean bogus(@Nullable String state) {
    return "BOGUS".equals(state);
  }

  /** The tokens, for {@code --help} ({@code ${COMPLETION-CANDIDATES}}) and shell completion. */
  static final class Tokens implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      List<String> out = new ArrayList<>();
      for (FailOn f : values()) {
        out.add(f.token);
      }
      return out.iterator();
    }

    @Override
    public String toString() {
      return String.join(", ", this);
    }
  }
}
