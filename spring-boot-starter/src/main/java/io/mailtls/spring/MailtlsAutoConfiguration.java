package io.mailtls.spring;

import io.mailtls.core.DaneProvider;
import io.mailtls.core.DestinationPolicyMap;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecMode;
import io.mailtls.core.DnssecResolver;
import io.mailtls.core.DsnRequest;
import io.mailtls.core.MtaStsPolicySource;
import io.mailtls.core.PolicyMapException;
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
import jakarta.mail.internet.MimeMessage;
import java.io.IOException;
import java.nio.charset.Charset;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import javax.net.ssl.SSLSocketFactory;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ObjectProvider;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.context.properties.EnableConfigurationProperties;
import org.springframework.boot.context.properties.bind.Bindable;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.Bean;
import org.springframework.context.annotation.Conditional;
import org.springframework.core.env.Environment;
import org.springframework.mail.javamail.JavaMailSender;
import org.springframework.util.ClassUtils;

/**
 * Auto-configures mailtls from the {@code mailtls.*} properties ({@link MailtlsProperties}): a
 * validating DNS resolver, the sender policy, the MTA-STS and DANE providers, the destination
 * policy map, a {@link SecureSmtpTransport} and a {@link JavaMailSender} named {@code mailSender}
 * that delivers through it.
 *
 * <p>It runs before Spring Boot's own {@code MailSenderAutoConfiguration}, which backs off when a
 * mail sender bean exists: with this starter on the class path, the application's {@code
 * JavaMailSender} is mailtls's, and {@code spring.mail.*} is not used (docs/spring-boot.md): {@code
 * spring.mail.host} without {@code mailtls.relay.host} fails start-up rather than drop the relay it
 * names. Every bean is {@link ConditionalOnMissingBean}: an application bean of the same type
 * replaces it.
 */
@AutoConfiguration(
    beforeName = "org.springframework.boot.mail.autoconfigure.MailSenderAutoConfiguration")
@ConditionalOnClass({JavaMailSender.class, MimeMessage.class, SecureSmtpTransport.class})
@EnableConfigurationProperties(MailtlsProperties.class)
public class MailtlsAutoConfiguration {

  /** A validating resolver from {@code mailtls.dns.*}. */
  @Bean
  @ConditionalOnMissingBean(DnsResolver.class)
  public DnssecResolver mailtlsDnsResolver(MailtlsProperties properties) {
    MailtlsProperties.Dns dns = properties.getDns();
    DnssecResolver.Builder b = DnssecResolver.builder().mode(dns.getDnssecMode());
    if (!dns.getResolvers().isEmpty()) {
      b.upstream(
          dns.getResolvers().stream()
              .map(r -> SpringSupport.resolverAddress("mailtls.dns.resolvers", r))
              .toList());
    }
    Path anchors = dns.getTrustAnchors();
    if (anchors != null) {
      if (dns.getDnssecMode() != DnssecMode.VALIDATE) {
        throw new InvalidMailtlsPropertyException(
            "mailtls.dns.trust-anchors",
            "trust anchors are used only in dnssec-mode validate, not " + dns.getDnssecMode());
      }
      try {
        b.trustAnchors(TrustAnchors.read(anchors));
      } catch (IOException | RuntimeException e) {
        throw new InvalidMailtlsPropertyException(
            "mailtls.dns.trust-anchors", "cannot read the trust anchors file " + anchors, e);
      }
    }
    if (dns.isAllowRemoteAdTrust()) {
      b.allowRemoteAdTrust();
    }
    if (dns.getQueryTimeout() != null) {
      b.queryTimeout(dns.getQueryTimeout());
    }
    if (dns.getLookupTimeout() != null) {
      b.lookupTimeout(dns.getLookupTimeout());
    }
    return SpringSupport.build("mailtls.dns", b::build);
  }

