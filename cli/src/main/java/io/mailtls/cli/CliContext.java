package io.mailtls.cli;

import io.mailtls.core.DestinationPolicyMap;
import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsFailure;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnssecMode;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DnssecState;
import io.mailtls.core.DomainName;
import io.mailtls.core.EventListener;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmartHost;
import io.mailtls.core.StarttlsProbe;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TransportPolicyResolver;
import io.mailtls.core.TrustAnchors;
import io.mailtls.dane.DaneResolver;
import io.mailtls.mtasts.MtaStsResolver;
import io.mailtls.mtasts.OkHttpPolicyFetcher;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.function.Function;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

/**
 * What one run of {@code check} or {@code send} is wired from, built from {@link CommonOptions}:
 * the DNSSEC-aware resolver, the PKIX roots, the MTA-STS resolver (OkHttp fetch, in-memory cache
 * for the run), the DANE provider and the event listener. Thread-safe once built; {@link #close()}
 * releases the HTTP client's threads and connections.
 */
final class CliContext implements AutoCloseable {

  /** The DNS failures that mean the resolver itself cannot be used. */
  private static final EnumSet<DnsFailure> UNREACHABLE =
      EnumSet.of(DnsFailure.TIMEOUT, DnsFailure.NETWORK, DnsFailure.REFUSED);

  private final CommonOptions options;
  private final DnssecResolver dns;
  private final TrustConfig trust;
  private final OkHttpClient http;
  private final MtaStsResolver mtaSts;
  private final DaneResolver dane;
  private final Optional<TraceListener> trace;
  private final PrintWriter err;

  private CliContext(
      CommonOptions options,
      DnssecResolver dns,
      TrustConfig trust,
      OkHttpClient http,
      MtaStsResolver mtaSts,
      DaneResolver dane,
      Optional<TraceListener> trace,
      PrintWriter err) {
    this.err = err;
    this.options = options;
    this.dns = dns;
    this.trust = trust;
    this.http = http;
    this.mtaSts = mtaSts;
    this.dane = dane;
    this.trace = trace;
  }

  /**
   * Validates the options and builds everything; no network traffic yet.
   *
   * @throws CliException a usage error naming the bad option or unreadable file
   */
  static CliContext open(CommonOptions o, Function<String, @Nullable String> env, PrintWriter err) {
    o.validate();
    Optional<TraceListener> trace =
        o.verbose ? Optional.of(new TraceListener(err)) : Optional.empty();
    DnssecResolver dns = resolver(o);
    TrustConfig trust =
        TrustConfig.load(o.caFiles, o.truststore, o.truststorePassword(env), o.caOnly);
    trace.ifPresent(t -> t.line("DNS " + dns + "; PKIX roots: " + trust.summary()));
    OkHttpClient.Builder hb = new OkHttpClient.Builder();
    if (trust.customised()) {
      hb.sslSocketFactory(trust.sslContext().getSocketFactory(), trust.trustManager());
    }
    OkHttpClient http = hb.build();
    Duration timeout = o.timeout();
    MtaStsResolver mtaSts =
        MtaStsResolver.builder()
            .dns(dns)
            .fetcher(
                OkHttpPolicyFetcher.builder()
                    .dns(dns)
                    .client(http)
                    .port(o.mtaStsPort)
                    .connectTimeout(timeout)
                    .readTimeout(timeout)
                    .callTimeout(timeout)
                    .build())
            .build();
    DaneResolver dane = DaneResolver.builder().dns(dns).build();
    return new CliContext(o, dns, trust, http, mtaSts, dane, trace, err);
  }

