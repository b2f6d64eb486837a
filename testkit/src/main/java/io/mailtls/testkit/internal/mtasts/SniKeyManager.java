package io.mailtls.testkit.internal.mtasts;

import io.mailtls.testkit.TestPki;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.Function;
import javax.net.ssl.ExtendedSSLSession;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SNIServerName;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.StandardConstants;
import javax.net.ssl.X509ExtendedKeyManager;
import org.jspecify.annotations.Nullable;

/**
 * A server key manager that picks the certificate by the client's SNI host name (RFC 6066 §3), as a
 * virtual-hosting web server does. The choice is made per handshake by a function of the requested
 * name (absent without SNI), so a test can switch certificates while the server runs.
 *
 * <p>Aliases are opaque strings that the chooser hands out and the resolver maps back to a
 * certificate; they must be stable for a given certificate. Thread-safe if the functions are.
 */
public final class SniKeyManager extends X509ExtendedKeyManager {

  private final Function<Optional<String>, String> chooser;
  private final Function<String, TestPki.Certified> resolver;
  private final Consumer<Optional<String>> onSelection;

  /**
   * Creates the key manager.
   *
   * @param chooser the alias to present for a requested server name (lower case), or for none
   * @param resolver the certificate of an alias the chooser returned
   * @param onSelection told of each requested name a certificate was chosen for
   */
  public SniKeyManager(
      Function<Optional<String>, String> chooser,
      Function<String, TestPki.Certified> resolver,
      Consumer<Optional<String>> onSelection) {
    this.chooser = Objects.requireNonNull(chooser, "chooser");
    this.resolver = Objects.requireNonNull(resolver, "resolver");
    this.onSelection = Objects.requireNonNull(onSelection, "onSelection");
  }

  @Override
  public @Nullable String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    SSLSession session = socket instanceof SSLSocket s ? s.getHandshakeSession() : null;
    return choose(keyType, session);
  }

  @Override
  public @Nullable String chooseEngineServerAlias(
      String keyType, Principal[] issuers, SSLEngine engine) {
    return choose(keyType, engine == null ? null : engine.getHandshakeSession());
  }

  private @Nullable String choose(String keyType, @Nullable SSLSession session) {
    Optional<String> serverName = requestedHostName(session);
    String alias = chooser.apply(serverName);
    if (alias == null) {
      return null;
    }
    // The JDK asks once per signature key type it could use; answer only for the right one.
    if (!resolver.apply(alias).privateKey().getAlgorithm().equals(keyType)) {
      return null;
    }
    onSelection.accept(serverName);
    return alias;
  }

  /** The host name of the SNI extension, in lower case, if the client sent one. */
  static Optional<String> requestedHostName(@Nullable SSLSession session) {
    if (!(session instanceof ExtendedSSLSession extended)) {
      return Optional.empty();
    }
    List<SNIServerName> names = extended.getRequestedServerNames();
    for (SNIServerName name : names) {
      if (name.getType() == StandardConstants.SNI_HOST_NAME) {
        String ascii =
            name instanceof SNIHostName host
                ? host.getAsciiName()
                : new SNIHostName(name.getEncoded()).getAsciiName();
        return Optional.of(ascii.toLowerCase(Locale.ROOT));
      }
    }
    return Optional.empty();
  }

  @Override
  public X509Certificate[] getCertificateChain(String alias) {
    return resolver.apply(alias).chain().toArray(new X509Certificate[0]);
  }

  @Override
  public PrivateKey getPrivateKey(String alias) {
    return resolver.apply(alias).privateKey();
  }

  @Override
  public String @Nullable [] getServerAliases(String keyType, Principal[] issuers) {
    return null;
  }

  @Override
  public String @Nullable [] getClientAliases(String keyType, Principal[] issuers) {
    return null;
  }

  @Override
  public @Nullable String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
    return null;
  }
}
