/**
 * The recommended mailtls set-up in one call: DNSSEC validation, MTA-STS with a persistent policy
 * cache and proactive refresh, and DANE. The API is {@link io.mailtls.standard}.
 */
module io.mailtls.standard {
  requires transitive io.mailtls.core;
  requires io.mailtls.mtasts;
  requires io.mailtls.dane;
  // StandardTransport.Setup takes the HTTPS client for policy fetches.
  requires transitive okhttp3;

  exports io.mailtls.standard;
}
