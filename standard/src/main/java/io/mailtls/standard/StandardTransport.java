package io.mailtls.standard;

import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.dane.DaneResolver;
import io.mailtls.mtasts.FilePolicyStore;
import io.mailtls.mtasts.MtaStsResolver;
import io.mailtls.mtasts.OkHttpPolicyFetcher;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

/**
 * The standard set-up of a {@link SecureSmtpTransport}, in one call: every recipient policy on,
 * nothing to forget.
 *
 * <pre>{@code
 * try (SecureSmtpTransport transport =
 *     StandardTransport.builder(Path.of("/var/lib/mailer/mailtls"))
 *         .heloName("mail.example.com")           // this host's FQDN (RFC 5321 §4.1.1.1)
 *         .build()) {
 *   DeliveryReport report = transport.send(envelope, content);
 * }
 * }</pre>
 *
 * <p>What it wires:
 *
 * <ul>
 *   <li>DNS: a {@link DnssecResolver} that validates DNSSEC in process from the bundled IANA root
 *       anchors, asking the system's recursive resolvers (any resolver that passes DNSSEC records
 *       will do; nothing on the path can forge a secure answer), unless {@link Setup#dns} names
 *       another resolver.
 *   <li>MTA-STS (RFC 8461): an {@link MtaStsResolver} fetching policies with the hardened {@link
 *       OkHttpPolicyFetcher}, caching them in a {@link FilePolicyStore} at {@value #POLICY_FILE} in
 *       the state directory so that policies survive restarts (RFC 8461 §10.2), and refreshing them
 *       before they expire on a daemon thread of its own (RFC 8461 §3.3).
 *   <li>DANE (RFC 7672): a {@link DaneResolver} on the same DNS.
 * </ul>
 *
 * <p>The returned {@link SecureSmtpTransport.Builder} takes every other option (sender policy,
 * listener, timeouts, ...); {@link SecureSmtpTransport.Builder#heloName} is still required. The
 * transport owns the MTA-STS resolver and its refresh thread and stops both when it is closed. A
 * transport derived from it with {@link SecureSmtpTransport#newBuilder()} shares the DNS resolver,
 * the MTA-STS resolver and the DANE provider but closes none of them: close it before the original.
 * Thread-safety: the methods are; a {@link Setup} is not.
 */
public final class StandardTransport {

  /** The policy cache's file name in the state directory. */
  public static final String POLICY_FILE = "mta-sts-policies.json";

  private StandardTransport() {}

  /**
   * A transport builder with the standard set-up, keeping its state in {@code stateDirectory}
   * (created if missing).
   *
   * @throws UncheckedIOException if the directory cannot be created
   */
  public static SecureSmtpTransport.Builder builder(Path stateDirectory) {
    return setup(stateDirectory).transportBuilder();
  }

  /** The standard set-up with some parts chosen by the caller (DNS, the HTTPS client). */
  public static Setup setup(Path stateDirectory) {
    return new Setup(stateDirectory);
  }

  /**
   * The parts of the standard set-up a caller may choose. Each setter may be called once. Not
   * thread-safe.
   */
  public static final class Setup {
    private final Path stateDirectory;
    private final Set<String> called = new HashSet<>();
    private @Nullable DnsResolver dns;
    private @Nullable OkHttpClient httpClient;
    private int policyPort = OkHttpPolicyFetcher.DEFAULT_PORT;

    private Setup(Path stateDirectory) {
      this.stateDirectory = Objects.requireNonNull(stateDirectory, "stateDirectory");
    }

    private void once(String setter) {
      if (!called.add(setter)) {
        throw new IllegalStateException(setter + " already set");
      }
    }

    /**
     * The resolver for every lookup (MX, addresses, {@code _mta-sts}, TLSA). It must report DNSSEC
     * states truthfully, as {@link DnssecResolver} does: DANE is only as good as that.
     */
    public Setup dns(DnsResolver dns) {
      once("dns");
      this.dns = Objects.requireNonNull(dns, "dns");
      return this;
    }

    /**
     * The HTTPS client for policy fetches (its trust store, proxy, connection pool); the fetcher
     * still turns off redirects and caching on it (RFC 8461 §3.3). Default: a new client trusting
     * the JDK's roots.
     */
    public Setup policyHttpClient(OkHttpClient client) {
      once("policyHttpClient");
      this.httpClient = Objects.requireNonNull(client, "client");
      return this;
    }

    /** The HTTPS port of policy hosts; default 443 (RFC 8461 §3.3). Tests point it elsewhere. */
    public Setup policyPort(int port) {
      once("policyPort");
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("port out of range: " + port);
      }
      this.policyPort = port;
      return this;
    }

    /**
     * Creates the state directory and the policy providers, and returns a transport builder that
     * owns them. Call once.
     *
     * @throws UncheckedIOException if the state directory cannot be created
     */
    public SecureSmtpTransport.Builder transportBuilder() {
      once("transportBuilder");
      try {
        Files.createDirectories(stateDirectory);
      } catch (IOException e) {
        throw new UncheckedIOException("cannot create the state directory " + stateDirectory, e);
      }
      DnsResolver resolver = dns != null ? dns : DnssecResolver.builder().build();
      OkHttpPolicyFetcher.Builder fetcher =
          OkHttpPolicyFetcher.builder().dns(resolver).port(policyPort);
      if (httpClient != null) {
        fetcher.client(httpClient);
      }
      // A cancelled refresh (of a policy the store evicted) leaves the queue at once, not when due.
      ScheduledThreadPoolExecutor refresh =
          new ScheduledThreadPoolExecutor(
              1,
              r -> {
                Thread t = new Thread(r, "mailtls-mta-sts-refresh");
                t.setDaemon(true);
                return t;
              });
      refresh.setRemoveOnCancelPolicy(true);
      MtaStsResolver mtaSts =
          MtaStsResolver.builder()
              .dns(resolver)
              .fetcher(fetcher.build())
              .store(new FilePolicyStore(stateDirectory.resolve(POLICY_FILE)))
              .scheduler(refresh)
              .build();
      return SecureSmtpTransport.builder()
          .dns(resolver)
          .mtaSts(mtaSts)
          .dane(DaneResolver.builder().dns(resolver).build())
          .alsoClose(mtaSts)
          .alsoClose(refresh::shutdownNow);
    }
  }
}
