package io.mailtls.dane;

import io.mailtls.core.DaneProvider;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.FailureType;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.internal.smtp.PeerText;
import io.mailtls.core.internal.tls.CertificateFailure;
import io.mailtls.dane.internal.DaneTaVerifier;
import io.mailtls.dane.internal.DigestAgility;
import io.mailtls.dane.internal.TlsaData;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import org.jspecify.annotations.Nullable;

/**
 * Authenticates an SMTP server by DANE (RFC 7672 §3, RFC 7671 §5): the JSSE trust manager for one
 * connection under a {@link TlsRequirement.Dane}. Public roots play no part.
 *
 * <ul>
 *   <li>DANE-EE(3) records (RFC 7671 §5.1, RFC 7672 §3.1.1) match the leaf certificate (selector
 *       Cert(0)) or its public key (SPKI(1)), exactly (Full(0)) or by SHA2-256(1) or SHA2-512(2)
 *       digest. Nothing else is checked: not the names (RFC 7672 §3.2.1), not the validity dates,
 *       not the chain. A self-signed, expired or misnamed certificate whose key the zone publishes
 *       is authentic.
 *   <li>DANE-TA(2) records (RFC 7671 §5.2, RFC 7672 §3.1.2) designate a trust anchor among the CA
 *       certificates the server sent (never the leaf), or carry it in full ({@code 2 0 0}, {@code 2
 *       1 0}); a path from the leaf to that anchor is validated with the JDK's PKIX validator and
 *       that anchor alone, dates at this manager's clock, each path the server's certificates make
 *       until one passes (a renewed CA's expired certificate sent beside the new one is passed
 *       over); then the leaf must match a reference identifier (RFC 7672 §3.2.2-§3.2.3).
 *   <li>Any one usable record that authenticates is enough (RFC 6698 §2.1). Before matching,
 *       unusable records are dropped (RFC 7672 §3.1) and digest algorithm agility applies (RFC 7671
 *       §9): per usage and selector only the strongest digest present counts.
 * </ul>
 *
 * <p>A rejection is a {@link CertificateFailure} (core's typed {@link CertificateException}, which
 * the transport reads from the failed handshake) of type {@link
 * FailureType#CERTIFICATE_NOT_TRUSTED} when no record matched, {@link
 * FailureType#CERTIFICATE_HOST_MISMATCH} when a DANE-TA path validated but the name did not, {@link
 * FailureType#CERTIFICATE_EXPIRED} when a DANE-TA path failed on validity dates. Its message lists
 * the SPKI SHA-256 of every certificate the server sent and what each record made of them, as
 * OkHttp's {@code CertificatePinner} does for pins.
 *
 * <p>Thread-safe; meant for one connection (JSSE makes one check per handshake). {@link
 * #matchedRecord()} reports the last successful check. Client certificates are never accepted: an
 * SMTP client has no business judging them.
 */
