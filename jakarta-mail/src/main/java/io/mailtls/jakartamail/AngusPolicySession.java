package io.mailtls.jakartamail;

import io.mailtls.core.DaneProvider;
import io.mailtls.core.DeliveryPlan;
import io.mailtls.core.DomainName;
import io.mailtls.core.PlannedHost;
import io.mailtls.core.TlsContextFactory;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.TransportPolicyResolver;
import io.mailtls.core.internal.tls.TlsSupport;
import io.mailtls.jakartamail.internal.AngusPolicyProvider;
import io.mailtls.jakartamail.internal.AngusProperties;
import io.mailtls.jakartamail.internal.PolicySocketFactory;
import jakarta.mail.NoSuchProviderException;
import jakarta.mail.Session;
import java.net.InetAddress;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Keeps Angus Mail's own {@code SMTPTransport} while mailtls supplies the policy: plan the MX hosts
 * with {@link TransportPolicyResolver}, then send through a Jakarta Mail {@link Session} configured
 * for one planned host, whose STARTTLS and certificate checks follow the host's {@link
 * TlsRequirement}.
 *
 * <pre>{@code
 * TransportPolicyResolver resolver = TransportPolicyResolver.builder().dns(dns)
 *     .mtaSts(mtaSts).dane(dane).build();
 * AngusPolicySession policy = AngusPolicySession.builder().build();
 * DeliveryPlan plan = resolver.plan(NextHop.parse("example.org"), TlsLevel.ENFORCED);
 * Properties base = new Properties();
 * base.setProperty("mail.smtp.localhost", "mail.example.com");   // the EHLO name
 * base.setProperty("mail.smtp.connectiontimeout", "30000");      // Angus waits for ever by default
 * base.setProperty("mail.smtp.timeout", "300000");
 * MessagingException last = null;
 * for (Session session : policy.sessionsFor(plan, 25, base)) {  // empty if plan.failure() is set
 *   try (Transport t = session.getTransport("smtp")) {
 *     t.connect();
 *     t.sendMessage(message, recipientsAtExampleOrg);
 *     last = null;
 *     break;
 *   } catch (MessagingException e) {
 *     last = e;                                                   // next address, next MX host
 *   }
 * }
 * }</pre>
 *
 * <p>Credentials never go over plaintext: the session's transport is {@link AngusPolicyTransport}
 * (named in {@code mail.smtp.class}), Angus's {@code SMTPTransport} except that a connection given
 * a user and a password requires STARTTLS, however they are given ({@code mail.smtp.auth=true},
 * {@code Transport.connect(user, password)}, {@code connect(host, port, user, password)}, {@code
 * Transport.send(message, user, password)}): a host without STARTTLS, also an opportunistic one,
 * gets no {@code AUTH} and no {@code MAIL}, and Angus throws. A base naming another {@code
 * mail.smtp.class} is refused with {@link IllegalArgumentException}.
 *
 * <p>Per requirement, the session sets {@code mail.smtp.starttls.enable=true}, {@code
 * mail.smtp.starttls.required} to {@link TlsRequirement#requiresTls()} (always {@code true} when
 * the base sets {@code mail.smtp.auth=true}), {@code mail.smtp.ssl.protocols=TLSv1.3 TLSv1.2}, and
 * puts in {@code mail.smtp.ssl.socketFactory} (an object) a factory that layers TLS as mailtls's
 * transport does, with mailtls's trust decision:
 *
 * <ul>
 *   <li>{@link TlsRequirement.Opportunistic}: STARTTLS when offered, any certificate; plaintext
 *       when the server offers no STARTTLS.
 *   <li>{@link TlsRequirement.Encrypted}: STARTTLS mandatory (a server without it gets no {@code
 *       MAIL}: Angus throws), any certificate.
 *   <li>{@link TlsRequirement.Pkix}: STARTTLS mandatory, the chain verified against the trust store
 *       and a DNS-ID matching a reference name (RFC 6125 §6.4, as the transport checks it).
 *   <li>{@link TlsRequirement.Dane}: STARTTLS mandatory, the peer authenticated by the {@link
 *       DaneProvider} given to the builder (RFC 7672 §3), SNI the TLSA base domain (§8.1); without
 *       a provider such a host is refused with {@link IllegalStateException}.
 * </ul>
 *
 * <p>{@code mail.smtp.ssl.checkserveridentity} is {@code false}: names are checked by the trust
 * managers above against the planned names, and Angus's own check (against {@code mail.smtp.host},
 * which here is an IP address) would be wrong for DANE-EE, which ignores names (RFC 7671 §5.1).
 * Every other {@code mail.smtp.ssl.*}, {@code mail.smtp.starttls.*} and {@code
 * mail.smtp.socketFactory*} property of the base is dropped, so {@code mail.smtp.ssl.trust} and
 * friends cannot loosen the policy.
 *
 * <p><b>Limits of this path</b> (what {@link io.mailtls.core.SecureSmtpTransport} does and Angus
 * does not):
 *
 * <ul>
 *   <li>One host, one address per session: Angus connects to {@code mail.smtp.host}, set to an
 *       address mailtls resolved (so no second, unvalidated DNS lookup), and knows nothing of the
 *       other MX hosts. Failover, and deciding which failures are worth another host, is the
 *       caller's loop.
 *   <li>No plaintext retry for {@code Opportunistic}: when STARTTLS is offered but the handshake
 *       fails, Angus fails the send; mailtls's transport would retry in plaintext on a fresh
 *       connection (RFC 7435).
 *   <li>No per-recipient report, no decision record, no events: Angus throws {@code
 *       SendFailedException} with its valid, invalid and unsent addresses. MTA-STS {@code testing}
 *       checks ({@link PlannedHost#reportOnly()}) are not run, so nothing feeds TLS-RPT.
 *   <li>The plan is a snapshot: re-plan for each message (policies and TLSA records change; the
 *       resolver caches MTA-STS policies as RFC 8461 §5.1 allows).
 *   <li>SMTP itself (extensions, 8-bit and SMTPUTF8 handling, timeouts, connection reuse) is
 *       Angus's, configured by the base properties.
 *   <li>Angus Mail is the application's: on the module path, the aggregate {@code angus-mail} jar
 *       (module {@code org.eclipse.angus.mail}, which this module reads to extend its transport);
 *       with Angus's split jars, {@code --add-reads
 *       io.mailtls.jakartamail=org.eclipse.angus.mail.smtp}.
 * </ul>
 *
 * <p>Uses {@code io.mailtls.core.internal.tls.TlsSupport}, a documented internal seam of {@code
 * mailtls-core} (docs/design.md §4), so that this path and the transport share one TLS setup and
 * one trust decision, and no second accept-any trust manager exists.
 *
 * <p>Immutable and thread-safe; build once and share. Each session it returns is independent.
 * {@link #newBuilder()} derives a factory with some settings changed.
 */
public final class AngusPolicySession {

  private final TlsSupport tls;
  private final boolean hasDane;

  /** The settings this factory was built with, for {@link #newBuilder()}. */
  private final Builder settings;

  private AngusPolicySession(Builder b) {
    this.settings = new Builder(b);
    this.tls = new TlsSupport(b.trustStore, b.tlsContexts, Optional.ofNullable(b.dane));
    this.hasDane = b.dane != null;
  }

  /** A builder; every setting is optional. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A builder that starts with every setting of this factory, to build one that differs in some (as
   * OkHttp's {@code newBuilder()}): each setter may be called once, overriding the setting it
   * inherited. This factory is unchanged. Shared: the trust store, the TLS context factory and the
   * DANE provider, all given by the caller; sessions are independent anyway, and a factory owns
   * nothing that needs closing.
   */
  public Builder newBuilder() {
    return new Builder(settings);
  }

  /**
   * A session for every address of every planned host, in plan order: the order in which to try
   * them. Empty when the plan has no hosts (then {@link DeliveryPlan#failure()} says why).
   *
   * @throws IllegalStateException when a host requires DANE and no {@link DaneProvider} is set
   */
  public List<Session> sessionsFor(DeliveryPlan plan, int port, Properties base) {
    Objects.requireNonNull(plan, "plan");
    List<Session> out = new ArrayList<>();
    for (PlannedHost h : plan.hosts()) {
      for (InetAddress a : h.addresses()) {
        out.add(sessionFor(h, a, port, base));
      }
    }
    return out;
  }

  /**
   * {@link #sessionFor(PlannedHost, InetAddress, int, Properties)} for the host's first address.
   */
  public Session sessionFor(PlannedHost host, int port, Properties base) {
    Objects.requireNonNull(host, "host");
    return sessionFor(host, host.addresses().get(0), port, base);
  }

  /**
   * A session that connects to {@code address}, one of {@code host}'s, on {@code port} and secures
   * the connection as {@code host}'s requirement says. Use it with {@code
   * session.getTransport("smtp")}. Pass the host's own port when it has one ({@link
   * PlannedHost#port()}: a policy-map entry's relay port), else the port you deliver to (25 to MX
   * hosts).
   *
   * @param base further Angus properties (EHLO name, timeouts, authentication); not changed
   * @throws IllegalArgumentException when {@code address} is not one of the host's, the port is out
   *     of range, or {@code base} names a {@code mail.smtp.class} other than {@link
   *     AngusPolicyTransport}
   * @throws IllegalStateException when the host requires DANE and no {@link DaneProvider} is set
   */
  public Session sessionFor(PlannedHost host, InetAddress address, int port, Properties base) {
    Session session = Session.getInstance(propertiesFor(host, address, port, base));
    try {
      // mail.smtp.class names the transport; registered on the session itself too, so that it is
      // found even where Jakarta Mail cannot see this module's provider registration.
      session.setProvider(new AngusPolicyProvider());
    } catch (NoSuchProviderException e) {
      throw new IllegalStateException("cannot register " + AngusPolicyProvider.TRANSPORT_CLASS, e);
    }
    return session;
  }

  /**
   * The properties of {@link #sessionFor(PlannedHost, InetAddress, int, Properties)}, for building
   * the session yourself, e.g. with an {@code Authenticator}. They hold an object (the socket
   * factory): copy them with {@code putAll}, not through string properties. Their {@code
   * mail.smtp.class} names {@link AngusPolicyTransport}, which Jakarta Mail finds through this
   * module's provider registration ({@code META-INF/services/jakarta.mail.Provider}, {@code
   * META-INF/javamail.providers}, the module's {@code provides}); where the session's class loaders
   * cannot see those, Jakarta Mail would fall back to Angus's own transport, so register it on the
   * session, as {@link #sessionFor(PlannedHost, InetAddress, int, Properties)} does: {@code
   * session.setProvider(new Provider(Provider.Type.TRANSPORT, AngusPolicyTransport.PROTOCOL,
   * AngusPolicyTransport.class.getName(), "mailtls", null))}.
   *
   * @throws IllegalArgumentException as {@link #sessionFor(PlannedHost, InetAddress, int,
   *     Properties)}
   */
  public Properties propertiesFor(
      PlannedHost host, InetAddress address, int port, Properties base) {
    Objects.requireNonNull(host, "host");
    Objects.requireNonNull(address, "address");
    Objects.requireNonNull(base, "base");
    if (!host.addresses().contains(address)) {
      throw new IllegalArgumentException(
          address
              + " is not an address of the planned host "
              + host.name().map(DomainName::toString).orElse("(address literal)")
              + ": "
              + host.addresses());
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
    String smtpClass = base.getProperty(AngusProperties.SMTP_CLASS);
    if (smtpClass != null && !smtpClass.equals(AngusPolicyProvider.TRANSPORT_CLASS)) {
      throw new IllegalArgumentException(
          AngusProperties.SMTP_CLASS
              + "="
              + smtpClass
              + " in the base properties: the session's transport is "
              + AngusPolicyProvider.TRANSPORT_CLASS
              + ", which never sends credentials without TLS; refusing rather than using another");
    }
    TlsRequirement requirement = host.requirement();
    if (requirement instanceof TlsRequirement.Dane && !hasDane) {
      throw new IllegalStateException(
          host.name().map(DomainName::toString).orElse("the host")
              + " requires DANE (RFC 7672) and this AngusPolicySession has no DaneProvider; "
              + "refusing rather than downgrading");
    }
    // RFC 7672 §8.1: with DANE the SNI name is the TLSA base domain; otherwise the MX host name.
    Optional<DomainName> sni =
        requirement instanceof TlsRequirement.Dane d ? Optional.of(d.baseDomain()) : host.name();
    Properties p = AngusProperties.copyWithoutPolicy(base);
    p.setProperty(AngusProperties.TRANSPORT_PROTOCOL, "smtp");
    p.setProperty(AngusProperties.HOST, address.getHostAddress());
    p.setProperty(AngusProperties.PORT, Integer.toString(port));
    p.setProperty(AngusProperties.SSL_ENABLE, "false");
    p.setProperty(AngusProperties.STARTTLS_ENABLE, "true");
    // Credentials never go over plaintext (RFC 4616's security considerations; the transport's
    // relays keep the same rule): with mail.smtp.auth Angus sends AUTH whenever the server offers
    // it, also where an opportunistic host (or an attacker stripping STARTTLS) left TLS out.
    boolean auth = AngusProperties.isTrue(p, AngusProperties.AUTH);
    p.setProperty(
        AngusProperties.STARTTLS_REQUIRED, Boolean.toString(requirement.requiresTls() || auth));
    // ... and where credentials come only to connect (or Transport.send), without mail.smtp.auth,
    // which the properties cannot tell: Angus authenticates whenever it has a user and a password.
    // This transport then requires STARTTLS for that connection.
    p.setProperty(AngusProperties.SMTP_CLASS, AngusPolicyProvider.TRANSPORT_CLASS);
    p.setProperty(AngusProperties.SSL_PROTOCOLS, AngusProperties.PROTOCOLS);
    p.setProperty(AngusProperties.SSL_CHECK_SERVER_IDENTITY, "false");
    p.put(AngusProperties.SSL_SOCKET_FACTORY, new PolicySocketFactory(tls, requirement, sni));
    return p;
  }

  /**
   * Configures an {@link AngusPolicySession}. Each setter may be called once, also in a builder
   * from {@link AngusPolicySession#newBuilder()}, where it overrides the inherited setting. Not
   * thread-safe.
   */
  public static final class Builder {
    private @Nullable KeyStore trustStore;
    private TlsContextFactory tlsContexts = TlsContextFactory.JDK;
    private @Nullable DaneProvider dane;
    private final Set<String> called = new HashSet<>();

    private Builder() {}

    /** A builder with {@code from}'s settings, none of them set in this builder yet. */
    private Builder(Builder from) {
      this.trustStore = from.trustStore;
      this.tlsContexts = from.tlsContexts;
      this.dane = from.dane;
    }

    private void once(String name) {
      if (!called.add(name)) {
        throw new IllegalStateException(name + " already set");
      }
    }

    /** The roots for {@link TlsRequirement.Pkix} hosts; default the JDK's trust store. */
    public Builder trustStore(KeyStore trustStore) {
      once("trustStore");
      this.trustStore = Objects.requireNonNull(trustStore, "trustStore");
      return this;
    }

    /**
     * Authenticates {@link TlsRequirement.Dane} hosts, e.g. {@code mailtls-dane}'s {@code
     * DaneResolver}; use the one that planned them. Without it such hosts are refused.
     */
    public Builder dane(DaneProvider provider) {
      once("dane");
      this.dane = Objects.requireNonNull(provider, "provider");
      return this;
    }

    /**
     * Builds the TLS contexts (JSSE provider, client certificate); default {@link
     * TlsContextFactory#JDK}. The trust manager stays mailtls's.
     */
    public Builder tlsContextFactory(TlsContextFactory factory) {
      once("tlsContextFactory");
      this.tlsContexts = Objects.requireNonNull(factory, "factory");
      return this;
    }

    /**
     * Builds the session factory.
     *
     * @throws IllegalStateException when the TLS context cannot be created
     */
    public AngusPolicySession build() {
      return new AngusPolicySession(this);
    }
  }
}
