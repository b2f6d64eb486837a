package io.mailtls.testkit;

import io.mailtls.testkit.internal.mtasts.RenewableSslSocketFactory;
import io.mailtls.testkit.internal.mtasts.SniKeyManager;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import mockwebserver3.Dispatcher;
import mockwebserver3.MockResponse;
import mockwebserver3.MockWebServer;
import mockwebserver3.RecordedRequest;
import mockwebserver3.SocketEffect;
import okhttp3.Protocol;
import org.jspecify.annotations.Nullable;

/**
 * An MTA-STS policy host for tests (RFC 8461 §3.3): an HTTPS server on a loopback address, built on
 * OkHttp's {@code MockWebServer}, that answers as {@code mta-sts.<domain>} for the domains it is
 * given, and can be switched per domain to every way a policy fetch can fail.
 *
 * <pre>{@code
 * try (MtaStsServer sts = MtaStsServer.builder()
 *     .pki(pki)
 *     .domain("example.test", MtaStsServer.policyText("enforce", 86400, "mx1.example.test"))
 *     .start();
 *     TestDnsServer dns = TestDnsServer.builder()
 *         .zone("example.test", z -> sts.publish(z, "example.test", "20240101"))
 *         .start()) {
 *   // point the fetcher at dns, at sts.port(), trusting pki.trustManager()
 *   sts.fault("example.test", MtaStsServer.Fault.REDIRECT);
 *   ...
 *   assertThat(sts.requestCount("example.test")).isEqualTo(1);
 *   assertThat(sts.redirectTargetRequested("example.test")).isFalse();
 * }
 * }</pre>
 *
 * <p>Well-behaved by default: {@code GET /.well-known/mta-sts.txt} with {@code Host:
 * mta-sts.<domain>} answers 200, {@value #DEFAULT_CONTENT_TYPE}, the domain's policy text; the
 * certificate, chosen by the client's SNI, is issued by the {@link TestPki}'s root for {@code
 * mta-sts.<domain>}. Other hosts and paths get 404; a handshake without SNI, or for a name this
 * server does not hold, gets a certificate for {@value #FALLBACK_HOST}. Every response carries
 * {@code Connection: close}, so each fetch is a new connection with a full handshake; and every
 * configuration change starts a new TLS context, so no client can resume a session from before it.
 *
 * <p>Thread-safe: domains, faults and headers may be changed from any thread while requests are
 * served. Requests and handshakes are recorded until {@link #clearRequests()}. {@link #close()}
 * releases stalled responses and stops the server.
 */
public final class MtaStsServer implements AutoCloseable {

  /** RFC 8461 §3.3: the path of the policy. */
  public static final String POLICY_PATH = "/.well-known/mta-sts.txt";

  /** Where {@link Fault#REDIRECT} points: the same host, another path, serving the policy. */
  public static final String REDIRECT_TARGET_PATH = "/moved/mta-sts.txt";

  /** The media type of a policy unless {@link #contentType} says otherwise. */
  public static final String DEFAULT_CONTENT_TYPE = "text/plain; charset=utf-8";

  /** The body size of {@link Fault#OVERSIZE_BODY} and {@link Fault#OVERSIZE_CHUNKED_BODY}. */
  public static final int OVERSIZE_BODY_BYTES = 96 * 1024;

  /** The name on the certificate for handshakes without SNI or for names not held. */
  public static final String FALLBACK_HOST = "mailtls-testkit.invalid";

  /** How long {@link Fault#STALL} holds a response unless {@link Builder#stall} says otherwise. */
  public static final Duration DEFAULT_STALL = Duration.ofSeconds(60);

  private static final String HOST_PREFIX = "mta-sts.";

