package io.mailtls.dane.internal;

import io.mailtls.core.DnsRecord;
import io.mailtls.core.DomainName;
import io.mailtls.core.FailureType;
import io.mailtls.core.internal.smtp.PeerText;
import io.mailtls.core.internal.tls.HostnameMatcher;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PublicKey;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509CertSelector;
import java.security.cert.X509Certificate;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import javax.security.auth.x500.X500Principal;
import org.jspecify.annotations.Nullable;

/**
 * Authenticates a server chain with one DANE-TA(2) record (RFC 7672 §3.1.2, RFC 7671 §5.2): find
 * the trust anchor the record designates, build the paths from the leaf up to it from the
 * certificates the server sent, validate each with the JDK's PKIX {@link CertPathValidator} against
 * that anchor alone until one passes (a server may send the expired and the renewed certificate of
 * a CA, of which only one makes a valid path), then check the leaf's names (RFC 7672
 * §3.2.2-§3.2.3). Stateless and thread-safe.
 *
 * <p>The rules, each a known failure of other implementations:
 *
 * <ul>
 *   <li>The record must designate a CA: it is matched against the certificates at depth 1 and
 *       above, never the leaf at depth 0, and never against the leaf's own key wherever it appears
 *       (a DANE-TA record naming the server's own certificate authenticates nothing; that would be
 *       DANE-EE without saying so).
 *   <li>A full record, {@code 2 0 0} (a certificate) or {@code 2 1 0} (a public key), is itself a
 *       trust anchor, even when the server does not send it (RFC 7671 §5.2).
 *   <li>No public roots take part: the only {@link TrustAnchor} is the one the record designates
 *       (DANE-TA is not PKIX-TA, RFC 7672 §3.1.3). Revocation is off (RFC 7672 has no revocation);
 *       validity dates are checked at the injected time; basic constraints, path length and key
 *       usage are enforced by the JDK's RFC 5280 §6.1 validation, and for a certificate anchor
 *       (selector Cert(0)) also on the anchor itself: it must be a CA, valid now, with room in its
 *       path length constraint, as in OpenSSL's DANE verification that Postfix uses. A key anchor
 *       (selector SPKI(1)) is only a key: the DNS vouches for the key, and the certificate that
 *       carried it, if any, is not judged.
 *   <li>A certificate anchor's nameConstraints (RFC 5280 §4.2.1.10) bind every certificate below
 *       it, as for any trust anchor and as in OpenSSL. The JDK's PKIX never applies them (it
 *       refuses a {@link TrustAnchor} that carries constraints, and takes none from its
 *       certificate), so they are checked here after validation, with the JDK's own name matching
 *       ({@link X509CertSelector#setNameConstraints}); an anchor whose constraints cannot be
 *       decoded or applied fails. Constraints of CAs below the anchor are enforced by the JDK's
 *       validation. A key anchor has no certificate, so it has no constraints: what the certificate
 *       that carried the key says is not looked at. When the leaf has no DNS-ID, so that the name
 *       check reads its subject CN, the dNSName constraints of the anchor and of every CA below it
 *       bind that CN too, wildcard and trailing dot included ({@link DnsNameConstraints}): the JDK
 *       binds a CN only when it parses as a DNS name.
 *   <li>Every certificate of the path that has an extendedKeyUsage must allow serverAuth (RFC 5280
 *       §4.2.1.12).
 *   <li>The leaf must then match a reference identifier: DNS-IDs only, the CN only without any
 *       DNS-ID, a wildcard only as the complete left-most label ({@link HostnameMatcher}).
 * </ul>
 */
public final class DaneTaVerifier {

  /** At most this many certificates from the leaf up to, excluding, the anchor. */
  private static final int MAX_PATH = 10;

  private static final String SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
  private static final String ANY_EXTENDED_KEY_USAGE = "2.5.29.37.0";
  private static final int KEY_CERT_SIGN = 5;
  private static final String NAME_CONSTRAINTS = "2.5.29.30";
  private static final byte OCTET_STRING = 0x04;

