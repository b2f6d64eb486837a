package io.mailtls.jakartamail.internal;

import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecMode;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DomainName;
import io.mailtls.core.SecureSmtpTransport;
import io.mailtls.core.SenderPolicy;
import io.mailtls.core.SmartHost;
import io.mailtls.core.SmtpTimeouts;
import io.mailtls.core.TlsLevel;
import io.mailtls.core.TrustAnchors;
import io.mailtls.dane.DaneResolver;
import io.mailtls.mtasts.FilePolicyStore;
import io.mailtls.mtasts.MtaStsResolver;
import io.mailtls.mtasts.OkHttpPolicyFetcher;
import io.mailtls.standard.StandardTransport;
import jakarta.mail.Session;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Enumeration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import javax.net.SocketFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import okhttp3.OkHttpClient;
import org.jspecify.annotations.Nullable;

/**
 * The {@code mail.mailtls.*} session properties of the Jakarta Mail provider ({@code
 * MailtlsTransport}), read once per connect and turned into a {@link SecureSmtpTransport}. Every
 * value is checked: a malformed one is an {@link IllegalArgumentException} naming the property (and
 * never the password, which is not a property). Nothing set under {@code mail.mailtls.} is ignored
 * without a word: a name mailtls does not know (a misspelt one), a value of a type it cannot read,
 * or relay settings without {@value #RELAY_HOST} fail the connect. Stateless.
 */
public final class ProviderSettings {

  /** The protocol name: {@code mail.transport.protocol=mailtls}. */
  public static final String PROTOCOL = "mailtls";

  static final String P = "mail." + PROTOCOL + ".";
  public static final String HELO = P + "helo";
  public static final String LEVEL = P + "level";
  public static final String PORT = P + "port";
  public static final String CONNECTION_TIMEOUT = P + "connectiontimeout";
  public static final String TIMEOUT = P + "timeout";
  public static final String MIN_DATA_RATE = P + "mindatarate";
  public static final String DNS_RESOLVERS = P + "dns.resolvers";
  public static final String DNS_TRUST_ANCHOR = P + "dns.trustanchor";
  public static final String DNS_MODE = P + "dns.mode";
  public static final String MTA_STS = P + "mtasts";
  public static final String DANE = P + "dane";
  public static final String STATE_DIR = P + "statedir";
  public static final String CA_FILE = P + "cafile";
  public static final String RELAY_HOST = P + "relay.host";
  public static final String RELAY_PORT = P + "relay.port";
  public static final String RELAY_IMPLICIT_TLS = P + "relay.implicittls";
  public static final String AUTH = P + "auth";
  public static final String FROM = P + "from";
  public static final String TRANSPORT = P + "transport";
  public static final String REQUIRE_TLS = P + "requiretls";

  /** Jakarta Mail's own per-protocol settings: the relay user and the provider class. */
  static final String USER = P + "user";

  static final String CLASS = P + "class";

  private static final Set<String> KNOWN =
      Set.of(
          HELO,
          LEVEL,
          PORT,
          CONNECTION_TIMEOUT,
          TIMEOUT,
          MIN_DATA_RATE,
          DNS_RESOLVERS,
          DNS_TRUST_ANCHOR,
          DNS_MODE,
          MTA_STS,
          DANE,
          STATE_DIR,
          CA_FILE,
          RELAY_HOST,
          RELAY_PORT,
          RELAY_IMPLICIT_TLS,
          AUTH,
          FROM,
          TRANSPORT,
          REQUIRE_TLS,
          USER,
          CLASS);

  /** What a shared transport ({@value #TRANSPORT}) leaves to the session: the envelope sender. */
  private static final Set<String> WITH_SHARED_TRANSPORT =
      Set.of(FROM, TRANSPORT, REQUIRE_TLS, USER, CLASS);

  private ProviderSettings() {}

