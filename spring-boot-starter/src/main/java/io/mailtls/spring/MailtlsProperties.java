package io.mailtls.spring;

import io.mailtls.core.DnssecMode;
import io.mailtls.core.DsnRequest;
import io.mailtls.core.TlsLevel;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;

/**
 * The {@code mailtls.*} properties (docs/spring-boot.md has the table). Only {@code
 * mailtls.helo-name} and, while MTA-STS is on, {@code mailtls.mta-sts.store-directory} are
 * required; everything else has the default of the mailtls builders. Turning MTA-STS or DANE off
 * takes an explicit {@code enabled=false}. Mutable, as Spring binds it; not thread-safe.
 */
// A property under mailtls.* that binds to nothing (a misspelt name) fails start-up, instead of a
// setting the application believes in being silently ignored.
@ConfigurationProperties(prefix = "mailtls", ignoreUnknownFields = false)
public class MailtlsProperties {

  /** The EHLO name: this host's fully qualified domain name (RFC 5321 §4.1.1.1). Required. */
  private @Nullable String heloName;

  /**
   * The charset of the subject and text of a SimpleMailMessage, and of what a MimeMessageHelper
   * made without an encoding writes into a message of the sender's createMimeMessage(), as Spring
   * Boot's spring.mail.default-encoding. Jakarta Mail's own default follows the JVM's file.encoding
   * (US-ASCII under a POSIX locale).
   */
  private Charset defaultEncoding = StandardCharsets.UTF_8;

  private final Sender sender = new Sender();
  private final PolicyMap policyMap = new PolicyMap();
  private final Dns dns = new Dns();
  private final MtaSts mtaSts = new MtaSts();
  private final Dane dane = new Dane();
  private final Relay relay = new Relay();
  private final Timeouts timeouts = new Timeouts();
  private final Pool pool = new Pool();
  private final Health health = new Health();

  public @Nullable String getHeloName() {
    return heloName;
  }

  public void setHeloName(@Nullable String heloName) {
    this.heloName = heloName;
  }

  public Charset getDefaultEncoding() {
    return defaultEncoding;
  }

  public void setDefaultEncoding(Charset defaultEncoding) {
    this.defaultEncoding = defaultEncoding;
  }

  public Sender getSender() {
    return sender;
  }

  public PolicyMap getPolicyMap() {
    return policyMap;
  }

  public Dns getDns() {
    return dns;
  }

  public MtaSts getMtaSts() {
    return mtaSts;
  }

  public Dane getDane() {
    return dane;
  }

  public Relay getRelay() {
    return relay;
  }

  public Timeouts getTimeouts() {
    return timeouts;
  }

  public Pool getPool() {
    return pool;
  }

  public Health getHealth() {
    return health;
  }

  /** The sender's TLS levels ({@code mailtls.sender.*}). */
  public static class Sender {
    /**
     * The TLS level for sender domains without an entry in levels: opportunistic, enforced,
     * sts-required or dane-required.
     */
    private TlsLevel defaultLevel = TlsLevel.OPPORTUNISTIC;

    /**
     * The TLS level per sending domain (the domain of the envelope sender), e.g.
     * mailtls.sender.levels[bank.example]=enforced.
     */
    private Map<String, TlsLevel> levels = new LinkedHashMap<>();

    /**
     * Whether every message asks for REQUIRETLS (RFC 8689): only MX hosts authenticated by DANE or
     * by PKIX under MTA-STS that offer REQUIRETLS get it; where none does, it is bounced (5.7.30),
     * or deferred (4.7.30) while a later try may still find one.
     */
    private boolean requireTls;

    /**
     * The envelope sender (MAIL FROM) of every message, e.g. bounces@example.org, or <> for the
     * null reverse-path; its domain selects the TLS level. An SMTPMessage's own envelope-from wins.
     * Unset: the Sender, else the first From mailbox.
     */
    private @Nullable String envelopeFrom;

    private final Dsn dsn = new Dsn();

    public Dsn getDsn() {
      return dsn;
    }

    public @Nullable String getEnvelopeFrom() {
      return envelopeFrom;
    }

    public void setEnvelopeFrom(@Nullable String envelopeFrom) {
      this.envelopeFrom = envelopeFrom;
    }

    public boolean isRequireTls() {
      return requireTls;
    }

    public void setRequireTls(boolean requireTls) {
      this.requireTls = requireTls;
    }

    public TlsLevel getDefaultLevel() {
      return defaultLevel;
    }

    public void setDefaultLevel(TlsLevel defaultLevel) {
      this.defaultLevel = defaultLevel;
    }

    public Map<String, TlsLevel> getLevels() {
      return levels;
    }

    public void setLevels(Map<String, TlsLevel> levels) {
      this.levels = levels;
    }
  }

