package io.mailtls.examples.cli;

import io.mailtls.examples.demo.DnsDemo;
import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code mailtls demo}: the embedded demo on local fixtures; needs no network. */
@Command(name = "demo", mixinStandardHelpOptions = true,
    description = "Run the embedded demo on loopback fixtures (no network needed).")
final class DemoCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    out.println("mailtls demo: a DNSSEC-signed tree (. -> test. -> each domain) served on loopback");
    out.println("by the testkit, resolved in-process (VALIDATE) and through a validating resolver");
    out.println("(TRUST_AD). A DNS failure must never read as 'no MX' or 'insecure'.");
    out.println();
    long start = System.nanoTime();
    List<DnsDemo.Row> rows = DnsDemo.run();
    String format = "%-20s %-40s %-30s %-30s %-30s %s%n";
    out.printf(format, "domain", "scenario", "required", "VALIDATE", "TRUST_AD", "");
    boolean allOk = true;
    for (DnsDemo.Row r : rows) {
      DnsDemo.Scenario s = r.scenario();
      out.printf(format, s.domain(), s.shows(), s.kind() + " " + s.state(),
          r.validate().kind() + " " + r.validate().state(),
          r.trustAd().kind() + " " + r.trustAd().state(), r.asExpected() ? "ok" : "MISMATCH");
      allOk &= r.asExpected();
    }
    out.println();
    out.printf("%d scenarios, %s, in %d ms%n", rows.size(),
        allOk ? "all as the RFCs require" : "SOME DIFFER FROM THE RFCs",
        (System.nanoTime() - start) / 1_000_000);
    out.println("The SMTP delivery matrix (sender levels x MTA-STS x DANE) joins this demo as the");
    out.println("transport lands; see README's status table.");
    out.flush();
    return allOk ? 0 : 1;
  }
}
