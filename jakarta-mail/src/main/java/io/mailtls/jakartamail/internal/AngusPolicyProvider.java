package io.mailtls.jakartamail.internal;

import io.mailtls.jakartamail.AngusPolicyTransport;
import jakarta.mail.Provider;

/**
 * Registers {@link AngusPolicyTransport} with Jakarta Mail under its own protocol, {@value
 * AngusPolicyTransport#PROTOCOL}, so that a session whose {@code mail.smtp.class} names it (every
 * session {@code AngusPolicySession} configures) finds it by class name, while no session gets it
 * as its default {@code smtp} transport. Through {@code META-INF/services/jakarta.mail.Provider}
 * and the module's {@code provides}; {@code META-INF/javamail.providers} names the same class.
 * Naming the class here loads neither it nor Angus Mail.
 */
public final class AngusPolicyProvider extends Provider {

  /** The transport's class name, kept as text so that this provider does not load it. */
  public static final String TRANSPORT_CLASS = "io.mailtls.jakartamail.AngusPolicyTransport";

  /** Called by {@link java.util.ServiceLoader}. */
  public AngusPolicyProvider() {
    // A compile-time constant: inlined, it does not load the transport's class either.
    super(
        Provider.Type.TRANSPORT,
        AngusPolicyTransport.PROTOCOL,
        TRANSPORT_CLASS,
        "mailtls",
        version());
  }

  private static String version() {
    String v = AngusPolicyProvider.class.getPackage().getImplementationVersion();
    return v != null ? v : "unknown";
  }
}
