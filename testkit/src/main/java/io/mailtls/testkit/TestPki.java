package io.mailtls.testkit;

import io.mailtls.testkit.internal.mtasts.RenewableSslSocketFactory;
import io.mailtls.testkit.internal.pki.CertificateMinter;
import io.mailtls.testkit.internal.pki.CertificateSpec;
import io.mailtls.testkit.internal.pki.FixedKeyManager;
import io.mailtls.testkit.internal.pki.KeyPairs;
import io.mailtls.testkit.internal.pki.PkiEncoding;
import io.mailtls.testkit.internal.pki.ValidityWindow;
import java.security.KeyPair;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import javax.net.ssl.KeyManager;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocketFactory;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509TrustManager;
import org.jspecify.annotations.Nullable;

/**
 * A throw-away public key infrastructure for tests: a root CA, intermediates of any depth, server
 * certificates with chosen names, validity windows and key types, self-signed certificates and an
 * unrelated "other" CA, with the JSSE objects and TLSA data (RFC 6698 §2.1) that tests need.
 *
 * <pre>{@code
 * TestPki pki = TestPki.create();
 * TestPki.Ca inter = pki.root().intermediate("mailtls Test Intermediate");
 * TestPki.Issued mx = inter.leaf().dnsNames("mx1.example.test").issue();
 * SSLContext server = mx.serverSslContext();      // presents mx + intermediate
 * SSLContext client = pki.clientSslContext();     // trusts the root
 * byte[] tlsa311 = mx.tlsaAssociationData(1, 1);  // DANE-EE SPKI SHA-256
 * }</pre>
 *
 * <p>Every certificate gets its own key unless a test passes one explicitly (see {@link
 * LeafBuilder#key(KeyPair)}), so SPKI digests never match by accident. Certificates are made with
 * Bouncy Castle's builders and the JDK's providers; nothing JVM-global is changed.
 *
 * <p>Instances, {@link Ca}s and {@link Issued} certificates are immutable and thread-safe; methods
 * that return mutable JSSE objects (key stores, factories, contexts) make a new one on each call.
 * The builders are not thread-safe.
 */
public final class TestPki {

  /** The subject CN of the default root. */
  public static final String DEFAULT_ROOT_NAME = "mailtls Test Root";

  /** The subject CN of the default unrelated CA. */
  public static final String DEFAULT_OTHER_ROOT_NAME = "mailtls Other Root";

  private static final Duration CA_AGE = Duration.ofDays(365);
  private static final Duration ROOT_VALIDITY = Duration.ofDays(3650);
  private static final Duration CA_VALIDITY = Duration.ofDays(1825);
  private static final Duration LEAF_AGE = Duration.ofHours(1);
  private static final Duration LEAF_VALIDITY = Duration.ofDays(90);

  /** The key algorithms a test certificate can have. */
  public enum KeyType {
    /** ECDSA on NIST P-256 (secp256r1), signed with SHA256withECDSA; fast to generate. */
    EC_P256,
    /** RSA with a 2048-bit modulus, signed with SHA256withRSA. */
    RSA_2048,
    /**
     * {@link #RSA_2048}, but the certificate's SubjectPublicKeyInfo (RFC 5280 §4.1.2.7) has an
     * rsaEncryption AlgorithmIdentifier with the parameters absent instead of NULL (RFC 3279 §2.3.1
     * asks for NULL; some encoders leave it out). The JDK reads such a key and re-encodes it with
     * NULL: {@code certificate().getPublicKey().getEncoded()} is two octets longer than the
     * certificate's own SubjectPublicKeyInfo, {@link Certified#spkiDer()}, which is what TLSA
     * selector SPKI(1) (RFC 6698 §2.1.2) and public-key pins are computed over. For proving that
     * code reads a key from the certificate rather than from the JDK.
     */
    RSA_2048_ABSENT_PARAMETERS;

    KeyPair generate() {
      return this == EC_P256 ? KeyPairs.ecP256() : KeyPairs.rsa2048();
    }