  /** One way for a policy host to fail; each is set per domain with {@link #fault}. */
  public enum Fault {
    /** 301 to {@link #REDIRECT_TARGET_PATH} on the same host, which serves the policy. */
    REDIRECT,
    /** 404 Not Found. */
    NOT_FOUND,
    /** 500 Internal Server Error. */
    SERVER_ERROR,
    /** 200 with the policy as {@code text/html; charset=utf-8}. */
    WRONG_CONTENT_TYPE,
    /**
     * 200 with a {@code Content-Length} body of {@value #OVERSIZE_BODY_BYTES} bytes: the policy
     * followed by padding extension lines, so that only a size bound makes it fail.
     */
    OVERSIZE_BODY,
    /** As {@link #OVERSIZE_BODY}, sent chunked with no {@code Content-Length}. */
    OVERSIZE_CHUNKED_BODY,
    /** The request is read, then no response for {@link Builder#stall} (or until close). */
    STALL,
    /** A certificate from the trusted root for {@code www.<domain>}, not the policy host. */
    WRONG_NAME_CERTIFICATE,
    /** A certificate for the policy host from {@link TestPki#otherCa()}, which nobody trusts. */
    UNTRUSTED_CERTIFICATE,
    /** A self-signed certificate for the policy host. */
    SELF_SIGNED_CERTIFICATE,
    /** A certificate for the policy host from the trusted root, expired a day ago. */
    EXPIRED_CERTIFICATE,
    /** 200 text/plain with a policy whose line 2 is {@code mode: sometimes}. */
    MALFORMED_POLICY,
    /**
     * 200 with the policy's full {@code Content-Length}, but the connection is closed part-way
     * through the body: a truncated response.
     */
    TRUNCATED_BODY,
    /**
     * 401 Unauthorized with {@code WWW-Authenticate: Basic realm="mta-sts"}: a policy host that
     * asks for credentials (the policy itself is served to a request that carries an {@code
     * Authorization} header, so that only not sending credentials makes it fail).
     */
    UNAUTHORIZED
  }

  /**
   * One HTTP request the server received.
   *
   * @param host the {@code Host} header without the port, in lower case
   * @param path the request path, without a query
   * @param method the method, e.g. {@code GET}
   * @param serverNames the SNI host names of the connection's handshake
   * @param headers the request headers, names in lower case
   * @param tlsVersion the TLS version the connection negotiated, e.g. {@code TLSv1.3}
   */
  public record Request(
      String host,
      String path,
      String method,
      List<String> serverNames,
      Map<String, List<String>> headers,
      String tlsVersion) {

    public Request {
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(path, "path");
      Objects.requireNonNull(method, "method");
      Objects.requireNonNull(tlsVersion, "tlsVersion");
      serverNames = List.copyOf(serverNames);
      headers = Map.copyOf(headers);
    }

    /** The policy domain, when the host is {@code mta-sts.<domain>}. */
    public Optional<String> domain() {
      return host.startsWith(HOST_PREFIX) && host.length() > HOST_PREFIX.length()
          ? Optional.of(host.substring(HOST_PREFIX.length()))
          : Optional.empty();
    }

    /** The first value of a request header. */
    public Optional<String> header(String name) {
      List<String> values = headers.get(name.toLowerCase(Locale.ROOT));
      return values == null || values.isEmpty() ? Optional.empty() : Optional.of(values.get(0));
    }
  }

  /** What one domain serves. */
  private record Site(
      String policy, @Nullable Fault fault, String contentType, @Nullable String cacheControl) {}

  private final TestPki pki;
  private final InetAddress address;
  private final Duration stall;
  private final MockWebServer server = new MockWebServer();
  private final RenewableSslSocketFactory tls;
  private final ConcurrentMap<String, Site> sites = new ConcurrentHashMap<>();
  private final ConcurrentMap<String, TestPki.Certified> certificates = new ConcurrentHashMap<>();
  private final List<Request> requests = new CopyOnWriteArrayList<>();
  private final List<String> handshakeNames = new CopyOnWriteArrayList<>();
  private final CountDownLatch closing = new CountDownLatch(1);

  private MtaStsServer(Builder b) {
    this.pki = b.pki != null ? b.pki : TestPki.create();
    this.address = b.address;
    this.stall = b.stall;
    this.tls =
        new RenewableSslSocketFactory(
            new SniKeyManager(
                this::chooseCertificate,
                alias -> certificates.computeIfAbsent(alias, this::mint),
                name -> handshakeNames.add(name.orElse(""))),
            b.tlsProtocols);
    server.setDispatcher(
        new Dispatcher() {
          @Override
          public MockResponse dispatch(RecordedRequest request) throws InterruptedException {
            return respond(request);
          }
        });
    // HTTP/1.1 only, so that "Connection: close" ends every exchange's connection.
    server.setProtocols(List.of(Protocol.HTTP_1_1));
    server.useHttps(tls);
    b.policies.forEach(this::policy);
  }