  /**
   * The value of {@code name} as text. {@code Session.getProperty} returns null for a value that is
   * not a {@code String}, so a setting an application stored with {@code props.put} (a {@link
   * TlsLevel}, a {@code Boolean}, an {@code Integer}, as Angus Mail users do) would be dropped
   * without a word, a stricter level among them. Such values are read as their text; any other
   * object is an error naming the property.
   *
   * @throws IllegalArgumentException for a value that is neither text nor one of those types
   */
  public static @Nullable String text(Session session, String name) {
    Properties props = session.getProperties();
    Object v = props.get(name);
    if (v == null) {
      String fromDefaults = props.getProperty(name);
      if (fromDefaults == null && listed(props, name)) {
        // An object in the defaults: getProperty returns null for it, and get() never looks there.
        throw new IllegalArgumentException(
            name
                + " is in the defaults of the session's Properties but is not text, so it cannot"
                + " be read there: store it with setProperty, or put it in the Properties"
                + " themselves");
      }
      return fromDefaults;
    }
    if (v instanceof String s) {
      return s;
    }
    if (v instanceof TlsLevel level) {
      return level.token();
    }
    if (v instanceof Boolean || v instanceof Integer || v instanceof Long || v instanceof Short) {
      return v.toString();
    }
    throw new IllegalArgumentException(
        name + " must be text (Properties.setProperty), not a " + v.getClass().getName());
  }

  /** Every property name under {@code mail.mailtls.}, the defaults' included. */
  private static Set<String> names(Session session) {
    Properties props = session.getProperties();
    Set<String> names = new TreeSet<>();
    for (String n : props.stringPropertyNames()) {
      if (n.startsWith(P)) {
        names.add(n);
      }
    }
    for (Object k : props.keySet()) {
      if (k instanceof String n && n.startsWith(P)) {
        names.add(n);
      }
    }
    // The defaults' names whatever their values (stringPropertyNames skips objects there).
    for (String n : allNames(props)) {
      if (n.startsWith(P)) {
        names.add(n);
      }
    }
    return names;
  }

  /** Whether {@code name} is set in {@code props} or in its defaults, whatever the value. */
  private static boolean listed(Properties props, String name) {
    return allNames(props).contains(name);
  }

  /**
   * Every name of {@code props} and of its defaults, the names of object values included ({@code
   * Properties.propertyNames}); without the defaults when a key that is not a String makes that
   * walk fail.
   */
  private static Set<String> allNames(Properties props) {
    Set<String> out = new TreeSet<>();
    try {
      for (Enumeration<?> e = props.propertyNames(); e.hasMoreElements(); ) {
        if (e.nextElement() instanceof String n) {
          out.add(n);
        }
      }
    } catch (ClassCastException e) {
      // A key that is not a String somewhere: the table's own String keys are read elsewhere.
    }
    return out;
  }

  /**
   * With a shared transport ({@value #TRANSPORT}) the transport's own configuration decides
   * everything but the envelope sender: any other {@code mail.mailtls.*} setting would be ignored,
   * a stricter level among them, so it is an error.
   *
   * @throws IllegalArgumentException naming the first such setting
   */
  public static void checkWithSharedTransport(Session session) {
    for (String name : names(session)) {
      if (!WITH_SHARED_TRANSPORT.contains(name)) {
        throw new IllegalArgumentException(
            name
                + " has no effect with "
                + TRANSPORT
                + ": the transport given there was configured when it was built");
      }
    }
  }

  /**
   * Checks every {@code mail.mailtls.*} name and value: an unknown name (misspelt, or an Angus
   * setting under the wrong prefix) or an unreadable value fails, rather than leave a setting the
   * application believes in silently ignored.
   */
  private static void checkNames(Session session) {
    for (String name : names(session)) {
      boolean domainLevel = name.startsWith(LEVEL + ".") && name.length() > LEVEL.length() + 1;
      if (!KNOWN.contains(name) && !domainLevel) {
        String hint =
            name.equals(P + "host")
                ? ": mail goes to the recipients' MX hosts, or to the relay of " + RELAY_HOST
                : ": docs/jakarta-mail.md lists the settings";
        throw new IllegalArgumentException("unknown setting " + name + hint);
      }
      if (name.equals(TRANSPORT)) {
        // Here the session's Properties themselves hold none (else it would be in use): it is in
        // their defaults, where Properties.get does not look. Never build another in its place.
        throw new IllegalArgumentException(
            TRANSPORT
                + " is in the defaults of the session's Properties, where it cannot be read: put"
                + " it in the Properties themselves (props.put)");
      }
      text(session, name);
    }
  }