    /** Whether the SubjectPublicKeyInfo leaves out the AlgorithmIdentifier's NULL parameters. */
    boolean parametersAbsent() {
      return this == RSA_2048_ABSENT_PARAMETERS;
    }
  }

  private final Clock clock;
  private final Ca root;
  private final Ca otherCa;

  private TestPki(Builder builder) {
    this.clock = builder.clock;
    this.root = newRoot(builder.rootName, builder.keyType, clock);
    this.otherCa = newRoot(builder.otherRootName, builder.keyType, clock);
  }

  private static Ca newRoot(String name, KeyType keyType, Clock clock) {
    KeyPair keys = keyType.generate();
    ValidityWindow window = new ValidityWindow(CA_AGE.plusDays(1), ROOT_VALIDITY);
    Instant notBefore = window.resolveNotBefore(clock);
    X509Certificate certificate =
        CertificateMinter.mint(
            new CertificateSpec(
                name,
                keys,
                null,
                keys.getPrivate(),
                notBefore,
                window.resolveNotAfter(clock, notBefore),
                true,
                true,
                -1,
                List.of(),
                List.of(),
                false,
                keyType.parametersAbsent()));
    return new Ca(name, certificate, keys, null, keyType, clock);
  }

  /** A PKI with an EC root named {@value #DEFAULT_ROOT_NAME} on the system clock. */
  public static TestPki create() {
    return builder().build();
  }

  /** Starts configuring a PKI. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * A self-signed end-entity certificate (basicConstraints cA=FALSE) for {@code dnsNames}, with an
   * EC key, valid from an hour ago for 90 days. Its {@link Certified#chain() chain} is itself.
   */
  public static Issued selfSigned(String... dnsNames) {
    return selfSignedLeaf().dnsNames(dnsNames).issue();
  }

  /**
   * {@link #selfSigned(String...)} with a key of {@code keyType}, e.g. {@link
   * KeyType#RSA_2048_ABSENT_PARAMETERS} for a certificate whose key the JDK re-encodes.
   */
  public static Issued selfSigned(KeyType keyType, String... dnsNames) {
    return selfSignedLeaf().dnsNames(dnsNames).keyType(keyType).issue();
  }

  /** Starts a self-signed end-entity certificate on the system clock. */
  public static LeafBuilder selfSignedLeaf() {
    return new LeafBuilder(null, Clock.systemUTC(), KeyType.EC_P256);
  }

  /** The root CA, the only certificate in {@link #trustStore()}. */
  public Ca root() {
    return root;
  }

  /**
   * A second root, unrelated to {@link #root()} and absent from every trust store of this PKI:
   * chains it issues are "untrusted" while looking perfectly formed.
   */
  public Ca otherCa() {
    return otherCa;
  }

  /** The clock this PKI reads "now" from. */
  public Clock clock() {
    return clock;
  }

  /** A new in-memory PKCS#12 store whose only entry is the root, as a trusted certificate. */
  public KeyStore trustStore() {
    return root.trustStore();
  }

  /** The root as a PKIX trust anchor, for {@code CertPathValidator}. */
  public TrustAnchor trustAnchor() {
    return root.trustAnchor();
  }

  /** A new trust manager factory, initialised with {@link #trustStore()}. */
  public TrustManagerFactory trustManagerFactory() {
    return PkiEncoding.trustManagerFactory(trustStore());
  }

  /** A new JDK PKIX trust manager that trusts only the root. */
  public X509TrustManager trustManager() {
    for (TrustManager manager : trustManagerFactory().getTrustManagers()) {
      if (manager instanceof X509TrustManager x509) {
        return x509;
      }
    }
    throw new IllegalStateException("the default TrustManagerFactory made no X509TrustManager");
  }

  /** A new client {@code SSLContext} that trusts only the root and presents no certificate. */
  public SSLContext clientSslContext() {
    return PkiEncoding.sslContext(null, trustManagerFactory().getTrustManagers());
  }

  @Override
  public String toString() {
    return "TestPki{root=" + root.name() + ", other=" + otherCa.name() + "}";
  }