  /** The sender's levels from {@code mailtls.sender.*}. */
  @Bean
  @ConditionalOnMissingBean
  public SenderPolicy mailtlsSenderPolicy(MailtlsProperties properties) {
    SenderPolicy.Builder b =
        SenderPolicy.builder().defaultLevel(properties.getSender().getDefaultLevel());
    for (Map.Entry<String, TlsLevel> e : properties.getSender().getLevels().entrySet()) {
      SpringSupport.build(
          "mailtls.sender.levels[" + e.getKey() + "]", () -> b.level(e.getKey(), e.getValue()));
    }
    return b.build();
  }

  /** The policy map file of {@code mailtls.policy-map.file}, read once or reloaded. */
  @Bean
  @ConditionalOnMissingBean
  @ConditionalOnProperty("mailtls.policy-map.file")
  public DestinationPolicyMap mailtlsDestinationPolicyMap(MailtlsProperties properties) {
    MailtlsProperties.PolicyMap map = properties.getPolicyMap();
    Path file = SpringSupport.required("mailtls.policy-map.file", map.getFile(), "");
    Duration interval = map.getCheckInterval();
    if (interval != null && interval.isNegative()) {
      throw new InvalidMailtlsPropertyException(
          "mailtls.policy-map.check-interval",
          "it must not be negative, not " + interval + " (0s checks the file at every lookup)");
    }
    try {
      return map.getCheckInterval() == null
          ? DestinationPolicyMap.load(file)
          : DestinationPolicyMap.reloading(file, map.getCheckInterval());
    } catch (PolicyMapException e) {
      throw new InvalidMailtlsPropertyException(
          "mailtls.policy-map.file", file + ": " + e.getMessage(), e);
    }
  }

  /** The MTA-STS refresh thread's owner, closed with the context. */
  @Bean
  @ConditionalOnMissingBean
  @Conditional(PolicySwitch.MtaSts.class)
  public MailtlsRefreshScheduler mailtlsMtaStsRefreshScheduler() {
    return new MailtlsRefreshScheduler();
  }

  /**
   * The MTA-STS resolver, caching policies in {@code mailtls.mta-sts.store-directory} (the same
   * file as {@link StandardTransport}).
   */
  @Bean
  @ConditionalOnMissingBean(MtaStsPolicySource.class)
  @Conditional(PolicySwitch.MtaSts.class)
  public MtaStsResolver mailtlsMtaStsResolver(
      MailtlsProperties properties,
      DnsResolver dns,
      ObjectProvider<MailtlsPolicyFetcherCustomizer> customizers,
      MailtlsRefreshScheduler refresh) {
    MailtlsProperties.MtaSts sts = properties.getMtaSts();
    Path directory =
        SpringSupport.required(
            "mailtls.mta-sts.store-directory",
            sts.getStoreDirectory(),
            " while MTA-STS is on (mailtls.mta-sts.enabled=false turns it off)");
    try {
      Files.createDirectories(directory);
    } catch (IOException e) {
      throw new InvalidMailtlsPropertyException(
          "mailtls.mta-sts.store-directory", "cannot create the directory " + directory, e);
    }
    OkHttpPolicyFetcher.Builder fetcher = OkHttpPolicyFetcher.builder().dns(dns);
    customizers.orderedStream().forEach(c -> c.customize(fetcher));
    MtaStsResolver.Builder b =
        MtaStsResolver.builder()
            .dns(dns)
            .fetcher(fetcher.build())
            .store(new FilePolicyStore(directory.resolve(StandardTransport.POLICY_FILE)))
            .scheduler(refresh.executor());
    SpringSupport.build(
        "mailtls.mta-sts.refresh-interval", () -> b.refreshInterval(sts.getRefreshInterval()));
    SpringSupport.build(
        "mailtls.mta-sts.refresh-before", () -> b.refreshBefore(sts.getRefreshBefore()));
    return SpringSupport.build("mailtls.mta-sts", b::build);
  }

  /** The DANE provider on the same resolver. */
  @Bean
  @ConditionalOnMissingBean(DaneProvider.class)
  @Conditional(PolicySwitch.Dane.class)
  public DaneResolver mailtlsDaneResolver(DnsResolver dns) {
    return DaneResolver.builder().dns(dns).build();
  }

