/**
 * MTA-STS (RFC 8461) for mailtls: policy discovery and HTTPS fetching with OkHttp, a policy cache
 * that survives restarts, and proactive refresh. The API is {@link io.mailtls.mtasts}; {@code
 * io.mailtls.mtasts.internal} (the hardening of an application's OkHttp client for hosts that
 * someone else's DNS names) is exported only to {@code io.mailtls.tlsrpt}, whose report upload
 * shares it.
 */
// "module": the qualified export names a sibling module that is not on the module path when this
// one is compiled; module-tests' ModuleDescriptorsTest checks the target by name.
@SuppressWarnings("module")
module io.mailtls.mtasts {
  requires transitive io.mailtls.core;
  requires com.fasterxml.jackson.databind;
  requires com.github.benmanes.caffeine;
  // OkHttpPolicyFetcher takes the application's OkHttpClient.
  requires transitive okhttp3;
  requires org.slf4j;

  exports io.mailtls.mtasts;
  exports io.mailtls.mtasts.internal to
      io.mailtls.tlsrpt;
}