  /**
   * Configures a {@link TestPki}. Each setter may be called once.
   *
   * <p>Not thread-safe.
   */
  public static final class Builder {
    private String rootName = DEFAULT_ROOT_NAME;
    private String otherRootName = DEFAULT_OTHER_ROOT_NAME;
    private KeyType keyType = KeyType.EC_P256;
    private Clock clock = Clock.systemUTC();
    private final List<String> called = new ArrayList<>();

    private Builder() {}

    private void once(String setter) {
      if (called.contains(setter)) {
        throw new IllegalStateException(setter + " already set");
      }
      called.add(setter);
    }

    /** The subject CN of the root; default {@value TestPki#DEFAULT_ROOT_NAME}. */
    public Builder rootName(String name) {
      once("rootName");
      this.rootName = requireName(name);
      return this;
    }

    /** The subject CN of the unrelated CA; default {@value TestPki#DEFAULT_OTHER_ROOT_NAME}. */
    public Builder otherRootName(String name) {
      once("otherRootName");
      this.otherRootName = requireName(name);
      return this;
    }

    /** The key type of both roots, and the default of what they issue; default EC P-256. */
    public Builder keyType(KeyType keyType) {
      once("keyType");
      this.keyType = Objects.requireNonNull(keyType, "keyType");
      return this;
    }

    /** Where "now" comes from when validity windows are computed; default the system clock. */
    public Builder clock(Clock clock) {
      once("clock");
      this.clock = Objects.requireNonNull(clock, "clock");
      return this;
    }

    /** Generates the roots' keys and certificates. */
    public TestPki build() {
      if (rootName.equals(otherRootName)) {
        throw new IllegalArgumentException("root and other root share the name " + rootName);
      }
      return new TestPki(this);
    }
  }

  /** {@code names} as a list, checked: at least one, each non-empty printable ASCII. */
  private static List<String> dnsNameList(String setter, String... names) {
    if (names.length == 0) {
      throw new IllegalArgumentException(setter + " needs at least one name");
    }
    for (String name : names) {
      Objects.requireNonNull(name, "dns name");
      if (name.isEmpty() || name.chars().anyMatch(c -> c <= ' ' || c >= 0x7f)) {
        throw new IllegalArgumentException("not a DNS name: '" + name + "'");
      }
    }
    return List.copyOf(Arrays.asList(names));
  }

  private static String requireName(String name) {
    Objects.requireNonNull(name, "name");
    if (name.isBlank()) {
      throw new IllegalArgumentException("name must not be blank");
    }
    return name;
  }

  /**
   * A certificate, its key pair and its issuers: what a TLS peer presents and what TLSA records are
   * computed from.
   *
   * <p>Immutable and thread-safe.
   */
  public abstract static class Certified {
    private final X509Certificate certificate;
    private final KeyPair keyPair;
    private final @Nullable Certified issuer;
    private final String name;

    Certified(
        X509Certificate certificate, KeyPair keyPair, @Nullable Certified issuer, String name) {
      this.certificate = certificate;
      this.keyPair = keyPair;
      this.issuer = issuer;
      this.name = name;
    }

    /** The subject CN this certificate was made with. */
    public String name() {
      return name;
    }

    /** The certificate. */
    public X509Certificate certificate() {
      return certificate;
    }

    /** The certified key pair. */
    public KeyPair keyPair() {
      return keyPair;
    }

    /** The private key. */
    public PrivateKey privateKey() {
      return keyPair.getPrivate();
    }

    /** The public key. */
    public PublicKey publicKey() {
      return keyPair.getPublic();
    }

    /**
     * This certificate followed by its issuing CAs, without the self-signed root: what a TLS server
     * normally sends (RFC 8446 §4.4.2). A root or self-signed certificate is its own chain.
     */
    public List<X509Certificate> chain() {
      List<X509Certificate> full = chainWithRoot();
      return full.size() > 1 ? full.subList(0, full.size() - 1) : full;
    }

    /** This certificate followed by every issuer up to and including the root. */
    public List<X509Certificate> chainWithRoot() {
      List<X509Certificate> chain = new ArrayList<>();
      for (Certified c = this; c != null; c = c.issuer) {
        chain.add(c.certificate);
      }
      return Collections.unmodifiableList(chain);
    }

