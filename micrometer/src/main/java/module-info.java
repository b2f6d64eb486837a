/**
 * Micrometer metrics and observations for mailtls transports: {@link
 * io.mailtls.micrometer.MailtlsMetrics} is an event listener factory, {@link
 * io.mailtls.micrometer.TransportPoolMetrics} binds the connection pool's gauges. Names and tags:
 * docs/metrics.md.
 */
// Micrometer's jars are automatic modules (Automatic-Module-Name in their manifests): stable
// names, so requiring them, transitively as the API uses their types, is what they ask for.
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module io.mailtls.micrometer {
  requires transitive io.mailtls.core;
  requires transitive micrometer.core;
  requires transitive micrometer.observation;
  requires org.slf4j;

  exports io.mailtls.micrometer;
}
