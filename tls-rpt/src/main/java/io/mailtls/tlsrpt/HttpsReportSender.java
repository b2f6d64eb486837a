package io.mailtls.tlsrpt;

import io.mailtls.core.DnsResolver;
import io.mailtls.mtasts.ResolverDns;
import io.mailtls.mtasts.internal.HttpsHardening;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.jspecify.annotations.Nullable;

/**
 * Delivers a report to an {@code https:} {@code rua} destination (RFC 8460 §5.4): a POST of the
 * gzipped report as {@code application/tlsrpt+gzip}, with the hardening of the MTA-STS fetch: no
 * redirects followed, no cookies, no credentials, none of the given client's interceptors, TLS 1.2
 * or newer whatever the given client allows (RFC 8996), every call bounded in time. A 2xx answer
 * delivers; anything else (another status, a redirect, an I/O failure or timeout) is tried again
 * after a back-off that doubles, up to the configured number of attempts, on the caller's thread.
 * Starts no thread of its own. Thread-safe.
 *
 * <p>As a {@link ReportChannel} (for the {@link TlsRptReporter}) it supports {@code https:}
 * destinations; a 2xx is {@link ReportOutcome.Delivered}, anything else {@link
 * ReportOutcome.NotDelivered} to be tried again later, except a destination OkHttp cannot use as a
 * URL, which is permanent.
 */
public final class HttpsReportSender implements ReportChannel {

  private static final MediaType TLSRPT_GZIP = MediaType.get("application/tlsrpt+gzip");

  private final OkHttpClient client;
  private final int maxAttempts;
  private final Duration backoff;

  /** How a delivery ended. */
  public sealed interface Outcome permits Delivered, NotDelivered {
    /** How many POSTs were made. */
    int attempts();
  }

  /**
   * The endpoint answered 2xx.
   *
   * @param status the HTTP status
   * @param attempts how many POSTs were made
   */
  public record Delivered(int status, int attempts) implements Outcome {}

  /**
   * Every attempt failed; the report is still the caller's to keep and send again later.
   *
   * @param reason what the last attempt got
   * @param attempts how many POSTs were made
   */
  public record NotDelivered(String reason, int attempts) implements Outcome {
    public NotDelivered {
      Objects.requireNonNull(reason, "reason");
    }
  }

  private HttpsReportSender(Builder b) {
    this.client =
        // As the MTA-STS fetch: the given client may be the application's, with interceptors, a
        // cookie jar, an authenticator or a lenient verifier; a destination a peer's DNS names gets
        // none of them, no redirect is followed, and TLS 1.2 is the floor.
        HttpsHardening.rebuild(Objects.requireNonNull(b.client, "client"))
            .dns(new ResolverDns(Objects.requireNonNull(b.dns, "dns"), b.callTimeout))
            .retryOnConnectionFailure(false)
            .connectTimeout(b.connectTimeout)
            .callTimeout(b.callTimeout)
            .build();
    this.maxAttempts = b.maxAttempts;
    this.backoff = b.backoff;
  }

  /** A builder; {@link Builder#client} and {@link Builder#dns} are required. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * POSTs {@code report} to {@code destination}, trying again as configured. Never throws for
   * anything the endpoint does; an interrupt ends the retries (the thread stays interrupted).
   *
   * @throws IllegalArgumentException if {@code destination} is not an {@code https:} URI
   */
  public Outcome send(URI destination, TlsRptReport report) {
    Objects.requireNonNull(destination, "destination");
    Objects.requireNonNull(report, "report");
    if (destination.getScheme() == null
        || !destination.getScheme().toLowerCase(Locale.ROOT).equals("https")) {
      throw new IllegalArgumentException("not an https: destination: " + destination);
    }
    RequestBody body = RequestBody.create(report.gzip(), TLSRPT_GZIP);
    Request request;
    try {
      request = new Request.Builder().url(destination.toString()).post(body).build();
    } catch (IllegalArgumentException e) {
      return new NotDelivered("not a usable URL: " + e.getMessage(), 0);
    }
    String last = "not tried";
    Duration wait = backoff;
    for (int attempt = 1; attempt <= maxAttempts; attempt++) {
      try (Response response = client.newCall(request).execute()) {
        if (response.isSuccessful()) {
          return new Delivered(response.code(), attempt);
        }
        last =
            "HTTP "
                + response.code()
                + (response.isRedirect() ? " (redirects are not followed)" : "");
      } catch (InterruptedIOException e) {
        last = "timed out: " + e.getMessage();
      } catch (IOException e) {
        last = "failed: " + e;
      }
      if (attempt < maxAttempts) {
        try {
          Thread.sleep(wait.toMillis());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return new NotDelivered(last + "; interrupted before attempt " + (attempt + 1), attempt);
        }
        wait = wait.multipliedBy(2);
      } else {
        return new NotDelivered(last, attempt);
      }
    }
    return new NotDelivered(last, maxAttempts);
  }

