package io.mailtls.cli;

import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnssecMode;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.MxHost;
import io.mailtls.core.MxResolution;
import io.mailtls.core.MxResolver;
import io.mailtls.core.NextHop;
import io.mailtls.core.TrustAnchors;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
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
    description =
        "Resolve a domain's MX hosts and addresses, with the DNSSEC state of each answer.")
final class MxCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Parameters(paramLabel = "DOMAIN", description = "recipient domain, or an address literal")
  String domain;

  @Option(
      names = "--resolver",
      paramLabel = "HOST[:PORT]",
      description = "recursive resolver to ask (repeatable); default: the system's")
  List<String> resolvers = new ArrayList<>();

  @Option(
      names = "--dnssec",
      paramLabel = "MODE",
      defaultValue = "validate",
      description = "validate (in process, default) or trust-ad (a loopback validating resolver)")
  String dnssec;

  @Option(
      names = "--trust-anchor",
      paramLabel = "FILE",
      description = "DS or DNSKEY records in zone-file syntax; default: the IANA root")
  @Nullable Path trustAnchor;

  @Mixin SelfCheckOptions selfCheck = new SelfCheckOptions();

  @Option(
      names = "--timeout",
      paramLabel = "SECONDS",
      defaultValue = "10",
      description = "time allowed per lookup (default ${DEFAULT-VALUE})")
  int timeoutSeconds;

  @Override
  public Integer call() throws IOException {
    NextHop hop = NextHop.parse(domain);
    DnssecResolver dns = buildResolver();
    if (dns.mode() == DnssecMode.TRUST_AD) {
      selfCheck.require(dns, dns.upstreams().toString(), Optional.empty());
    }
    MxResolution r = MxResolver.builder().dns(dns).build().resolve(hop);
    print(spec.commandLine().getOut(), r);
    if (r.kind().isTemporaryFailure()) {
      return Mailtls.EX_TEMPFAIL;
    }
    return r.kind().isPermanentFailure() ? Mailtls.EX_UNAVAILABLE : 0;
  }

  private DnssecResolver buildResolver() throws IOException {
    DnssecMode mode =
        switch (dnssec) {
          case "validate" -> DnssecMode.VALIDATE;
          case "trust-ad" -> DnssecMode.TRUST_AD;
          default ->
              throw new IllegalArgumentException(
                  "--dnssec must be validate or trust-ad, not \"" + dnssec + "\"");
        };
    DnssecResolver.Builder b =
        DnssecResolver.builder()
            .mode(mode)
            .lookupTimeout(Duration.ofSeconds(timeoutSeconds))
            .queryTimeout(Duration.ofSeconds(Math.min(5, timeoutSeconds)));
    if (!resolvers.isEmpty()) {
      List<InetSocketAddress> upstream = new ArrayList<>();
      for (String r : resolvers) {
        upstream.add(parseResolver(r));
      }
      b.upstream(upstream);
    }
    if (trustAnchor != null) {
      b.trustAnchors(TrustAnchors.read(trustAnchor));
    }
    return b.build();
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
      out.printf(Locale.ROOT, "note       %s%n", n);
    }
    out.flush();
  }

  static String describe(DnsAnswer a) {
    StringBuilder sb = new StringBuilder().append(a.outcome()).append(' ').append(a.state());
    a.failure().ifPresent(f -> sb.append(' ').append(f));
    a.reason().ifPresent(x -> sb.append(" (").append(x).append(')'));
    return sb.toString();
  }
}