    /** The DER encoding of the certificate (TLSA selector 0, RFC 6698 §2.1.2). */
    public byte[] certificateDer() {
      return PkiEncoding.der(certificate);
    }

    /**
     * The DER SubjectPublicKeyInfo as the certificate encodes it (RFC 5280 §4.1.2.7): TLSA selector
     * 1 (RFC 6698 §2.1.2). Not always {@code publicKey().getEncoded()}, the JDK's encoding of the
     * key (see {@link KeyType#RSA_2048_ABSENT_PARAMETERS}).
     */
    public byte[] spkiDer() {
      return PkiEncoding.spki(certificate);
    }

    /** SHA-256 of {@link #certificateDer()}: TLSA {@code x 0 1}. */
    public byte[] certificateSha256() {
      return PkiEncoding.sha256(certificateDer());
    }

    /** SHA-512 of {@link #certificateDer()}: TLSA {@code x 0 2}. */
    public byte[] certificateSha512() {
      return PkiEncoding.sha512(certificateDer());
    }

    /** SHA-256 of {@link #spkiDer()}: TLSA {@code x 1 1}, e.g. DANE-EE {@code 3 1 1}. */
    public byte[] spkiSha256() {
      return PkiEncoding.sha256(spkiDer());
    }

    /** SHA-512 of {@link #spkiDer()}: TLSA {@code x 1 2}. */
    public byte[] spkiSha512() {
      return PkiEncoding.sha512(spkiDer());
    }

    /**
     * The certificate association data of a TLSA record for this certificate (RFC 6698 §2.1):
     * {@code selector} 0 (certificate) or 1 (SPKI), {@code matchingType} 0 (full), 1 (SHA-256) or 2
     * (SHA-512). For example {@code (1, 1)} for {@code 3 1 1}, {@code (0, 0)} for {@code 2 0 0}.
     */
    public byte[] tlsaAssociationData(int selector, int matchingType) {
      return PkiEncoding.tlsaAssociationData(certificate, selector, matchingType);
    }

    /** The certificate as one PEM {@code CERTIFICATE} block. */
    public String certificatePem() {
      return PkiEncoding.pem(List.of(certificate));
    }

    /** {@link #chain()} as concatenated PEM blocks, leaf first. */
    public String chainPem() {
      return PkiEncoding.pem(chain());
    }

    /** The private key as an unencrypted PKCS#8 PEM block. */
    public String privateKeyPem() {
      return PkiEncoding.pem(privateKey());
    }

    /** A new in-memory PKCS#12 store with the key and {@link #chain()} under alias "server". */
    public KeyStore keyStore(char[] password) {
      Objects.requireNonNull(password, "password");
      return PkiEncoding.keyStore("server", privateKey(), chain(), password);
    }

    /** A key manager that presents {@link #chain()}. */
    public X509ExtendedKeyManager keyManager() {
      return keyManager(chain());
    }

    /**
     * A key manager that presents exactly {@code presented}, which must start with this
     * certificate: drop an intermediate or append {@code pki.otherCa().certificate()} to test how a
     * client copes with a broken chain.
     */
    public X509ExtendedKeyManager keyManager(List<X509Certificate> presented) {
      if (presented.isEmpty() || !presented.get(0).equals(certificate)) {
        throw new IllegalArgumentException(
            "the presented chain must start with " + certificate.getSubjectX500Principal());
      }
      return new FixedKeyManager(privateKey(), presented);
    }

    /** A new server {@code SSLContext} presenting {@link #chain()}. */
    public SSLContext serverSslContext() {
      return serverSslContext(chain());
    }

    /** A new server {@code SSLContext} presenting exactly {@code presented} (leaf first). */
    public SSLContext serverSslContext(List<X509Certificate> presented) {
      return PkiEncoding.sslContext(new KeyManager[] {keyManager(presented)}, null);
    }

