package io.mailtls.interop;

import static io.mailtls.core.Authentication.ENCRYPTED;
import static io.mailtls.core.Authentication.PLAINTEXT;
import static io.mailtls.core.Authentication.TRUSTED;
import static io.mailtls.core.Authentication.VERIFIED;
import static io.mailtls.core.FailureType.CERTIFICATE_HOST_MISMATCH;
import static io.mailtls.core.FailureType.CERTIFICATE_NOT_TRUSTED;
import static io.mailtls.core.FailureType.CONNECTION_FAILED;
import static io.mailtls.core.FailureType.DANE_REQUIRED;
import static io.mailtls.core.FailureType.DNSSEC_INVALID;
import static io.mailtls.core.FailureType.PROTOCOL_ERROR;
import static io.mailtls.core.FailureType.STARTTLS_NOT_SUPPORTED;
import static io.mailtls.core.FailureType.STS_POLICY_FETCH_ERROR;
import static io.mailtls.core.FailureType.STS_POLICY_INVALID;
import static io.mailtls.core.FailureType.STS_REQUIRED;
import static io.mailtls.core.FailureType.STS_WEBPKI_INVALID;
import static io.mailtls.core.FailureType.TLSA_INVALID;
import static io.mailtls.core.PolicySource.DANE;
import static io.mailtls.core.PolicySource.MTA_STS;
import static io.mailtls.core.PolicySource.NONE;
import static io.mailtls.core.PolicySource.SENDER;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.FailureType;
import io.mailtls.core.PolicySource;
import io.mailtls.core.TlsLevel;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Every domain interop/up.sh serves, with what mailtls must do at each sender level and what
 * posttls-finger must say about it. This table is the oracle of the suite; {@link
 * ScenarioTableTest} checks that interop/README.md shows exactly it.
 */