  /** The transport, from the beans above, the properties and the customizers. */
  @Bean
  @ConditionalOnMissingBean
  public SecureSmtpTransport mailtlsTransport(
      MailtlsProperties properties,
      DnsResolver dns,
      SenderPolicy senderPolicy,
      ObjectProvider<MtaStsPolicySource> mtaSts,
      ObjectProvider<DaneProvider> dane,
      ObjectProvider<DestinationPolicyMap> policyMap,
      ObjectProvider<MailtlsTransportCustomizer> customizers) {
    String helo =
        SpringSupport.required(
            "mailtls.helo-name",
            SpringSupport.blankToNull(properties.getHeloName()),
            ": this host's fully qualified name");
    SecureSmtpTransport.Builder b = SecureSmtpTransport.builder().dns(dns);
    SpringSupport.build("mailtls.helo-name", () -> b.heloName(helo));
    b.senderPolicy(senderPolicy);
    if (properties.getMtaSts().isEnabled()) {
      b.mtaSts(
          SpringSupport.required(
              "mailtls.mta-sts", mtaSts.getIfAvailable(), ": no MTA-STS policy source bean"));
    } else {
      b.withoutMtaSts();
    }
    if (properties.getDane().isEnabled()) {
      b.dane(
          SpringSupport.required("mailtls.dane", dane.getIfAvailable(), ": no DANE provider bean"));
    } else {
      b.withoutDane();
    }
    DestinationPolicyMap map = policyMap.getIfAvailable();
    if (map == null
        && properties.getPolicyMap().getFile() == null
        && properties.getPolicyMap().getCheckInterval() != null) {
      // A reload interval without a file: the operator meant a map (a file property lost in
      // another profile, say), whose overrides would otherwise be silently absent.
      throw new InvalidMailtlsPropertyException(
          "mailtls.policy-map.file",
          "it is required when mailtls.policy-map.check-interval is set; without a map, no"
              + " destination policy applies");
    }
    MailtlsProperties.Relay relay = properties.getRelay();
    String relayHost = relay.getHost();
    if (map != null) {
      if (relayHost != null && !relayHost.isBlank()) {
        throw new InvalidMailtlsPropertyException(
            "mailtls.policy-map.file",
            "not with mailtls.relay.host: the relay takes every message, so the map would never be"
                + " consulted; give per-destination relays as map entries (relay=HOST) instead");
      }
      b.destinationPolicies(map);
    }
    if (relayHost != null && !relayHost.isBlank()) {
      if (SpringSupport.isIpAddress(relayHost)) {
        // Looked up in DNS as a name, it would defer every message (NXDOMAIN); and the relay's
        // certificate is verified against its host name.
        throw new InvalidMailtlsPropertyException(
            "mailtls.relay.host",
            "\""
                + relayHost
                + "\" is an IP address, not a host name (RFC 1123 §2.1): give the relay's host"
                + " name, which its certificate is verified against");
      }
      b.relay(SpringSupport.build("mailtls.relay", () -> relay(relay, relayHost)));
    } else if (relay.getPort() != null
        || given(relay.getUsername())
        || given(relay.getPassword())
        || relay.isImplicitTls()
        || relay.isAllowPlaintextAuth()) {
      // Without a host every other relay setting would be ignored and mail would go to the
      // recipients' MX hosts: a relay half configured (a misspelt host property) fails start-up.
      throw new InvalidMailtlsPropertyException(
          "mailtls.relay.host",
          "it is required when any other mailtls.relay.* property is set; without a relay, mail"
              + " goes to the recipients' MX hosts");
    }
    MailtlsProperties.Timeouts t = properties.getTimeouts();
    b.timeouts(
        SpringSupport.build(
            "mailtls.timeouts",
            () ->
                new SmtpTimeouts(
                    t.getConnect(),
                    t.getGreeting(),
                    t.getCommand(),
                    t.getStartTls(),
                    t.getDataInitiation(),
                    t.getDataBlock(),
                    t.getDataTermination(),
                    t.getMinDataRate())));
    MailtlsProperties.Pool pool = properties.getPool();
    // Each bound is checked here, naming its property: the builder checks them only in build(),
    // with its own field names, and takes an idle time of zero as "keep no session idle", which
    // would turn reuse off silently while mailtls.pool.reuse-connections says on.
    b.maxSessionsPerDestination(
        SpringSupport.positive(
            "mailtls.pool.max-sessions-per-destination", pool.getMaxSessionsPerDestination()));
    if (pool.isReuseConnections()) {
      Duration idleTime =
          SpringSupport.positive(
              "mailtls.pool.idle-time",
              pool.getIdleTime(),
              " (mailtls.pool.reuse-connections=false turns reuse off)");
      Duration reuseTimeLimit =
          SpringSupport.positive(
              "mailtls.pool.reuse-time-limit",
              pool.getReuseTimeLimit(),
              " (mailtls.pool.reuse-connections=false turns reuse off)");
      b.connectionReuse(idleTime, reuseTimeLimit);
      Integer max = pool.getMaxTransactionsPerSession();
      if (max != null) {
        b.maxTransactionsPerSession(
            SpringSupport.positive("mailtls.pool.max-transactions-per-session", max));
      }
    } else {
      b.noConnectionReuse();
    }
    b.maxAttemptsPerDomain(
        SpringSupport.positive(
            "mailtls.pool.max-attempts-per-domain", pool.getMaxAttemptsPerDomain()));
    Integer concurrent = pool.getMaxConcurrentDeliveries();
    if (concurrent != null) {
      b.maxConcurrentDeliveries(
          SpringSupport.positive("mailtls.pool.max-concurrent-deliveries", concurrent));
    }
    customizers.orderedStream().forEach(c -> c.customize(b));
    return b.build();
  }

