package io.mailtls.spring;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * A {@code mailtls.*} property that cannot be used: start-up fails with the property's name and the
 * reason in the message.
 */
public final class InvalidMailtlsPropertyException extends IllegalStateException {

  private static final long serialVersionUID = 1L;

  private final String property;

  /** {@code property} cannot be used, for {@code reason}. */
  public InvalidMailtlsPropertyException(String property, String reason) {
    this(property, reason, null);
  }

  /** {@code property} cannot be used, for {@code reason}, caused by {@code cause}. */
  public InvalidMailtlsPropertyException(
      String property, String reason, @Nullable Throwable cause) {
    super("invalid " + property + ": " + reason + (cause == null ? "" : " (" + cause + ")"), cause);
    this.property = Objects.requireNonNull(property, "property");
  }

  /** The property's name, e.g. {@code mailtls.dns.trust-anchors}. */
  public String property() {
    return property;
  }
}