  /**
   * The request for delivery status notifications (RFC 3461) of every message ({@code
   * mailtls.sender.dsn.*}), as Angus Mail's {@code mail.smtp.dsn.*}: each option an {@code
   * SMTPMessage} sets wins.
   */
  public static class Dsn {
    /**
     * When every message asks to be notified (NOTIFY, RFC 3461 §4.1): never, or any of success,
     * failure, delay. Unset: the server's default (failure and delay). Passed on where the server
     * advertises DSN.
     */
    private List<DsnRequest.Notify> notify = new ArrayList<>();

    /**
     * What a failure notification returns of every message (RET, RFC 3461 §4.3): full or hdrs.
     * Unset: the server's choice.
     */
    private DsnRequest.@Nullable Ret ret;

    /**
     * Whether each RCPT TO of a message that asks for notifications carries ORCPT (RFC 3461 §4.2),
     * the recipient as given.
     */
    private boolean originalRecipients = true;

    public List<DsnRequest.Notify> getNotify() {
      return notify;
    }

    public void setNotify(List<DsnRequest.Notify> notify) {
      this.notify = notify;
    }

    public DsnRequest.@Nullable Ret getRet() {
      return ret;
    }

    public void setRet(DsnRequest.@Nullable Ret ret) {
      this.ret = ret;
    }

    public boolean isOriginalRecipients() {
      return originalRecipients;
    }

    public void setOriginalRecipients(boolean originalRecipients) {
      this.originalRecipients = originalRecipients;
    }
  }

  /** The operator's destination policy map ({@code mailtls.policy-map.*}, docs/policy-map.md). */
  public static class PolicyMap {
    /** The policy map file (docs/policy-map.md). None by default. */
    private @Nullable Path file;

    /**
     * How often the file is checked for changes and reloaded without a restart; unset: read once at
     * start-up.
     */
    private @Nullable Duration checkInterval;

    public @Nullable Path getFile() {
      return file;
    }

    public void setFile(@Nullable Path file) {
      this.file = file;
    }

    public @Nullable Duration getCheckInterval() {
      return checkInterval;
    }

    public void setCheckInterval(@Nullable Duration checkInterval) {
      this.checkInterval = checkInterval;
    }
  }

  /** The DNS resolver ({@code mailtls.dns.*}). */
  public static class Dns {
    /**
     * How DNSSEC states are learnt: validate (in process, from the trust anchors) or trust-ad (the
     * AD bit of a validating resolver on loopback).
     */
    private DnssecMode dnssecMode = DnssecMode.VALIDATE;

    /**
     * The recursive resolvers to ask, in order, as IP addresses with an optional port (192.0.2.53,
     * 192.0.2.53:5353, [2001:db8::53]:53); default the system's (validate mode only).
     */
    private List<String> resolvers = new ArrayList<>();

    /** A zone file of DNSSEC trust anchors (DS or DNSKEY records); default the IANA root's. */
    private @Nullable Path trustAnchors;

    /** In trust-ad mode, whether a non-loopback resolver may be trusted. */
    private boolean allowRemoteAdTrust;

    /** The time bound of one DNS query. */
    private @Nullable Duration queryTimeout;

    /** The time bound of one lookup, retries and DNSSEC chain included. */
    private @Nullable Duration lookupTimeout;

    public DnssecMode getDnssecMode() {
      return dnssecMode;
    }

    public void setDnssecMode(DnssecMode dnssecMode) {
      this.dnssecMode = dnssecMode;
    }

    public List<String> getResolvers() {
      return resolvers;
    }

    public void setResolvers(List<String> resolvers) {
      this.resolvers = resolvers;
    }

    public @Nullable Path getTrustAnchors() {
      return trustAnchors;
    }

    public void setTrustAnchors(@Nullable Path trustAnchors) {
      this.trustAnchors = trustAnchors;
    }

    public boolean isAllowRemoteAdTrust() {
      return allowRemoteAdTrust;
    }

    public void setAllowRemoteAdTrust(boolean allowRemoteAdTrust) {
      this.allowRemoteAdTrust = allowRemoteAdTrust;
    }

    public @Nullable Duration getQueryTimeout() {
      return queryTimeout;
    }

    public void setQueryTimeout(@Nullable Duration queryTimeout) {
      this.queryTimeout = queryTimeout;
    }

    public @Nullable Duration getLookupTimeout() {
      return lookupTimeout;
    }

    public void setLookupTimeout(@Nullable Duration lookupTimeout) {
      this.lookupTimeout = lookupTimeout;
    }
  }

  /** Recipients' MTA-STS policies, RFC 8461 ({@code mailtls.mta-sts.*}). */
  public static class MtaSts {
    /** Whether recipients' MTA-STS policies are honoured. Turning it off must be explicit. */
    private boolean enabled = true;