  /** Starts configuring a server. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A policy body (RFC 8461 §3.2) with CRLF line ends, e.g. {@code policyText("enforce", 86400,
   * "mx1.example.test", "*.example.net")}.
   */
  public static String policyText(String mode, long maxAgeSeconds, String... mx) {
    StringBuilder sb =
        new StringBuilder("version: STSv1\r\n")
            .append("mode: ")
            .append(Objects.requireNonNull(mode, "mode"))
            .append("\r\n");
    for (String pattern : mx) {
      sb.append("mx: ").append(Objects.requireNonNull(pattern, "mx")).append("\r\n");
    }
    return sb.append("max_age: ").append(maxAgeSeconds).append("\r\n").toString();
  }

  /** The {@code _mta-sts} TXT record text for a policy id (RFC 8461 §3.1). */
  public static String stsRecord(String id) {
    return "v=STSv1; id=" + Objects.requireNonNull(id, "id") + ";";
  }

  // ---------------------------------------------------------------- configuration

  /** Serves {@code policyText} for {@code domain}, adding the domain or replacing its policy. */
  public void policy(String domain, String policyText) {
    Objects.requireNonNull(policyText, "policyText");
    update(domain, s -> new Site(policyText, s.fault(), s.contentType(), s.cacheControl()));
  }

  /** Makes {@code domain} fail in one way (replacing any earlier fault). */
  public void fault(String domain, Fault fault) {
    Objects.requireNonNull(fault, "fault");
    update(domain, s -> new Site(s.policy(), fault, s.contentType(), s.cacheControl()));
  }

  /** Makes {@code domain} well-behaved again (content type and headers stay as set). */
  public void clearFault(String domain) {
    update(domain, s -> new Site(s.policy(), null, s.contentType(), s.cacheControl()));
  }

  /** {@code Content-Type} of {@code domain}'s policy; default {@value #DEFAULT_CONTENT_TYPE}. */
  public void contentType(String domain, String contentType) {
    Objects.requireNonNull(contentType, "contentType");
    update(domain, s -> new Site(s.policy(), s.fault(), contentType, s.cacheControl()));
  }

  /**
   * Adds {@code Cache-Control: <value>} (e.g. {@code max-age=86400}) and a matching {@code ETag} to
   * {@code domain}'s responses: an HTTP cache would keep them, an MTA-STS fetcher must not (RFC
   * 8461 §3.3). {@code null} removes them.
   */
  public void cacheControl(String domain, @Nullable String value) {
    update(domain, s -> new Site(s.policy(), s.fault(), s.contentType(), value));
  }

  /** Stops answering for {@code domain}: its host gets 404 and the fallback certificate. */
  public void removeDomain(String domain) {
    sites.remove(normalise(domain));
    tls.renew();
  }

  private void update(String domain, UnaryOperator<Site> change) {
    String d = normalise(domain);
    sites.compute(
        d,
        (k, old) ->
            change.apply(
                old != null ? old : new Site(defaultPolicy(k), null, DEFAULT_CONTENT_TYPE, null)));
    // A new TLS context: a session resumed from before this change would skip the certificate.
    tls.renew();
  }

  private static String defaultPolicy(String domain) {
    return policyText("enforce", 86400, "mail." + domain);
  }

  // ---------------------------------------------------------------- DNS

  /**
   * Publishes {@code domain}'s MTA-STS records in a zone of a {@link TestDnsServer}: the TXT record
   * {@code _mta-sts.<domain>} ({@link #stsRecord(String)}) and the policy host's address ({@link
   * #publishHost}). Both names must lie in the zone.
   */
  public DnsZoneBuilder publish(DnsZoneBuilder zone, String domain, String id) {
    String d = normalise(domain);
    zone.txt("_mta-sts." + d, stsRecord(id));
    return publishHost(zone, d);
  }

  /** Publishes only {@code mta-sts.<domain>}'s A (or AAAA) record, pointing at this server. */
  public DnsZoneBuilder publishHost(DnsZoneBuilder zone, String domain) {
    String host = hostName(domain);
    return address instanceof Inet6Address
        ? zone.aaaa(host, address.getHostAddress())
        : zone.a(host, address.getHostAddress());
  }

  // ---------------------------------------------------------------- addresses

  /** The loopback address the server listens on. */
  public InetAddress address() {
    return address;
  }

  /** The port; clients point their fetcher's port at it. */
  public int port() {
    return server.getPort();
  }

  /** The PKI whose root issues the good certificates: trust {@code pki().trustManager()}. */
  public TestPki pki() {
    return pki;
  }