  /** Key algorithms a bare {@code 2 1 0} public key is tried with. */
  private static final List<String> KEY_ALGORITHMS =
      List.of("RSA", "EC", "EdDSA", "RSASSA-PSS", "DSA");

  private DaneTaVerifier() {}

  /**
   * What one DANE-TA record established.
   *
   * @param failure empty when the record authenticated the server, else the RFC 8460 type
   * @param detail what was found, for the failure message or the log
   * @param cause the underlying exception, if any
   */
  public record Outcome(Optional<FailureType> failure, String detail, @Nullable Throwable cause) {

    static Outcome passed(String detail) {
      return new Outcome(Optional.empty(), detail, null);
    }

    static Outcome failed(FailureType type, String detail, @Nullable Throwable cause) {
      return new Outcome(Optional.of(type), detail, cause);
    }

    /** Whether the record authenticated the server. */
    public boolean passed() {
      return failure.isEmpty();
    }

    /** How far the check got: a name mismatch beats expiry, which beats no trust path. */
    public int progress() {
      if (failure.isEmpty()) {
        return 4;
      }
      switch (failure.get()) {
        case CERTIFICATE_HOST_MISMATCH:
          return 3;
        case CERTIFICATE_EXPIRED:
          return 2;
        default:
          return 1;
      }
    }
  }

  /**
   * A trust anchor designated by the record: a certificate (selector Cert(0)) or a bare public key
   * (selector SPKI(1)), with where it came from.
   */
  private record Anchor(
      String origin,
      @Nullable X509Certificate certificate,
      PublicKey key,
      @Nullable X500Principal name) {

    boolean issued(X509Certificate cert) {
      return (name == null || name.equals(cert.getIssuerX500Principal())) && signedBy(cert, key);
    }
  }

  /**
   * Checks {@code chain} (leaf first, as the server sent it) against one DANE-TA record.
   *
   * @param record a usable record of usage DANE-TA(2)
   * @param chain the server's certificates, at least the leaf
   * @param referenceNames the names the leaf must match (RFC 7672 §3.2.2)
   * @param now the time validity is checked at
   */
  public static Outcome verify(
      DnsRecord.Tlsa record,
      List<X509Certificate> chain,
      List<DomainName> referenceNames,
      Date now) {
    X509Certificate leaf = chain.get(0);
    byte[] leafKey = leaf.getPublicKey().getEncoded();
    List<Anchor> anchors = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    if (TlsaData.matches(record, leaf)) {
      // RFC 7672 §3.1.2 / RFC 7671 §5.2: a trust anchor is a CA; the leaf is DANE-EE's business.
      notes.add(
          "matches the leaf certificate (depth 0), which a DANE-TA record never "
              + "authenticates (RFC 7672 §3.1.2)");
    }
    for (int depth = 1; depth < chain.size(); depth++) {
      X509Certificate c = chain.get(depth);
      if (!TlsaData.matches(record, c)) {
        continue;
      }
      if (Arrays.equals(c.getPublicKey().getEncoded(), leafKey)) {
        notes.add(
            "matches the certificate at depth "
                + depth
                + ", which carries the leaf's own "
                + "key: not a trust anchor");
        continue;
      }
      String origin =
          (record.selector() == DnsRecord.Tlsa.CERT
                  ? "the certificate"
                  : "the key of the certificate")
              + " at depth "
              + depth
              + " "
              + subject(c);
      anchors.add(
          record.selector() == DnsRecord.Tlsa.CERT
              ? new Anchor(origin, c, c.getPublicKey(), c.getSubjectX500Principal())
              : new Anchor(origin, null, c.getPublicKey(), c.getSubjectX500Principal()));
    }
    if (record.matchingType() == DnsRecord.Tlsa.FULL) {
      fromRecord(record, leafKey, anchors, notes);
    }
    if (anchors.isEmpty()) {
      if (notes.isEmpty()) {
        notes.add(
            chain.size() == 1
                ? "the server sent only its leaf certificate, and the record is a digest: the "
                    + "trust anchor must be in the chain (RFC 7671 §5.2)"
                : "matches no CA certificate the server sent (depths 1-"
                    + (chain.size() - 1)
                    + ")");
      }
      return Outcome.failed(FailureType.CERTIFICATE_NOT_TRUSTED, String.join("; ", notes), null);
    }
    Outcome best = null;
    for (Anchor anchor : anchors) {
      Outcome o = fromAnchor(anchor, chain, referenceNames, now);
      if (o.passed()) {
        return o;
      }
      if (best == null || o.progress() > best.progress()) {
        best = o;
      }
    }
    return Objects.requireNonNull(best); // anchors is not empty
  }

