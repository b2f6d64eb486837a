package io.mailtls.cli;

import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.ProbeResult;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.TlsDetails;
import io.mailtls.core.internal.tls.CertificateKeys;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The posture of one recipient domain, as {@code mailtls check} reports it: the JSON document of
 * docs/cli-json.md (schema {@value #SCHEMA}), which the human tables print too. Records of plain
 * values (strings, numbers, lists; absent values null) so that Jackson writes them as they stand,
 * fields in declaration order. Immutable.
 *
 * @param schema always {@value #SCHEMA}
 * @param domain the domain as given, normalised (A-labels, lower case)
 * @param error why the domain could not be checked at all (bulk input), else null
 * @param mx the MX resolution
 * @param mtaSts the MTA-STS record and policy; null for an address literal
 * @param tlsRpt the TLS-RPT record (RFC 8460 §3); null for an address literal
 * @param hosts the MX hosts in the order delivery tries them
 * @param levels the delivery plan under each sender level, by level token
 */
record CheckReport(
    String schema,
    String domain,
    @Nullable String error,
    @Nullable Mx mx,
    @Nullable MtaSts mtaSts,
    @Nullable TlsRpt tlsRpt,
    List<Host> hosts,
    Map<String, Level> levels) {

  /** The schema name and version of the {@code check} document. */
  static final String SCHEMA = "mailtls.check/1";

  /** A report for a domain that could not be checked. */
  static CheckReport failed(String domain, String error) {
    return new CheckReport(SCHEMA, domain, error, null, null, null, List.of(), Map.of());
  }

  /**
   * The MX resolution.
   *
   * @param outcome {@code MxResolution.Kind}: MX, IMPLICIT_MX, ADDRESS_LITERAL, NULL_MX,
   *     NO_SUCH_DOMAIN, NO_MAIL_HOST, NO_USABLE_MX or TEMPORARY_FAILURE
   * @param dnssec the MX answer's DNSSEC state
   * @param answer the MX answer in words, or null for an address literal
   * @param notes what was ignored or noteworthy
   */
  record Mx(String outcome, String dnssec, @Nullable String answer, List<String> notes) {}

  /** One DNS answer: outcome, DNSSEC state, and the failure with its reason when it failed. */
  record Answer(String outcome, String dnssec, @Nullable String failure, @Nullable String reason) {
    static Answer of(DnsAnswer a) {
      return new Answer(
          a.outcome().name(),
          a.state().name(),
          a.failure().map(Enum::name).orElse(null),
          a.reason().orElse(null));
    }
  }

  /**
   * One MX host.
   *
   * @param name the host name
   * @param preference the MX preference
   * @param implicit whether it is the domain itself (no MX records, RFC 5321 §5.1)
   * @param addresses its addresses
   * @param addressDnssec the weaker DNSSEC state of its A and AAAA answers
   * @param a the A answer
   * @param aaaa the AAAA answer
   * @param tlsa its TLSA records and their classification
   * @param requirements what each sender level requires of it, by level token
   * @param probes the live probe of each address; null without {@code --probe}
   */
  record Host(
      String name,
      int preference,
      boolean implicit,
      List<String> addresses,
      String addressDnssec,
      @Nullable Answer a,
      @Nullable Answer aaaa,
      Tlsa tlsa,
      Map<String, Requirement> requirements,
      @Nullable List<Probe> probes) {}

  /**
   * The DANE outcome for one host (RFC 7672 §2.2).
   *
   * @param status {@code usable} (DANE mandatory), {@code unusable} (secure records, none usable:
   *     TLS mandatory, unauthenticated), {@code none} (no DANE), {@code failed} (bogus or
   *     unobtainable: the host is unusable), {@code skipped} (no address to look up for)
   * @param baseDomain the TLSA base domain (and SNI) when usable, else null
   * @param reason how it was decided
   * @param records the records, each classified (RFC 7672 §3.1)
   */
  record Tlsa(
      String status, @Nullable String baseDomain, String reason, List<TlsaRecord> records) {}

  /**
   * One TLSA record.
   *
   * @param usage certificate usage (2 DANE-TA, 3 DANE-EE, ...)
   * @param selector 0 full certificate, 1 SubjectPublicKeyInfo
   * @param matchingType 0 full, 1 SHA2-256, 2 SHA2-512
   * @param data the association data in hex
   * @param usageName the RFC 7218 acronym of the usage
   * @param usable whether an SMTP client can authenticate with it (RFC 7672 §3.1)
   * @param why why it is unusable, else null
   */
  record TlsaRecord(
      int usage,
      int selector,
      int matchingType,
      String data,
      String usageName,
      boolean usable,
      @Nullable String why) {
    static TlsaRecord of(DnsRecord.Tlsa r, String usageName, @Nullable String why) {
      return new TlsaRecord(
          r.usage(),
          r.selector(),
          r.matchingType(),
          HexFormat.of().formatHex(r.data()),
          usageName,
          why == null,
          why);
    }
  }

  /**
   * What one sender level requires of one host.
   *
   * @param action {@code try} (planned), {@code skip} (not used, see {@code failure}) or {@code
   *     none} (nothing is tried at this level: see the level's status)
   * @param requirement {@code opportunistic}, {@code encrypted}, {@code pkix} or {@code dane}; null
   *     unless tried
   * @param source which policy set it: {@code none}, {@code sender}, {@code mta-sts}, {@code dane};
   *     null unless tried
   * @param reportOnly a stricter requirement only reported on (MTA-STS {@code testing}), or null
   * @param failure why the host is skipped ({@code FailureType}), else null
   * @param why the decision in words
   */
  record Requirement(
      String action,
      @Nullable String requirement,
      @Nullable String source,
      @Nullable String reportOnly,
      @Nullable String failure,
      String why) {}

  /**
   * The plan under one sender level.
   *
   * @param status {@code ATTEMPT} (hosts to try; the servers decide), {@code DEFERRED} or {@code
   *     BOUNCED} (decided before any connection)
   * @param reply the locally generated reply when not {@code ATTEMPT}, else null
   * @param failure the failure type ({@code FailureType}) when not {@code ATTEMPT}, else null
   * @param hosts the hosts to try, in order
   * @param decision the decision record, in words
   */
  record Level(
      String status,
      @Nullable Reply reply,
      @Nullable String failure,
      List<String> hosts,
      List<String> decision) {}

  /**
   * An SMTP reply.
   *
   * @param code the reply code
   * @param enhanced the enhanced status code, e.g. {@code 5.7.10}, or null
   * @param text the text, lines joined with a line feed
   * @param local whether mailtls generated it (no server said it)
   */
  record Reply(int code, @Nullable String enhanced, String text, boolean local) {
    static Reply of(SmtpReply r) {
      return new Reply(
          r.code(),
          r.enhancedStatus().map(Object::toString).orElse(null),
          r.text(),
          r.locallyGenerated());
    }
  }

  /**
   * MTA-STS for the domain (RFC 8461).
   *
   * @param record the {@code _mta-sts} TXT record (§3.1)
   * @param policy the policy that applies (§3.2, §5.1)
   */
  record MtaSts(StsRecord record, StsPolicy policy) {}

  /**
   * The {@code _smtp._tls} TXT record (RFC 8460 §3), as {@code TlsRptDiscovery} reads it.
   *
   * @param status {@code valid} (exactly one valid record: the domain takes reports), {@code
   *     absent} (no TXT record, or none that begins with {@code v=TLSRPTv1;}), {@code several}
   *     (more than one begins so), {@code invalid} (the one there is does not parse) or {@code
   *     failed} (the lookup failed: never read as "no reporting")
   * @param record the record's text when valid, else null
   * @param txt the TXT records found at {@code _smtp._tls.<domain>}
   * @param dnssec the TXT answer's DNSSEC state
   * @param rua the report destinations ({@code mailto:} and {@code https:} URIs) when valid
   * @param ignored well-formed URIs of other schemes, ignored
   * @param reason why no record applies, else null
   */
  record TlsRpt(
      String status,
      @Nullable String record,
      List<String> txt,
      String dnssec,
      List<String> rua,
      List<String> ignored,
      @Nullable String reason) {}

  /**
   * The {@code _mta-sts} TXT lookup.
   *
   * @param status {@code valid}, {@code absent} (NXDOMAIN or NODATA), {@code invalid} (present but
   *     unusable, RFC 8461 §3.1) or {@code failed} (the lookup failed)
   * @param id the policy id when valid, else null
   * @param txt the TXT records found
   * @param dnssec the answer's DNSSEC state
   * @param reason why it is not valid, else null
   */
  record StsRecord(
      String status,
      @Nullable String id,
      List<String> txt,
      String dnssec,
      @Nullable String reason) {}

  /**
   * The MTA-STS policy lookup.
   *
   * @param status {@code found}, {@code none} or {@code failed}
   * @param id the policy id, when found
   * @param mode {@code enforce}, {@code testing} or {@code none}, when found
   * @param mx the {@code mx} patterns, when found
   * @param maxAgeSeconds {@code max_age}, when found
   * @param failure the failure type ({@code FailureType}) when failed, else null
   * @param reason why there is none, or what failed, or a note
   */
  record StsPolicy(
      String status,
      @Nullable String id,
      @Nullable String mode,
      List<String> mx,
      @Nullable Long maxAgeSeconds,
      @Nullable String failure,
      @Nullable String reason) {}

  /**
   * The live probe of one address ({@code --probe}).
   *
   * @param address the IP address
   * @param port the SMTP port
   * @param planned whether the opportunistic plan uses the host (else it is skipped)
   * @param requirement the requirement the verdict applies
   * @param serverName the SNI name sent, or null
   * @param reachable whether TCP connected
   * @param greeting the greeting, or null
   * @param starttls whether STARTTLS was offered; null when EHLO was not reached
   * @param starttlsReply the reply to STARTTLS (220, or a refusal, RFC 3207 §4), or null when
   *     STARTTLS was not sent
   * @param protocol the TLS protocol, or null
   * @param cipher the cipher suite, or null
   * @param peerChain the certificates presented, leaf first
   * @param pkixVerified whether PKIX verified the chain and name; null without TLS
   * @param pkixFailure why not, else null
   * @param daneVerified whether DANE authenticated the peer; null when DANE does not apply
   * @param daneFailure why not, else null
   * @param daneMatched the matching TLSA record, else null
   * @param verdict {@code verified-dane}, {@code verified-pkix}, {@code encrypted}, {@code
   *     plaintext} or {@code failed}
   * @param reason why
   * @param millis how long the probe took
   * @param summary the outcome on one line in the style of Postfix's posttls-finger: {@code
   *     Verified TLS connection established to HOST[ADDRESS]:PORT: ...}, {@code Trusted ...} (the
   *     chain is trusted, the name does not match), {@code Untrusted ...}, {@code Anonymous (no
   *     TLS) connection ...}, or {@code Failed connection ...}
   */
  record Probe(
      String address,
      int port,
      boolean planned,
      String requirement,
      @Nullable String serverName,
      boolean reachable,
      @Nullable String greeting,
      @Nullable Boolean starttls,
      @Nullable String starttlsReply,
      @Nullable String protocol,
      @Nullable String cipher,
      List<Certificate> peerChain,
      @Nullable Boolean pkixVerified,
      @Nullable String pkixFailure,
      @Nullable Boolean daneVerified,
      @Nullable String daneFailure,
      @Nullable String daneMatched,
      String verdict,
      String reason,
      long millis,
      String summary) {

    /**
     * The probe of one address as the document shows it; failures and the reason on one line
     * (core's DANE failure lists the peer's keys and the records tried on lines of their own).
     */
    static Probe of(ProbeResult r, boolean planned, String requirement) {
      List<Certificate> chain =
          r.tls().map(t -> t.peerChain().stream().map(Certificate::of).toList()).orElse(List.of());
      return new Probe(
          r.address().getAddress().getHostAddress(),
          r.address().getPort(),
          planned,
          requirement,
          r.serverName().orElse(null),
          r.reachable(),
          r.greeting().map(Probe::reply).orElse(null),
          r.starttlsOffered().orElse(null),
          r.starttlsReply().map(Probe::reply).orElse(null),
          r.tls().map(TlsDetails::protocol).orElse(null),
          r.tls().map(TlsDetails::cipherSuite).orElse(null),
          chain,
          r.pkix().map(ProbeResult.Verification::verified).orElse(null),
          failure(r.pkix()),
          r.dane().map(ProbeResult.Verification::verified).orElse(null),
          failure(r.dane()),
          r.matchedTlsa().map(DnsRecord.Tlsa::toString).orElse(null),
          r.verdict().token(),
          Mailtls.oneLine(r.reason()),
          r.elapsed().toMillis(),
          VerdictLine.of(r, planned));
    }

    /** A reply on one line: the code, then the lines joined with " / ". */
    private static String reply(SmtpReply r) {
      return r.code()
          + r.enhancedStatus().map(s -> " " + s).orElse("")
          + " "
          + String.join(" / ", r.lines());
    }

    private static @Nullable String failure(Optional<ProbeResult.Verification> check) {
      return check.filter(v -> !v.verified()).map(v -> Mailtls.oneLine(v.detail())).orElse(null);
    }
  }

  /**
   * One certificate of a peer chain.
   *
   * @param subject the subject DN (RFC 2253)
   * @param issuer the issuer DN
   * @param serial the serial number in hex
   * @param notBefore start of validity (ISO-8601)
   * @param notAfter end of validity (ISO-8601)
   * @param dnsNames the DNS subject alternative names
   * @param sha256 SHA-256 of the DER certificate (TLSA {@code x 0 1})
   * @param spkiSha256 SHA-256 of the SubjectPublicKeyInfo as the certificate encodes it (TLSA
   *     {@code x 1 1}, RFC 6698 §2.1.2), or null when its encoding has no RFC 5280 §4.1 shape
   */
  record Certificate(
      String subject,
      String issuer,
      String serial,
      String notBefore,
      String notAfter,
      List<String> dnsNames,
      String sha256,
      @Nullable String spkiSha256) {

    static Certificate of(X509Certificate c) {
      try {
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        String certHash = HexFormat.of().formatHex(sha.digest(c.getEncoded()));
        // The certificate's own octets: the JDK's getPublicKey().getEncoded() re-encodes some
        // keys (an RSA AlgorithmIdentifier without NULL parameters gets them back), and a record
        // of that digest would never match.
        String spkiHash =
            CertificateKeys.subjectPublicKeyInfo(c)
                .map(spki -> HexFormat.of().formatHex(sha.digest(spki)))
                .orElse(null);
        return new Certificate(
            c.getSubjectX500Principal().getName(),
            c.getIssuerX500Principal().getName(),
            c.getSerialNumber().toString(16),
            c.getNotBefore().toInstant().toString(),
            c.getNotAfter().toInstant().toString(),
            dnsNames(c),
            certHash,
            spkiHash);
      } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
        throw new IllegalStateException("cannot digest a certificate", e);
      }
    }

    private static List<String> dnsNames(X509Certificate c) {
      List<String> out = new ArrayList<>();
      try {
        if (c.getSubjectAlternativeNames() != null) {
          for (List<?> san : c.getSubjectAlternativeNames()) {
            if (san.size() >= 2 && Integer.valueOf(2).equals(san.get(0))) {
              out.add(String.valueOf(san.get(1)));
            }
          }
        }
      } catch (CertificateParsingException e) {
        out.add("(unparsable subjectAltName)");
      }
      return out;
    }
  }
}