  private static DnssecResolver resolver(CommonOptions o) {
    DnssecResolver.Builder b =
        DnssecResolver.builder()
            .mode(o.dnssecMode())
            .lookupTimeout(o.timeout())
            .queryTimeout(min(Duration.ofSeconds(5), o.timeout()));
    List<InetSocketAddress> upstreams = o.upstreams();
    if (!upstreams.isEmpty()) {
      b.upstream(upstreams);
    }
    if (o.trustAnchor != null) {
      try {
        b.trustAnchors(TrustAnchors.read(o.trustAnchor));
      } catch (IOException e) {
        throw CliException.usage(
            "cannot read --trust-anchor " + o.trustAnchor + ": " + TrustConfig.describe(e), e);
      } catch (IllegalArgumentException e) {
        throw CliException.usage("--trust-anchor " + o.trustAnchor + ": " + e.getMessage(), e);
      }
    }
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw CliException.usage(String.valueOf(e.getMessage()), e);
    }
  }

  /**
   * Asks the resolver one question (the root's TXT records, which every resolver can answer) before
   * any real work, so that an unreachable or refusing resolver is one clear error rather than every
   * domain failing.
   *
   * <p>A root that does not validate (wrong trust anchors) is a warning on stderr: the checks still
   * run, and show every answer's state. With {@code --dnssec trust-ad} the resolver must pass the
   * DNSSEC self-check (a bogus name refused, a signed name secure) or nothing runs: its AD bit
   * decides DANE, and loopback alone does not prove that it validates.
   *
   * @throws CliException exit 75 (a temporary failure: a retry may find it back) naming the
   *     resolver when it does not answer usably, exit 69 when it fails the TRUST_AD self-check
   */
  void preflight() {
    DnsAnswer probe = dns.resolve(DomainName.ROOT, DnsRecordType.TXT);
    trace.ifPresent(t -> t.line("resolver check: " + probe));
    if (probe.failure().isPresent() && UNREACHABLE.contains(probe.failure().get())) {
      throw new CliException(
          Mailtls.EX_TEMPFAIL,
          "DNS resolver "
              + describeUpstreams()
              + " unreachable: "
              + probe.failure().get()
              + probe.reason().map(r -> " (" + r + ")").orElse(""));
    }
    if (options.dnssecMode() == DnssecMode.TRUST_AD) {
      options.selfCheck.require(dns, describeUpstreams(), trace);
      return;
    }
    if (probe.state() != DnssecState.SECURE) {
      err.println(
          "mailtls: warning: the root zone's answer is "
              + probe.state()
              + " (trust"
              + " anchors that do not match, or a resolver that strips DNSSEC records?): DANE"
              + " cannot apply");
      err.flush();
    }
  }

  private static Duration min(Duration a, Duration b) {
    return a.compareTo(b) <= 0 ? a : b;
  }

  private String describeUpstreams() {
    List<InetSocketAddress> u = dns.upstreams();
    StringBuilder sb = new StringBuilder();
    for (InetSocketAddress a : u) {
      sb.append(sb.length() == 0 ? "" : ", ")
          .append(a.getAddress().getHostAddress())
          .append(':')
          .append(a.getPort());
    }
    return sb.toString();
  }

  /** The resolver every lookup goes through. */
  DnssecResolver dns() {
    return dns;
  }

  /** The DANE provider. */
  DaneResolver dane() {
    return dane;
  }

  /** The MTA-STS policy source (its cache lives as long as this context). */
  MtaStsResolver mtaSts() {
    return mtaSts;
  }

  /** The HTTPS client, trusting this context's PKIX roots (MTA-STS policies, TLS-RPT reports). */
  OkHttpClient http() {
    return http;
  }

  /** The PKIX roots. */
  TrustConfig trust() {
    return trust;
  }

  /** The options this context was built from. */
  CommonOptions options() {
    return options;
  }

  /** The {@code -v} trace, when asked for. */
  Optional<TraceListener> trace() {
    return trace;
  }

  /** The listener for deliveries: the trace, or nothing. */
  EventListener listener() {
    return trace.<EventListener>map(t -> t).orElse(EventListener.NONE);
  }

  /**
   * A policy resolver with this context's DNS, MTA-STS and DANE; equal-preference MX hosts are
   * ordered by a fixed seed so that the plans of one check list them alike.
   */
  TransportPolicyResolver policyResolver() {
    return TransportPolicyResolver.builder()
        .dns(dns)
        .mtaSts(mtaSts)
        .dane(dane)
        .random(new Random(0))
        .build();
  }

  /** A transport delivering at {@code level} with every option of this run. Close it. */
  SecureSmtpTransport transport(TlsLevel level) {
    return transport(level, EventListener.NONE);
  }

  /** The same, with {@code also} receiving every event after the trace (if any). */
  SecureSmtpTransport transport(TlsLevel level, EventListener also) {
    return transport(level, Optional.empty(), Optional.empty(), also);
  }

  /**
   * The same, through {@code relay} when present (instead of the recipients' MX hosts), and with
   * the operator's per-destination policies when present.
   */
  SecureSmtpTransport transport(
      TlsLevel level,
      Optional<SmartHost> relay,
      Optional<DestinationPolicyMap> destinations,
      EventListener also) {
    return transport(level, relay, destinations, call -> also);
  }

  /** The same, with each call's events also going to the listener {@code also} makes for it. */
  SecureSmtpTransport transport(
      TlsLevel level,
      Optional<SmartHost> relay,
      Optional<DestinationPolicyMap> destinations,
      EventListener.Factory also) {
    EventListener trace = listener();
    SecureSmtpTransport.Builder b =
        SecureSmtpTransport.builder()
            .dns(dns)
            .mtaSts(mtaSts)
            .dane(dane)
            .senderPolicy(SenderPolicy.uniform(level))
            .heloName(options.heloName())
            .port(options.port)
            .timeouts(options.smtpTimeouts())
            .eventListenerFactory(call -> EventListener.all(trace, also.create(call)));
    if (trust.keyStore() != null) {
      b.trustStore(trust.keyStore());
    }
    relay.ifPresent(b::relay);
    destinations.ifPresent(b::destinationPolicies);
    return b.build();
  }

  /**
   * A STARTTLS probe set up as {@link #transport} sets up delivery: the same roots, DANE provider,
   * EHLO name, port, time bounds and event trace. Close it.
   */
  StarttlsProbe probe() {
    StarttlsProbe.Builder b =
        StarttlsProbe.builder()
            .dane(dane)
            .heloName(options.heloName())
            .port(options.port)
            .timeouts(options.smtpTimeouts())
            .eventListener(listener());
    if (trust.keyStore() != null) {
      b.trustStore(trust.keyStore());
    }
    return b.build();
  }

  @Override
  public void close() {
    mtaSts.close();
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }
}