    /**
     * A server socket factory presenting {@link #chain()} that enables only {@code protocols} (e.g.
     * {@code "TLSv1.1"}) on its sockets: an HTTPS endpoint (OkHttp's {@code
     * MockWebServer.useHttps}) held to some TLS versions. A version the JVM's {@code
     * jdk.tls.disabledAlgorithms} forbids stays unusable whatever is enabled here.
     */
    public SSLSocketFactory serverSocketFactory(String... protocols) {
      if (protocols.length == 0) {
        throw new IllegalArgumentException("name at least one protocol");
      }
      return new RenewableSslSocketFactory(keyManager(), List.of(protocols));
    }

    @Override
    public String toString() {
      return getClass().getSimpleName() + "{" + certificate.getSubjectX500Principal() + "}";
    }
  }

  /**
   * A certificate authority that issues intermediates and leaves.
   *
   * <p>Immutable and thread-safe; the builders it returns are not.
   */
  public static final class Ca extends Certified {
    private final KeyType keyType;
    private final Clock clock;

    Ca(
        String name,
        X509Certificate certificate,
        KeyPair keys,
        @Nullable Certified issuer,
        KeyType keyType,
        Clock clock) {
      super(certificate, keys, issuer, name);
      this.keyType = keyType;
      this.clock = clock;
    }

    /**
     * A subordinate CA with default settings: same key type, valid from a year ago for five years,
     * no path length constraint.
     */
    public Ca intermediate(String name) {
      return newIntermediate(name).issue();
    }

    /** Starts a subordinate CA. */
    public CaBuilder newIntermediate(String name) {
      return new CaBuilder(this, requireName(name));
    }

    /** Starts an end-entity certificate issued by this CA. */
    public LeafBuilder leaf() {
      return new LeafBuilder(this, clock, keyType);
    }

    /** A new in-memory PKCS#12 store whose only entry is this CA as a trusted certificate. */
    public KeyStore trustStore() {
      return PkiEncoding.trustStore(List.of(certificate()));
    }

    /** This CA as a PKIX trust anchor. */
    public TrustAnchor trustAnchor() {
      return new TrustAnchor(certificate(), null);
    }
  }

  /**
   * An end-entity certificate, issued by a {@link Ca} or self-signed.
   *
   * <p>Immutable and thread-safe.
   */
  public static final class Issued extends Certified {
    private final List<String> dnsNames;

    Issued(
        String name,
        X509Certificate certificate,
        KeyPair keys,
        @Nullable Certified issuer,
        List<String> dnsNames) {
      super(certificate, keys, issuer, name);
      this.dnsNames = dnsNames;
    }

    /** The subjectAltName dNSName entries, empty for a CN-only certificate. */
    public List<String> dnsNames() {
      return dnsNames;
    }
  }

  /**
   * Configures a subordinate CA. Each setter may be called once; {@link #issue()} once.
   *
   * <p>Not thread-safe.
   */
  public static final class CaBuilder {
    private final Ca parent;
    private final String name;
    private final ValidityWindow validity = new ValidityWindow(CA_AGE, CA_VALIDITY);
    private final List<String> called = new ArrayList<>();
    private KeyType keyType;
    private int pathLength = -1;
    private List<String> permittedDnsNames = List.of();
    private boolean ca = true;

    private CaBuilder(Ca parent, String name) {
      this.parent = parent;
      this.name = name;
      this.keyType = parent.keyType;
    }

    private void once(String setter) {
      if (called.contains(setter)) {
        throw new IllegalStateException(setter + " already set");
      }
      called.add(setter);
    }

    /** The key type; default that of the issuing CA. */
    public CaBuilder keyType(KeyType keyType) {
      once("keyType");
      this.keyType = Objects.requireNonNull(keyType, "keyType");
      return this;
    }

    /** Shorthand for {@code keyType(EC_P256)}. */
    public CaBuilder ec() {
      return keyType(KeyType.EC_P256);
    }

    /** Shorthand for {@code keyType(RSA_2048)}. */
    public CaBuilder rsa() {
      return keyType(KeyType.RSA_2048);
    }

    /** The basicConstraints pathLenConstraint (RFC 5280 §4.2.1.9); default none. */
    public CaBuilder pathLength(int pathLength) {
      once("pathLength");
      if (pathLength < 0) {
        throw new IllegalArgumentException("pathLength must be >= 0: " + pathLength);
      }
      this.pathLength = pathLength;
      return this;
    }