  /**
   * Fails start-up when a {@code spring.mail.*} setting of Boot's sender refuses plaintext
   * (STARTTLS required, RFC 3207; TLS from the first byte, RFC 8314 §3.3) and {@code
   * mailtls.sender.default-level} is not set: this sender reads no {@code spring.mail.*}, so its
   * default, {@code opportunistic}, would deliver in plaintext to an MX host without STARTTLS. A
   * relay ({@code mailtls.relay.host}) always requires PKIX-verified TLS, so this is for delivery
   * to the MX hosts only.
   */
  private static void refuseBootsTlsOnlySettingsWithoutALevel(Environment environment) {
    Binder binder = Binder.get(environment);
    if (binder.bind("mailtls.sender.default-level", String.class).isBound()) {
      return; // the level is the application's explicit choice
    }
    String refusing = null;
    String protocol = environment.getProperty("spring.mail.protocol");
    if (protocol != null && protocol.strip().equalsIgnoreCase("smtps")) {
      refusing = "spring.mail.protocol=smtps";
    } else {
      Map<String, String> mail =
          binder
              .bind("spring.mail.properties", Bindable.mapOf(String.class, String.class))
              .orElse(Map.of());
      for (Map.Entry<String, String> e : mail.entrySet()) {
        String key = e.getKey().strip().toLowerCase(Locale.ROOT);
        boolean on = e.getValue() != null && e.getValue().strip().equalsIgnoreCase("true");
        // Boot's smtps sender is TLS from the first byte, whatever its settings say; so is its
        // smtp sender with ssl.enable, and with starttls.required it never goes on without TLS.
        if (key.startsWith("mail.smtps.")
            || (on
                && (key.equals("mail.smtp.starttls.required")
                    || key.equals("mail.smtp.ssl.enable")))
            || (key.equals("mail.smtp.socketfactory.class") && isSslSocketFactory(e.getValue()))) {
          // The name only: a value under spring.mail.properties may be a secret.
          refusing = "spring.mail.properties." + e.getKey();
          break;
        }
      }
    }
    if (refusing != null) {
      throw new InvalidMailtlsPropertyException(
          "mailtls.sender.default-level",
          refusing
              + " (set) refuses plaintext for Spring Boot's mail sender, but this starter replaces it and"
              + " does not read spring.mail.*: set mailtls.sender.default-level (enforced or"
              + " stricter to keep refusing plaintext, or opportunistic to accept it)");
    }
  }

