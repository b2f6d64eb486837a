package io.mailtls.interop;

import io.mailtls.interop.Scenario.Verdict;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Postfix's posttls-finger, run against the environment, and its verdict. */
final class PostTlsFinger {

  private PostTlsFinger() {}

  /**
   * Runs {@code posttls-finger <args>} in a private mount namespace whose resolv.conf names the
   * local Unbound (the machine's /etc/resolv.conf is never touched), with MAIL_CONFIG at the
   * private Postfix config (smtp_dns_support_level = dnssec).
   */
  static String run(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("unshare", "-m", "bash", "-c",
        "mount --bind \"$0/resolv.conf\" /etc/resolv.conf && exec posttls-finger \"$@\"",
        InteropEnv.STATE.toString(), "-t", "5", "-T", "10"));
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("MAIL_CONFIG", InteropEnv.STATE.resolve("postfix/etc").toString());
    Process p = pb.start();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (InputStream in = p.getInputStream()) {
      in.transferTo(out);
    }
    if (!p.waitFor(60, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("posttls-finger timed out");
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** Runs posttls-finger as the scenario says. */
  static String run(Scenario s) throws IOException, InterruptedException {
    if (s.finger.level().equals("dane")) {
      // -v: the TLSA lookups show whether DANE applied ("(TLSA): OK")
      return run("-v", "-l", "dane", s.domain);
    }
    return run("-l", "secure", "-F", InteropEnv.STATE.resolve("pki/ca.crt").toString(),
        "[" + s.finger.host().orElseThrow() + "]", "hostname");
  }

  /**
   * The verdict in posttls-finger's output (see {@link Verdict}) at {@code level} ({@code dane}
   * or {@code secure}).
   */
  static Verdict verdict(String out, String level) {
    if (out.contains("Host not found, try again") || out.contains("TLSA lookup error")) {
      return Verdict.DNS_FAILURE;
    }
    if (out.contains("Verified TLS connection established")) {
      return Verdict.VERIFIED;
    }
    if (out.contains("Trusted TLS connection established")) {
      return Verdict.TRUSTED;
    }
    if (out.contains("Untrusted TLS connection established")) {
      boolean dane = out.contains("no matching DANE TLSA records")
          || out.contains("(TLSA): OK") && out.contains("server certificate verification failed");
      if (level.equals("dane") && dane) {
        return Verdict.DANE_FAILED;
      }
      // under "secure" a certificate that does not verify is a failure; under "dane" without
      // usable TLSA records it is opportunistic TLS
      return level.equals("secure") ? Verdict.CERT_FAILED : Verdict.UNTRUSTED;
    }
    if (out.contains("> EHLO") && !out.contains("< 250-STARTTLS")
        && !out.contains("< 250 STARTTLS")) {
      return Verdict.NO_STARTTLS;
    }
    throw new IllegalStateException("no verdict in posttls-finger output:\n" + out);
  }
}