    /**
     * Constrains the names this CA may certify (RFC 5280 §4.2.1.10): a critical nameConstraints
     * extension whose permitted subtrees are these dNSNames, so {@code "example.test"} admits
     * {@code example.test} and every name below it; default no nameConstraints extension.
     */
    public CaBuilder permittedDnsNames(String... names) {
      once("permittedDnsNames");
      this.permittedDnsNames = dnsNameList("permittedDnsNames", names);
      return this;
    }

    /**
     * Marks the certificate basicConstraints cA=FALSE while still using it to sign: a chain through
     * it must fail PKIX validation (RFC 5280 §6.1.4 (k)).
     */
    public CaBuilder notCa() {
      once("notCa");
      this.ca = false;
      return this;
    }

    /** The start of the validity window; default a year before now. */
    public CaBuilder notBefore(Instant notBefore) {
      validity.notBefore(notBefore);
      return this;
    }

    /** The length of the validity window; default five years. */
    public CaBuilder validFor(Duration validFor) {
      validity.validFor(validFor);
      return this;
    }

    /** The end of the validity window. */
    public CaBuilder notAfter(Instant notAfter) {
      validity.notAfter(notAfter);
      return this;
    }

    /** A window that ended a day ago. */
    public CaBuilder expired() {
      validity.expired();
      return this;
    }

    /** A window that starts in a day. */
    public CaBuilder notYetValid() {
      validity.notYetValid();
      return this;
    }

    /** Generates the key and signs the certificate with the parent's key. */
    public Ca issue() {
      once("issue");
      if (!ca && pathLength >= 0) {
        throw new IllegalStateException("pathLength needs a CA; remove notCa()");
      }
      if (!ca && !permittedDnsNames.isEmpty()) {
        throw new IllegalStateException("permittedDnsNames needs a CA; remove notCa()");
      }
      KeyPair keys = keyType.generate();
      Instant notBefore = validity.resolveNotBefore(parent.clock);
      X509Certificate certificate =
          CertificateMinter.mint(
              new CertificateSpec(
                  name,
                  keys,
                  parent.certificate(),
                  parent.privateKey(),
                  notBefore,
                  validity.resolveNotAfter(parent.clock, notBefore),
                  ca,
                  true,
                  pathLength,
                  permittedDnsNames,
                  List.of(),
                  false,
                  keyType.parametersAbsent()));
      return new Ca(name, certificate, keys, parent, keyType, parent.clock);
    }
  }

  /**
   * Configures an end-entity (server) certificate. Each setter may be called once; {@link #issue()}
   * once. Defaults: the names given to {@link #dnsNames}, CN = the first of them, valid from an
   * hour ago for 90 days, the issuer's key type, extendedKeyUsage serverAuth.
   *
   * <p>Not thread-safe.
   */
  public static final class LeafBuilder {
    private final @Nullable Ca issuer;
    private final Clock clock;
    private final ValidityWindow validity = new ValidityWindow(LEAF_AGE, LEAF_VALIDITY);
    private final List<String> called = new ArrayList<>();
    private KeyType keyType;
    private @Nullable KeyPair keyPair;
    private List<String> dnsNames = List.of();
    private @Nullable String commonName;
    private boolean subjectAltName = true;
    private boolean serverAuth = true;

    private LeafBuilder(@Nullable Ca issuer, Clock clock, KeyType keyType) {
      this.issuer = issuer;
      this.clock = clock;
      this.keyType = keyType;
    }

    private void once(String setter) {
      if (called.contains(setter)) {
        throw new IllegalStateException(setter + " already set");
      }
      called.add(setter);
    }

    /**
     * The subjectAltName dNSName entries (RFC 5280 §4.2.1.6), in order; a wildcard such as {@code
     * "*.example.test"} is written as given.
     */
    public LeafBuilder dnsNames(String... names) {
      once("dnsNames");
      this.dnsNames = dnsNameList("dnsNames", names);
      return this;
    }

