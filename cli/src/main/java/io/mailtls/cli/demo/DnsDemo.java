package io.mailtls.cli.demo;

import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecMode;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DnssecState;
import io.mailtls.core.MxResolution;
import io.mailtls.core.MxResolver;
import io.mailtls.core.NextHop;
import io.mailtls.core.TrustAnchors;
import io.mailtls.testkit.TestDnsServer;
import io.mailtls.testkit.ValidatingResolverServer;
import java.net.InetAddress;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.xbill.DNS.Type;

/**
 * The DNS part of the embedded demo: a DNSSEC-signed tree served by the testkit on loopback, and MX
 * resolution of each scenario in both DNSSEC modes, compared with what the RFCs require.
 */
public final class DnsDemo {

  /** One scenario: a next hop, what it shows, and the outcome the RFCs require. */
  public record Scenario(String domain, String shows, MxResolution.Kind kind, DnssecState state) {}

  /** One scenario's outcome under one DNSSEC mode. */
  public record Outcome(MxResolution.Kind kind, DnssecState state, String detail) {}

  /** A row of the demo's matrix. */
  public record Row(Scenario scenario, Outcome validate, Outcome trustAd) {
    /** Whether both modes reached the required outcome. */
    public boolean asExpected() {
      return matches(validate) && matches(trustAd);
    }

    private boolean matches(Outcome o) {
      return o.kind() == scenario.kind() && o.state() == scenario.state();
    }
  }

  /** The scenarios, in display order. */
  public static final List<Scenario> SCENARIOS =
      List.of(
          new Scenario("secure.test", "signed zone", MxResolution.Kind.MX, DnssecState.SECURE),
          new Scenario(
              "unsigned.test",
              "insecure delegation (NSEC proves no DS)",
              MxResolution.Kind.MX,
              DnssecState.INSECURE),
          new Scenario(
              "expired.test",
              "expired RRSIGs",
              MxResolution.Kind.TEMPORARY_FAILURE,
              DnssecState.BOGUS),
          new Scenario(
              "wrongds.test",
              "parent DS matches no key",
              MxResolution.Kind.TEMPORARY_FAILURE,
              DnssecState.BOGUS),
          new Scenario(
              "corrupt.test",
              "corrupted RRSIG over MX",
              MxResolution.Kind.TEMPORARY_FAILURE,
              DnssecState.BOGUS),
          new Scenario(
              "servfail.test",
              "server answers SERVFAIL",
              MxResolution.Kind.TEMPORARY_FAILURE,
              DnssecState.INDETERMINATE),
          new Scenario(
              "nullmx.test", "null MX (RFC 7505)", MxResolution.Kind.NULL_MX, DnssecState.SECURE),
          new Scenario(
              "implicit.test",
              "no MX, an A record (implicit MX)",
              MxResolution.Kind.IMPLICIT_MX,
              DnssecState.SECURE),
          new Scenario(
              "bücher.test",
              "IDN domain, asked as its A-label",
              MxResolution.Kind.MX,
              DnssecState.SECURE),
          new Scenario(
              "nosuch.secure.test",
              "NXDOMAIN, proved by NSEC",
              MxResolution.Kind.NO_SUCH_DOMAIN,
              DnssecState.SECURE));

  private DnsDemo() {}

  /** Starts the fixtures, resolves every scenario in both modes, and stops the fixtures. */
  public static List<Row> run() {
    try (TestDnsServer dns = startDns();
        ValidatingResolverServer unbound =
            ValidatingResolverServer.start(
                dns.socketAddress(),
                dns.trustAnchor(),
                Clock.systemUTC(),
                InetAddress.getLoopbackAddress())) {
      DnsResolver validating =
          DnssecResolver.builder()
              .upstream(dns.socketAddress())
              .trustAnchors(TrustAnchors.parse(dns.trustAnchor()))
              .queryTimeout(Duration.ofSeconds(2))
              .lookupTimeout(Duration.ofSeconds(10))
              .build();
      DnsResolver trustAd =
          DnssecResolver.builder()
              .mode(DnssecMode.TRUST_AD)
              .upstream(unbound.socketAddress())
              .queryTimeout(Duration.ofSeconds(4))
              .lookupTimeout(Duration.ofSeconds(10))
              .build();
      List<Row> rows = new ArrayList<>();
      for (Scenario s : SCENARIOS) {
        rows.add(new Row(s, resolve(validating, s), resolve(trustAd, s)));
      }
      return rows;
    }
  }

  private static Outcome resolve(DnsResolver dns, Scenario s) {
    MxResolution r = MxResolver.builder().dns(dns).build().resolve(NextHop.parse(s.domain()));
    String detail =
        switch (r.kind()) {
          case MX, IMPLICIT_MX -> r.hosts().get(0).name() + " " + r.hosts().get(0).addresses();
          default ->
              r.mxAnswer()
                  .flatMap(
                      a ->
                          a.failure()
                              .map(Enum::name)
                              .or(() -> java.util.Optional.of(a.outcome().name())))
                  .orElse("");
        };
    return new Outcome(r.kind(), r.mxState(), detail);
  }

  private static TestDnsServer startDns() {
    TestDnsServer dns =
        TestDnsServer.builder()
            .zone(
                "secure.test",
                z -> z.mx("secure.test", 10, "mx.secure.test").a("mx.secure.test", "127.0.0.10"))
            .zone(
                "unsigned.test",
                z ->
                    z.unsigned()
                        .mx("unsigned.test", 10, "mx.unsigned.test")
                        .a("mx.unsigned.test", "127.0.0.11"))
            .zone(
                "expired.test",
                z ->
                    z.expiredSignatures()
                        .mx("expired.test", 10, "mx.expired.test")
                        .a("mx.expired.test", "127.0.0.12"))
            .zone(
                "wrongds.test",
                z ->
                    z.wrongDs()
                        .mx("wrongds.test", 10, "mx.wrongds.test")
                        .a("mx.wrongds.test", "127.0.0.13"))
            .zone(
                "corrupt.test",
                z -> z.mx("corrupt.test", 10, "mx.corrupt.test").a("mx.corrupt.test", "127.0.0.14"))
            .zone("servfail.test", z -> z.mx("servfail.test", 10, "mx.servfail.test"))
            .zone("nullmx.test", z -> z.nullMx("nullmx.test"))
            .zone("implicit.test", z -> z.a("implicit.test", "127.0.0.15"))
            .zone(
                "xn--bcher-kva.test",
                z ->
                    z.mx("xn--bcher-kva.test", 10, "mx.xn--bcher-kva.test")
                        .a("mx.xn--bcher-kva.test", "127.0.0.16"))
            .start();
    dns.corruptSignatures("corrupt.test", Type.MX);
    dns.servfail("servfail.test", Type.MX);
    return dns;
  }
}