@SuppressWarnings("ImmutableEnumChecker") // the suite's oracle: filled once, only ever read
enum Scenario {
  // --- DANE (signed zones) -------------------------------------------------------------------
  DANE_EE(
      "dane-ee.test",
      "signed; TLSA `3 1 1` of the listener's key",
      Listener.PKIX,
      Finger.dane(Verdict.VERIFIED),
      ok(VERIFIED, DANE),
      ok(VERIFIED, DANE),
      noStsPolicy(),
      ok(VERIFIED, DANE)),
  DANE_TA(
      "dane-ta.test",
      "signed; TLSA `2 0 1` of the DANE-TA root (in the chain)",
      Listener.DANE_TA,
      Finger.dane(Verdict.VERIFIED),
      ok(VERIFIED, DANE),
      ok(VERIFIED, DANE),
      noStsPolicy(),
      ok(VERIFIED, DANE)),
  DANE_TA_SPKI(
      "dane-ta-spki.test",
      "signed; TLSA `2 1 1` of the intermediate's key",
      Listener.DANE_TA,
      Finger.dane(Verdict.VERIFIED),
      ok(VERIFIED, DANE),
      ok(VERIFIED, DANE),
      noStsPolicy(),
      ok(VERIFIED, DANE)),
  DANE_TA_NONAME(
      "dane-ta-noname.test",
      "signed; TLSA `2 0 1` of the DANE-TA root; the leaf " + "does not name this MX",
      Listener.DANE_TA,
      Finger.dane(Verdict.DANE_FAILED),
      deferred(DANE, CERTIFICATE_HOST_MISMATCH),
      deferred(DANE, CERTIFICATE_HOST_MISMATCH),
      noStsPolicy(),
      deferred(DANE, CERTIFICATE_HOST_MISMATCH)),
  DANE_WRONG(
      "dane-wrong.test",
      "signed; TLSA `3 1 1` of a key nobody has",
      Listener.PKIX,
      Finger.dane(Verdict.DANE_FAILED),
      deferred(DANE, CERTIFICATE_NOT_TRUSTED),
      deferred(DANE, CERTIFICATE_NOT_TRUSTED),
      noStsPolicy(),
      deferred(DANE, CERTIFICATE_NOT_TRUSTED)),
  DANE_UNUSABLE(
      "dane-unusable.test",
      "signed; only TLSA `1 1 1` (PKIX-EE, unusable for SMTP, "
          + "RFC 7672 §3.1.3): TLS mandatory, unauthenticated",
      Listener.PKIX,
      Finger.dane(Verdict.UNTRUSTED),
      ok(ENCRYPTED, DANE, TLSA_INVALID),
      ok(ENCRYPTED, DANE, TLSA_INVALID),
      noStsPolicy(),
      deferred(SENDER, DANE_REQUIRED)),
  DANE_UNUSABLE_PLAIN(
      "dane-unusable-plain.test",
      "signed; only TLSA `1 1 1`, MX without " + "STARTTLS",
      Listener.PLAIN,
      Finger.dane(Verdict.NO_STARTTLS),
      deferred(DANE, STARTTLS_NOT_SUPPORTED),
      deferred(DANE, STARTTLS_NOT_SUPPORTED),
      noStsPolicy(),
      deferred(SENDER, DANE_REQUIRED)),
  DANE_NOSTARTTLS(
      "dane-nostarttls.test",
      "signed; TLSA `3 1 1`, MX without STARTTLS",
      Listener.PLAIN,
      Finger.dane(Verdict.NO_STARTTLS),
      deferred(DANE, STARTTLS_NOT_SUPPORTED),
      deferred(DANE, STARTTLS_NOT_SUPPORTED),
      noStsPolicy(),
      deferred(DANE, STARTTLS_NOT_SUPPORTED)),
  DANE_SELF(
      "dane-self.test",
      "signed; TLSA `3 1 1` of a self-signed certificate",
      Listener.SELF_SIGNED,
      Finger.dane(Verdict.VERIFIED),
      ok(VERIFIED, DANE),
      ok(VERIFIED, DANE),
      noStsPolicy(),
      ok(VERIFIED, DANE)),
  FAILOVER(
      "failover.test",
      "signed; MX 10 at a dead address (127.0.0.69), MX 20 good; TLSA " + "`3 1 1` on both",
      Listener.PKIX,
      Finger.dane(Verdict.VERIFIED),
      ok(VERIFIED, DANE, CONNECTION_FAILED),
      ok(VERIFIED, DANE, CONNECTION_FAILED),
      noStsPolicy(),
      ok(VERIFIED, DANE, CONNECTION_FAILED)),
  // --- no DNSSEC -----------------------------------------------------------------------------
  UNSIGNED(
      "unsigned.test",
      "unsigned; a TLSA record that must be ignored",
      Listener.PKIX,
      Finger.dane(Verdict.UNTRUSTED),
      ok(ENCRYPTED, NONE),
      ok(ENCRYPTED, SENDER),
      noStsPolicy(),
      deferred(SENDER, DANE_REQUIRED)),
  PLAIN(
      "plain.test",
      "unsigned; MX without STARTTLS",
      Listener.PLAIN,
      Finger.dane(Verdict.NO_STARTTLS),
      ok(PLAINTEXT, NONE),
      deferred(SENDER, STARTTLS_NOT_SUPPORTED),
      noStsPolicy(),
      deferred(SENDER, DANE_REQUIRED)),
  SELF_SIGNED(
      "selfsigned.test",
      "unsigned; self-signed MX certificate",
      Listener.SELF_SIGNED,
      Finger.dane(Verdict.UNTRUSTED),
      ok(ENCRYPTED, NONE),
      ok(ENCRYPTED, SENDER),
      noStsPolicy(),
      deferred(SENDER, DANE_REQUIRED)),
  // --- insecure MX answers (forgeable) naming a signed host with usable TLSA ------------------
  INSECURE_MX(
      "insecure-mx.test",
      "unsigned; MX → `mx.dane-ee.test` (signed, TLSA `3 1 1`): "
          + "DANE authenticates the host, not the choice of host (RFC 7672 §2.2.1)",
      Listener.PKIX,
      Finger.dane(Verdict.TRUSTED),
      ok(TRUSTED, DANE),
      ok(TRUSTED, DANE),
      noStsPolicy(),
      deferred(SENDER, DANE_REQUIRED)),
  INSECURE_MX_STS(
      "insecure-mx-sts.test",
      "unsigned; policy `enforce`, `mx: "
          + "mx.insecure-mx-sts.test`; MX → `mx.dane-ee.test` (signed, TLSA): outside the policy, "
          + "DANE or not (RFC 8461 §4.1)",
      Listener.PKIX,
      Finger.dane(Verdict.TRUSTED),
      deferred(MTA_STS, STS_POLICY_INVALID),
      deferred(MTA_STS, STS_POLICY_INVALID),
      deferred(MTA_STS, STS_POLICY_INVALID),
      deferred(SENDER, DANE_REQUIRED)),
  // --- hostile SMTP peers (interop/hostile-smtp.sh under socat, not Postfix) ----------------
  HOSTILE_DATA(
      "hostile-data.test",
      "unsigned; a peer that answers DATA with 250 (RFC 5321 "
          + "§4.3.2: only 354 may follow DATA), no STARTTLS",
      Listener.HOSTILE_DATA,
      Finger.dane(Verdict.NO_STARTTLS),
      deferredAfter(PLAINTEXT, NONE, PROTOCOL_ERROR),
      deferred(SENDER, STARTTLS_NOT_SUPPORTED),
      noStsPolicy(),
      deferred(SENDER, DANE_REQUIRED)),
  HOSTILE_EHLO(
      "hostile-ehlo.test",
      "unsigned; a peer that answers EHLO with 251",
      Listener.HOSTILE_EHLO,
      Finger.dane(Verdict.EHLO_REFUSED),
      deferred(NONE, PROTOCOL_ERROR),
      deferred(SENDER, PROTOCOL_ERROR),
      noStsPolicy(),
      deferred(SENDER, DANE_REQUIRED)),
  // --- bogus ---------------------------------------------------------------------------------
  BOGUS_EXPIRED(
      "bogus-expired.test",
      "signatures expired in 2020",
      Listener.PKIX,
      Finger.dane(Verdict.DNS_FAILURE),
      bogus(),
      bogus(),
      bogus(),
      bogus()),
  BOGUS_DS(
      "bogus-ds.test",
      "the DS in `test.` matches no key of the zone",
      Listener.PKIX,
      Finger.dane(Verdict.DNS_FAILURE),
      bogus(),
      bogus(),
      bogus(),
      bogus()),
  BOGUS_MX_SIG(
      "bogus-mx-sig.test",
      "RRSIG over the MX RRset corrupted",
      Listener.PKIX,
      Finger.dane(Verdict.DNS_FAILURE),
      bogus(),
      bogus(),
      bogus(),
      bogus()),
  BOGUS_TLSA_SIG(
      "bogus-tlsa-sig.test",
      "MX secure; RRSIG over the TLSA RRset corrupted",
      Listener.PKIX,
      Finger.dane(Verdict.DNS_FAILURE),
      deferred(DANE, DNSSEC_INVALID),
      deferred(DANE, DNSSEC_INVALID),
      noStsPolicy(),
      deferred(DANE, DNSSEC_INVALID)),
  // --- MTA-STS (signed zones without TLSA; policies from nginx) ------------------------------
  STS(
      "sts.test",
      "policy `enforce`, `mx: mx.sts.test`",
      Listener.PKIX,
      Finger.secure("mx.sts.test", Verdict.VERIFIED),
      ok(VERIFIED, MTA_STS),
      ok(VERIFIED, MTA_STS),
      ok(VERIFIED, MTA_STS),
      noTlsa()),
  STS_TESTING(
      "sts-testing.test",
      "policy `testing`; the MX certificate lacks the MX name",
      Listener.NO_NAME,
      Finger.secure("mx.sts-testing.test", Verdict.CERT_FAILED),
      ok(ENCRYPTED, NONE, CERTIFICATE_HOST_MISMATCH),
      ok(ENCRYPTED, SENDER, CERTIFICATE_HOST_MISMATCH),
      noStsPolicy(),
      noTlsa()),
  STS_NONE(
      "sts-none.test",
      "policy `none`",
      Listener.PKIX,
      Finger.secure("mx.sts-none.test", Verdict.VERIFIED),
      ok(ENCRYPTED, NONE),
      ok(ENCRYPTED, SENDER),
      noStsPolicy(),
      noTlsa()),
  STS_WILDCARD(
      "sts-wildcard.test",
      "policy `enforce`, `mx: *.wild.sts-wildcard.test`; MX 5 "
          + "`a.b.wild…` (two labels: no match), MX 10 `mx1.wild…`",
      Listener.PKIX,
      Finger.secure("mx1.wild.sts-wildcard.test", Verdict.VERIFIED),
      ok(VERIFIED, MTA_STS, STS_POLICY_INVALID),
      ok(VERIFIED, MTA_STS, STS_POLICY_INVALID),
      ok(VERIFIED, MTA_STS, STS_POLICY_INVALID),
      noTlsa()),
  STS_MX_MISMATCH(
      "sts-mx-mismatch.test",
      "policy `enforce`, `mx: mx.elsewhere.test` (the MX is " + "not in the policy)",
      Listener.PKIX,
      Finger.secure("mx.sts-mx-mismatch.test", Verdict.VERIFIED),
      deferred(MTA_STS, STS_POLICY_INVALID),
      deferred(MTA_STS, STS_POLICY_INVALID),
      deferred(MTA_STS, STS_POLICY_INVALID),
      noTlsa()),
  STS_REDIRECT(
      "sts-redirect.test",
      "policy URL answers 301 to a valid `enforce` policy",
      Listener.PKIX,
      Finger.secure("mx.sts-redirect.test", Verdict.VERIFIED),
      ok(ENCRYPTED, NONE, STS_POLICY_FETCH_ERROR),
      ok(ENCRYPTED, SENDER, STS_POLICY_FETCH_ERROR),
      deferred(SENDER, STS_POLICY_FETCH_ERROR),
      noTlsa()),
  STS_CTYPE(
      "sts-ctype.test",
      "valid `enforce` policy served as `text/html`",
      Listener.PKIX,
      Finger.secure("mx.sts-ctype.test", Verdict.VERIFIED),
      ok(ENCRYPTED, NONE, STS_POLICY_FETCH_ERROR),
      ok(ENCRYPTED, SENDER, STS_POLICY_FETCH_ERROR),
      deferred(SENDER, STS_POLICY_FETCH_ERROR),
      noTlsa()),
  STS_MALFORMED(
      "sts-malformed.test",
      "policy with a line lacking `:`",
      Listener.PKIX,
      Finger.secure("mx.sts-malformed.test", Verdict.VERIFIED),
      ok(ENCRYPTED, NONE, STS_POLICY_INVALID),
      ok(ENCRYPTED, SENDER, STS_POLICY_INVALID),
      deferred(SENDER, STS_POLICY_INVALID),
      noTlsa()),
  STS_404(
      "sts-404.test",
      "policy URL answers 404",
      Listener.PKIX,
      Finger.secure("mx.sts-404.test", Verdict.VERIFIED),
      ok(ENCRYPTED, NONE, STS_POLICY_FETCH_ERROR),
      ok(ENCRYPTED, SENDER, STS_POLICY_FETCH_ERROR),
      deferred(SENDER, STS_POLICY_FETCH_ERROR),
      noTlsa()),
  STS_UNTRUSTED(
      "sts-untrusted.test",
      "policy host's certificate from an untrusted CA",
      Listener.PKIX,
      Finger.secure("mx.sts-untrusted.test", Verdict.VERIFIED),
      ok(ENCRYPTED, NONE, STS_WEBPKI_INVALID),
      ok(ENCRYPTED, SENDER, STS_WEBPKI_INVALID),
      deferred(SENDER, STS_WEBPKI_INVALID),
      noTlsa()),
  STS_NOHOST(
      "sts-nohost.test",
      "`_mta-sts` TXT but no `mta-sts` host (NXDOMAIN)",
      Listener.PKIX,
      Finger.secure("mx.sts-nohost.test", Verdict.VERIFIED),
      ok(ENCRYPTED, NONE, STS_POLICY_FETCH_ERROR),
      ok(ENCRYPTED, SENDER, STS_POLICY_FETCH_ERROR),
      deferred(SENDER, STS_POLICY_FETCH_ERROR),
      noTlsa()),
  STS_BADTXT(
      "sts-badtxt.test",
      "invalid TXT `v=STSv1; id=not-an-id!` (an `enforce` policy is "
          + "served but must not be used)",
      Listener.PKIX,
      Finger.secure("mx.sts-badtxt.test", Verdict.VERIFIED),
      ok(ENCRYPTED, NONE),
      ok(ENCRYPTED, SENDER),
      deferred(SENDER, STS_REQUIRED),
      noTlsa()),
  STS_SELF_SIGNED(
      "sts-selfsigned.test",
      "policy `enforce`; self-signed MX certificate",
      Listener.SELF_SIGNED,
      Finger.secure("mx.sts-selfsigned.test", Verdict.CERT_FAILED),
      deferred(MTA_STS, CERTIFICATE_NOT_TRUSTED),
      deferred(MTA_STS, CERTIFICATE_NOT_TRUSTED),
      deferred(MTA_STS, CERTIFICATE_NOT_TRUSTED),
      noTlsa()),
  STS_NONAME(
      "sts-noname.test",
      "policy `enforce`; MX certificate without the MX name",
      Listener.NO_NAME,
      Finger.secure("mx.sts-noname.test", Verdict.CERT_FAILED),
      deferred(MTA_STS, CERTIFICATE_HOST_MISMATCH),
      deferred(MTA_STS, CERTIFICATE_HOST_MISMATCH),
      deferred(MTA_STS, CERTIFICATE_HOST_MISMATCH),
      noTlsa()),
  STS_NOSTARTTLS(
      "sts-nostarttls.test",
      "policy `enforce`; MX without STARTTLS",
      Listener.PLAIN,
      Finger.secure("mx.sts-nostarttls.test", Verdict.NO_STARTTLS),
      deferred(MTA_STS, STARTTLS_NOT_SUPPORTED),
      deferred(MTA_STS, STARTTLS_NOT_SUPPORTED),
      deferred(MTA_STS, STARTTLS_NOT_SUPPORTED),
      noTlsa());