    /** The subject CN; default the first DNS name. */
    public LeafBuilder commonName(String commonName) {
      once("commonName");
      this.commonName = requireName(commonName);
      return this;
    }

    /**
     * Omits the subjectAltName extension, leaving the name only in the subject CN (which RFC 6125
     * §6.4.4 forbids clients to check when a SAN is present, and which modern clients ignore).
     */
    public LeafBuilder noSubjectAltName() {
      once("noSubjectAltName");
      this.subjectAltName = false;
      return this;
    }

    /** Omits the extendedKeyUsage extension (default: id-kp-serverAuth, RFC 5280 §4.2.1.12). */
    public LeafBuilder noExtendedKeyUsage() {
      once("noExtendedKeyUsage");
      this.serverAuth = false;
      return this;
    }

    /** The key type; default that of the issuer (EC for self-signed certificates). */
    public LeafBuilder keyType(KeyType keyType) {
      once("keyType");
      if (keyPair != null) {
        throw new IllegalStateException("keyType conflicts with key(...)");
      }
      this.keyType = Objects.requireNonNull(keyType, "keyType");
      return this;
    }

    /** Shorthand for {@code keyType(EC_P256)}. */
    public LeafBuilder ec() {
      return keyType(KeyType.EC_P256);
    }

    /** Shorthand for {@code keyType(RSA_2048)}. */
    public LeafBuilder rsa() {
      return keyType(KeyType.RSA_2048);
    }

    /**
     * Certifies an existing key pair instead of a fresh one, e.g. {@code other.keyPair()} for a
     * renewed certificate whose DANE {@code 3 1 1} record still matches. The key is encoded as the
     * JDK encodes it, whatever the issuer's {@link KeyType}.
     */
    public LeafBuilder key(KeyPair keyPair) {
      once("key");
      if (called.contains("keyType")) {
        throw new IllegalStateException("key(...) conflicts with keyType");
      }
      String algorithm = Objects.requireNonNull(keyPair, "keyPair").getPublic().getAlgorithm();
      if (!algorithm.equals("EC") && !algorithm.equals("RSA")) {
        throw new IllegalArgumentException("only EC and RSA keys are supported: " + algorithm);
      }
      this.keyPair = keyPair;
      return this;
    }

    /** The start of the validity window; default one hour before now. */
    public LeafBuilder notBefore(Instant notBefore) {
      validity.notBefore(notBefore);
      return this;
    }

    /** The length of the validity window, from its start; default 90 days. */
    public LeafBuilder validFor(Duration validFor) {
      validity.validFor(validFor);
      return this;
    }

    /** The end of the validity window. */
    public LeafBuilder notAfter(Instant notAfter) {
      validity.notAfter(notAfter);
      return this;
    }

    /** A window from 31 days ago to one day ago. */
    public LeafBuilder expired() {
      validity.expired();
      return this;
    }

    /** A window that starts one day from now. */
    public LeafBuilder notYetValid() {
      validity.notYetValid();
      return this;
    }

    /** Generates the key (unless given) and signs the certificate. */
    public Issued issue() {
      once("issue");
      if (dnsNames.isEmpty() && commonName == null) {
        throw new IllegalStateException("a leaf needs dnsNames(...) or commonName(...)");
      }
      KeyPair keys = keyPair != null ? keyPair : keyType.generate();
      Instant notBefore = validity.resolveNotBefore(clock);
      List<String> sans = subjectAltName ? dnsNames : List.of();
      String cn = commonName != null ? commonName : dnsNames.get(0);
      X509Certificate certificate =
          CertificateMinter.mint(
              new CertificateSpec(
                  cn,
                  keys,
                  issuer == null ? null : issuer.certificate(),
                  issuer == null ? keys.getPrivate() : issuer.privateKey(),
                  notBefore,
                  validity.resolveNotAfter(clock, notBefore),
                  false,
                  true,
                  -1,
                  List.of(),
                  sans,
                  serverAuth,
                  keyPair == null && keyType.parametersAbsent()));
      return new Issued(cn, certificate, keys, issuer, sans);
    }
  }
}
