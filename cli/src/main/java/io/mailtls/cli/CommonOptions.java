package io.mailtls.cli;

import io.mailtls.core.DnssecMode;
import io.mailtls.core.DomainName;
import io.mailtls.core.SmtpTimeouts;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The options {@code check}, {@code send}, {@code mx} and {@code tlsrpt send} share (a picocli
 * mixin): where DNS comes from and how it is validated, which roots PKIX trusts, the SMTP and
 * MTA-STS ports, time bounds, the EHLO name and the event trace. Not thread-safe: filled in by
 * picocli, then read.
 */
final class CommonOptions {

  /** The longest {@code --timeout} and {@code --data-timeout} accepted: an hour. */
  static final Duration MAX_TIMEOUT = Duration.ofHours(1);

  @Option(
      names = "--resolver",
      paramLabel = "HOST[:PORT]",
      description =
          "recursive resolver to ask, an IP address (repeatable); default: the" + " system's")
  List<String> resolvers = new ArrayList<>();

  @Option(
      names = "--trust-anchor",
      paramLabel = "FILE",
      description =
          "DNSSEC trust anchors, DS or DNSKEY records in zone-file syntax; default:"
              + " the IANA root")
  @Nullable Path trustAnchor;

  @Option(
      names = "--dnssec",
      paramLabel = "MODE",
      defaultValue = "validate",
      completionCandidates = Candidates.DnssecModes.class,
      description =
          "${COMPLETION-CANDIDATES}: validate (in process, default) or trust-ad (the AD bit of a"
              + " loopback validating resolver)")
  String dnssec;

  @Mixin SelfCheckOptions selfCheck = new SelfCheckOptions();

  @Option(
      names = "--ca-file",
      paramLabel = "PEM",
      description =
          "PEM certificates to trust for PKIX (MTA-STS policy fetches and MX hosts),"
              + " added to the JDK's roots (repeatable)")
  List<Path> caFiles = new ArrayList<>();

  @Option(
      names = "--truststore",
      paramLabel = "FILE",
      description =
          "a key store (PKCS12 or JKS) whose trusted certificates are added to the"
              + " JDK's roots")
  @Nullable Path truststore;

  @Option(
      names = "--truststore-password-env",
      paramLabel = "NAME",
      description =
          "the environment variable that holds the password of --truststore, when its"
              + " certificates are protected by one")
  @Nullable String truststorePasswordEnv;

  // Gone: other users see a command line (ps), and shells keep it. Kept hidden, so that an old
  // script gets an error that names the way out and never echoes the password, as picocli's
  // "Unknown options" would.
  @Option(names = "--truststore-password", hidden = true, paramLabel = "PASSWORD")
  @Nullable String removedTruststorePassword;

  @Option(
      names = "--truststore-password-file",
      paramLabel = "PATH",
      description = "a file whose first line is the password of --truststore")
  @Nullable Path truststorePasswordFile;

  @Option(
      names = "--ca-only",
      description = "trust only --ca-file and --truststore, not the JDK's roots")
  boolean caOnly;

  @Option(
      names = "--port",
      paramLabel = "N",
      defaultValue = "25",
      description = "SMTP port of every MX host (default ${DEFAULT-VALUE})")
  int port;

  @Option(
      names = "--mta-sts-port",
      paramLabel = "N",
      defaultValue = "443",
      description = "HTTPS port for MTA-STS policy fetches (default ${DEFAULT-VALUE})")
  int mtaStsPort;

  @Option(
      names = "--timeout",
      paramLabel = "DURATION",
      defaultValue = "30s",
      converter = Durations.class,
      description =
          "bound on each DNS lookup, each policy fetch and each SMTP step except the wait for"
              + " the reply to the final dot (default ${DEFAULT-VALUE}; "
              + Durations.SYNTAX
              + ")")
  Duration timeout = Duration.ofSeconds(30);

  @Option(
      names = "--data-timeout",
      paramLabel = "DURATION",
      defaultValue = "10m",
      converter = Durations.class,
      description =
          "bound on the wait for the reply to the final dot (default ${DEFAULT-VALUE}, RFC 5321"
              + " §4.5.3.2.6): cutting it short risks a duplicate delivery, as the server may"
              + " have accepted the message")
  Duration dataTimeout = SmtpTimeouts.RFC_5321.dataTermination();

  @Option(
      names = "--min-data-rate",
      paramLabel = "N",
      defaultValue = "10240",
      description =
          "the slowest pace, in octets per second, at which a message's content may go out once"
              + " --timeout of slack is spent (default ${DEFAULT-VALUE}, as Postfix's"
              + " smtp_min_data_rate): a slower server is given up on and the recipients"
              + " deferred; 0 turns it off")
  long minDataRate = SmtpTimeouts.DEFAULT_MIN_DATA_RATE;

  @Option(
      names = "--helo",
      paramLabel = "NAME",
      description =
          "the EHLO name: this host's fully qualified domain name (default: this"
              + " machine's canonical host name, refused unless fully qualified)")
  @Nullable String helo;

  /** Where this machine's name comes from when {@code --helo} is not given; tests replace it. */
  Supplier<String> localHostName = CommonOptions::canonicalLocalHostName;