  /** The Postfix listener the domain's (working) MX points at. */
  enum Listener {
    PKIX("127.0.0.60", "STARTTLS, leaf from the private CA naming its MX hosts"),
    PLAIN("127.0.0.61", "no STARTTLS"),
    DANE_TA("127.0.0.62", "STARTTLS, leaf ← intermediate ← DANE-TA root (no PKIX trust)"),
    SELF_SIGNED("127.0.0.63", "STARTTLS, self-signed"),
    NO_NAME("127.0.0.64", "STARTTLS, private-CA leaf naming none of its MX hosts"),
    HOSTILE_DATA("127.0.0.65", "not Postfix: answers DATA with 250, no STARTTLS"),
    HOSTILE_EHLO("127.0.0.66", "not Postfix: answers EHLO with 251");

    final String address;
    final String what;

    Listener(String address, String what) {
      this.address = address;
      this.what = what;
    }
  }

  /** posttls-finger's verdict, from its output. */
  enum Verdict {
    /** "Verified TLS connection established". */
    VERIFIED("Verified"),
    /** "Trusted TLS connection established". */
    TRUSTED("Trusted"),
    /** "Untrusted TLS connection established", no verification demanded. */
    UNTRUSTED("Untrusted"),
    /**
     * Untrusted although TLSA records were found ("no matching DANE TLSA records", or a DANE-TA
     * chain without the name): Postfix would not deliver.
     */
    DANE_FAILED("Untrusted: DANE verification failed"),
    /** Untrusted under {@code -l secure}: the certificate did not verify. */
    CERT_FAILED("Untrusted: certificate verification failed"),
    /** The EHLO reply had no STARTTLS. */
    NO_STARTTLS("no STARTTLS offered"),
    /** The MX or TLSA lookup failed ("Host not found, try again", "TLSA lookup error"). */
    DNS_FAILURE("DNS lookup failure"),
    /** The EHLO reply was a 2xx other than 250: the session ended at once with QUIT. */
    EHLO_REFUSED("ended the session after an EHLO reply other than 250");

