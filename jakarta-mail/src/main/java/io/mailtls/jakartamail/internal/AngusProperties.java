package io.mailtls.jakartamail.internal;

import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The Angus Mail SMTP property names this module sets, kept in one place: Angus Mail's string
 * properties stay at the edge, in this adapter, never in mailtls's own API (docs/design.md §5).
 * Stateless and thread-safe.
 */
public final class AngusProperties {

  public static final String HOST = "mail.smtp.host";
  public static final String PORT = "mail.smtp.port";
  public static final String TRANSPORT_PROTOCOL = "mail.transport.protocol";
  public static final String STARTTLS_ENABLE = "mail.smtp.starttls.enable";
  public static final String STARTTLS_REQUIRED = "mail.smtp.starttls.required";
  public static final String SSL_ENABLE = "mail.smtp.ssl.enable";
  public static final String SSL_PROTOCOLS = "mail.smtp.ssl.protocols";
  public static final String SSL_CHECK_SERVER_IDENTITY = "mail.smtp.ssl.checkserveridentity";

  /**
   * Jakarta Mail's choice of the class implementing {@code smtp} for a session: a class registered
   * as a provider (its {@code Session.getProvider}).
   */
  public static final String SMTP_CLASS = "mail.smtp.class";

  /** Angus Mail's switch for SMTP AUTH (RFC 4954), a {@code Boolean} or the text {@code true}. */
  public static final String AUTH = "mail.smtp.auth";

  /**
   * An object, not a string: {@code Properties.put}, never {@code setProperty} (Angus Mail takes
   * the factory as an object).
   */
  public static final String SSL_SOCKET_FACTORY = "mail.smtp.ssl.socketFactory";

  /** RFC 8996: no TLS 1.0 or 1.1; RFC 8461 §7 and RFC 7672 §8 want 1.2 or newer. */
  public static final String PROTOCOLS = "TLSv1.3 TLSv1.2";

  /**
   * Base properties that could weaken or bypass the policy, dropped before ours are set: every TLS
   * and STARTTLS setting ({@code ssl.trust}, {@code ssl.hostnameverifier}, other protocols), the
   * socket factories (an {@code SSLSocketFactory} as plain factory means implicit TLS with someone
   * else's trust), and the host and port the session is for.
   */
  private static final List<String> OVERRIDDEN_PREFIXES =
      List.of("mail.smtp.ssl.", "mail.smtp.starttls.", "mail.smtp.socketFactory");

  private static final List<String> OVERRIDDEN_KEYS = List.of(HOST, PORT, TRANSPORT_PROTOCOL);

  private AngusProperties() {}

  /** A copy of {@code base} (its defaults included) without the keys this module decides. */
  public static Properties copyWithoutPolicy(Properties base) {
    Properties out = new Properties();
    for (String name : base.stringPropertyNames()) {
      out.setProperty(name, base.getProperty(name));
    }
    for (Map.Entry<Object, Object> e : base.entrySet()) {
      if (!(e.getValue() instanceof String)) {
        out.put(e.getKey(), e.getValue()); // object-valued settings, e.g. a user's proxy factory
      }
    }
    out.keySet().removeIf(k -> k instanceof String s && overridden(s));
    return out;
  }

  /**
   * Whether {@code props} turn {@code name} on as Angus Mail reads a boolean whose default is
   * false: a {@code Boolean} object, else the text {@code true} in any case.
   */
  public static boolean isTrue(Properties props, String name) {
    Object v = props.get(name);
    if (v == null) {
      v = props.getProperty(name);
    }
    return v instanceof Boolean b ? b : v instanceof String s && s.equalsIgnoreCase("true");
  }

  private static boolean overridden(String key) {
    return OVERRIDDEN_KEYS.contains(key) || OVERRIDDEN_PREFIXES.stream().anyMatch(key::startsWith);
  }
}