  /** Whether {@code destination} is an {@code https:} URI. */
  @Override
  public boolean supports(URI destination) {
    String scheme = destination.getScheme();
    return scheme != null && scheme.toLowerCase(Locale.ROOT).equals("https");
  }

  /**
   * {@link #send} as a {@link ReportChannel}: 2xx is {@link ReportOutcome.Delivered} ({@code HTTP
   * <status>}); anything else {@link ReportOutcome.NotDelivered}, permanent only when the
   * destination is not an {@code https:} URL OkHttp can use. Never throws for anything the endpoint
   * or the destination does.
   */
  @Override
  public ReportOutcome deliver(URI destination, TlsRptReport report) {
    if (!supports(destination)) {
      return new ReportOutcome.NotDelivered("not an https: destination: " + destination, true);
    }
    Outcome o = send(destination, report);
    if (o instanceof Delivered d) {
      return new ReportOutcome.Delivered("HTTP " + d.status());
    }
    NotDelivered n = (NotDelivered) o;
    return new ReportOutcome.NotDelivered(n.reason(), n.attempts() == 0);
  }

  /** Builds an {@link HttpsReportSender}. Each setter may be called once. */
  public static final class Builder {
    private @Nullable OkHttpClient client;
    private @Nullable DnsResolver dns;
    private Duration connectTimeout = Duration.ofSeconds(10);
    private boolean connectTimeoutSet;
    private Duration callTimeout = Duration.ofSeconds(60);
    private boolean callTimeoutSet;
    private int maxAttempts = 3;
    private boolean maxAttemptsSet;
    private Duration backoff = Duration.ofSeconds(30);
    private boolean backoffSet;

    private Builder() {}

    /**
     * The client to derive from (its TLS, pool and event listener); redirects, timeouts, DNS, host
     * name verification (RFC 6125, OkHttp's default), cookies (none) and the authenticator (none)
     * are this class's, its TLS connection specs are cut to TLS 1.3 and 1.2 (their cipher suites
     * kept; no cleartext), and its application and network interceptors are removed: a destination
     * a peer's DNS names gets nothing they would add.
     */
    public Builder client(OkHttpClient client) {
      if (this.client != null) {
        throw new IllegalStateException("client already set");
      }
      this.client = Objects.requireNonNull(client, "client");
      return this;
    }

    /**
     * The resolver the destination's host name is looked up with (required): the same as the
     * transport's and the MTA-STS fetch's, never the JVM's resolver; a lookup failure is a failed
     * attempt, tried again.
     */
    public Builder dns(DnsResolver dns) {
      if (this.dns != null) {
        throw new IllegalStateException("dns already set");
      }
      this.dns = Objects.requireNonNull(dns, "dns");
      return this;
    }

    /** The connect time bound (default 10 s). */
    public Builder connectTimeout(Duration timeout) {
      if (connectTimeoutSet) {
        throw new IllegalStateException("connectTimeout already set");
      }
      this.connectTimeout = positive(timeout, "connectTimeout");
      connectTimeoutSet = true;
      return this;
    }

    /** The bound on one whole POST, connection to last byte of the answer (default 60 s). */
    public Builder callTimeout(Duration timeout) {
      if (callTimeoutSet) {
        throw new IllegalStateException("callTimeout already set");
      }
      this.callTimeout = positive(timeout, "callTimeout");
      callTimeoutSet = true;
      return this;
    }

    /** How many POSTs at most (default 3). */
    public Builder maxAttempts(int attempts) {
      if (maxAttemptsSet) {
        throw new IllegalStateException("maxAttempts already set");
      }
      if (attempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be at least 1: " + attempts);
      }
      this.maxAttempts = attempts;
      maxAttemptsSet = true;
      return this;
    }

    /** The wait before the second attempt, doubled before each later one (default 30 s). */
    public Builder backoff(Duration backoff) {
      if (backoffSet) {
        throw new IllegalStateException("backoff already set");
      }
      Objects.requireNonNull(backoff, "backoff");
      if (backoff.isNegative()) {
        throw new IllegalArgumentException("backoff must not be negative: " + backoff);
      }
      this.backoff = backoff;
      backoffSet = true;
      return this;
    }

    private static Duration positive(Duration d, String what) {
      Objects.requireNonNull(d, what);
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(what + " must be positive: " + d);
      }
      return d;
    }

    /** The sender. */
    public HttpsReportSender build() {
      if (client == null) {
        throw new IllegalStateException("client is required");
      }
      return new HttpsReportSender(this);
    }
  }
}