  /** RFC 7671 §5.2: a {@code 2 0 0} or {@code 2 1 0} record carries the trust anchor itself. */
  private static void fromRecord(
      DnsRecord.Tlsa record, byte[] leafKey, List<Anchor> anchors, List<String> notes) {
    byte[] data = record.data();
    if (record.selector() == DnsRecord.Tlsa.CERT) {
      X509Certificate cert = parseCertificate(data);
      if (cert == null) {
        notes.add("the full record is not a DER X.509 certificate");
      } else if (Arrays.equals(cert.getPublicKey().getEncoded(), leafKey)) {
        notes.add("the record's certificate carries the leaf's own key: not a trust anchor");
      } else if (anchors.stream().noneMatch(a -> cert.equals(a.certificate()))) {
        anchors.add(
            new Anchor(
                "the certificate in the record " + subject(cert),
                cert,
                cert.getPublicKey(),
                cert.getSubjectX500Principal()));
      }
    } else {
      PublicKey key = parseKey(data);
      if (key == null) {
        notes.add("the full record is not a DER SubjectPublicKeyInfo of a supported algorithm");
      } else if (Arrays.equals(key.getEncoded(), leafKey)) {
        notes.add("the record's key is the leaf's own key: not a trust anchor");
      } else if (anchors.stream()
          .noneMatch(
              a ->
                  a.certificate() == null
                      && Arrays.equals(a.key().getEncoded(), key.getEncoded()))) {
        anchors.add(new Anchor("the public key in the record", null, key, null));
      }
    }
  }

  private static Outcome fromAnchor(
      Anchor anchor, List<X509Certificate> chain, List<DomainName> referenceNames, Date now) {
    String at = "anchor " + anchor.origin() + ": ";
    List<X509Certificate> pool = new ArrayList<>();
    for (X509Certificate c : chain.subList(1, chain.size())) {
      if (!c.equals(anchor.certificate()) && !pool.contains(c)) {
        pool.add(c);
      }
    }
    List<X509Certificate> start = new ArrayList<>();
    start.add(chain.get(0));
    List<List<X509Certificate>> paths = new ArrayList<>();
    paths(start, anchor, pool, new int[] {MAX_SIGNATURE_CHECKS}, paths);
    if (paths.isEmpty()) {
      return Outcome.failed(
          FailureType.CERTIFICATE_NOT_TRUSTED,
          at
              + "no chain of signatures "
              + "from the leaf up to it among the certificates the server sent",
          null);
    }
    // Each path the signatures allow, until one passes: a server may send two certificates of a
    // CA (renewed, cross-signed) of which only one makes a valid path (RFC 7671 §5.2).
    Outcome best = null;
    for (List<X509Certificate> path : paths) {
      Outcome o = alongPath(anchor, path, referenceNames, now, at);
      if (o.passed()) {
        return o;
      }
      if (best == null || o.progress() > best.progress()) {
        best = o;
      }
    }
    return Objects.requireNonNull(best); // paths is not empty
  }

