package io.mailtls.core;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A relay that takes all mail instead of the recipients' MX hosts: submission on port 587 with
 * STARTTLS (RFC 6409), or implicit TLS on 465 (RFC 8314), with optional SMTP AUTH (RFC 4954).
 * Immutable.
 *
 * <p>By default the relay's certificate is verified (PKIX, its host name) and credentials are only
 * sent over TLS. {@link Builder#allowPlaintextAuth()} exists for tests against local servers only.
 *
 * @param host the relay's host name, resolved through the transport's DNS resolver; not an IP
 *     address (a last label of digits only, RFC 1123 §2.1): the relay is verified by its name
 * @param port the port
 * @param implicitTls whether TLS starts on connect (RFC 8314 §3) rather than with STARTTLS
 * @param requirement the TLS requirement for the relay
 * @param credentials the AUTH credentials, if any
 * @param allowPlaintextAuth whether credentials may be sent without TLS
 */
public record SmartHost(
    DomainName host,
    int port,
    boolean implicitTls,
    TlsRequirement requirement,
    Optional<Credentials> credentials,
    boolean allowPlaintextAuth) {

  public SmartHost {
    Objects.requireNonNull(host, "host");
    if (host.endsInNumericLabel()) {
      throw new IllegalArgumentException(DomainName.relayIsAnAddress(host.toString()));
    }
    if (port < 1 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
    Objects.requireNonNull(requirement, "requirement");
    Objects.requireNonNull(credentials, "credentials");
    if (implicitTls && !requirement.requiresTls()) {
      throw new IllegalArgumentException("implicit TLS needs a requirement that requires TLS");
    }
  }

  /**
   * A builder for {@code host}: STARTTLS on port 587, PKIX-verified, no credentials; with {@link
   * Builder#implicitTls()} and no {@link Builder#port}, port 465.
   *
   * @throws IllegalArgumentException if {@code host} is not a domain name, or is an IP address
   *     (IPv4, or IPv6 with or without brackets)
   */
  public static Builder builder(String host) {
    String h = host.strip();
    if (h.startsWith("[") || h.indexOf(':') >= 0) {
      throw new IllegalArgumentException(DomainName.relayIsAnAddress(host));
    }
    DomainName name = DomainName.of(host);
    if (name.endsInNumericLabel()) {
      throw new IllegalArgumentException(DomainName.relayIsAnAddress(host));
    }
    return new Builder(name);
  }

  /** Configures a {@link SmartHost}. Not thread-safe. */
  public static final class Builder {
    private final DomainName host;
    private @Nullable Integer port;
    private boolean implicitTls;
    private @Nullable TlsRequirement requirement;
    private @Nullable Credentials credentials;
    private boolean allowPlaintextAuth;

    private Builder(DomainName host) {
      this.host = host;
    }

    public Builder port(int port) {
      this.port = port;
      return this;
    }

    /**
     * Implicit TLS (RFC 8314 §3.3), on port 465 unless {@link #port} says otherwise: a client that
     * sends a TLS ClientHello to the STARTTLS submission port reaches nothing.
     */
    public Builder implicitTls() {
      this.implicitTls = true;
      return this;
    }

    /** The TLS requirement; default PKIX verification of the relay's host name. */
    public Builder requirement(TlsRequirement requirement) {
      this.requirement = Objects.requireNonNull(requirement, "requirement");
      return this;
    }

    public Builder credentials(String username, String password) {
      this.credentials = new Credentials(username, password);
      return this;
    }

    /** Lets credentials go over plaintext: only for tests against a local server. */
    public Builder allowPlaintextAuth() {
      this.allowPlaintextAuth = true;
      return this;
    }

    public SmartHost build() {
      TlsRequirement r = requirement != null ? requirement : new TlsRequirement.Pkix(List.of(host));
      int p = port != null ? port : implicitTls ? 465 : 587;
      return new SmartHost(
          host, p, implicitTls, r, Optional.ofNullable(credentials), allowPlaintextAuth);
    }
  }
}
