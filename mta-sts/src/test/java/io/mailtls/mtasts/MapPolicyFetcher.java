package io.mailtls.mtasts;

import io.mailtls.core.DomainName;
import io.mailtls.core.FailureType;
import io.mailtls.core.MtaStsMode;
import io.mailtls.core.MtaStsPolicy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A {@link PolicyFetcher} serving policies from a map, the seam for tests of the cache: it counts
 * fetches per domain, serves each with the id asked for (as the real fetcher does), can fail with
 * an RFC 8460 type, and can hold answers until the test releases them. Thread-safe.
 */
final class MapPolicyFetcher implements PolicyFetcher {

  private sealed interface Response permits Serve, Fail {}

  private record Serve(MtaStsMode mode, Duration maxAge, List<String> mx) implements Response {}

  private record Fail(FailureType type, String reason) implements Response {}

  /** One fetch: the domain and the id asked for. */
  record Call(DomainName domain, String id) {}

  private final Map<DomainName, Response> responses = new ConcurrentHashMap<>();
  private final List<Call> calls = new CopyOnWriteArrayList<>();
  private final AtomicReference<CompletableFuture<Void>> gate =
      new AtomicReference<>(CompletableFuture.completedFuture(null));

  /** Serves a policy for {@code domain}, with whatever id is asked for. */
  MapPolicyFetcher serve(String domain, MtaStsMode mode, Duration maxAge, String... mx) {
    responses.put(DomainName.of(domain), new Serve(mode, maxAge, List.of(mx)));
    return this;
  }

  /** Makes fetches for {@code domain} fail. */
  MapPolicyFetcher fail(String domain, FailureType type, String reason) {
    responses.put(DomainName.of(domain), new Fail(type, reason));
    return this;
  }

  /** Holds every answer until the returned future is completed. */
  CompletableFuture<Void> hold() {
    CompletableFuture<Void> g = new CompletableFuture<>();
    gate.set(g);
    return g;
  }

  /** Every fetch so far, in order. */
  List<Call> calls() {
    return new ArrayList<>(calls);
  }

  /** How many fetches of {@code domain} were made. */
  int count(String domain) {
    DomainName d = DomainName.of(domain);
    return (int) calls.stream().filter(c -> c.domain().equals(d)).count();
  }

  @Override
  public CompletableFuture<FetchResult> fetchAsync(DomainName policyDomain, String id) {
    calls.add(new Call(policyDomain, id));
    Response response = responses.get(policyDomain);
    FetchResult result;
    if (response instanceof Serve s) {
      result = new FetchResult.Success(new MtaStsPolicy(id, s.mode(), s.mx(), s.maxAge()));
    } else if (response instanceof Fail f) {
      result = new FetchResult.Failure(f.type(), f.reason());
    } else {
      result =
          new FetchResult.Failure(
              FailureType.STS_POLICY_FETCH_ERROR,
              "HTTP 404 from https://mta-sts." + policyDomain + "/.well-known/mta-sts.txt");
    }
    return gate.get().thenApply(ignored -> result);
  }
}