  @Option(
      names = {"-v", "--verbose"},
      description = "trace delivery events on stderr; stack traces with errors")
  boolean verbose;

  /**
   * Checks the values that picocli's types cannot: ranges, the DNSSEC mode, the EHLO name, the
   * resolver addresses.
   *
   * @throws CliException a usage error naming the option and value
   */
  void validate() {
    checkPort("--port", port);
    checkPort("--mta-sts-port", mtaStsPort);
    checkTimeout("--timeout", timeout);
    checkTimeout("--data-timeout", dataTimeout);
    if (minDataRate < 0) {
      throw CliException.usage(
          "--min-data-rate must be octets per second, or 0 for off: " + minDataRate);
    }
    dnssecMode();
    selfCheck.names();
    if (helo != null) {
      heloName();
    }
    upstreams();
    if (caOnly && caFiles.isEmpty() && truststore == null) {
      throw CliException.usage("--ca-only needs --ca-file or --truststore");
    }
    if (removedTruststorePassword != null) {
      throw CliException.usage(
          "--truststore-password is no longer accepted (a password on the command line is"
              + " visible to other users): use --truststore-password-env NAME or"
              + " --truststore-password-file PATH");
    }
    if ((truststorePasswordEnv != null || truststorePasswordFile != null) && truststore == null) {
      throw CliException.usage("--truststore-password-env and -file need --truststore");
    }
  }

  /**
   * The password of {@code --truststore}, from {@code --truststore-password-env} or {@code
   * --truststore-password-file} (never the command line), if one is given.
   *
   * @throws CliException a usage error: both given, an unset variable, an unreadable file
   */
  @Nullable String truststorePassword(Function<String, @Nullable String> env) {
    return Secrets.read("--truststore-password", truststorePasswordEnv, truststorePasswordFile, env)
        .orElse(null);
  }

  private static void checkTimeout(String option, Duration value) {
    if (value.compareTo(MAX_TIMEOUT) > 0) {
      throw CliException.usage(
          option
              + " must be at most "
              + Durations.format(MAX_TIMEOUT)
              + ", not "
              + Durations.format(value));
    }
  }

  private static void checkPort(String option, int value) {
    if (value < 1 || value > 65535) {
      throw CliException.usage(option + " must be 1..65535, not " + value);
    }
  }

  /** The DNSSEC mode named by {@code --dnssec}. */
  DnssecMode dnssecMode() {
    return switch (dnssec) {
      case "validate" -> DnssecMode.VALIDATE;
      case "trust-ad" -> DnssecMode.TRUST_AD;
      default ->
          throw CliException.usage("--dnssec must be validate or trust-ad, not \"" + dnssec + "\"");
    };
  }

  /** The {@code --resolver} addresses, parsed; empty for the system's resolvers. */
  List<InetSocketAddress> upstreams() {
    List<InetSocketAddress> out = new ArrayList<>();
    for (String r : resolvers) {
      try {
        out.add(MxCommand.parseResolver(r));
      } catch (IllegalArgumentException e) {
        throw CliException.usage("--resolver: " + e.getMessage(), e);
      }
    }
    return out;
  }

  /**
   * The EHLO name: {@code --helo}, else this machine's canonical host name; either must be a fully
   * qualified domain name (RFC 5321 §4.1.1.1), since receivers refuse {@code localhost} and bare
   * host names. Asked only by commands that speak SMTP.
   *
   * @throws CliException a usage error naming the name and the fix
   */
  String heloName() {
    String name = helo != null ? helo : localHostName.get();
    String origin =
        helo != null ? "--helo \"" + name + "\"" : "this machine's host name \"" + name + "\"";
    DomainName d;
    try {
      d = DomainName.of(name);
    } catch (IllegalArgumentException e) {
      throw CliException.usage(origin + ": " + e.getMessage(), e);
    }
    if (!d.isFullyQualifiedHostName()) {
      throw CliException.usage(
          origin
              + " is not a fully qualified domain name (RFC 5321"
              + " §4.1.1.1); "
              + (helo != null ? "give" : "pass")
              + " --helo NAME, e.g. --helo"
              + " mail.example.com");
    }
    return d.toString();
  }

  static String canonicalLocalHostName() {
    try {
      return InetAddress.getLocalHost().getCanonicalHostName();
    } catch (UnknownHostException e) {
      return "localhost";
    }
  }

  /** {@code --timeout}. */
  Duration timeout() {
    return timeout;
  }

  /**
   * The SMTP step bounds: {@code --timeout} for every step but the reply to the final dot, which
   * {@code --data-timeout} bounds (RFC 5321 §4.5.3.2.6's 10 minutes by default): a client that
   * gives up on that reply cannot know whether the server took the message, and its retry may
   * deliver it twice (RFC 1047). The content's transfer as a whole is bounded by {@code
   * --min-data-rate} ({@link SmtpTimeouts#minDataRate}).
   */
  SmtpTimeouts smtpTimeouts() {
    return new SmtpTimeouts(
        timeout, timeout, timeout, timeout, timeout, timeout, dataTimeout, minDataRate);
  }
}