  /** The checks of one path from the leaf (first) up to, excluding, the anchor. */
  private static Outcome alongPath(
      Anchor anchor,
      List<X509Certificate> path,
      List<DomainName> referenceNames,
      Date now,
      String at) {
    if (anchor.certificate() != null) {
      Outcome bad = checkAnchorCertificate(anchor.certificate(), limitedIntermediates(path), now);
      if (bad != null) {
        return new Outcome(bad.failure(), at + bad.detail(), bad.cause());
      }
    }
    X500Principal caName =
        anchor.name() != null ? anchor.name() : path.get(path.size() - 1).getIssuerX500Principal();
    X509CertSelector anchorConstraints = null;
    if (anchor.certificate() != null) {
      try {
        anchorConstraints = nameConstraints(anchor.certificate());
      } catch (IOException e) {
        return Outcome.failed(
            FailureType.CERTIFICATE_NOT_TRUSTED,
            at + "its nameConstraints cannot be decoded (RFC 5280 §4.2.1.10): " + e.getMessage(),
            e);
      }
    }
    // No name constraints in the TrustAnchor: the JDK's PKIX refuses an anchor that has them.
    TrustAnchor trustAnchor =
        anchor.certificate() != null
            ? new TrustAnchor(anchor.certificate(), null)
            : new TrustAnchor(caName, anchor.key(), null);
    try {
      CertPath certPath = CertificateFactory.getInstance("X.509").generateCertPath(path);
      // The one anchor the record designates; no public roots (RFC 7672 §3.1.3).
      PKIXParameters params = new PKIXParameters(Set.of(trustAnchor));
      params.setRevocationEnabled(false);
      params.setDate(now);
      CertPathValidator.getInstance("PKIX").validate(certPath, params);
    } catch (CertPathValidatorException e) {
      boolean expired =
          e.getReason() == CertPathValidatorException.BasicReason.EXPIRED
              || e.getReason() == CertPathValidatorException.BasicReason.NOT_YET_VALID;
      String which =
          e.getIndex() >= 0 && e.getIndex() < path.size()
              ? " at " + subject(path.get(e.getIndex()))
              : "";
      return Outcome.failed(
          expired ? FailureType.CERTIFICATE_EXPIRED : FailureType.CERTIFICATE_NOT_TRUSTED,
          at
              + "path validation failed"
              + which
              + ": "
              + e.getMessage()
              + (e.getCause() == null ? "" : " (" + e.getCause().getMessage() + ")"),
          e);
    } catch (GeneralSecurityException e) {
      return Outcome.failed(
          FailureType.CERTIFICATE_NOT_TRUSTED, at + "path validation could not run: " + e, e);
    }
    if (anchorConstraints != null) {
      for (int i = 0; i < path.size(); i++) {
        X509Certificate c = path.get(i);
        // RFC 5280 §6.1.3 (b)-(c): a self-issued CA below the anchor is exempt, never the leaf.
        boolean selfIssued = c.getSubjectX500Principal().equals(c.getIssuerX500Principal());
        if ((i == 0 || !selfIssued) && !satisfies(anchorConstraints, c)) {
          return Outcome.failed(
              FailureType.CERTIFICATE_NOT_TRUSTED,
              at
                  + "the names of "
                  + subject(c)
                  + " are outside the anchor's nameConstraints (RFC 5280 §4.2.1.10)",
              null);
        }
      }
    }
    for (X509Certificate c : path) {
      if (!allowsServerAuth(c)) {
        return Outcome.failed(
            FailureType.CERTIFICATE_NOT_TRUSTED,
            at
                + subject(c)
                + " has an extendedKeyUsage without serverAuth "
                + "(RFC 5280 §4.2.1.12)",
            null);
      }
    }
    Outcome cnOutside = commonNameOutsideConstraints(path, anchor.certificate(), at);
    if (cnOutside != null) {
      return cnOutside;
    }
    X509Certificate leaf = path.get(0);
    // RFC 7672 §3.2.2-§3.2.3: DANE-TA needs a name check against the reference identifiers.
    if (!HostnameMatcher.matches(leaf, referenceNames)) {
      return Outcome.failed(
          FailureType.CERTIFICATE_HOST_MISMATCH,
          at
              + "the path validates, but "
              + "the leaf's names "
              + HostnameMatcher.presentedIds(leaf)
              + " match none of the "
              + "reference identifiers "
              + referenceNames
              + " (RFC 7672 §3.2.2)",
          null);
    }
    return Outcome.passed(
        at + "path of " + path.size() + " certificate(s) validated, name " + "matched");
  }