  /**
   * Whether to authenticate to the relay ({@value #AUTH}, default false, as Angus's {@code
   * mail.smtp.auth}).
   *
   * @throws IllegalArgumentException when it is set without a relay, or is neither true nor false
   */
  public static boolean auth(Session session) {
    String raw = text(session, AUTH);
    if (raw == null) {
      return false;
    }
    String v = raw.trim().toLowerCase(Locale.ROOT);
    if (!v.equals("true") && !v.equals("false")) {
      throw new IllegalArgumentException(AUTH + " must be true or false, not \"" + v + "\"");
    }
    boolean auth = v.equals("true");
    if (auth && relayHost(session) == null) {
      throw new IllegalArgumentException(
          AUTH + "=true needs " + RELAY_HOST + ": mailtls authenticates only to a relay");
    }
    return auth;
  }

  /**
   * Whether every message of the session asks for REQUIRETLS ({@value #REQUIRE_TLS}, RFC 8689;
   * default false): a property of the message, so it applies with a shared transport too.
   *
   * @throws IllegalArgumentException when it is neither true nor false
   */
  public static boolean requireTls(Session session) {
    String raw = text(session, REQUIRE_TLS);
    if (raw == null) {
      return false;
    }
    return switch (raw.trim().toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default ->
          throw new IllegalArgumentException(
              REQUIRE_TLS + " must be true or false, not \"" + raw + "\"");
    };
  }

  /** The relay host, when one is configured. */
  public static @Nullable String relayHost(Session session) {
    String h = text(session, RELAY_HOST);
    return h == null || h.isBlank() ? null : h.trim();
  }

  /**
   * A new transport configured by the session's properties; with a relay, {@code user} and {@code
   * password} (both or neither) authenticate to it.
   *
   * @throws IllegalArgumentException naming the property whose value is malformed or missing
   */
  public static SecureSmtpTransport build(
      Session session, @Nullable String user, @Nullable String password) {
    // Every value is read and checked before anything that owns a thread or a file is made.
    checkNames(session);
    String helo = helo(session);
    SenderPolicy senderPolicy = senderPolicy(session);
    String portText = text(session, PORT);
    int port = portText == null ? 25 : integer(PORT, portText);
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(PORT + ": out of range: " + port);
    }
    SmtpTimeouts timeouts = timeouts(session);
    boolean mtaSts = flag(session, MTA_STS);
    boolean dane = flag(session, DANE);
    @Nullable KeyStore trustStore = trustStore(session);
    String relayHost = relayHost(session);
    if (relayHost == null) {
      for (String name : List.of(RELAY_PORT, RELAY_IMPLICIT_TLS)) {
        if (text(session, name) != null) {
          // Mail would go to the MX hosts with the relay settings ignored (a misspelt host name).
          throw new IllegalArgumentException(name + " needs " + RELAY_HOST);
        }
      }
    }
    @Nullable SmartHost relay =
        relayHost == null ? null : relay(session, relayHost, user, password);
    if (relay == null) {
      checkAngusTlsOnly(session);
    }
    DnsResolver dns = resolver(session);

