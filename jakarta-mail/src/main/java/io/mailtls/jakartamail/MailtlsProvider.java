package io.mailtls.jakartamail;

import jakarta.mail.Provider;

/**
 * Registers {@link MailtlsTransport} with Jakarta Mail under the protocol {@value
 * MailtlsTransport#PROTOCOL}, through {@code META-INF/services/jakarta.mail.Provider} (Jakarta Mail
 * 2.1's {@code ServiceLoader}, also on the module path); {@code META-INF/javamail.providers} names
 * the same class for implementations that read only that file. Not for application use.
 */
public final class MailtlsProvider extends Provider {

  /** Called by {@link java.util.ServiceLoader}. */
  public MailtlsProvider() {
    super(
        Provider.Type.TRANSPORT,
        MailtlsTransport.PROTOCOL,
        MailtlsTransport.class.getName(),
        "mailtls",
        version());
  }

  private static String version() {
    String v = MailtlsProvider.class.getPackage().getImplementationVersion();
    return v != null ? v : "unknown";
  }
}