  /**
   * RFC 7672 §3.2.3 with RFC 5280 §4.2.1.10: when the leaf has no DNS-ID the name check reads its
   * subject CN, so the dNSName constraints of every CA above the leaf (the certificate anchor
   * included; a key anchor has none) bind that CN as they bind a DNS-ID. The JDK's validation
   * applies them to a CN only when the CN parses as its own DNS name, which a wildcard ({@code
   * *.example.org}) or a trailing dot does not, while the name check accepts both. Returns the
   * failure, or null when the CN (if it is read at all) is within the constraints.
   */
  private static @Nullable Outcome commonNameOutsideConstraints(
      List<X509Certificate> path, @Nullable X509Certificate anchorCertificate, String at) {
    X509Certificate leaf = path.get(0);
    if (!HostnameMatcher.dnsIds(leaf).isEmpty()) {
      return null; // DNS-IDs are what the name check reads, and the validation bound them
    }
    List<String> commonNames = HostnameMatcher.presentedIds(leaf);
    if (commonNames.isEmpty()) {
      return null;
    }
    List<X509Certificate> cas = new ArrayList<>(path.subList(1, path.size()));
    if (anchorCertificate != null) {
      cas.add(anchorCertificate);
    }
    for (X509Certificate ca : cas) {
      DnsNameConstraints constraints;
      try {
        constraints = DnsNameConstraints.of(ca);
      } catch (IOException e) {
        return Outcome.failed(
            FailureType.CERTIFICATE_NOT_TRUSTED,
            at
                + "the nameConstraints of "
                + subject(ca)
                + " cannot be decoded (RFC 5280 §4.2.1.10): "
                + e.getMessage(),
            e);
      }
      if (constraints == null) {
        continue;
      }
      for (String cn : commonNames) {
        if (!constraints.admits(cn)) {
          return Outcome.failed(
              FailureType.CERTIFICATE_NOT_TRUSTED,
              at
                  + "the subject CN "
                  + PeerText.quote(cn)
                  + " of "
                  + subject(leaf)
                  + ", which the name check reads for want of a DNS-ID (RFC 7672 §3.2.3), is"
                  + " outside the dNSName name constraints of "
                  + subject(ca)
                  + " (nameConstraints, RFC 5280 §4.2.1.10)",
              null);
        }
      }
    }
    return null;
  }

  /** The most signature checks one chain search may make (a real chain needs a handful). */
  static final int MAX_SIGNATURE_CHECKS = 64;

  /** The most complete paths one chain search collects, each then validated. */
  static final int MAX_PATHS = 8;

