package io.mailtls.spring;

import io.mailtls.core.SecureSmtpTransport;

/**
 * Changes the transport builder after the {@code mailtls.*} properties are applied and before the
 * {@link SecureSmtpTransport} bean is built: an event listener, a trust store, a TLS context
 * factory, downgrade protection. Every bean of this type is applied, in {@link
 * org.springframework.core.annotation.Order} order. The builder's setters may each be called once,
 * so a customizer sets only what the properties leave unset.
 */
@FunctionalInterface
public interface MailtlsTransportCustomizer {

  /** Changes {@code builder}. */
  void customize(SecureSmtpTransport.Builder builder);
}
