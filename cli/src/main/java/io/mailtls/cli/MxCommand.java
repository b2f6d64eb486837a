package io.mailtls.cli;

import io.mailtls.core.DnsAnswer;
import io.mailtls.core.MxHost;
import io.mailtls.core.MxResolution;
import io.mailtls.core.MxResolver;
import io.mailtls.core.NextHop;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/** {@code mailtls mx DOMAIN}: the MX hosts of a domain with the DNSSEC state of each step. */
@Command(
    name = "mx",
    mixinStandardHelpOptions = true,
    sortOptions = false,
    description = {
      "Resolve a domain's MX hosts and addresses, with the DNSSEC state of each answer.",
      "%nJSON schema (--json): docs/cli-json.md.%n"
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      " 0:the MX hosts and their addresses were found",
      Mailtls.EXIT_64,
      "69:no mail to this domain: a null MX (RFC 7505), no such domain, no address; or the"
          + " resolver failed the --dnssec trust-ad self-check",
      Mailtls.EXIT_70,
      "75:a temporary failure: the DNS resolver is unreachable, an answer failed to validate, or"
          + " no MX host has an address (delivery defers)"
    })
final class MxCommand implements Callable<Integer>, Mailtls.Verbosity {

  @Spec CommandSpec spec;

  @Parameters(paramLabel = "DOMAIN", description = "recipient domain, or an address literal")
  String domain;

  @Option(names = "--json", description = "print one JSON document")
  boolean json;

  @Mixin CommonOptions common;

  @Override
  public boolean verbose() {
    return common != null && common.verbose;
  }

  @Override
  public Integer call() {
    NextHop hop;
    try {
      hop = NextHop.parse(domain);
    } catch (IllegalArgumentException e) {
      throw CliException.usage("invalid domain \"" + domain + "\": " + e.getMessage(), e);
    }
    PrintWriter out = spec.commandLine().getOut();
    MxResolution r;
    try (CliContext ctx = CliContext.open(common, Mailtls.env(spec), spec.commandLine().getErr())) {
      ctx.preflight();
      r = MxResolver.builder().dns(ctx.dns()).build().resolve(hop);
    }
    int exit =
        r.kind().isTemporaryFailure() || noHostHasAnAddress(r)
            ? Mailtls.EX_TEMPFAIL
            : r.kind().isPermanentFailure() ? Mailtls.EX_UNAVAILABLE : Mailtls.EX_OK;
    if (json) {
      out.println(Json.pretty(MxReport.of(r, exit)));
      out.flush();
    } else {
      print(out, r);
    }
    return exit;
  }

  /**
   * MX hosts, none with an address (a dangling MX): delivery has no host to try and defers the
   * domain's mail, since a host may get its address back; so the command's answer is temporary too.
   */
  private static boolean noHostHasAnAddress(MxResolution r) {
    return (r.kind() == MxResolution.Kind.MX || r.kind() == MxResolution.Kind.IMPLICIT_MX)
        && r.hosts().stream().allMatch(h -> h.addresses().isEmpty());
  }

  static InetSocketAddress parseResolver(String text) {
    String host = text;
    int port = 53;
    int colon = text.lastIndexOf(':');
    if (colon > 0 && text.indexOf(':') == colon) {
      host = text.substring(0, colon);
      try {
        port = Integer.parseInt(text.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("invalid resolver port in \"" + text + "\"");
      }
    }
    if (host.isEmpty() || !(Character.isDigit(host.charAt(0)) || host.contains(":"))) {
      throw new IllegalArgumentException("resolver must be an IP address: \"" + text + "\"");
    }
    try {
      return new InetSocketAddress(InetAddress.getByName(host), port);
    } catch (UnknownHostException | IllegalArgumentException e) {
      throw new IllegalArgumentException("invalid resolver \"" + text + "\"");
    }
  }

  static void print(PrintWriter out, MxResolution r) {
    out.printf(Locale.ROOT, "next hop   %s%n", r.nextHop());
    out.printf(Locale.ROOT, "outcome    %s%n", r.kind());
    r.mxAnswer().ifPresent(a -> out.printf(Locale.ROOT, "MX answer  %s%n", describe(a)));
    for (MxHost h : r.hosts()) {
      out.printf(Locale.ROOT, "  %-4d %-40s %s%n", h.preference(), h.name(), h.addresses());
      out.printf(Locale.ROOT, "       A    %s%n", describe(h.ipv4()));
      out.printf(Locale.ROOT, "       AAAA %s%n", describe(h.ipv6()));
    }
    for (String n : r.notes()) {
      out.printf(Locale.ROOT, "note       %s%n", CheckText.printable(n));
    }
    out.flush();
  }

  static String describe(DnsAnswer a) {
    StringBuilder sb = new StringBuilder().append(a.outcome()).append(' ').append(a.state());
    a.failure().ifPresent(f -> sb.append(' ').append(f));
    a.reason().ifPresent(x -> sb.append(" (").append(x).append(')'));
    // a reason may carry a resolver's own text (RFC 8914 extra text): never control characters
    return CheckText.printable(sb.toString());
  }
}
