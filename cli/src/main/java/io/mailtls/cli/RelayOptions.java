package io.mailtls.cli;

import io.mailtls.core.SmartHost;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Option;

/**
 * The options of {@code send} that route everything through a relay (a picocli mixin): {@code
 * --relay HOST[:PORT]} (submission with STARTTLS, RFC 6409, port 587 by default), {@code
 * --implicit-tls} (TLS from the first byte, RFC 8314 §3.3, port 465 by default) and SMTP AUTH (RFC
 * 4954) with {@code --auth-user}. The password never comes from the command line, where other users
 * of the machine see it ({@code ps}) and shells keep it in their history: it is read from an
 * environment variable or from a file. Not thread-safe: filled in by picocli, then read.
 */
final class RelayOptions {

  @Option(
      names = "--relay",
      paramLabel = "HOST[:PORT]",
      description =
          "deliver everything through this relay (smart host, by host name, not IP address)"
              + " instead of the recipients' MX hosts; its certificate is verified (PKIX, its"
              + " host name); port 587 with"
              + " STARTTLS, or 465 with --implicit-tls, unless given")
  @Nullable String relay;

  @Option(
      names = "--implicit-tls",
      description =
          "with --relay: TLS from the first byte (RFC 8314 §3.3, \"submissions\" on port 465)"
              + " instead of STARTTLS")
  boolean implicitTls;

  @Option(
      names = "--auth-user",
      paramLabel = "USER",
      description =
          "with --relay: authenticate (SMTP AUTH, RFC 4954, over TLS only) as USER; the"
              + " password comes from --auth-password-env or --auth-password-file")
  @Nullable String authUser;

  @Option(
      names = "--auth-password-env",
      paramLabel = "NAME",
      description = "the environment variable that holds the --auth-user password")
  @Nullable String passwordEnv;

  @Option(
      names = "--auth-password-file",
      paramLabel = "PATH",
      description =
          "a file whose first line is the --auth-user password (keep it readable by you only)")
  @Nullable Path passwordFile;

  /**
   * The relay these options name, if any.
   *
   * @param env the environment variables ({@link System#getenv(String)} outside tests)
   * @throws CliException a usage error naming the option: a relay option without {@code --relay}, a
   *     malformed host or port, an IP address for a host name, a missing or empty password, an
   *     unreadable password file
   */
  Optional<SmartHost> smartHost(Function<String, @Nullable String> env) {
    if (relay == null) {
      if (implicitTls || authUser != null || passwordEnv != null || passwordFile != null) {
        throw CliException.usage(
            "--implicit-tls, --auth-user and --auth-password-* need --relay HOST[:PORT]");
      }
      return Optional.empty();
    }
    String host = relay;
    int port = implicitTls ? 465 : 587;
    int colon = relay.lastIndexOf(':');
    if (colon >= 0
        && (relay.startsWith("[") ? colon < relay.indexOf(']') : relay.indexOf(':') != colon)) {
      // An IPv6 address as a whole, bracketed without a port or with two colons or more without
      // brackets (a port needs them, [addr]:port): refused below by its own text rather than split
      // at a colon of the address.
      colon = -1;
    }
    if (colon >= 0) {
      host = relay.substring(0, colon);
      String p = relay.substring(colon + 1);
      try {
        port = Integer.parseInt(p);
      } catch (NumberFormatException e) {
        throw CliException.usage("--relay \"" + relay + "\": invalid port \"" + p + "\"", e);
      }
      if (port < 1 || port > 65535) {
        throw CliException.usage("--relay \"" + relay + "\": port must be 1..65535");
      }
    }
    if (isIpAddress(host)) {
      // Looked up in DNS as a name it would defer every message (NXDOMAIN); and the relay's
      // certificate is verified against its host name.
      throw CliException.usage(
          "--relay \""
              + relay
              + "\": \""
              + host
              + "\" is an IP address, not a host name (RFC 1123 §2.1): give the relay's host"
              + " name, which its certificate is verified against");
    }
    SmartHost.Builder b;
    try {
      b = SmartHost.builder(host).port(port);
    } catch (IllegalArgumentException e) {
      throw CliException.usage("--relay \"" + relay + "\": " + e.getMessage(), e);
    }
    if (implicitTls) {
      b.implicitTls();
    }
    if (authUser != null) {
      if (authUser.isEmpty()) {
        throw CliException.usage("--auth-user must not be empty");
      }
      b.credentials(authUser, password(env));
    } else if (passwordEnv != null || passwordFile != null) {
      throw CliException.usage("--auth-password-env and --auth-password-file need --auth-user");
    }
    return Optional.of(b.build());
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

  private String password(Function<String, @Nullable String> env) {
    if ((passwordEnv == null) == (passwordFile == null)) {
      throw CliException.usage(
          "--auth-user needs exactly one of --auth-password-env NAME and --auth-password-file"
              + " PATH (a password on the command line would be visible to other users)");
    }
    return Secrets.read("--auth-password", passwordEnv, passwordFile, env).orElseThrow();
  }
}