public final class DaneTrustManager extends X509ExtendedTrustManager
    implements DaneProvider.Matched {

  private static final X509Certificate[] NO_ISSUERS = new X509Certificate[0];

  private final TlsRequirement.Dane requirement;
  private final Clock clock;
  private volatile DnsRecord.@Nullable Tlsa matched;

  /** A trust manager for {@code requirement} that checks dates on the system clock. */
  public DaneTrustManager(TlsRequirement.Dane requirement) {
    this(requirement, Clock.systemUTC());
  }

  /** A trust manager for {@code requirement} checking DANE-TA validity dates at {@code clock}. */
  public DaneTrustManager(TlsRequirement.Dane requirement, Clock clock) {
    this.requirement = Objects.requireNonNull(requirement, "requirement");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /** The requirement this manager enforces. */
  public TlsRequirement.Dane requirement() {
    return requirement;
  }

  @Override
  public Optional<DnsRecord.Tlsa> matchedRecord() {
    return Optional.ofNullable(matched);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    checkServerTrusted(chain, authType);
  }

  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    checkServerTrusted(chain, authType);
  }

  /**
   * Accepts {@code chain} (leaf first, as the server sent it) when a usable record authenticates
   * it, else throws a {@link CertificateFailure} naming the peer's keys and the records tried.
   */
  @Override
  public void checkServerTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    matched = null;
    List<X509Certificate> certs = chain == null ? List.of() : Arrays.asList(chain.clone());
    if (certs.isEmpty() || certs.contains(null)) {
      throw new CertificateFailure(
          FailureType.CERTIFICATE_NOT_TRUSTED,
          "DANE: the server presented no certificate (RFC 7672 §3)",
          null);
    }
    DigestAgility.Selection selection = DigestAgility.select(requirement.records());
    List<String> tried = new ArrayList<>();
    // DANE-EE first: one comparison each, no path to build (RFC 7671 §5.1).
    for (DnsRecord.Tlsa r : selection.used()) {
      if (r.usage() == DnsRecord.Tlsa.DANE_EE) {
        if (TlsaData.matches(r, certs.get(0))) {
          matched = r;
          return;
        }
        tried.add(TlsaData.describe(r) + ": does not match the leaf certificate");
      }
    }
    Date now = Date.from(clock.instant());
    DaneTaVerifier.Outcome best = null;
    for (DnsRecord.Tlsa r : selection.used()) {
      if (r.usage() == DnsRecord.Tlsa.DANE_TA) {
        DaneTaVerifier.Outcome o =
            DaneTaVerifier.verify(r, certs, requirement.referenceNames(), now);
        if (o.passed()) {
          matched = r;
          return;
        }
        tried.add(TlsaData.describe(r) + ": " + o.detail());
        if (best == null || o.progress() > best.progress()) {
          best = o;
        }
      }
    }
    FailureType type = best == null ? FailureType.CERTIFICATE_NOT_TRUSTED : best.failure().get();
    throw new CertificateFailure(
        type, message(type, certs, tried, selection), best == null ? null : best.cause());
  }

  private String message(
      FailureType type,
      List<X509Certificate> certs,
      List<String> tried,
      DigestAgility.Selection selection) {
    StringBuilder sb =
        new StringBuilder()
            .append("DANE authentication failed (RFC 7672 §3): ")
            .append(
                type == FailureType.CERTIFICATE_NOT_TRUSTED
                    ? "no usable TLSA record matches the server's certificates"
                    : type == FailureType.CERTIFICATE_HOST_MISMATCH
                        ? "the DANE-TA chain validates but the certificate names the wrong host"
                        : "a certificate of the DANE-TA chain is outside its validity period")
            .append("\n  TLSA base domain: ")
            .append(requirement.baseDomain())
            .append("; reference identifiers: ")
            .append(requirement.referenceNames())
            .append("\n  Peer certificate chain (SPKI SHA-256, the data of an \"x 1 1\" record):");
    for (int i = 0; i < certs.size(); i++) {
      X509Certificate c = certs.get(i);
      sb.append("\n    ")
          .append(i)
          .append(": ")
          .append(TlsaData.spkiSha256Hex(c))
          // The subject is the peer's text: quoted, so no CR or LF of it reaches a reply line.
          .append(' ')
          .append(PeerText.quote(c.getSubjectX500Principal().toString()));
    }
    sb.append("\n  TLSA records tried:");
    if (tried.isEmpty()) {
      sb.append("\n    (none usable)");
    }
    for (String t : tried) {
      sb.append("\n    ").append(t);
    }
    if (!selection.superseded().isEmpty()) {
      sb.append(
          "\n  Not tried, a stronger digest exists for the same usage and selector "
              + "(RFC 7671 §9):");
      for (DnsRecord.Tlsa r : selection.superseded()) {
        sb.append("\n    ").append(TlsaData.describe(r));
      }
    }
    if (!selection.unusable().isEmpty()) {
      sb.append("\n  Unusable (RFC 7672 §3.1):");
      for (String u : selection.unusable()) {
        sb.append("\n    ").append(u);
      }
    }
    return sb.toString();
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
      throws CertificateException {
    throw noClients();
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
      throws CertificateException {
    throw noClients();
  }

  @Override
  public void checkClientTrusted(X509Certificate[] chain, String authType)
      throws CertificateException {
    throw noClients();
  }

  private static CertificateException noClients() {
    return new CertificateException("a DANE trust manager judges SMTP servers, never clients");
  }

  /** None: DANE names its trust anchors in DNS, not in a CA list. */
  @Override
  public X509Certificate[] getAcceptedIssuers() {
    return NO_ISSUERS.clone();
  }

  @Override
  public String toString() {
    return "DaneTrustManager{"
        + requirement.baseDomain()
        + ", "
        + requirement.records().size()
        + " record(s)}";
  }
}
