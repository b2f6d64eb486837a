package io.mailtls.cli;

import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsOutcome;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DomainName;
import io.mailtls.core.EventListener;
import io.mailtls.core.MtaStsLookup;
import io.mailtls.core.MtaStsPolicy;
import io.mailtls.core.MxHost;
import io.mailtls.core.MxResolution;
import io.mailtls.core.MxResolver;
import io.mailtls.core.NextHop;
import io.mailtls.core.PlannedHost;
import io.mailtls.core.PolicySource;
import io.mailtls.core.SkippedHost;
import io.mailtls.core.StarttlsProbe;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.TlsaLookup;
import io.mailtls.core.TransportPolicyResolver;
import io.mailtls.dane.TlsaUsability;
import io.mailtls.mtasts.StsRecord;
import io.mailtls.tlsrpt.TlsRptDiscovery;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * Works out the posture of one recipient domain for {@code mailtls check}: MX hosts with their
 * DNSSEC states, the MTA-STS record and policy, every host's TLSA records, the plan under each of
 * the four sender levels ({@link TransportPolicyResolver#plan}), and optionally a live {@link
 * StarttlsProbe} of every address, which opens its session as delivery does. Everything goes
 * through the public API of core, mta-sts and dane; the MTA-STS policy is fetched once and cached
 * for the run.
 *
 * <p>Thread-safe: domains may be checked concurrently. {@link #close()} closes the probe.
 */
final class DomainChecker implements AutoCloseable {

  private final CliContext ctx;
  private final TransportPolicyResolver plans;
  private final MxResolver mxResolver;
  private final Optional<StarttlsProbe> probe;
  private final Executor probeExecutor;
  private final TlsRptDiscovery tlsRpt;

  /**
   * A checker on {@code ctx}; with {@code probe}, live probes run on {@code probeExecutor} (which
   * must not be the executor the checks themselves run on).
   */
  DomainChecker(CliContext ctx, boolean probe, Executor probeExecutor) {
    this.ctx = ctx;
    this.plans = ctx.policyResolver();
    this.mxResolver = MxResolver.builder().dns(ctx.dns()).random(new Random(0)).build();
    this.probeExecutor = probeExecutor;
    this.probe = probe ? Optional.of(ctx.probe()) : Optional.empty();
    this.tlsRpt = TlsRptDiscovery.builder().dns(ctx.dns()).build();
  }

  @Override
  public void close() {
    probe.ifPresent(StarttlsProbe::close);
  }

  /** The posture of {@code hop}. */
  CheckReport check(NextHop hop) {
    MxResolution mx = mxResolver.resolve(hop);
    CheckReport.MtaSts sts = hop instanceof NextHop.Domain d ? mtaSts(d.name()) : null;
    CheckReport.TlsRpt rpt =
        hop instanceof NextHop.Domain d ? TlsRptCheck.of(ctx.dns(), tlsRpt, d.name()) : null;
    Map<DomainName, TlsaLookup> tlsa = new LinkedHashMap<>();
    for (MxHost h : mx.hosts()) {
      if (!h.addresses().isEmpty()) {
        tlsa.put(h.name(), ctx.dane().lookupAsync(h, mx).join());
      }
    }
    Map<TlsLevel, DeliveryPlan> byLevel = new EnumMap<>(TlsLevel.class);
    EventListener listener = ctx.listener();
    for (TlsLevel level : TlsLevel.values()) {
      listener.planStart(hop, level);
      // the plan's own MTA-STS and TLSA lookups go to the -v trace too
      DeliveryPlan plan = plans.plan(hop, level, listener);
      listener.planEnd(plan);
      plan.policyFailures().forEach(listener::policyFailure);
      byLevel.put(level, plan);
    }
    DeliveryPlan base =
        Objects.requireNonNull(byLevel.get(TlsLevel.OPPORTUNISTIC)); // planned above
    Map<String, CompletableFuture<List<CheckReport.Probe>>> probes = startProbes(hop, mx, base);
    List<CheckReport.Host> hosts = new ArrayList<>();
    for (MxHost h : mx.hosts()) {
      CompletableFuture<List<CheckReport.Probe>> p = probes.get(h.name().toString());
      hosts.add(
          new CheckReport.Host(
              h.name().toString(),
              h.preference(),
              h.implicit(),
              h.addresses().stream().map(InetAddress::getHostAddress).toList(),
              h.addressState().name(),
              CheckReport.Answer.of(h.ipv4()),
              CheckReport.Answer.of(h.ipv6()),
              tlsa(tlsa.get(h.name())),
              requirements(h.name(), byLevel),
              p == null ? null : p.join()));
    }
    if (hop instanceof NextHop.AddressLiteral literal) {
      // The literal is the one host delivery tries (RFC 5321 §4.1.3), probed or not: without it a
      // literal would read as a domain without hosts (--fail-on no-mx), unlike the same check with
      // --probe.
      CompletableFuture<List<CheckReport.Probe>> p = probes.get("");
      hosts.add(
          new CheckReport.Host(
              hop.toString(),
              0,
              true,
              List.of(literal.address().getHostAddress()),
              "INDETERMINATE",
              null,
              null,
              new CheckReport.Tlsa(
                  "none", null, "an address literal has no TLSA base domain", List.of()),
              requirements(null, byLevel),
              p == null ? null : p.join()));
    }
    Map<String, CheckReport.Level> levels = new LinkedHashMap<>();
    byLevel.forEach((level, plan) -> levels.put(level.token(), level(plan)));
    return new CheckReport(
        CheckReport.SCHEMA,
        hop.toString(),
        null,
        new CheckReport.Mx(
            mx.kind().name(),
            mx.mxState().name(),
            mx.mxAnswer().map(DnsAnswer::toString).orElse(null),
            mx.notes()),
        sts,
        rpt,
        hosts,
        levels);
  }

  // ------------------------------------------------------------------ MTA-STS

  private CheckReport.MtaSts mtaSts(DomainName domain) {
    DnsAnswer txt = ctx.dns().resolve(domain.prefixed("_mta-sts"), DnsRecordType.TXT);
    List<String> texts =
        txt.records(DnsRecord.Txt.class).stream().map(DnsRecord.Txt::text).toList();
    CheckReport.StsRecord record;
    if (!txt.isSuccess()) {
      record =
          new CheckReport.StsRecord(
              "failed", null, texts, txt.state().name(), "TXT lookup failed: " + txt);
    } else if (txt.isNegative()) {
      record =
          new CheckReport.StsRecord(
              "absent",
              null,
              texts,
              txt.state().name(),
              "no TXT records at _mta-sts." + domain + " (" + txt.outcome() + ")");
    } else if (StsRecord.select(texts) instanceof StsRecord.Found f) {
      record = new CheckReport.StsRecord("valid", f.record().id(), texts, txt.state().name(), null);
    } else {
      record =
          new CheckReport.StsRecord(
              "invalid",
              null,
              texts,
              txt.state().name(),
              ((StsRecord.NotFound) StsRecord.select(texts)).reason());
    }
    MtaStsLookup lookup = ctx.mtaSts().lookupAsync(domain).join();
    CheckReport.StsPolicy policy;
    if (lookup instanceof MtaStsLookup.Found f) {
      MtaStsPolicy p = f.policy();
      policy =
          new CheckReport.StsPolicy(
              "found",
              p.id(),
              p.mode().name().toLowerCase(Locale.ROOT),
              p.mxPatterns(),
              p.maxAge().toSeconds(),
              null,
              f.note().isEmpty() ? null : f.note());
    } else if (lookup instanceof MtaStsLookup.NoPolicy n) {
      policy = new CheckReport.StsPolicy("none", null, null, List.of(), null, null, n.reason());
    } else {
      MtaStsLookup.Failed failed = (MtaStsLookup.Failed) lookup;
      policy =
          new CheckReport.StsPolicy(
              "failed", null, null, List.of(), null, failed.type().name(), failed.reason());
    }
    return new CheckReport.MtaSts(record, policy);
  }

  // ------------------------------------------------------------------ DANE

  private CheckReport.Tlsa tlsa(@Nullable TlsaLookup lookup) {
    if (lookup == null) {
      return new CheckReport.Tlsa("skipped", null, "no address: TLSA not looked up", List.of());
    }
    if (lookup instanceof TlsaLookup.Usable u) {
      DomainName base = u.requirement().baseDomain();
      // The requirement keeps the usable records only; list the whole RRset, classified.
      DnsAnswer all = ctx.dns().resolve(base.prefixed("_25", "_tcp"), DnsRecordType.TLSA);
      List<DnsRecord.Tlsa> records =
          all.outcome() == DnsOutcome.DATA
              ? all.records(DnsRecord.Tlsa.class)
              : u.requirement().records();
      return new CheckReport.Tlsa("usable", base.toString(), u.note(), classify(records));
    } else if (lookup instanceof TlsaLookup.Unusable u) {
      return new CheckReport.Tlsa(
          "unusable",
          null,
          "secure TLSA records, none usable" + " (tlsa-invalid): TLS mandatory, unauthenticated",
          classify(u.records()));
    } else if (lookup instanceof TlsaLookup.None n) {
      return new CheckReport.Tlsa("none", null, n.reason(), List.of());
    }
    return new CheckReport.Tlsa("failed", null, ((TlsaLookup.Failed) lookup).reason(), List.of());
  }

  private static List<CheckReport.TlsaRecord> classify(List<DnsRecord.Tlsa> records) {
    return records.stream()
        .map(
            r ->
                CheckReport.TlsaRecord.of(
                    r,
                    TlsaUsability.usageName(r.usage()),
                    TlsaUsability.whyUnusable(r).orElse(null)))
        .toList();
  }

  // ------------------------------------------------------------------ plans

  private static Map<String, CheckReport.Requirement> requirements(
      @Nullable DomainName host, Map<TlsLevel, DeliveryPlan> byLevel) {
    Map<String, CheckReport.Requirement> out = new LinkedHashMap<>();
    byLevel.forEach((level, plan) -> out.put(level.token(), requirement(host, plan)));
    return out;
  }

  private static CheckReport.Requirement requirement(@Nullable DomainName host, DeliveryPlan plan) {
    Optional<DomainName> name = Optional.ofNullable(host);
    for (PlannedHost p : plan.hosts()) {
      if (p.name().equals(name)) {
        return new CheckReport.Requirement(
            "try",
            TraceListener.requirement(p.requirement()),
            source(p.source()),
            p.reportOnly().map(TraceListener::requirement).orElse(null),
            null,
            p.why());
      }
    }
    for (SkippedHost s : plan.skipped()) {
      if (name.isPresent() && s.host().equals(name.get())) {
        return new CheckReport.Requirement(
            "skip", null, null, null, s.failure().name(), s.reason());
      }
    }
    return new CheckReport.Requirement(
        "none",
        null,
        null,
        null,
        plan.failure().map(f -> f.type().name()).orElse(null),
        plan.failure().map(f -> f.reply().text()).orElse("not part of the plan"));
  }

  private static CheckReport.Level level(DeliveryPlan plan) {
    if (plan.failure().isPresent()) {
      DeliveryPlan.Failure f = plan.failure().get();
      return new CheckReport.Level(
          f.status().name(),
          CheckReport.Reply.of(f.reply()),
          f.type().name(),
          List.of(),
          plan.reasons());
    }
    return new CheckReport.Level(
        "ATTEMPT",
        null,
        null,
        plan.hosts().stream()
            .map(h -> h.name().map(DomainName::toString).orElse(plan.nextHop().toString()))
            .toList(),
        plan.reasons());
  }

  /** The JSON token of a policy source: {@code none}, {@code sender}, {@code mta-sts}. */
  static String source(PolicySource s) {
    return s.name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  // ------------------------------------------------------------------ probes

  /**
   * Starts a probe of every address of every MX host (keyed by host name; "" for an address
   * literal), under the requirement of the opportunistic plan, which is the recipient's own policy;
   * a host that plan skips is probed as opportunistic and marked unplanned.
   */
  private Map<String, CompletableFuture<List<CheckReport.Probe>>> startProbes(
      NextHop hop, MxResolution mx, DeliveryPlan base) {
    Map<String, CompletableFuture<List<CheckReport.Probe>>> out = new LinkedHashMap<>();
    if (probe.isEmpty()) {
      return out;
    }
    if (hop instanceof NextHop.AddressLiteral literal) {
      out.put("", probeAll(Optional.empty(), List.of(literal.address()), base));
      return out;
    }
    for (MxHost h : mx.hosts()) {
      out.put(h.name().toString(), probeAll(Optional.of(h.name()), h.addresses(), base));
    }
    return out;
  }

  private CompletableFuture<List<CheckReport.Probe>> probeAll(
      Optional<DomainName> host, List<InetAddress> addresses, DeliveryPlan base) {
    Optional<PlannedHost> planned =
        base.hosts().stream().filter(p -> p.name().equals(host)).findFirst();
    TlsRequirement requirement =
        planned.map(PlannedHost::requirement).orElse(new TlsRequirement.Opportunistic());
    List<CompletableFuture<CheckReport.Probe>> each = new ArrayList<>();
    for (InetAddress a : addresses) {
      Supplier<CheckReport.Probe> task =
          () ->
              CheckReport.Probe.of(
                  probe.get().probe(host, a, requirement),
                  planned.isPresent(),
                  TraceListener.requirement(requirement));
      each.add(CompletableFuture.supplyAsync(task, probeExecutor));
    }
    return CompletableFuture.allOf(each.toArray(CompletableFuture[]::new))
        .thenApply(v -> each.stream().map(CompletableFuture::join).toList());
  }
}