    /**
     * The directory of the policy cache, which survives restarts (RFC 8461 §10.2). Required while
     * MTA-STS is enabled; created if missing.
     */
    private @Nullable Path storeDirectory;

    /** Refresh a cached policy at most this long after its fetch (RFC 8461 §3.3). */
    private Duration refreshInterval = Duration.ofDays(1);

    /** Refresh a cached policy at least this long before it expires. */
    private Duration refreshBefore = Duration.ofHours(1);

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    public @Nullable Path getStoreDirectory() {
      return storeDirectory;
    }

    public void setStoreDirectory(@Nullable Path storeDirectory) {
      this.storeDirectory = storeDirectory;
    }

    public Duration getRefreshInterval() {
      return refreshInterval;
    }

    public void setRefreshInterval(Duration refreshInterval) {
      this.refreshInterval = refreshInterval;
    }

    public Duration getRefreshBefore() {
      return refreshBefore;
    }

    public void setRefreshBefore(Duration refreshBefore) {
      this.refreshBefore = refreshBefore;
    }
  }

  /** Recipients' DANE TLSA records, RFC 7672 ({@code mailtls.dane.*}). */
  public static class Dane {
    /** Whether recipients' DANE TLSA records are honoured. Turning it off must be explicit. */
    private boolean enabled = true;

