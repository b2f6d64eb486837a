/**
 * MTA-STS (RFC 8461) for mailtls: policy discovery and HTTPS fetching with OkHttp, a policy cache
 * that survives restarts, and proactive refresh. The API is {@link io.mailtls.mtasts}; it has no
 * internal package yet.
 */
module io.mailtls.mtasts {
  requires transitive io.mailtls.core;
  requires com.fasterxml.jackson.databind;
  requires com.github.benmanes.caffeine;
  // OkHttpPolicyFetcher takes the application's OkHttpClient.
  requires transitive okhttp3;
  requires org.slf4j;

  exports io.mailtls.mtasts;
}
