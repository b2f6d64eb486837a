package io.mailtls.interop;

import io.mailtls.interop.Scenario.Verdict;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/** Postfix's posttls-finger, run against the environment, and its verdict. */
final class PostTlsFinger {

  private PostTlsFinger() {}

  /**
   * Runs {@code posttls-finger <args>} in a private mount namespace whose resolv.conf names the
   * local Unbound (the machine's /etc/resolv.conf is never touched), with MAIL_CONFIG at the
   * private Postfix config (smtp_dns_support_level = dnssec).
   */
  static String run(String... args) throws IOException, InterruptedException {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "unshare",
                "-m",
                "bash",
                "-c",
                "mount --bind \"$0/resolv.conf\" /etc/resolv.conf && exec posttls-finger \"$@\"",
                InteropEnv.STATE.toString(),
                "-t",
                "5",
                "-T",
                "10"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("MAIL_CONFIG", InteropEnv.STATE.resolve("postfix/etc").toString());
    return InteropEnv.runBounded(pb, Duration.ofSeconds(60), "posttls-finger").stdout();
  }

  /** Runs posttls-finger as the scenario says. */
  static String run(Scenario s) throws IOException, InterruptedException {
    if (s.finger.level().equals("dane")) {
      // -v: the TLSA lookups show whether DANE applied ("(TLSA): OK")
      return run("-v", "-l", "dane", s.domain);
    }
    return run(
        "-l",
        "secure",
        "-F",
        InteropEnv.STATE.resolve("pki/ca.crt").toString(),
        "[" + s.finger.host().orElseThrow() + "]",
        "hostname");
  }

  /**
   * The verdict in posttls-finger's output (see {@link Verdict}) at {@code level} ({@code dane} or
   * {@code secure}), from positive evidence only; output that shows none of the cases throws.
   */
  static Verdict verdict(String out, String level) {
    boolean established = out.contains("TLS connection established");
    if (!established
        && (out.contains("Host not found, try again") || out.contains("TLSA lookup error"))) {
      return Verdict.DNS_FAILURE;
    }
    if (out.contains("Verified TLS connection established")) {
      return Verdict.VERIFIED;
    }
    if (out.contains("Trusted TLS connection established")) {
      return Verdict.TRUSTED;
    }
    String lower = out.toLowerCase(Locale.ROOT);
    if (out.contains("Untrusted TLS connection established")) {
      if (!lower.contains("verification failed")) {
        throw new IllegalStateException("Untrusted without a reason:\n" + out);
      }
      if (level.equals("secure")) {
        return Verdict.CERT_FAILED;
      }
      // -v shows the TLSA lookup: usable records that did not authenticate the peer are a DANE
      // failure (Postfix's smtp would not deliver); without them it is opportunistic TLS
      boolean usableTlsa =
          out.contains("(TLSA): OK")
              && !out.contains("no usable TLSA records found")
              && !out.contains("no TLSA records found");
      return usableTlsa ? Verdict.DANE_FAILED : Verdict.UNTRUSTED;
    }
    // no TLS: the whole EHLO reply was seen, without STARTTLS, and the client said QUIT
    int ehlo = out.indexOf("> EHLO");
    if (ehlo >= 0
        && out.indexOf("< 250 ", ehlo) > 0
        && out.indexOf("> QUIT", ehlo) > 0
        && !out.substring(ehlo).contains("STARTTLS")) {
      return Verdict.NO_STARTTLS;
    }
    // the EHLO reply was not a 250 (a hostile peer): posttls-finger says QUIT straight away
    if (ehlo >= 0
        && out.indexOf("> QUIT", ehlo) > 0
        && out.indexOf("< 250", ehlo) < 0
        && out.indexOf("< 2", ehlo) > 0) {
      return Verdict.EHLO_REFUSED;
    }
    throw new IllegalStateException("no verdict in posttls-finger output:\n" + out);
  }
}