  /** The policy host name, {@code mta-sts.<domain>}. */
  public static String hostName(String domain) {
    return HOST_PREFIX + normalise(domain);
  }

  /** The policy URL of {@code domain} on this server's port. */
  public String policyUrl(String domain) {
    return "https://" + hostName(domain) + ":" + port() + POLICY_PATH;
  }

  // ---------------------------------------------------------------- recording

  /** Every request so far, in order of arrival. */
  public List<Request> requests() {
    return List.copyOf(requests);
  }

  /** The requests for {@code mta-sts.<domain>}, any path. */
  public List<Request> requests(String domain) {
    String host = hostName(domain);
    return requests.stream().filter(r -> r.host().equals(host)).toList();
  }

  /** How many times {@code domain}'s policy ({@link #POLICY_PATH}) was requested. */
  public int requestCount(String domain) {
    return (int) requests(domain).stream().filter(r -> r.path().equals(POLICY_PATH)).count();
  }

  /** Whether anyone followed {@code domain}'s redirect to {@link #REDIRECT_TARGET_PATH}. */
  public boolean redirectTargetRequested(String domain) {
    return requests(domain).stream().anyMatch(r -> r.path().equals(REDIRECT_TARGET_PATH));
  }

  /**
   * The SNI host name of every full TLS handshake so far (an empty string for a handshake without
   * SNI), including handshakes the client then aborted.
   */
  public List<String> handshakeServerNames() {
    return List.copyOf(handshakeNames);
  }

  /** How many full TLS handshakes asked for {@code mta-sts.<domain>} by SNI. */
  public int handshakeCount(String domain) {
    String host = hostName(domain);
    return (int) handshakeNames.stream().filter(host::equals).count();
  }

  /** Forgets the recorded requests and handshakes. */
  public void clearRequests() {
    requests.clear();
    handshakeNames.clear();
  }

  // ---------------------------------------------------------------- serving

  private MockResponse respond(RecordedRequest recorded) throws InterruptedException {
    String host = hostOf(recorded.getHeaders().get("Host"));
    String target = recorded.getTarget();
    int query = target.indexOf('?');
    String path = query < 0 ? target : target.substring(0, query);
    requests.add(
        new Request(
            host,
            path,
            recorded.getMethod(),
            recorded.getHandshakeServerNames(),
            recorded.getHeaders().toMultimap(),
            recorded.getHandshake() == null
                ? ""
                : recorded.getHandshake().tlsVersion().javaName()));
    Site site =
        host.startsWith(HOST_PREFIX) ? sites.get(host.substring(HOST_PREFIX.length())) : null;
    if (site == null) {
      return plain(404, "no MTA-STS policy host " + host + " here\n");
    }
    if (path.equals(REDIRECT_TARGET_PATH)) {
      // The redirect target serves the policy: only not following the redirect makes it fail.
      return policyResponse(site, site.contentType()).body(site.policy()).build();
    }
    if (!path.equals(POLICY_PATH)) {
      return plain(404, "not found: " + path + "\n");
    }
    Fault fault = site.fault();
    if (fault == Fault.UNAUTHORIZED && recorded.getHeaders().get("Authorization") != null) {
      return policyResponse(site, site.contentType()).body(site.policy()).build();
    }
    if (fault == null) {
      return policyResponse(site, site.contentType()).body(site.policy()).build();
    }
    return switch (fault) {
      case REDIRECT ->
          new MockResponse.Builder()
              .code(301)
              .setHeader("Location", "https://" + host + ":" + port() + REDIRECT_TARGET_PATH)
              .setHeader("Connection", "close")
              .body("moved\n")
              .build();
      case NOT_FOUND -> plain(404, "not found\n");
      case UNAUTHORIZED ->
          new MockResponse.Builder()
              .code(401)
              .setHeader("Content-Type", "text/plain; charset=utf-8")
              .setHeader("WWW-Authenticate", "Basic realm=\"mta-sts\"")
              .setHeader("Connection", "close")
              .body("credentials required\n")
              .build();
      case SERVER_ERROR -> plain(500, "internal error\n");
      case WRONG_CONTENT_TYPE ->
          policyResponse(site, "text/html; charset=utf-8").body(site.policy()).build();
      case OVERSIZE_BODY ->
          policyResponse(site, site.contentType()).body(oversized(site.policy())).build();
      case OVERSIZE_CHUNKED_BODY ->
          policyResponse(site, site.contentType())
              .chunkedBody(oversized(site.policy()), 4096)
              .build();
      case STALL -> {
        // Hold the answer; close() releases it at once.
        closing.await(stall.toMillis(), TimeUnit.MILLISECONDS);
        yield policyResponse(site, site.contentType()).body(site.policy()).build();
      }
      case MALFORMED_POLICY ->
          policyResponse(site, site.contentType())
              .body(
                  "version: STSv1\r\nmode: sometimes\r\nmx: mail."
                      + host.substring(HOST_PREFIX.length())
                      + "\r\nmax_age: 86400\r\n")
              .build();
      case TRUNCATED_BODY ->
          policyResponse(site, site.contentType())
              .body(site.policy())
              .onResponseBody(new SocketEffect.CloseSocket())
              .build();
      case WRONG_NAME_CERTIFICATE,
          UNTRUSTED_CERTIFICATE,
          SELF_SIGNED_CERTIFICATE,
          EXPIRED_CERTIFICATE ->
          policyResponse(site, site.contentType()).body(site.policy()).build();
    };
  }