    final String text;

    Verdict(String text) {
      this.text = text;
    }
  }

  /**
   * How posttls-finger is run for the scenario: {@code -l dane <domain>}, or {@code -l secure -F
   * ca.crt [host] hostname} for MTA-STS domains (the MX host the policy would use, its name matched
   * as RFC 8461 §4.2 does).
   */
  record Finger(String level, Optional<String> host, Verdict verdict) {
    static Finger dane(Verdict v) {
      return new Finger("dane", Optional.empty(), v);
    }

    static Finger secure(String host, Verdict v) {
      return new Finger("secure", Optional.of(host), v);
    }
  }

  /**
   * What mailtls must report at one sender level.
   *
   * @param status the recipient's status
   * @param authentication of the deciding connection; empty when none was established
   * @param source the policy source (as the CLI's {@code policy.source}: of the deciding
   *     connection, or the documented rule when nothing could be tried)
   * @param failures for DEFERRED/BOUNCED: the one failure that decided; for DELIVERED: every
   *     failure reported on the way (failed attempts, skipped hosts, policy failures)
   */
  record Expect(
      DeliveryStatus status,
      Optional<Authentication> authentication,
      PolicySource source,
      Set<FailureType> failures) {}

  final String domain;
  final String setup;
  final Listener listener;
  final Finger finger;
  private final Map<TlsLevel, Expect> expectations;

