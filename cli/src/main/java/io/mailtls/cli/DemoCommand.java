package io.mailtls.cli;

import io.mailtls.cli.demo.DeliveryDemo;
import io.mailtls.cli.demo.DnsDemo;
import io.mailtls.core.TlsLevel;
import java.io.PrintWriter;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** {@code mailtls demo}: the embedded demo on local fixtures; needs no network. */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = "Run the embedded demo on loopback fixtures (no network needed).")
final class DemoCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    out.println(
        "mailtls demo: a DNSSEC-signed tree (. -> test. -> each domain) served on loopback");
    out.println("by the testkit, resolved in-process (VALIDATE) and through a validating resolver");
    out.println("(TRUST_AD). A DNS failure must never read as 'no MX' or 'insecure'.");
    out.println();
    long start = System.nanoTime();
    List<DnsDemo.Row> rows = DnsDemo.run();
    String format = "%-20s %-40s %-30s %-30s %-30s %s%n";
    out.printf(Locale.ROOT, format, "domain", "scenario", "required", "VALIDATE", "TRUST_AD", "");
    boolean allOk = true;
    for (DnsDemo.Row r : rows) {
      DnsDemo.Scenario s = r.scenario();
      out.printf(
          Locale.ROOT,
          format,
          s.domain(),
          s.shows(),
          s.kind() + " " + s.state(),
          r.validate().kind() + " " + r.validate().state(),
          r.trustAd().kind() + " " + r.trustAd().state(),
          r.asExpected() ? "ok" : "MISMATCH");
      allOk &= r.asExpected();
    }
    out.println();
    out.printf(
        Locale.ROOT,
        "%d DNS scenarios, %s.%n%n",
        rows.size(),
        allOk ? "all as the RFCs require" : "SOME DIFFER FROM THE RFCs");

    out.println("Delivery: one message to each recipient domain under each sender level, through");
    out.println("mock SMTP servers with real TLS, an MTA-STS policy server over HTTPS, and TLSA");
    out.println("records in the signed zones. Cells: status and how the peer was authenticated.");
    out.println();
    List<DeliveryDemo.Row> delivery = DeliveryDemo.run();
    String cell = "%-20s";
    out.printf(Locale.ROOT, "%-18s %-50s", "domain", "publishes");
    for (TlsLevel level : DeliveryDemo.levels()) {
      out.printf(Locale.ROOT, cell, level.token());
    }
    out.println();
    boolean deliveryOk = true;
    for (DeliveryDemo.Row r : delivery) {
      out.printf(Locale.ROOT, "%-18s %-50s", r.scenario().domain(), r.scenario().publishes());
      for (TlsLevel level : DeliveryDemo.levels()) {
        out.printf(Locale.ROOT, cell, r.actual().get(level));
      }
      out.println(r.asExpected() ? "ok" : "MISMATCH (required " + r.scenario().required() + ")");
      deliveryOk &= r.asExpected();
    }
    out.println();
    out.println("Why, cell by cell:");
    for (DeliveryDemo.Row r : delivery) {
      for (TlsLevel level : DeliveryDemo.levels()) {
        out.printf(
            Locale.ROOT,
            "  %-18s %-14s %s%n",
            r.scenario().domain(),
            level.token(),
            r.reasons().get(level));
      }
    }
    out.println();
    out.printf(
        Locale.ROOT,
        "%d delivery scenarios x %d levels, %s, in %d ms in all%n",
        delivery.size(),
        DeliveryDemo.levels().size(),
        deliveryOk ? "all as docs/design.md §1 requires" : "SOME DIFFER FROM docs/design.md §1",
        (System.nanoTime() - start) / 1_000_000);
    out.flush();
    return allOk && deliveryOk ? 0 : 1;
  }
}
