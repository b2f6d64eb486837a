package io.mailtls.spring;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.time.Duration;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/** Helpers that turn a builder's refusal into a start-up failure naming the property. */
final class SpringSupport {

  private SpringSupport() {}

  static @Nullable String blankToNull(@Nullable String s) {
    return s == null || s.isBlank() ? null : s;
  }

  static <T> T required(String property, @Nullable T value, String why) {
    if (value == null) {
      throw new InvalidMailtlsPropertyException(property, "it is required" + why);
    }
    return value;
  }

  /**
   * Whether {@code host} is an IP address rather than a host name: an IPv6 address (with or without
   * brackets), or a name whose last label is all digits, which no host name has (RFC 1123 §2.1: the
   * highest-level label is alphabetic), such as the dotted-decimal {@code 192.0.2.1}.
   */
  static boolean isIpAddress(String host) {
    String h = host.strip();
    if (h.startsWith("[") || h.indexOf(':') >= 0) {
      return true;
    }
    if (h.endsWith(".")) {
      h = h.substring(0, h.length() - 1);
    }
    String last = h.substring(h.lastIndexOf('.') + 1);
    return !last.isEmpty() && last.chars().allMatch(c -> c >= '0' && c <= '9');
  }

  /** {@code value}, or a failure naming {@code property} when it is zero or negative. */
  static int positive(String property, int value) {
    if (value < 1) {
      throw new InvalidMailtlsPropertyException(property, "it must be positive, not " + value);
    }
    return value;
  }

  /**
   * {@code value}, or a failure naming {@code property} when it is zero or negative; {@code hint}
   * ends the message.
   */
  static Duration positive(String property, Duration value, String hint) {
    if (value.isZero() || value.isNegative()) {
      throw new InvalidMailtlsPropertyException(
          property, "it must be positive, not " + value + hint);
    }
    return value;
  }

  /**
   * Runs {@code step}; an {@link IllegalArgumentException} or state exception names {@code
   * property}.
   */
  static <T> T build(String property, Supplier<T> step) {
    try {
      return step.get();
    } catch (IllegalArgumentException | IllegalStateException | NullPointerException e) {
      if (e instanceof InvalidMailtlsPropertyException) {
        throw e;
      }
      throw new InvalidMailtlsPropertyException(property, String.valueOf(e.getMessage()), e);
    }
  }

  /**
   * {@code 192.0.2.1}, {@code 192.0.2.1:5353}, {@code ::1} or {@code [::1]:5353}: an IP address
   * (never a name, which would need DNS to find DNS), port 53 by default.
   */
  static InetSocketAddress resolverAddress(String property, String text) {
    String host = text.strip();
    int port = 53;
    if (host.startsWith("[")) {
      int end = host.indexOf(']');
      if (end < 0) {
        throw new InvalidMailtlsPropertyException(property, "no ] in \"" + text + "\"");
      }
      String rest = host.substring(end + 1);
      host = host.substring(1, end);
      if (!rest.isEmpty()) {
        port = port(property, text, rest);
      }
    } else if (host.indexOf(':') >= 0 && host.indexOf(':') == host.lastIndexOf(':')) {
      int colon = host.indexOf(':');
      port = port(property, text, host.substring(colon));
      host = host.substring(0, colon);
    }
    if (!host.matches("[0-9.]+|[0-9A-Fa-f:.]+")) {
      throw new InvalidMailtlsPropertyException(
          property, "\"" + text + "\" is not an IP address (optionally with :port)");
    }
    try {
      return new InetSocketAddress(InetAddress.getByName(host), port);
    } catch (UnknownHostException e) {
      throw new InvalidMailtlsPropertyException(
          property, "\"" + text + "\" is not an IP address", e);
    }
  }

  private static int port(String property, String text, String colonPort) {
    try {
      if (!colonPort.startsWith(":")) {
        throw new NumberFormatException();
      }
      int port = Integer.parseInt(colonPort.substring(1));
      if (port < 1 || port > 65535) {
        throw new NumberFormatException();
      }
      return port;
    } catch (NumberFormatException e) {
      throw new InvalidMailtlsPropertyException(property, "bad port in \"" + text + "\"");
    }
  }
}
