package io.mailtls.testkit.internal.pki;

import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import org.jspecify.annotations.Nullable;

/**
 * A key manager with exactly one private key and the certificate chain to present with it, sent as
 * given: the chain may deliberately omit an intermediate or carry an unrelated CA, which a {@code
 * KeyStore}-backed key manager would not guarantee (RFC 8446 §4.4.2 lets servers send any chain;
 * clients must cope).
 *
 * <p>The alias is offered only for the key type the JSSE asks about ({@code "EC"} or {@code
 * "RSA"}), so the JDK picks signature schemes that match the key.
 *
 * <p>Immutable and thread-safe.
 */
public final class FixedKeyManager extends X509ExtendedKeyManager {

  private static final String ALIAS = "mailtls-testkit";

  private final PrivateKey privateKey;
  private final X509Certificate[] chain;

  /** Presents {@code chain} (leaf first) and signs with {@code privateKey}. */
  public FixedKeyManager(PrivateKey privateKey, List<X509Certificate> chain) {
    this.privateKey = Objects.requireNonNull(privateKey, "privateKey");
    if (chain.isEmpty()) {
      throw new IllegalArgumentException("the presented chain needs at least the leaf");
    }
    this.chain = chain.toArray(new X509Certificate[0]);
  }

  private boolean matches(String keyType) {
    return privateKey.getAlgorithm().equals(keyType);
  }

  private @Nullable String aliasFor(String keyType) {
    return matches(keyType) ? ALIAS : null;
  }

  private @Nullable String aliasForAny(String @Nullable [] keyTypes) {
    if (keyTypes != null) {
      for (String keyType : keyTypes) {
        if (matches(keyType)) {
          return ALIAS;
        }
      }
    }
    return null;
  }

  @Override
  public String @Nullable [] getClientAliases(String keyType, Principal[] issuers) {
    return matches(keyType) ? new String[] {ALIAS} : null;
  }

  @Override
  public @Nullable String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
    return aliasForAny(keyTypes);
  }

  @Override
  public @Nullable String chooseEngineClientAlias(
      String[] keyTypes, Principal[] issuers, SSLEngine engine) {
    return aliasForAny(keyTypes);
  }

  @Override
  public String @Nullable [] getServerAliases(String keyType, Principal[] issuers) {
    return matches(keyType) ? new String[] {ALIAS} : null;
  }

  @Override
  public @Nullable String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
    return aliasFor(keyType);
  }

  @Override
  public @Nullable String chooseEngineServerAlias(
      String keyType, Principal[] issuers, SSLEngine engine) {
    return aliasFor(keyType);
  }

  @Override
  public X509Certificate @Nullable [] getCertificateChain(String alias) {
    return ALIAS.equals(alias) ? chain.clone() : null;
  }

  @Override
  public @Nullable PrivateKey getPrivateKey(String alias) {
    return ALIAS.equals(alias) ? privateKey : null;
  }

  @Override
  public String toString() {
    return "FixedKeyManager" + Arrays.stream(chain).map(c -> c.getSubjectX500Principal()).toList();
  }
}