    public boolean isEnabled() {
      return enabled;
    }

    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }
  }

  /** A relay (smart host) for all mail instead of the recipients' MX hosts. */
  public static class Relay {
    /**
     * The relay's host name, not an IP address (its certificate is verified against the name);
     * unset or blank: deliver to the recipients' MX hosts.
     */
    private @Nullable String host;

    /** The relay's port; unset: 587 (submission with STARTTLS), or 465 with implicit-tls. */
    private @Nullable Integer port;

    /** Whether TLS starts on connect (RFC 8314 §3.3) rather than with STARTTLS. */
    private boolean implicitTls;

    /**
     * The AUTH user name; unset or blank (with the password unset or blank too): no authentication.
     */
    private @Nullable String username;

    /** The AUTH password; required with a user name, and only with one. */
    private @Nullable String password;

    /** Whether credentials may be sent without TLS: only for a local test server. */
    private boolean allowPlaintextAuth;

    public @Nullable String getHost() {
      return host;
    }

    public void setHost(@Nullable String host) {
      this.host = host;
    }

    public @Nullable Integer getPort() {
      return port;
    }

    public void setPort(@Nullable Integer port) {
      this.port = port;
    }

    public boolean isImplicitTls() {
      return implicitTls;
    }

    public void setImplicitTls(boolean implicitTls) {
      this.implicitTls = implicitTls;
    }

    public @Nullable String getUsername() {
      return username;
    }

    public void setUsername(@Nullable String username) {
      this.username = username;
    }

    public @Nullable String getPassword() {
      return password;
    }

    public void setPassword(@Nullable String password) {
      this.password = password;
    }

    public boolean isAllowPlaintextAuth() {
      return allowPlaintextAuth;
    }

    public void setAllowPlaintextAuth(boolean allowPlaintextAuth) {
      this.allowPlaintextAuth = allowPlaintextAuth;
    }
  }

  /** Time bounds per SMTP session step (RFC 5321 §4.5.3.2), in Spring's Duration syntax. */
  public static class Timeouts {
    /** TCP connection establishment. */
    private Duration connect = Duration.ofSeconds(30);

    /** The 220 greeting (RFC 5321 §4.5.3.2.1). */
    private Duration greeting = Duration.ofMinutes(5);

    /**
     * EHLO, MAIL, RCPT, RSET and AUTH replies (RFC 5321 §4.5.3.2.2-3); not those sent with the
     * message in one round trip, which wait as long as its final reply.
     */
    private Duration command = Duration.ofMinutes(5);

    /** The STARTTLS reply and the TLS handshake. */
    private Duration startTls = Duration.ofMinutes(5);

    /** The 354 reply to DATA (RFC 5321 §4.5.3.2.4). */
    private Duration dataInitiation = Duration.ofMinutes(2);

    /**
     * Each write of message content (RFC 5321 §4.5.3.2.5), each reply to a BDAT chunk, and the most
     * of the content transfer's budget (min-data-rate).
     */
    private Duration dataBlock = Duration.ofMinutes(3);

    /**
     * The reply to the final dot or BDAT LAST (RFC 5321 §4.5.3.2.6), and each reply before it when
     * the message goes with its envelope in one round trip.
     */
    private Duration dataTermination = Duration.ofMinutes(10);

    /**
     * The slowest pace, in octets per second, at which a message's content may go out once its
     * data-block of slack is spent, as Postfix's smtp_min_data_rate: a slower server is given up on
     * and the recipients deferred; 0 turns it off, leaving each write bounded alone.
     */
    private long minDataRate = 10240;

    public Duration getConnect() {
      return connect;
    }

    public void setConnect(Duration connect) {
      this.connect = connect;
    }

    public Duration getGreeting() {
      return greeting;
    }

    public void setGreeting(Duration greeting) {
      this.greeting = greeting;
    }

    public Duration getCommand() {
      return command;
    }

    public void setCommand(Duration command) {
      this.command = command;
    }

    public Duration getStartTls() {
      return startTls;
    }

    public void setStartTls(Duration startTls) {
      this.startTls = startTls;
    }

    public Duration getDataInitiation() {
      return dataInitiation;
    }

    public void setDataInitiation(Duration dataInitiation) {
      this.dataInitiation = dataInitiation;
    }

    public Duration getDataBlock() {
      return dataBlock;
    }

    public void setDataBlock(Duration dataBlock) {
      this.dataBlock = dataBlock;
    }

    public Duration getDataTermination() {
      return dataTermination;
    }

    public void setDataTermination(Duration dataTermination) {
      this.dataTermination = dataTermination;
    }

    public long getMinDataRate() {
      return minDataRate;
    }

    public void setMinDataRate(long minDataRate) {
      this.minDataRate = minDataRate;
    }
  }

  /** Connection reuse and concurrency limits ({@code mailtls.pool.*}). */
  public static class Pool {
    /** The most sessions open at once to one destination address. */
    private int maxSessionsPerDestination = 4;

    /** Whether idle sessions are kept for the next message to the same destination. */
    private boolean reuseConnections = true;

    /** How long an idle session is kept; positive (reuse-connections=false turns reuse off). */
    private Duration idleTime = Duration.ofSeconds(5);

    /** How long after it was opened a session may still take a new message. */
    private Duration reuseTimeLimit = Duration.ofMinutes(5);

    /** The most messages one reused session carries; unset: no cap. */
    private @Nullable Integer maxTransactionsPerSession;

    /** The most connection attempts (MX addresses) per domain per message. */
    private int maxAttemptsPerDomain = 5;

    /**
     * The most domain deliveries in progress at once over the whole transport; unset: mailtls's
     * default.
     */
    private @Nullable Integer maxConcurrentDeliveries;

    public int getMaxSessionsPerDestination() {
      return maxSessionsPerDestination;
    }

    public void setMaxSessionsPerDestination(int maxSessionsPerDestination) {
      this.maxSessionsPerDestination = maxSessionsPerDestination;
    }

    public boolean isReuseConnections() {
      return reuseConnections;
    }

    public void setReuseConnections(boolean reuseConnections) {
      this.reuseConnections = reuseConnections;
    }

    public Duration getIdleTime() {
      return idleTime;
    }

    public void setIdleTime(Duration idleTime) {
      this.idleTime = idleTime;
    }

    public Duration getReuseTimeLimit() {
      return reuseTimeLimit;
    }

    public void setReuseTimeLimit(Duration reuseTimeLimit) {
      this.reuseTimeLimit = reuseTimeLimit;
    }

    public @Nullable Integer getMaxTransactionsPerSession() {
      return maxTransactionsPerSession;
    }

    public void setMaxTransactionsPerSession(@Nullable Integer maxTransactionsPerSession) {
      this.maxTransactionsPerSession = maxTransactionsPerSession;
    }

    public int getMaxAttemptsPerDomain() {
      return maxAttemptsPerDomain;
    }

    public void setMaxAttemptsPerDomain(int maxAttemptsPerDomain) {
      this.maxAttemptsPerDomain = maxAttemptsPerDomain;
    }

    public @Nullable Integer getMaxConcurrentDeliveries() {
      return maxConcurrentDeliveries;
    }

    public void setMaxConcurrentDeliveries(@Nullable Integer maxConcurrentDeliveries) {
      this.maxConcurrentDeliveries = maxConcurrentDeliveries;
    }
  }

  /** The health indicator's DNSSEC self-check ({@code mailtls.health.*}). */
  public static class Health {
    /** A DNSSEC-signed name that must resolve SECURE (TXT lookup); default the root zone. */
    private String signedName = ".";

    /** A name with deliberately broken signatures that a validating resolver must refuse. */
    private String bogusName = "dnssec-failed.org";

    public String getSignedName() {
      return signedName;
    }

    public void setSignedName(String signedName) {
      this.signedName = signedName;
    }

    public String getBogusName() {
      return bogusName;
    }

    public void setBogusName(String bogusName) {
      this.bogusName = bogusName;
    }
  }
}