  private static MockResponse.Builder policyResponse(Site site, String contentType) {
    MockResponse.Builder b =
        new MockResponse.Builder()
            .code(200)
            .setHeader("Content-Type", contentType)
            .setHeader("Connection", "close");
    if (site.cacheControl() != null) {
      b.setHeader("Cache-Control", site.cacheControl())
          .setHeader("ETag", "\"" + Integer.toHexString(site.policy().hashCode()) + "\"");
    }
    return b;
  }

  private static MockResponse plain(int code, String body) {
    return new MockResponse.Builder()
        .code(code)
        .setHeader("Content-Type", "text/plain; charset=utf-8")
        .setHeader("Connection", "close")
        .body(body)
        .build();
  }

  /** The policy followed by extension lines (ignored by parsers) up to the oversize length. */
  private static String oversized(String policy) {
    StringBuilder sb = new StringBuilder(OVERSIZE_BODY_BYTES + 128).append(policy);
    if (!policy.endsWith("\n")) {
      sb.append("\r\n");
    }
    String padding = "x-padding: " + "a".repeat(100) + "\r\n";
    while (sb.length() < OVERSIZE_BODY_BYTES) {
      sb.append(padding);
    }
    sb.setLength(OVERSIZE_BODY_BYTES - 2);
    return sb.append("\r\n").toString();
  }

  private static String hostOf(String hostHeader) {
    if (hostHeader == null) {
      return "";
    }
    String host = hostHeader;
    if (host.startsWith("[")) {
      int close = host.indexOf(']');
      host = close < 0 ? host : host.substring(0, close + 1);
    } else if (host.indexOf(':') >= 0 && host.indexOf(':') == host.lastIndexOf(':')) {
      host = host.substring(0, host.indexOf(':'));
    }
    host = host.toLowerCase(Locale.ROOT);
    return host.endsWith(".") ? host.substring(0, host.length() - 1) : host;
  }

  // ---------------------------------------------------------------- certificates

  /** The alias ({@code kind:name}) of the certificate to present for a requested name. */
  private String chooseCertificate(Optional<String> serverName) {
    String fallback = "good:" + FALLBACK_HOST;
    if (serverName.isEmpty() || !serverName.get().startsWith(HOST_PREFIX)) {
      return fallback;
    }
    String name = serverName.get();
    Site site = sites.get(name.substring(HOST_PREFIX.length()));
    if (site == null) {
      return fallback;
    }
    Fault fault = site.fault();
    if (fault == null) {
      return "good:" + name;
    }
    return switch (fault) {
      case WRONG_NAME_CERTIFICATE -> "wrong-name:" + name;
      case UNTRUSTED_CERTIFICATE -> "untrusted:" + name;
      case SELF_SIGNED_CERTIFICATE -> "self-signed:" + name;
      case EXPIRED_CERTIFICATE -> "expired:" + name;
      default -> "good:" + name;
    };
  }

  private TestPki.Certified mint(String alias) {
    int colon = alias.indexOf(':');
    String kind = alias.substring(0, colon);
    String name = alias.substring(colon + 1);
    return switch (kind) {
      case "good" -> pki.root().leaf().dnsNames(name).issue();
      case "wrong-name" ->
          pki.root().leaf().dnsNames("www." + name.substring(HOST_PREFIX.length())).issue();
      case "untrusted" -> pki.otherCa().leaf().dnsNames(name).issue();
      case "self-signed" -> TestPki.selfSigned(name);
      case "expired" -> pki.root().leaf().dnsNames(name).expired().issue();
      default -> throw new IllegalStateException("unknown certificate alias " + alias);
    };
  }

