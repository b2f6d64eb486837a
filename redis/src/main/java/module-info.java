/**
 * State shared by a fleet of mailtls senders through Redis: {@link
 * io.mailtls.redis.RedisPolicyStore}, an MTA-STS policy store. Key layout and failure rules:
 * docs/redis.md.
 */
// Lettuce is an automatic module (Automatic-Module-Name lettuce.core in its manifest): a stable
// name; the builder takes its RedisURI, so it is required transitively.
@SuppressWarnings({"requires-automatic", "requires-transitive-automatic"})
module io.mailtls.redis {
  requires transitive io.mailtls.mtasts;
  requires transitive io.mailtls.tlsrpt;
  requires transitive lettuce.core;
  // Shutting down the client resources returns a Netty future.
  requires io.netty.common;
  requires com.fasterxml.jackson.databind;
  requires org.slf4j;

  exports io.mailtls.redis;
}