  /**
   * Adds to {@code out} each way of growing {@code path} (leaf first) with certificates from {@code
   * pool} until its last one is issued by the anchor: subject/issuer names chain and each signature
   * verifies. Depth-first, so a server that sends extra or out-of-order certificates still finds
   * its path, and every such path is found, not only the first (which may fail validation where
   * another passes). The search is bounded by {@code budget} signature checks in all and by {@link
   * #MAX_PATHS} paths, so a hostile chain of mutually signed look-alike CAs cannot make it
   * exponential.
   */
  private static void paths(
      List<X509Certificate> path,
      Anchor anchor,
      List<X509Certificate> pool,
      int[] budget,
      List<List<X509Certificate>> out) {
    X509Certificate last = path.get(path.size() - 1);
    if (anchor.issued(last)) {
      out.add(List.copyOf(path));
      return;
    }
    if (path.size() >= MAX_PATH) {
      return;
    }
    for (X509Certificate c : pool) {
      if (out.size() >= MAX_PATHS) {
        return;
      }
      if (!path.contains(c) && c.getSubjectX500Principal().equals(last.getIssuerX500Principal())) {
        if (budget[0]-- <= 0) {
          return;
        }
        if (!signedBy(last, c.getPublicKey())) {
          continue;
        }
        path.add(c);
        paths(path, anchor, pool, budget, out);
        path.remove(path.size() - 1);
      }
    }
  }

  /**
   * The intermediates of {@code path} (leaf first, anchor excluded) that a pathLenConstraint
   * limits: those that are not self-issued (RFC 5280 §4.2.1.9, §6.1.4 (l)), as OpenSSL counts them.
   * A CA's link certificate from a key rollover (its new key under the same name, signed by the
   * old) is self-issued and so takes none of the anchor's path length.
   */
  private static int limitedIntermediates(List<X509Certificate> path) {
    int n = 0;
    for (X509Certificate c : path.subList(1, path.size())) {
      if (!c.getSubjectX500Principal().equals(c.getIssuerX500Principal())) {
        n++;
      }
    }
    return n;
  }

  /**
   * Checks on a certificate trust anchor, which PKIX validation leaves alone (RFC 5280 §6.1 takes
   * anchors as given) but OpenSSL's DANE-TA verification applies, since the anchor is part of the
   * chain it verifies: it must be a CA, may sign certificates, is valid now, and its path length
   * constraint admits the intermediates below it that are not self-issued.
   */
  private static @Nullable Outcome checkAnchorCertificate(
      X509Certificate ca, int intermediates, Date now) {
    int pathLen = ca.getBasicConstraints();
    boolean v1Root =
        ca.getVersion() == 1 && ca.getSubjectX500Principal().equals(ca.getIssuerX500Principal());
    if (pathLen < 0 && !v1Root) {
      return Outcome.failed(
          FailureType.CERTIFICATE_NOT_TRUSTED,
          "not a CA certificate " + "(basicConstraints cA is not TRUE, RFC 5280 §4.2.1.9)",
          null);
    }
    boolean[] keyUsage = ca.getKeyUsage();
    if (keyUsage != null && (keyUsage.length <= KEY_CERT_SIGN || !keyUsage[KEY_CERT_SIGN])) {
      return Outcome.failed(
          FailureType.CERTIFICATE_NOT_TRUSTED,
          "its keyUsage lacks keyCertSign (RFC 5280 §4.2.1.3)",
          null);
    }
    if (pathLen >= 0 && pathLen != Integer.MAX_VALUE && intermediates > pathLen) {
      return Outcome.failed(
          FailureType.CERTIFICATE_NOT_TRUSTED,
          "its pathLenConstraint "
              + pathLen
              + " admits fewer than the "
              + intermediates
              + " intermediate(s) below it that are not self-issued "
              + "(RFC 5280 §4.2.1.9)",
          null);
    }
    try {
      ca.checkValidity(now);
    } catch (CertificateExpiredException | CertificateNotYetValidException e) {
      return Outcome.failed(
          FailureType.CERTIFICATE_EXPIRED,
          "the anchor certificate is outside its validity period: " + e.getMessage(),
          e);
    }
    return null;
  }