  private static String normalise(String domain) {
    Objects.requireNonNull(domain, "domain");
    String d = domain.endsWith(".") ? domain.substring(0, domain.length() - 1) : domain;
    if (d.isEmpty() || d.chars().anyMatch(c -> c <= ' ' || c >= 0x7f)) {
      throw new IllegalArgumentException(
          "not an ASCII domain name (give IDNs as A-labels): '" + domain + "'");
    }
    return d.toLowerCase(Locale.ROOT);
  }

  // ---------------------------------------------------------------- lifecycle

  private MtaStsServer start(int port) {
    try {
      server.start(address, port);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot listen on " + address.getHostAddress() + ":" + port, e);
    }
    return this;
  }

  /** Releases stalled responses and stops the server. */
  @Override
  public void close() {
    closing.countDown();
    server.close();
  }

  @Override
  public String toString() {
    return "MtaStsServer{"
        + address.getHostAddress()
        + ":"
        + server.getPort()
        + ", domains="
        + sites.keySet()
        + "}";
  }

  /**
   * Configures an {@link MtaStsServer}. Each setter except {@link #domain} may be called once.
   *
   * <p>Not thread-safe.
   */
  public static final class Builder {
    private final List<String> called = new ArrayList<>();
    private final Map<String, String> policies = new LinkedHashMap<>();
    private @Nullable TestPki pki;
    private InetAddress address = InetAddress.getLoopbackAddress();
    private int port;
    private Duration stall = DEFAULT_STALL;
    private @Nullable List<String> tlsProtocols;

    private Builder() {}

    private void once(String setter) {
      if (called.contains(setter)) {
        throw new IllegalStateException(setter + " already set");
      }
      called.add(setter);
    }

    /** The PKI whose root issues the certificates; default a new {@link TestPki}. */
    public Builder pki(TestPki pki) {
      once("pki");
      this.pki = Objects.requireNonNull(pki, "pki");
      return this;
    }

    /**
     * The loopback address to listen on (127.0.0.x or ::1); default 127.0.0.1.
     *
     * @throws IllegalArgumentException if the address is not a loopback address
     */
    public Builder address(InetAddress address) {
      once("address");
      Objects.requireNonNull(address, "address");
      if (!address.isLoopbackAddress()) {
        throw new IllegalArgumentException("only loopback addresses are allowed: " + address);
      }
      this.address = address;
      return this;
    }

    /** The port; default 0, an ephemeral port. */
    public Builder port(int port) {
      once("port");
      if (port < 0 || port > 65535) {
        throw new IllegalArgumentException("port out of range 0..65535: " + port);
      }
      this.port = port;
      return this;
    }

    /** How long {@link Fault#STALL} holds a response; default {@link #DEFAULT_STALL}. */
    public Builder stall(Duration stall) {
      once("stall");
      Objects.requireNonNull(stall, "stall");
      if (stall.isNegative()) {
        throw new IllegalArgumentException("stall must not be negative: " + stall);
      }
      this.stall = stall;
      return this;
    }

    /**
     * The TLS protocol versions the server enables, e.g. {@code "TLSv1.2"} alone; default the
     * JVM's. A version this JVM's {@code jdk.tls.disabledAlgorithms} forbids (TLSv1 and TLSv1.1 by
     * default) stays unusable, so a server restricted to it fails every handshake unless the test
     * JVM re-enables it.
     */
    public Builder tlsProtocols(String... protocols) {
      once("tlsProtocols");
      if (protocols.length == 0) {
        throw new IllegalArgumentException("tlsProtocols needs at least one protocol");
      }
      this.tlsProtocols = List.of(protocols);
      return this;
    }

    /** Serves {@code policyText} as {@code domain}'s policy (may be called for many domains). */
    public Builder domain(String domain, String policyText) {
      policies.put(normalise(domain), Objects.requireNonNull(policyText, "policyText"));
      return this;
    }

    /**
     * Starts the server.
     *
     * @throws UncheckedIOException if the address and port cannot be bound
     */
    public MtaStsServer start() {
      return new MtaStsServer(this).start(port);
    }
  }
}