  /**
   * Whether {@code className} names an {@link SSLSocketFactory}: as Angus's socket factory, it
   * makes every connection TLS from the first byte (RFC 8314 §3.3).
   */
  private static boolean isSslSocketFactory(@Nullable String className) {
    if (className == null || className.isBlank()) {
      return false;
    }
    try {
      Class<?> c =
          ClassUtils.forName(className.strip(), MailtlsAutoConfiguration.class.getClassLoader());
      return SSLSocketFactory.class.isAssignableFrom(c);
    } catch (ClassNotFoundException | LinkageError e) {
      return false; // Boot's sender could not have used it either
    }
  }

  /** Whether a string property is set to something other than blanks. */
  private static boolean given(@Nullable String value) {
    return value != null && !value.isBlank();
  }

  private static SmartHost relay(MailtlsProperties.Relay relay, String host) {
    SmartHost.Builder b = SmartHost.builder(host);
    Integer port = relay.getPort();
    if (port != null) {
      b.port(port);
    }
    if (relay.isImplicitTls()) {
      b.implicitTls(); // on 465 unless a port is given
    }
    // Blank counts as unset, as for the host (the ${SMTP_USER:} idiom with the variable unset);
    // one without the other fails naming the missing one, rather than AUTH with half of it or, for
    // a password alone, no AUTH without a word.
    String user = relay.getUsername();
    String password = relay.getPassword();
    if (given(user) && !given(password)) {
      throw new InvalidMailtlsPropertyException(
          "mailtls.relay.password", "it is required with mailtls.relay.username");
    }
    if (given(password) && !given(user)) {
      throw new InvalidMailtlsPropertyException(
          "mailtls.relay.username", "it is required with mailtls.relay.password");
    }
    if (user != null && password != null && given(user)) {
      b.credentials(user, password);
    }
    if (relay.isAllowPlaintextAuth()) {
      b.allowPlaintextAuth();
    }
    return b.build();
  }

  /**
   * The application's {@link JavaMailSender}, named {@code mailSender} as Spring Boot's own, backed
   * by the transport, its messages in {@code mailtls.default-encoding}. Refuses {@code
   * spring.mail.host} or {@code spring.mail.jndi-name} without {@code mailtls.relay.host}: they
   * configured a relay for the sender this one replaces; and, without a relay, a {@code
   * spring.mail.*} setting that refused plaintext while {@code mailtls.sender.default-level} is
   * unset.
   */
  @Bean
  @ConditionalOnMissingBean(JavaMailSender.class)
  public MailtlsJavaMailSender mailSender(
      SecureSmtpTransport transport, MailtlsProperties properties, Environment environment) {
    String relayHost = properties.getRelay().getHost();
    if (relayHost == null || relayHost.isBlank()) {
      for (String bootSetting : List.of("spring.mail.host", "spring.mail.jndi-name")) {
        String value = environment.getProperty(bootSetting);
        if (value != null && !value.isBlank()) {
          // The application configured Boot's sender to relay; this sender replaces it and would
          // go to the recipients' MX hosts instead, with the relay's credentials unused.
          throw new InvalidMailtlsPropertyException(
              "mailtls.relay.host",
              bootSetting
                  + " is set, but this starter replaces Spring Boot's mail sender and does not"
                  + " read spring.mail.*: set mailtls.relay.host (and mailtls.relay.*) to relay"
                  + " through that server, or remove "
                  + bootSetting
                  + " to deliver to the recipients' MX hosts");
        }
      }
    }
    if (relayHost == null || relayHost.isBlank()) {
      refuseBootsTlsOnlySettingsWithoutALevel(environment);
    }
    boolean requireTls = properties.getSender().isRequireTls();
    // A charset the JVM does not know, or an empty value, already failed in Boot's binder.
    Charset encoding = properties.getDefaultEncoding();
    MailtlsJavaMailSender sender =
        SpringSupport.build(
            "mailtls.default-encoding",
            () -> new MailtlsJavaMailSender(transport, requireTls, encoding));
    String envelopeFrom = properties.getSender().getEnvelopeFrom();
    if (envelopeFrom == null) {
      refuseBootsEnvelopeSender(environment);
      return withDsn(sender, properties.getSender().getDsn(), environment);
    }
    return withDsn(
        SpringSupport.build(
            "mailtls.sender.envelope-from", () -> sender.withEnvelopeSender(envelopeFrom)),
        properties.getSender().getDsn(),
        environment);
  }