  Scenario(
      String domain,
      String setup,
      Listener listener,
      Finger finger,
      Expect opportunistic,
      Expect enforced,
      Expect stsRequired,
      Expect daneRequired) {
    this.domain = domain;
    this.setup = setup;
    this.listener = listener;
    this.finger = finger;
    this.expectations =
        new EnumMap<>(
            Map.of(
                TlsLevel.OPPORTUNISTIC,
                opportunistic,
                TlsLevel.ENFORCED,
                enforced,
                TlsLevel.STS_REQUIRED,
                stsRequired,
                TlsLevel.DANE_REQUIRED,
                daneRequired));
  }

  Expect expect(TlsLevel level) {
    Expect e = expectations.get(level);
    if (e == null) {
      throw new IllegalStateException(this + " has no expectation for level " + level);
    }
    return e;
  }

  static Expect ok(Authentication auth, PolicySource source, FailureType... reported) {
    return new Expect(DeliveryStatus.DELIVERED, Optional.of(auth), source, Set.of(reported));
  }

  static Expect deferred(PolicySource source, FailureType failure) {
    return new Expect(DeliveryStatus.DEFERRED, Optional.empty(), source, Set.of(failure));
  }

  /** Deferred after a session was established (authenticated as {@code auth}), then failed. */
  static Expect deferredAfter(Authentication auth, PolicySource source, FailureType failure) {
    return new Expect(DeliveryStatus.DEFERRED, Optional.of(auth), source, Set.of(failure));
  }

  static Expect bounced(PolicySource source, FailureType failure) {
    return new Expect(DeliveryStatus.BOUNCED, Optional.empty(), source, Set.of(failure));
  }

  /** sts-required and the domain provably has no MTA-STS policy: a permanent failure. */
  static Expect noStsPolicy() {
    return bounced(SENDER, STS_REQUIRED);
  }

  /** dane-required and the MX has no TLSA records: deferred (Postfix dane-only). */
  static Expect noTlsa() {
    return deferred(SENDER, DANE_REQUIRED);
  }

  /** A bogus MX answer: deferred before any connection, RFC 8460 dnssec-invalid. */
  static Expect bogus() {
    return deferred(DANE, DNSSEC_INVALID);
  }
}