  /**
   * A selector matching the certificates whose subject and subjectAltNames satisfy {@code ca}'s
   * nameConstraints (RFC 5280 §4.2.1.10), with the JDK's own matching as PKIX uses it for the CAs
   * of a path; null when {@code ca} has no nameConstraints. A constraint the JDK cannot apply (a
   * minimum or maximum distance) makes the selector match nothing.
   *
   * @throws IOException if the extension's value is not a DER NameConstraints
   */
  private static @Nullable X509CertSelector nameConstraints(X509Certificate ca) throws IOException {
    // getExtensionValue returns the extension's value wrapped in one more DER OCTET STRING.
    byte[] wrapped = ca.getExtensionValue(NAME_CONSTRAINTS);
    if (wrapped == null) {
      return null;
    }
    if (wrapped.length < 2 || wrapped[0] != OCTET_STRING) {
      throw new IOException("the extension value is not a DER OCTET STRING");
    }
    int first = wrapped[1] & 0xff;
    int offset = 2;
    long length = first;
    if (first > 0x7f) {
      int octets = first & 0x7f;
      if (octets == 0 || octets > 4 || wrapped.length < offset + octets) {
        throw new IOException("the extension value's length is malformed");
      }
      length = 0;
      for (int i = 0; i < octets; i++) {
        length = (length << 8) | (wrapped[offset++] & 0xff);
      }
    }
    if (length != wrapped.length - offset) {
      throw new IOException("the extension value's length does not match its content");
    }
    X509CertSelector selector = new X509CertSelector();
    try {
      selector.setNameConstraints(Arrays.copyOfRange(wrapped, offset, wrapped.length));
    } catch (RuntimeException e) {
      throw new IOException("the extension value is not a NameConstraints: " + e, e);
    }
    return selector;
  }

  /** Whether {@code c}'s names satisfy the constraints; a matching error counts as no. */
  private static boolean satisfies(X509CertSelector constraints, X509Certificate c) {
    try {
      return constraints.match(c);
    } catch (RuntimeException e) {
      return false;
    }
  }

  private static boolean allowsServerAuth(X509Certificate c) {
    List<String> eku;
    try {
      eku = c.getExtendedKeyUsage();
    } catch (CertificateParsingException e) {
      return false;
    }
    return eku == null || eku.contains(SERVER_AUTH) || eku.contains(ANY_EXTENDED_KEY_USAGE);
  }

  private static boolean signedBy(X509Certificate cert, PublicKey key) {
    try {
      cert.verify(key);
      return true;
    } catch (GeneralSecurityException | RuntimeException e) {
      return false;
    }
  }

  /** The certificate {@code der} encodes exactly (no trailing octets), or null. */
  static @Nullable X509Certificate parseCertificate(byte[] der) {
    try {
      Certificate c =
          CertificateFactory.getInstance("X.509")
              .generateCertificate(new ByteArrayInputStream(der));
      if (c instanceof X509Certificate x && Arrays.equals(x.getEncoded(), der)) {
        return x;
      }
    } catch (CertificateException | RuntimeException e) {
      return null;
    }
    return null;
  }

  /**
   * The public key of the DER SubjectPublicKeyInfo {@code spki} (nothing after it), for the first
   * algorithm that accepts it. The key's own {@code getEncoded()} need not give back {@code spki}:
   * the JDK re-encodes (an RSA key whose AlgorithmIdentifier omits the NULL parameters comes back
   * with them), and the record holds the octets of the anchor's certificate (RFC 6698 §2.1.2).
   */
  static @Nullable PublicKey parseKey(byte[] spki) {
    if (!TlsaData.isSubjectPublicKeyInfo(spki)) {
      return null;
    }
    for (String algorithm : KEY_ALGORITHMS) {
      try {
        return KeyFactory.getInstance(algorithm).generatePublic(new X509EncodedKeySpec(spki));
      } catch (GeneralSecurityException | RuntimeException e) {
        // Not this algorithm; try the next.
      }
    }
    return null;
  }

  /** A certificate's subject for a message: peer text, so quoted (no CR or LF of it survives). */
  private static String subject(X509Certificate c) {
    return PeerText.quote(c.getSubjectX500Principal().toString());
  }
}