  /**
   * {@code sender} asking for delivery status notifications (RFC 3461) as {@code
   * mailtls.sender.dsn.*} says ({@link MailtlsJavaMailSender#withDsn}). Fails start-up for NEVER
   * beside another condition (RFC 3461 §4.1), and for Boot's {@code mail.smtp.dsn.notify} or {@code
   * mail.smtp.dsn.ret} without the mailtls property: this sender reads no {@code spring.mail.*},
   * and would send every message without the request Boot's sender made.
   */
  private static MailtlsJavaMailSender withDsn(
      MailtlsJavaMailSender sender, MailtlsProperties.Dsn dsn, Environment environment) {
    Map<String, String> mail =
        Binder.get(environment)
            .bind("spring.mail.properties", Bindable.mapOf(String.class, String.class))
            .orElse(Map.of());
    for (String key : mail.keySet()) {
      String k = key.strip().toLowerCase(Locale.ROOT);
      String property;
      if (k.equals("mail.smtp.dsn.notify") && dsn.getNotify().isEmpty()) {
        property = "mailtls.sender.dsn.notify";
      } else if (k.equals("mail.smtp.dsn.ret") && dsn.getRet() == null) {
        property = "mailtls.sender.dsn.ret";
      } else {
        continue;
      }
      throw new InvalidMailtlsPropertyException(
          property,
          "spring.mail.properties."
              + key
              + " (set) asked Spring Boot's mail sender for delivery status notifications, but"
              + " this starter replaces it and does not read spring.mail.*: set "
              + property
              + " to the same value");
    }
    if (dsn.getNotify().isEmpty() && dsn.getRet() == null && dsn.isOriginalRecipients()) {
      return sender; // nothing to add to a message's own options
    }
    if (new HashSet<>(dsn.getNotify()).size() < dsn.getNotify().size()) {
      // RFC 3461 §4.1 lists each condition once; as the Jakarta provider's
      // mail.smtp.dsn.notify, a repeat is an error rather than silently merged.
      throw new InvalidMailtlsPropertyException(
          "mailtls.sender.dsn.notify",
          "a condition is given twice in "
              + dsn.getNotify()
              + " (RFC 3461 §4.1: NEVER, or each of SUCCESS, FAILURE, DELAY once)");
    }
    DsnRequest request =
        SpringSupport.build(
            "mailtls.sender.dsn.notify",
            () ->
                new DsnRequest(
                    Set.copyOf(dsn.getNotify()),
                    Optional.ofNullable(dsn.getRet()),
                    Optional.empty(),
                    dsn.isOriginalRecipients()));
    return sender.withDsn(request);
  }

  /**
   * Fails start-up when Boot's sender was given an envelope sender ({@code
   * spring.mail.properties.mail.smtp.from}, a bounce address) and {@code
   * mailtls.sender.envelope-from} is unset: this sender reads no {@code spring.mail.*}, and would
   * send every bounce to the {@code Sender} or {@code From} mailbox instead, and take the TLS level
   * of that mailbox's domain.
   */
  private static void refuseBootsEnvelopeSender(Environment environment) {
    Map<String, String> mail =
        Binder.get(environment)
            .bind("spring.mail.properties", Bindable.mapOf(String.class, String.class))
            .orElse(Map.of());
    for (String key : mail.keySet()) {
      if (key.strip().equalsIgnoreCase("mail.smtp.from")) {
        throw new InvalidMailtlsPropertyException(
            "mailtls.sender.envelope-from",
            "spring.mail.properties."
                + key
                + " (set) gave Spring Boot's mail sender an envelope sender, but this starter"
                + " replaces it and does not read spring.mail.*: set mailtls.sender.envelope-from"
                + " to the same address");
      }
    }
  }
}
