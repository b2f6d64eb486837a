package io.mailtls.interop;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Authentication;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.FailureType;
import io.mailtls.core.PolicySource;
import io.mailtls.core.TlsLevel;
import io.mailtls.interop.Library.Outcome;
import io.mailtls.interop.Scenario.Expect;
import io.mailtls.interop.Scenario.Verdict;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Postfix's own verdict on every scenario (posttls-finger {@code -l dane}, or {@code -l secure}
 * with the private CA for MTA-STS hosts), and whether mailtls agrees with it. posttls-finger's
 * {@code dane} level is Postfix's opportunistic DANE, so it is compared with mailtls at the
 * opportunistic level.
 */
class PostTlsFingerTest {

  private static final InteropEnv.Undelivered UNDELIVERED = new InteropEnv.Undelivered();

  @BeforeAll
  static void environment() {
    InteropEnv.requireUp();
  }

  @AfterAll
  static void nothingUndeliveredArrivedLater() throws Exception {
    UNDELIVERED.assertNoneArrived();
  }

  @ParameterizedTest(name = "{0}")
  @EnumSource(Scenario.class)
  void postfixAndMailtlsAgree(Scenario s) throws Exception {
    String out = PostTlsFinger.run(s);
    Verdict verdict = PostTlsFinger.verdict(out, s.finger.level());
    assertThat(verdict)
        .as("posttls-finger -l %s for %s:\n%s", s.finger.level(), s, out)
        .isEqualTo(s.finger.verdict());

    Outcome o = Library.send(s, TlsLevel.OPPORTUNISTIC, InteropEnv.validatingResolver(), "finger");
    Expect lib = o.observed();
    String what = s + ": posttls-finger says " + verdict + ", mailtls " + o.result() + " " + lib;
    assertThat(agrees(s, verdict, lib)).as(what).isTrue();
    ScenarioMatrixTest.assertOutcome(
        s, TlsLevel.OPPORTUNISTIC, o, s.expect(TlsLevel.OPPORTUNISTIC), UNDELIVERED);
  }

  /**
   * The agreement rule (interop/README.md). Under {@code -l dane}: Verified ⇔ DELIVERED VERIFIED,
   * Trusted ⇔ DELIVERED TRUSTED, Untrusted ⇔ DELIVERED ENCRYPTED, a DANE mismatch or a DNS failure
   * ⇔ DEFERRED, no STARTTLS ⇔ plaintext without DANE or DEFERRED with it. Under {@code -l secure}
   * (PKIX with the MX name, which MTA-STS demands): when mailtls applied an {@code enforce} policy,
   * Verified ⇔ DELIVERED VERIFIED and a failure ⇔ DEFERRED with that failure; under {@code testing}
   * a failure ⇔ DELIVERED with the failure reported. Where no policy applies (none, or a policy
   * that could not be had) or the MX is not in the policy, posttls-finger (which knows no MTA-STS)
   * judges only the certificate: the documented differences. The same holds under {@code -l dane}
   * for an insecure MX answer naming a DANE host outside the domain's {@code enforce} policy:
   * Postfix trusts the host, mailtls defers.
   */
  static boolean agrees(Scenario s, Verdict v, Expect lib) {
    boolean delivered = lib.status() == DeliveryStatus.DELIVERED;
    if (s == Scenario.INSECURE_MX_STS) {
      // posttls-finger knows no MTA-STS: it trusts the DANE host the insecure MX answer names,
      // which the domain's enforce policy does not name, so mailtls must not deliver there.
      return v == Verdict.TRUSTED
          && lib.status() == DeliveryStatus.DEFERRED
          && lib.failures().equals(Set.of(FailureType.STS_POLICY_INVALID));
    }
    if (s == Scenario.HOSTILE_DATA) {
      // posttls-finger stops at STARTTLS (none offered) and never sends DATA; mailtls goes on in
      // plaintext, as the opportunistic level says, and refuses the 250 to DATA.
      return v == Verdict.NO_STARTTLS
          && lib.status() == DeliveryStatus.DEFERRED
          && lib.failures().equals(Set.of(FailureType.PROTOCOL_ERROR));
    }
    if (s.finger.level().equals("dane")) {
      return switch (v) {
        case VERIFIED ->
            delivered && lib.authentication().equals(Optional.of(Authentication.VERIFIED));
        case TRUSTED ->
            delivered && lib.authentication().equals(Optional.of(Authentication.TRUSTED));
        case UNTRUSTED ->
            delivered && lib.authentication().equals(Optional.of(Authentication.ENCRYPTED));
        case DANE_FAILED, DNS_FAILURE -> lib.status() == DeliveryStatus.DEFERRED;
        case NO_STARTTLS ->
            delivered
                ? lib.authentication().equals(Optional.of(Authentication.PLAINTEXT))
                : lib.status() == DeliveryStatus.DEFERRED
                    && lib.failures().equals(Set.of(FailureType.STARTTLS_NOT_SUPPORTED));
        case EHLO_REFUSED ->
            lib.status() == DeliveryStatus.DEFERRED
                && lib.failures().equals(Set.of(FailureType.PROTOCOL_ERROR));
        case CERT_FAILED -> false;
      };
    }
    boolean enforce = lib.source() == PolicySource.MTA_STS;
    boolean testing = s == Scenario.STS_TESTING;
    if ((!enforce && !testing) || s == Scenario.STS_MX_MISMATCH) {
      return documentedDifference(s, v, lib);
    }
    return switch (v) {
      case VERIFIED ->
          delivered && lib.authentication().equals(Optional.of(Authentication.VERIFIED));
      case CERT_FAILED ->
          testing
              ? delivered && lib.failures().stream().anyMatch(PostTlsFingerTest::certificate)
              : lib.status() == DeliveryStatus.DEFERRED
                  && lib.failures().stream().anyMatch(PostTlsFingerTest::certificate);
      case NO_STARTTLS ->
          lib.status() == DeliveryStatus.DEFERRED
              && lib.failures().equals(Set.of(FailureType.STARTTLS_NOT_SUPPORTED));
      default -> false;
    };
  }

  /**
   * posttls-finger checks the certificate; mailtls applies no MTA-STS policy (mode none, or none
   * could be had: RFC 8461 §5 delivers as without one) and so reports ENCRYPTED — or the MX host is
   * not in the policy and mailtls must not deliver at all (RFC 8461 §4.1).
   */
  private static boolean documentedDifference(Scenario s, Verdict v, Expect lib) {
    if (s == Scenario.STS_MX_MISMATCH) {
      return v == Verdict.VERIFIED
          && lib.status() == DeliveryStatus.DEFERRED
          && lib.failures().equals(Set.of(FailureType.STS_POLICY_INVALID));
    }
    return v == Verdict.VERIFIED
        && lib.status() == DeliveryStatus.DELIVERED
        && lib.authentication().equals(Optional.of(Authentication.ENCRYPTED));
  }

  private static boolean certificate(FailureType f) {
    return f == FailureType.CERTIFICATE_HOST_MISMATCH
        || f == FailureType.CERTIFICATE_NOT_TRUSTED
        || f == FailureType.CERTIFICATE_EXPIRED;
  }
}