    SecureSmtpTransport.Builder b;
    if (relay != null) {
      // A relay hides the recipients' MX hosts: their policies are the relay's to apply.
      b = SecureSmtpTransport.builder().dns(dns).relay(relay);
    } else if (mtaSts && dane) {
      StandardTransport.Setup setup = StandardTransport.setup(stateDir(session)).dns(dns);
      if (trustStore != null) {
        setup.policyHttpClient(httpClient(trustStore));
      }
      b = setup.transportBuilder();
    } else {
      b = SecureSmtpTransport.builder().dns(dns);
      if (mtaSts) {
        addMtaSts(b, dns, stateDir(session), trustStore);
      } else {
        b.withoutMtaSts();
      }
      if (dane) {
        b.dane(DaneResolver.builder().dns(dns).build());
      } else {
        b.withoutDane();
      }
    }
    b.heloName(helo).senderPolicy(senderPolicy).port(port).timeouts(timeouts);
    if (trustStore != null) {
      b.trustStore(trustStore);
    }
    // Transport.send connects, sends one message and closes: nothing to keep idle sessions for.
    b.noConnectionReuse();
    return b.build();
  }

  /**
   * Angus Mail settings by which a program refuses plaintext: STARTTLS required (RFC 3207), or TLS
   * from the first byte (RFC 8314 §3.3). mailtls does not read them; without a level of its own the
   * program's mail would go at {@code opportunistic}, in plaintext where STARTTLS is missing.
   */
  private static final List<String> ANGUS_TLS_ONLY =
      List.of(AngusProperties.STARTTLS_REQUIRED, AngusProperties.SSL_ENABLE);

  /**
   * Fails when the program refused plaintext through an Angus setting and sets no {@value #LEVEL}:
   * the default level would accept plaintext, so the setting must not be dropped without a word.
   */
  private static void checkAngusTlsOnly(Session session) {
    if (text(session, LEVEL) != null) {
      return; // the level is the program's explicit choice
    }
    Properties props = session.getProperties();
    for (String name : ANGUS_TLS_ONLY) {
      Object v = props.get(name);
      if (v == null) {
        v = props.getProperty(name);
      }
      boolean on =
          v instanceof Boolean b ? b : v instanceof String s && s.trim().equalsIgnoreCase("true");
      if (on) {
        throw new IllegalArgumentException(
            name
                + "=true refuses plaintext, and mailtls does not read mail.smtp.* settings: set "
                + LEVEL
                + " (enforced or stricter to keep refusing it, or opportunistic to accept it)");
      }
    }
    // An SSLSocketFactory as Angus's plain socket factory (the way many JavaMail programs got
    // implicit TLS before mail.smtp.ssl.enable) makes every connection TLS from the first byte.
    String factory = sslSocketFactorySetting(props);
    if (factory != null) {
      throw new IllegalArgumentException(
          factory
              + " is an SSLSocketFactory, by which the program used TLS from the first byte, and"
              + " mailtls does not read mail.smtp.* settings: set "
              + LEVEL
              + " (enforced or stricter to keep refusing plaintext, or opportunistic to accept"
              + " it)");
    }
    // Angus's smtps transport is TLS from the first byte whatever else is set (RFC 8314 §3.3): a
    // program with settings for it used implicit TLS. Keys stored with put (any value) and the
    // defaults' names (String values only) both count.
    Set<Object> names = new HashSet<>(props.keySet());
    names.addAll(props.stringPropertyNames());
    for (Object key : names) {
      if (key instanceof String name && name.startsWith(ANGUS_SMTPS)) {
        throw new IllegalArgumentException(
            name
                + " is a setting of Angus's smtps transport, which never sends in plaintext, and"
                + " mailtls does not read mail.smtps.* settings: set "
                + LEVEL
                + " (enforced or stricter to keep refusing plaintext, or opportunistic to accept"
                + " it)");
      }
    }
  }

  /**
   * The name of the Angus setting that makes an {@code SSLSocketFactory} Angus's socket factory for
   * {@code smtp} ({@code mail.smtp.socketFactory}, an object, which Angus prefers, else {@code
   * mail.smtp.socketFactory.class}), or null. A class that cannot be loaded here is not counted:
   * Angus could not have used it either.
   */
  private static @Nullable String sslSocketFactorySetting(Properties props) {
    Object factory = props.get(ANGUS_SOCKET_FACTORY);
    if (factory instanceof SSLSocketFactory) {
      return ANGUS_SOCKET_FACTORY;
    }
    if (factory instanceof SocketFactory) {
      return null; // Angus uses this one, whatever the class setting says
    }
    String name = props.getProperty(ANGUS_SOCKET_FACTORY_CLASS);
    if (name == null || name.isBlank()) {
      return null;
    }
    for (ClassLoader loader :
        new ClassLoader[] {
          Thread.currentThread().getContextClassLoader(), ProviderSettings.class.getClassLoader()
        }) {
      if (loader == null) {
        continue;
      }
      try {
        Class<?> c = Class.forName(name.trim(), false, loader);
        return SSLSocketFactory.class.isAssignableFrom(c) ? ANGUS_SOCKET_FACTORY_CLASS : null;
      } catch (ClassNotFoundException | LinkageError e) {
        // try the next loader
      }
    }
    return null;
  }

  private static final String ANGUS_SOCKET_FACTORY = "mail.smtp.socketFactory";
  private static final String ANGUS_SOCKET_FACTORY_CLASS = "mail.smtp.socketFactory.class";

  /** The prefix of the settings of Angus's {@code smtps} transport (implicit TLS). */
  private static final String ANGUS_SMTPS = "mail.smtps.";

  private static String helo(Session session) {
    String helo = text(session, HELO);
    if (helo == null) {
      helo = session.getProperty("mail.smtp.localhost");
    }
    if (helo == null || helo.isBlank()) {
      throw new IllegalArgumentException(
          HELO
              + " is required: this host's fully qualified domain name, which receivers expect"
              + " in EHLO (RFC 5321 §4.1.1.1)");
    }
    String name = helo.trim();
    try {
      if (!DomainName.of(name).isFullyQualifiedHostName()) {
        throw new IllegalArgumentException("not a fully qualified host name");
      }
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          HELO
              + ": \""
              + name
              + "\" is not this host's fully qualified domain name (RFC 5321 §4.1.1.1): "
              + e.getMessage(),
          e);
    }
    return name;
  }

  private static SenderPolicy senderPolicy(Session session) {
    SenderPolicy.Builder policy = SenderPolicy.builder();
    String dflt = text(session, LEVEL);
    policy.defaultLevel(dflt == null ? TlsLevel.OPPORTUNISTIC : level(LEVEL, dflt));
    String prefix = LEVEL + ".";
    for (String name : names(session)) {
      if (name.startsWith(prefix) && name.length() > prefix.length()) {
        String domain = name.substring(prefix.length());
        try {
          policy.level(domain, level(name, Objects.requireNonNull(text(session, name))));
        } catch (IllegalArgumentException e) {
          throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
        }
      }
    }
    return policy.build();
  }

  private static TlsLevel level(String name, String value) {
    try {
      return TlsLevel.parse(value);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(name + ": " + e.getMessage(), e);
    }
  }

  private static SmtpTimeouts timeouts(Session session) {
    SmtpTimeouts t = SmtpTimeouts.RFC_5321;
    String connect = text(session, CONNECTION_TIMEOUT);
    String other = text(session, TIMEOUT);
    String rate = text(session, MIN_DATA_RATE);
    long r = rate == null ? t.minDataRate() : octetsPerSecond(MIN_DATA_RATE, rate);
    Duration c = connect == null ? t.connect() : millis(CONNECTION_TIMEOUT, connect);
    if (other == null) {
      return new SmtpTimeouts(
          c,
          t.greeting(),
          t.command(),
          t.startTls(),
          t.dataInitiation(),
          t.dataBlock(),
          t.dataTermination(),
          r);
    }
    Duration o = millis(TIMEOUT, other);
    return new SmtpTimeouts(c, o, o, o, o, o, o, r);
  }

  /** A minimum data rate (SmtpTimeouts#minDataRate): octets per second, 0 for off. */
  private static long octetsPerSecond(String name, String value) {
    long n;
    try {
      n = Long.parseLong(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": not a number: \"" + value + "\"", e);
    }
    if (n < 0) {
      throw new IllegalArgumentException(name + " must be octets per second, or 0 for off");
    }
    return n;
  }

  private static Duration millis(String name, String value) {
    int ms = integer(name, value);
    if (ms < 1) {
      throw new IllegalArgumentException(name + " must be a positive number of milliseconds");
    }
    return Duration.ofMillis(ms);
  }

  private static int integer(String name, String value) {
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + ": not a number: \"" + value + "\"", e);
    }
  }

  /**
   * {@code true} (the default) or {@code false}, nothing else: turning a policy off is explicit.
   */
  private static boolean flag(Session session, String name) {
    String v = text(session, name);
    if (v == null) {
      return true;
    }
    return switch (v.trim().toLowerCase(Locale.ROOT)) {
      case "true" -> true;
      case "false" -> false;
      default ->
          throw new IllegalArgumentException(name + " must be true or false, not \"" + v + "\"");
    };
  }

  private static DnsResolver resolver(Session session) {
    DnssecResolver.Builder b = DnssecResolver.builder();
    String resolvers = text(session, DNS_RESOLVERS);
    if (resolvers != null && !resolvers.isBlank()) {
      List<InetSocketAddress> upstream = new ArrayList<>();
      for (String r : resolvers.split(",", -1)) {
        upstream.add(resolverAddress(r.trim()));
      }
      b.upstream(upstream);
    }
    String anchor = text(session, DNS_TRUST_ANCHOR);
    if (anchor != null && !anchor.isBlank()) {
      Path file = Path.of(anchor.trim());
      try {
        b.trustAnchors(TrustAnchors.read(file));
      } catch (IOException | IllegalArgumentException e) {
        throw new IllegalArgumentException(
            DNS_TRUST_ANCHOR + ": cannot read trust anchors from " + file + ": " + e.getMessage(),
            e);
      }
    }
    String mode = text(session, DNS_MODE);
    if (mode != null) {
      b.mode(
          switch (mode.trim().toLowerCase(Locale.ROOT)) {
            case "validate" -> DnssecMode.VALIDATE;
            case "trust-ad" -> DnssecMode.TRUST_AD;
            default ->
                throw new IllegalArgumentException(
                    DNS_MODE + " must be validate or trust-ad, not \"" + mode + "\"");
          });
    }
    return b.build();
  }

  /** {@code 192.0.2.1}, {@code 192.0.2.1:5353}, {@code 2001:db8::1} or {@code [2001:db8::1]:53}. */
  static InetSocketAddress resolverAddress(String text) {
    String host = text;
    int port = 53;
    if (text.startsWith("[")) {
      int close = text.indexOf(']');
      if (close < 0) {
        throw new IllegalArgumentException(DNS_RESOLVERS + ": invalid resolver \"" + text + "\"");
      }
      host = text.substring(1, close);
      String rest = text.substring(close + 1);
      if (!rest.isEmpty()) {
        if (!rest.startsWith(":")) {
          throw new IllegalArgumentException(DNS_RESOLVERS + ": invalid resolver \"" + text + "\"");
        }
        port = integer(DNS_RESOLVERS, rest.substring(1));
      }
    } else if (text.indexOf(':') > 0 && text.indexOf(':') == text.lastIndexOf(':')) {
      host = text.substring(0, text.indexOf(':'));
      port = integer(DNS_RESOLVERS, text.substring(text.indexOf(':') + 1));
    }
    // An IP address only: a name would be looked up through the system's (unvalidated) DNS.
    if (host.isEmpty() || !(Character.isDigit(host.charAt(0)) || host.contains(":"))) {
      throw new IllegalArgumentException(
          DNS_RESOLVERS + ": a resolver must be an IP address, not \"" + text + "\"");
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException(DNS_RESOLVERS + ": port out of range in \"" + text + "\"");
    }
    try {
      return new InetSocketAddress(InetAddress.getByName(host), port);
    } catch (UnknownHostException e) {
      throw new IllegalArgumentException(DNS_RESOLVERS + ": invalid resolver \"" + text + "\"", e);
    }
  }

  private static Path stateDir(Session session) {
    String dir = text(session, STATE_DIR);
    if (dir != null && !dir.isBlank()) {
      return Path.of(dir.trim());
    }
    return Path.of(System.getProperty("user.home"), ".mailtls", "jakarta-mail");
  }

  private static void addMtaSts(
      SecureSmtpTransport.Builder b, DnsResolver dns, Path stateDir, @Nullable KeyStore trust) {
    // As StandardTransport wires it, for a transport that leaves DANE out.
    try {
      Files.createDirectories(stateDir);
    } catch (IOException e) {
      throw new IllegalArgumentException(
          STATE_DIR + ": cannot create the state directory " + stateDir, e);
    }
    OkHttpPolicyFetcher.Builder fetcher = OkHttpPolicyFetcher.builder().dns(dns);
    if (trust != null) {
      fetcher.client(httpClient(trust));
    }
    // A cancelled refresh (of a policy the store evicted) leaves the queue at once, not when due.
    ScheduledThreadPoolExecutor refresh =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, "mailtls-mta-sts-refresh");
              t.setDaemon(true);
              return t;
            });
    refresh.setRemoveOnCancelPolicy(true);
    MtaStsResolver mtaSts =
        MtaStsResolver.builder()
            .dns(dns)
            .fetcher(fetcher.build())
            .store(new FilePolicyStore(stateDir.resolve(StandardTransport.POLICY_FILE)))
            .scheduler(refresh)
            .build();
    b.mtaSts(mtaSts).alsoClose(mtaSts).alsoClose(refresh::shutdownNow);
  }

  private static SmartHost relay(
      Session session, String host, @Nullable String user, @Nullable String password) {
    SmartHost.Builder r;
    try {
      r = SmartHost.builder(host);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(RELAY_HOST + ": " + e.getMessage(), e);
    }
    String port = text(session, RELAY_PORT);
    if (port != null) {
      int p = integer(RELAY_PORT, port);
      if (p < 1 || p > 65535) {
        throw new IllegalArgumentException(RELAY_PORT + ": out of range: " + p);
      }
      r.port(p);
    }
    // Default false (STARTTLS, RFC 6409); true for implicit TLS (RFC 8314 §3.3, port 465).
    if (text(session, RELAY_IMPLICIT_TLS) != null && flag(session, RELAY_IMPLICIT_TLS)) {
      r.implicitTls();
    }
    if (user != null && password != null) {
      try {
        r.credentials(user, password);
      } catch (IllegalArgumentException e) {
        // Credentials' own messages name no password; say which setting, not the value.
        throw new IllegalArgumentException("unusable relay credentials: " + e.getMessage(), e);
      }
    }
    return r.build();
  }

  /**
   * The certificates of {@value #CA_FILE} (PEM or DER, one or more) as the only roots, or null when
   * it is not set (the JDK's trust store).
   */
  private static @Nullable KeyStore trustStore(Session session) {
    String file = text(session, CA_FILE);
    if (file == null || file.isBlank()) {
      return null;
    }
    Path path = Path.of(file.trim());
    try (InputStream in = Files.newInputStream(path)) {
      Collection<? extends Certificate> certs =
          CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (certs.isEmpty()) {
        throw new IllegalArgumentException(CA_FILE + ": no certificate in " + path);
      }
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      int i = 0;
      for (Certificate c : certs) {
        ks.setCertificateEntry("ca-" + i++, c);
      }
      return ks;
    } catch (IOException | GeneralSecurityException e) {
      throw new IllegalArgumentException(
          CA_FILE + ": cannot read certificates from " + path + ": " + e.getMessage(), e);
    }
  }

  /** An HTTPS client for MTA-STS policy fetches trusting only {@code trust}'s roots. */
  private static OkHttpClient httpClient(KeyStore trust) {
    try {
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(trust);
      X509TrustManager tm = null;
      for (TrustManager m : tmf.getTrustManagers()) {
        if (m instanceof X509TrustManager x) {
          tm = x;
        }
      }
      if (tm == null) {
        throw new IllegalStateException("no X509TrustManager");
      }
      SSLContext ctx = SSLContext.getInstance("TLS");
      ctx.init(null, new TrustManager[] {tm}, null);
      return new OkHttpClient.Builder().sslSocketFactory(ctx.getSocketFactory(), tm).build();
    } catch (GeneralSecurityException e) {
      throw new IllegalArgumentException(CA_FILE + ": " + e.getMessage(), e);
    }
  }
}
