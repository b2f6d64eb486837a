package io.mailtls.dane;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.core.DnsRecord;
import io.mailtls.core.DomainName;
import io.mailtls.core.FailureType;
import io.mailtls.core.TlsRequirement;
import io.mailtls.core.internal.tls.CertificateFailure;
import io.mailtls.testkit.TestPki;
import io.mailtls.testkit.Tlsa;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * DANE authentication of presented chains (RFC 7672 §3, RFC 7671 §5 and §9), driven directly with
 * real certificates from {@link TestPki}; {@link DaneHandshakeTest} repeats the essentials inside
 * JSSE. Each nested class is one RFC section.
 */
class DaneTrustManagerTest {

  static final String MX = "mx.example.test";
  static final TestPki PKI = TestPki.create();
  static final TestPki.Ca ROOT = PKI.root();
  static final TestPki.Ca INTER = ROOT.intermediate("mailtls DANE Intermediate");
  static final TestPki.Issued LEAF = INTER.leaf().dnsNames(MX).issue();

  // ------------------------------------------------------------------------------- helpers

  static DnsRecord.Tlsa record(int usage, int selector, int matching, TestPki.Certified c) {
    return new DnsRecord.Tlsa(usage, selector, matching, c.tlsaAssociationData(selector, matching));
  }

  static DnsRecord.Tlsa wrong(int usage, int selector, int matching) {
    return new DnsRecord.Tlsa(usage, selector, matching, Tlsa.wrongData(matching));
  }

  static TlsRequirement.Dane requirement(List<String> names, DnsRecord.Tlsa... records) {
    List<DomainName> refs = names.stream().map(DomainName::of).toList();
    return new TlsRequirement.Dane(List.of(records), refs.get(0), refs, true);
  }

  static DaneTrustManager tm(DnsRecord.Tlsa... records) {
    return new DaneTrustManager(requirement(List.of(MX), records));
  }

  static X509Certificate[] chain(X509Certificate... certs) {
    return certs;
  }

  static X509Certificate[] sent(TestPki.Certified c) {
    return c.chain().toArray(X509Certificate[]::new);
  }

  static X509Certificate[] sentWithRoot(TestPki.Certified c) {
    return c.chainWithRoot().toArray(X509Certificate[]::new);
  }

  static void assertPasses(DaneTrustManager tm, X509Certificate[] chain, DnsRecord.Tlsa expected)
      throws CertificateException {
    tm.checkServerTrusted(chain, "ECDHE_ECDSA");
    assertThat(tm.matchedRecord()).contains(expected);
  }

  static CertificateFailure assertFails(
      DaneTrustManager tm, X509Certificate[] chain, FailureType type) {
    CertificateFailure[] caught = new CertificateFailure[1];
    assertThatThrownBy(() -> tm.checkServerTrusted(chain, "ECDHE_ECDSA"))
        .isInstanceOfSatisfying(
            CertificateFailure.class,
            f -> {
              assertThat(f.type()).as(f.getMessage()).isEqualTo(type);
              caught[0] = f;
            });
    assertThat(tm.matchedRecord()).isEmpty();
    return caught[0];
  }

  // ------------------------------------------------------------------------------- DANE-EE

  /** RFC 7671 §5.1, RFC 7672 §3.1.1, §3.2.1: DANE-EE matches the leaf, checks nothing else. */
  @Nested
  class Rfc7671Section5_1DaneEe {

    static Stream<Arguments> leavesAndParameters() {
      List<TestPki.Issued> leaves =
          List.of(
              INTER.leaf().dnsNames(MX).issue(),
              INTER.leaf().dnsNames(MX).expired().issue(),
              INTER.leaf().dnsNames(MX).notYetValid().issue(),
              INTER.leaf().dnsNames("wrong.example.net").issue(),
              TestPki.selfSigned("unrelated.invalid"),
              PKI.otherCa().leaf().dnsNames(MX).issue());
      List<String> kinds =
          List.of(
              "valid", "expired", "not yet valid", "wrong name", "self-signed", "untrusted issuer");
      List<Arguments> out = new ArrayList<>();
      for (int i = 0; i < leaves.size(); i++) {
        for (int selector = 0; selector <= 1; selector++) {
          for (int matching = 0; matching <= 2; matching++) {
            out.add(Arguments.of(kinds.get(i), leaves.get(i), selector, matching));
          }
        }
      }
      return out.stream();
    }

    @ParameterizedTest(name = "{0} leaf, 3 {2} {3}")
    @MethodSource("leavesAndParameters")
    void leafMatchAuthenticatesWhateverItsNameDatesOrIssuer(
        String kind, TestPki.Issued leaf, int selector, int matching) throws CertificateException {
      DnsRecord.Tlsa r = record(3, selector, matching, leaf);
      assertPasses(tm(r), sent(leaf), r);
      // The chain is not looked at: garbage after the leaf changes nothing.
      assertPasses(tm(r), chain(leaf.certificate(), PKI.otherCa().certificate()), r);
    }

    @Test
    void onlyTheLeafIsMatched() {
      // A DANE-EE record of the issuing CA authenticates nothing.
      assertFails(
          tm(record(3, 0, 1, INTER), record(3, 1, 1, ROOT)),
          sentWithRoot(LEAF),
          FailureType.CERTIFICATE_NOT_TRUSTED);
    }

    @Test
    void aDifferentKeyFails() {
      TestPki.Issued renewed = INTER.leaf().dnsNames(MX).issue();
      assertFails(tm(record(3, 1, 1, LEAF)), sent(renewed), FailureType.CERTIFICATE_NOT_TRUSTED);
    }

    @Test
    void aRenewedCertificateWithTheSameKeyStillMatchesBySpki() throws CertificateException {
      TestPki.Issued renewed = INTER.leaf().dnsNames(MX).key(LEAF.keyPair()).issue();
      DnsRecord.Tlsa spki = record(3, 1, 1, LEAF);
      assertPasses(tm(spki), sent(renewed), spki);
      assertFails(tm(record(3, 0, 1, LEAF)), sent(renewed), FailureType.CERTIFICATE_NOT_TRUSTED);
    }

    @Test
    void noCertificateAtAllFails() {
      assertFails(tm(record(3, 1, 1, LEAF)), chain(), FailureType.CERTIFICATE_NOT_TRUSTED);
    }
  }

  // ------------------------------------------------------------------------------- DANE-TA

  /**
   * RFC 7671 §5.2, RFC 7672 §3.1.2: DANE-TA designates a CA of the chain (or carries one in full);
   * the path from the leaf to it is validated with that anchor alone.
   */
  @Nested
  class Rfc7671Section5_2DaneTa {

    @ParameterizedTest(name = "2 {0} {1} of the intermediate")
    @CsvSource({"0, 1", "1, 1", "0, 2", "1, 2", "0, 0", "1, 0"})
    void intermediateAtDepthOne(int selector, int matching) throws CertificateException {
      DnsRecord.Tlsa r = record(2, selector, matching, INTER);
      assertPasses(tm(r), sent(LEAF), r);
    }

    @ParameterizedTest(name = "2 {0} {1} of the root")
    @CsvSource({"0, 1", "1, 1", "0, 2", "1, 2"})
    void rootAtDepthTwo(int selector, int matching) throws CertificateException {
      DnsRecord.Tlsa r = record(2, selector, matching, ROOT);
      assertPasses(tm(r), sentWithRoot(LEAF), r);
    }

    /**
     * RFC 6698 §2.1.2: SPKI(1) is the CA certificate's own SubjectPublicKeyInfo, here an RSA key
     * with absent AlgorithmIdentifier parameters that the JDK re-encodes with NULL. A digest record
     * over the certificate's octets finds the CA in the chain, and a full {@code 2 1 0} record of
     * those octets is itself the anchor when the server sends only its leaf.
     */
    @ParameterizedTest(name = "2 1 {0} of a CA whose key the JDK re-encodes")
    @CsvSource({"1", "2", "0"})
    void spkiIsTheCaCertificatesOwnEncoding(int matching) throws Exception {
      TestPki pki =
          TestPki.builder()
              .rootName("mailtls raw SPKI CA")
              .keyType(TestPki.KeyType.RSA_2048_ABSENT_PARAMETERS)
              .build();
      TestPki.Ca ca = pki.root();
      TestPki.Issued leaf = ca.leaf().dnsNames(MX).ec().issue();
      assertThat(ca.spkiDer()).isNotEqualTo(ca.publicKey().getEncoded());
      DnsRecord.Tlsa r = record(2, 1, matching, ca);
      assertPasses(tm(r), chain(leaf.certificate(), ca.certificate()), r);
      if (matching == 0) {
        assertPasses(tm(r), chain(leaf.certificate()), r);
      }
    }

    @Test
    void aDigestOfARootTheServerDoesNotSendFails() {
      // RFC 7671 §5.2: with a digest record the anchor must be in the chain.
      CertificateFailure f =
          assertFails(tm(record(2, 0, 1, ROOT)), sent(LEAF), FailureType.CERTIFICATE_NOT_TRUSTED);
      assertThat(f.getMessage()).contains("matches no CA certificate the server sent");
    }

    @ParameterizedTest(name = "2 {0} 0 of the root, root not sent")
    @CsvSource({"0", "1"})
    void aFullRecordSuppliesTheAnchorTheServerOmits(int selector) throws CertificateException {
      DnsRecord.Tlsa r = record(2, selector, 0, ROOT);
      assertPasses(tm(r), sent(LEAF), r);
    }

    @ParameterizedTest(name = "2 {0} 0 of the intermediate, only the leaf sent")
    @CsvSource({"0", "1"})
    void aFullRecordOfTheIssuerWithALoneLeaf(int selector) throws CertificateException {
      DnsRecord.Tlsa r = record(2, selector, 0, INTER);
      assertPasses(tm(r), chain(LEAF.certificate()), r);
    }

    @ParameterizedTest(name = "2 {0} {1} of the leaf")
    @CsvSource({"0, 1", "1, 1", "0, 2", "1, 2", "0, 0", "1, 0"})
    void aRecordOfTheLeafNeverAuthenticates(int selector, int matching) {
      // The leaf is DANE-EE's business; a DANE-TA record naming it is not a trust anchor.
      assertFails(
          tm(record(2, selector, matching, LEAF)),
          sentWithRoot(LEAF),
          FailureType.CERTIFICATE_NOT_TRUSTED);
    }

    @Test
    void aSelfSignedLeafIsNoTrustAnchorEvenSentTwiceOrInFull() {
      TestPki.Issued self = TestPki.selfSigned(MX);
      X509Certificate c = self.certificate();
      assertFails(tm(record(2, 1, 1, self)), chain(c, c), FailureType.CERTIFICATE_NOT_TRUSTED);
      assertFails(tm(record(2, 0, 1, self)), chain(c, c), FailureType.CERTIFICATE_NOT_TRUSTED);
      assertFails(tm(record(2, 0, 0, self)), chain(c), FailureType.CERTIFICATE_NOT_TRUSTED);
      assertFails(tm(record(2, 1, 0, self)), chain(c), FailureType.CERTIFICATE_NOT_TRUSTED);
    }

    @Test
    void anUnrelatedCaPaddedIntoTheChainFails() {
      // The record matches a CA the server sent, but that CA did not issue the leaf's chain.
      X509Certificate[] padded =
          chain(LEAF.certificate(), INTER.certificate(), PKI.otherCa().certificate());
      CertificateFailure f =
          assertFails(
              tm(record(2, 0, 1, PKI.otherCa())), padded, FailureType.CERTIFICATE_NOT_TRUSTED);
      assertThat(f.getMessage()).contains("no chain of signatures");
    }

    @Test
    void aLeafFromAnotherCaUnderTheRightAnchorFails() {
      TestPki.Issued rogue = PKI.otherCa().leaf().dnsNames(MX).issue();
      assertFails(
          tm(record(2, 0, 1, ROOT)),
          chain(rogue.certificate(), INTER.certificate(), ROOT.certificate()),
          FailureType.CERTIFICATE_NOT_TRUSTED);
    }

    @Test
    void extraAndOutOfOrderCertificatesAreTolerated() throws CertificateException {
      DnsRecord.Tlsa r = record(2, 0, 1, ROOT);
      assertPasses(
          tm(r),
          chain(
              LEAF.certificate(),
              PKI.otherCa().certificate(),
              ROOT.certificate(),
              INTER.certificate()),
          r);
    }

    @Test
    void anExpiredIntermediateFails() {
      TestPki.Ca expired = ROOT.newIntermediate("mailtls Expired Intermediate").expired().issue();
      TestPki.Issued leaf = expired.leaf().dnsNames(MX).issue();
      CertificateFailure f =
          assertFails(
              tm(record(2, 0, 1, ROOT)), sentWithRoot(leaf), FailureType.CERTIFICATE_EXPIRED);
      assertThat(f.getMessage()).contains("mailtls Expired Intermediate");
      // Named as the anchor itself, the expired CA fails too (OpenSSL checks the anchor's dates).
      assertFails(tm(record(2, 0, 1, expired)), sent(leaf), FailureType.CERTIFICATE_EXPIRED);
    }

    @Test
    void anExpiredOrNotYetValidLeafFails() {
      assertFails(
          tm(record(2, 0, 1, INTER)),
          sent(INTER.leaf().dnsNames(MX).expired().issue()),
          FailureType.CERTIFICATE_EXPIRED);
      assertFails(
          tm(record(2, 0, 1, INTER)),
          sent(INTER.leaf().dnsNames(MX).notYetValid().issue()),
          FailureType.CERTIFICATE_EXPIRED);
    }

    @Test
    void datesComeFromTheInjectedClock() throws CertificateException {
      Clock later = Clock.offset(Clock.systemUTC(), Duration.ofDays(200));
      DnsRecord.Tlsa ta = record(2, 0, 1, INTER);
      assertFails(
          new DaneTrustManager(requirement(List.of(MX), ta), later),
          sent(LEAF),
          FailureType.CERTIFICATE_EXPIRED);
      // DANE-EE ignores dates whatever the clock says (RFC 7671 §5.1).
      DnsRecord.Tlsa ee = record(3, 1, 1, LEAF);
      assertPasses(new DaneTrustManager(requirement(List.of(MX), ee), later), sent(LEAF), ee);
    }

    @Test
    void aCaWithoutBasicConstraintsCaIsRejected() {
      TestPki.Ca notCa = ROOT.newIntermediate("mailtls Not A CA").notCa().issue();
      TestPki.Issued leaf = notCa.leaf().dnsNames(MX).issue();
      assertFails(
          tm(record(2, 0, 1, ROOT)), sentWithRoot(leaf), FailureType.CERTIFICATE_NOT_TRUSTED);
      assertFails(tm(record(2, 0, 1, notCa)), sent(leaf), FailureType.CERTIFICATE_NOT_TRUSTED);
    }

    @Test
    void pathLengthConstraintsAreEnforcedBelowAndOnTheAnchor() {
      TestPki.Ca zero = ROOT.newIntermediate("mailtls PathLen 0").pathLength(0).issue();
      TestPki.Ca sub = zero.intermediate("mailtls Sub CA");
      TestPki.Issued leaf = sub.leaf().dnsNames(MX).issue();
      // Root as anchor: the JDK's validation refuses the sub-CA under pathLen 0.
      assertFails(
          tm(record(2, 0, 1, ROOT)), sentWithRoot(leaf), FailureType.CERTIFICATE_NOT_TRUSTED);
      // The constrained CA as anchor: its own constraint still binds.
      CertificateFailure f =
          assertFails(tm(record(2, 0, 1, zero)), sent(leaf), FailureType.CERTIFICATE_NOT_TRUSTED);
      assertThat(f.getMessage()).contains("pathLenConstraint 0");
    }

    @ParameterizedTest(name = "2 0 {0} of a CA constrained to example.test")
    @CsvSource({"1", "2", "0"})
    void aCertificateAnchorsNameConstraintsBindTheLeaf(int matching) throws CertificateException {
      // RFC 5280 §4.2.1.10: a designated CA certificate's nameConstraints apply as for any trust
      // anchor, as in OpenSSL's DANE-TA verification that Postfix uses.
      TestPki.Ca constrained =
          ROOT.newIntermediate("mailtls Constrained Intermediate")
              .permittedDnsNames("example.test")
              .issue();
      DnsRecord.Tlsa r = record(2, 0, matching, constrained);
      TestPki.Issued inside = constrained.leaf().dnsNames(MX).issue();
      assertPasses(tm(r), sent(inside), r);
      // Outside the permitted subtree, with reference names it matches: only the constraint fails.
      String otherMx = "mx.other.test";
      TestPki.Issued outside = constrained.leaf().dnsNames(otherMx).issue();
      CertificateFailure f =
          assertFails(
              new DaneTrustManager(requirement(List.of(otherMx), r)),
              sent(outside),
              FailureType.CERTIFICATE_NOT_TRUSTED);
      assertThat(f.getMessage()).contains("outside the anchor's nameConstraints");
      if (matching == 0) {
        // The record alone supplies the anchor, constraints and all.
        assertFails(
            new DaneTrustManager(requirement(List.of(otherMx), r)),
            chain(outside.certificate()),
            FailureType.CERTIFICATE_NOT_TRUSTED);
      }
      // Above the constrained CA, the root as anchor: PKIX applies the constraints as always.
      assertFails(
          new DaneTrustManager(requirement(List.of(otherMx), record(2, 0, 1, ROOT))),
          sentWithRoot(outside),
          FailureType.CERTIFICATE_NOT_TRUSTED);
    }

    @ParameterizedTest(name = "CN {0}, no subjectAltName")
    @CsvSource({"mx.other.test", "*.other.test", "mx.other.test.", "MX.Other.Test"})
    void theCommonNameTheNameCheckFallsBackToIsBoundToo(String cn) throws CertificateException {
      // RFC 7672 §3.2.3: without a DNS-ID the name check reads the subject CN, so a
      // name-constrained
      // anchor's dNSName subtrees (RFC 5280 §4.2.1.10) must bind that CN as well, as OpenSSL's
      // NAME_CONSTRAINTS_check_CN does for Postfix; else a CA confined to example.test
      // authenticates mx.other.test by leaving its name out of the subjectAltName.
      TestPki.Ca constrained =
          ROOT.newIntermediate("mailtls Constrained CN Intermediate")
              .permittedDnsNames("example.test")
              .issue();
      DnsRecord.Tlsa r = record(2, 0, 1, constrained);
      String otherMx = "mx.other.test";
      TestPki.Issued outside = constrained.leaf().commonName(cn).noSubjectAltName().issue();
      // A constrained CA below the anchor (here the root, designated by the record) binds it.
      CertificateFailure f =
          assertFails(
              new DaneTrustManager(requirement(List.of(otherMx), record(2, 0, 1, ROOT))),
              sentWithRoot(outside),
              FailureType.CERTIFICATE_NOT_TRUSTED);
      assertThat(f.getMessage()).containsIgnoringCase("name constraints");
      // So does the constrained CA designated as the anchor itself.
      f =
          assertFails(
              new DaneTrustManager(requirement(List.of(otherMx), r)),
              sent(outside),
              FailureType.CERTIFICATE_NOT_TRUSTED);
      assertThat(f.getMessage()).contains("nameConstraints");
      // Inside the permitted subtree the same shapes of CN still authenticate.
      String inside =
          cn.replace("other.test", "example.test").replace("Other.Test", "Example.Test");
      assertPasses(
          tm(r), sent(constrained.leaf().commonName(inside).noSubjectAltName().issue()), r);
    }

    @Test
    void anExcludedSubtreeBindsTheCommonNameToo() throws Exception {
      // RFC 5280 §4.2.1.10 excludedSubtrees, read for the CN the name check falls back to.
      TestPki.Ca ca = ROOT.intermediate("mailtls Excluding Intermediate");
      X509Certificate excluding = Minting.withExcludedDnsName(ca, ROOT, "other.test");
      DnsRecord.Tlsa r = new DnsRecord.Tlsa(2, 0, 0, excluding.getEncoded());
      String otherMx = "mx.other.test";
      for (String cn : List.of(otherMx, "*.other.test", otherMx + ".")) {
        TestPki.Issued leaf = ca.leaf().commonName(cn).noSubjectAltName().issue();
        CertificateFailure f =
            assertFails(
                new DaneTrustManager(requirement(List.of(otherMx), r)),
                chain(leaf.certificate(), excluding),
                FailureType.CERTIFICATE_NOT_TRUSTED);
        assertThat(f.getMessage()).as(cn).contains("nameConstraints");
      }
      TestPki.Issued inside = ca.leaf().commonName("*.example.test").noSubjectAltName().issue();
      assertPasses(tm(r), chain(inside.certificate(), excluding), r);
    }

    @Test
    void aLongNameConstraintsExtensionIsReadToo() throws CertificateException {
      // Over 127 octets, so the extension's value has a long-form DER length.
      String[] permitted = new String[12];
      permitted[0] = "example.test";
      for (int i = 1; i < permitted.length; i++) {
        permitted[i] = "permitted-" + i + ".example.net";
      }
      TestPki.Ca constrained =
          ROOT.newIntermediate("mailtls Many Constraints").permittedDnsNames(permitted).issue();
      assertThat(constrained.certificate().getExtensionValue("2.5.29.30")).hasSizeGreaterThan(130);
      DnsRecord.Tlsa r = record(2, 0, 1, constrained);
      assertPasses(tm(r), sent(constrained.leaf().dnsNames(MX).issue()), r);
      String otherMx = "mx.other.test";
      assertFails(
          new DaneTrustManager(requirement(List.of(otherMx), r)),
          sent(constrained.leaf().dnsNames(otherMx).issue()),
          FailureType.CERTIFICATE_NOT_TRUSTED);
    }

    @Test
    void anAnchorWhoseNameConstraintsCannotBeDecodedFails() throws Exception {
      // A non-critical nameConstraints extension the JDK cannot parse still parses as a
      // certificate; the anchor then fails closed instead of being taken as unconstrained.
      TestPki.Ca ca = ROOT.intermediate("mailtls Garbled Constraints");
      X509Certificate garbled = Minting.withMalformedNameConstraints(ca, ROOT);
      TestPki.Issued leaf = ca.leaf().dnsNames(MX).issue();
      DnsRecord.Tlsa r = new DnsRecord.Tlsa(2, 0, 0, garbled.getEncoded());
      CertificateFailure f =
          assertFails(
              tm(r), chain(leaf.certificate(), garbled), FailureType.CERTIFICATE_NOT_TRUSTED);
      assertThat(f.getMessage()).contains("nameConstraints cannot be decoded");
      // The same CA without the extension is a good anchor.
      assertPasses(tm(record(2, 0, 1, ca)), sent(leaf), record(2, 0, 1, ca));
    }

    @Test
    void aPathThatFailsValidationGivesWayToOneThatPasses() throws Exception {
      // A server amid its intermediate's renewal sends the expired and the renewed certificate of
      // the same CA (same subject, same key): both chain the leaf to the anchor by signature, and
      // only the path through the renewed one validates (RFC 7671 §5.2: the client builds the path
      // from what the server sent). OpenSSL's chain building, which Postfix uses, prefers the
      // issuer valid now; whichever the server sends first, the valid path must count.
      TestPki.Ca ca = ROOT.intermediate("mailtls Renewed Intermediate");
      X509Certificate old = Minting.expiredCopy(ca, ROOT);
      TestPki.Issued leaf = ca.leaf().dnsNames(MX).issue();
      X509Certificate renewed = ca.certificate();
      X509Certificate root = ROOT.certificate();
      for (DnsRecord.Tlsa r : List.of(record(2, 0, 1, ROOT), record(2, 1, 1, ROOT))) {
        assertPasses(tm(r), chain(leaf.certificate(), old, renewed, root), r);
        assertPasses(tm(r), chain(leaf.certificate(), renewed, old, root), r);
      }
      // With only the expired certificate there is no valid path: expired, as before.
      assertFails(
          tm(record(2, 0, 1, ROOT)),
          chain(leaf.certificate(), old, root),
          FailureType.CERTIFICATE_EXPIRED);
    }

    @Test
    void aLongerValidChainPasses() throws CertificateException {
      TestPki.Ca sub = INTER.intermediate("mailtls Sub CA 2");
      TestPki.Issued leaf = sub.leaf().dnsNames(MX).issue();
      DnsRecord.Tlsa r = record(2, 1, 1, INTER);
      assertPasses(tm(r), sent(leaf), r);
    }

    @Test
    void extendedKeyUsageMustAllowServerAuthWhenPresent() throws Exception {
      TestPki.Issued noEku = INTER.leaf().dnsNames(MX).noExtendedKeyUsage().issue();
      DnsRecord.Tlsa r = record(2, 0, 1, INTER);
      assertPasses(tm(r), sent(noEku), r);
      X509Certificate clientOnly = Minting.clientAuthLeaf(INTER, MX);
      CertificateFailure f =
          assertFails(
              tm(r), chain(clientOnly, INTER.certificate()), FailureType.CERTIFICATE_NOT_TRUSTED);
      assertThat(f.getMessage()).contains("serverAuth");
    }

    @Test
    void rsaChainsWork() throws CertificateException {
      TestPki.Ca rsa = ROOT.newIntermediate("mailtls RSA Intermediate").rsa().issue();
      TestPki.Issued leaf = rsa.leaf().dnsNames(MX).issue();
      DnsRecord.Tlsa r = record(2, 1, 0, rsa);
      assertPasses(tm(r), chain(leaf.certificate()), r);
    }
  }

  // ------------------------------------------------------------------------------- names

  /**
   * RFC 7672 §3.2.2-§3.2.3 (RFC 6125 §6.4): a DANE-TA chain must also name a reference identifier;
   * DANE-EE never checks names (§3.2.1).
   */
  @Nested
  class Rfc7672Section3_2NameChecks {

    private final DnsRecord.Tlsa ta = record(2, 0, 1, INTER);

    private void check(List<String> refs, TestPki.Issued leaf, boolean passes)
        throws CertificateException {
      DaneTrustManager tm = new DaneTrustManager(requirement(refs, ta));
      if (passes) {
        assertPasses(tm, sent(leaf), ta);
      } else {
        CertificateFailure f = assertFails(tm, sent(leaf), FailureType.CERTIFICATE_HOST_MISMATCH);
        assertThat(f.getMessage()).contains("reference identifiers");
      }
    }

    @ParameterizedTest(name = "SAN {0} vs {1} -> {2}")
    @CsvSource({
      "mx.example.test,        mx.example.test,   true",
      "MX.Example.TEST,        mx.example.test,   true",
      "other.example.test,     mx.example.test,   false",
      "*.example.test,         mx.example.test,   true",
      "*.example.test,         a.mx.example.test, false", // one label only
      "*.example.test,         example.test,      false",
      "m*.example.test,        mx.example.test,   false", // partial wildcards refused
      "*x.example.test,        mx.example.test,   false",
      "mx.*.test,              mx.example.test,   false",
      "*.test,                 example.test,      false", // no wildcard over a TLD
    })
    void dnsIds(String san, String reference, boolean passes) throws CertificateException {
      check(List.of(reference), INTER.leaf().dnsNames(san).issue(), passes);
    }

    @Test
    void commonNameOnlyWithoutAnyDnsId() throws CertificateException {
      check(List.of(MX), INTER.leaf().commonName(MX).noSubjectAltName().issue(), true);
      check(
          List.of(MX), INTER.leaf().commonName("*.example.test").noSubjectAltName().issue(), true);
      // With a DNS-ID present the CN is ignored (RFC 6125 §6.4.4).
      check(List.of(MX), INTER.leaf().dnsNames("other.example.test").commonName(MX).issue(), false);
    }

    @Test
    void anyReferenceIdentifierWillDo() throws CertificateException {
      // The base domain first, then e.g. the next-hop domain when the MX answer was secure.
      check(List.of(MX, "example.test"), INTER.leaf().dnsNames("example.test").issue(), true);
      check(List.of(MX, "example.test"), INTER.leaf().dnsNames("example.org").issue(), false);
    }

    @Test
    void daneEeIgnoresNames() throws CertificateException {
      TestPki.Issued misnamed = INTER.leaf().dnsNames("nothing.example.org").issue();
      DnsRecord.Tlsa ee = record(3, 1, 1, misnamed);
      assertPasses(tm(ee), sent(misnamed), ee);
    }
  }

  // ------------------------------------------------------------------------------- agility

  /** RFC 7671 §9: per usage and selector, only the strongest digest present counts. */
  @Nested
  class Rfc7671Section9DigestAgility {

    @Test
    void wrongSha256IsIgnoredWhenSha512Matches() throws CertificateException {
      DnsRecord.Tlsa strong = record(3, 1, 2, LEAF);
      assertPasses(tm(wrong(3, 1, 1), strong), sent(LEAF), strong);
    }

    @Test
    void rightSha256DoesNotCountNextToASha512() {
      CertificateFailure f =
          assertFails(
              tm(record(3, 1, 1, LEAF), wrong(3, 1, 2)),
              sent(LEAF),
              FailureType.CERTIFICATE_NOT_TRUSTED);
      assertThat(f.getMessage())
          .contains("RFC 7671 §9")
          .contains(TlsaDescriptions.of(record(3, 1, 1, LEAF)));
    }

    @Test
    void theSameHoldsForDaneTa() {
      assertFails(
          tm(record(2, 0, 1, INTER), wrong(2, 0, 2)),
          sent(LEAF),
          FailureType.CERTIFICATE_NOT_TRUSTED);
    }

    @Test
    void agilityIsPerUsageAndSelector() throws CertificateException {
      DnsRecord.Tlsa spki256 = record(3, 1, 1, LEAF);
      assertPasses(tm(spki256, wrong(3, 0, 2)), sent(LEAF), spki256);
      DnsRecord.Tlsa ta256 = record(2, 0, 1, INTER);
      assertPasses(tm(wrong(3, 0, 2), record(3, 0, 1, LEAF), ta256), sent(LEAF), ta256);
    }

    @Test
    void fullDataIsNoDigestAndAlwaysCounts() throws CertificateException {
      DnsRecord.Tlsa full = record(3, 1, 0, LEAF);
      assertPasses(tm(full, wrong(3, 1, 2)), sent(LEAF), full);
    }

    @Test
    void anUnusableMatchingTypeDoesNotSuppressAUsableOne() throws CertificateException {
      DnsRecord.Tlsa sha256 = record(3, 1, 1, LEAF);
      DnsRecord.Tlsa unknown = new DnsRecord.Tlsa(3, 1, 9, new byte[64]);
      assertPasses(tm(unknown, sha256), sent(LEAF), sha256);
    }
  }

  // ------------------------------------------------------------------------------- RRsets

  /** RFC 7672 §3.1 and RFC 6698 §2.1: any usable record authenticates; unusable ones never do. */
  @Nested
  class Rfc7672Section3_1RecordSets {

    @Test
    void anyMatchingRecordAuthenticates() throws CertificateException {
      DnsRecord.Tlsa ta = record(2, 0, 1, ROOT);
      assertPasses(tm(wrong(3, 1, 1), wrong(2, 1, 1), ta), sentWithRoot(LEAF), ta);
      DnsRecord.Tlsa ee = record(3, 1, 1, LEAF);
      assertPasses(tm(ta, ee), sent(LEAF), ee);
    }

    @Test
    void mixedUsableAndUnusableRecords() throws CertificateException {
      DnsRecord.Tlsa pkixEe = record(1, 1, 1, LEAF); // right data, usage not for SMTP
      DnsRecord.Tlsa pkixTa = record(0, 0, 1, INTER);
      DnsRecord.Tlsa ee = record(3, 1, 1, LEAF);
      assertPasses(tm(pkixEe, pkixTa, ee), sent(LEAF), ee);
      CertificateFailure f =
          assertFails(
              tm(pkixEe, pkixTa, wrong(3, 1, 1)), sent(LEAF), FailureType.CERTIFICATE_NOT_TRUSTED);
      assertThat(f.getMessage()).contains("Unusable (RFC 7672 §3.1)").contains("PKIX-EE");
    }

    @Test
    void unusableRecordsAloneNeverAuthenticate() {
      byte[] shortDigest = Arrays.copyOf(LEAF.spkiSha256(), 31);
      CertificateFailure f =
          assertFails(
              tm(record(1, 1, 1, LEAF), new DnsRecord.Tlsa(3, 1, 1, shortDigest)),
              sent(LEAF),
              FailureType.CERTIFICATE_NOT_TRUSTED);
      assertThat(f.getMessage()).contains("(none usable)");
    }

    @Test
    void theFailureListsPeerKeysAndRecords() {
      DnsRecord.Tlsa ee = wrong(3, 1, 1);
      DnsRecord.Tlsa ta = record(2, 0, 1, PKI.otherCa());
      CertificateFailure f =
          assertFails(tm(ee, ta), sentWithRoot(LEAF), FailureType.CERTIFICATE_NOT_TRUSTED);
      HexFormat hex = HexFormat.of();
      assertThat(f.getMessage())
          .contains("TLSA base domain: " + MX)
          .contains("0: " + hex.formatHex(LEAF.spkiSha256()))
          .contains("1: " + hex.formatHex(INTER.spkiSha256()))
          .contains("2: " + hex.formatHex(ROOT.spkiSha256()))
          .contains(TlsaDescriptions.of(ee) + ": does not match the leaf certificate")
          .contains(TlsaDescriptions.of(ta) + ": matches no CA certificate the server sent");
    }

    @Test
    void theMostSpecificFailureWins() {
      // A name mismatch after a valid path says more than another record's mismatch.
      TestPki.Issued misnamed = INTER.leaf().dnsNames("other.example.test").issue();
      assertFails(
          tm(wrong(3, 1, 1), record(2, 0, 1, INTER), record(2, 0, 1, PKI.otherCa())),
          sent(misnamed),
          FailureType.CERTIFICATE_HOST_MISMATCH);
    }

    @Test
    void aFailedCheckForgetsAnEarlierMatch() throws CertificateException {
      DnsRecord.Tlsa ee = record(3, 1, 1, LEAF);
      DaneTrustManager tm = tm(ee);
      assertPasses(tm, sent(LEAF), ee);
      assertFails(tm, sent(INTER.leaf().dnsNames(MX).issue()), FailureType.CERTIFICATE_NOT_TRUSTED);
    }
  }

  // ------------------------------------------------------------------------------- JSSE API

  @Test
  void clientCertificatesAreNeverAccepted() {
    DaneTrustManager tm = tm(record(3, 1, 1, LEAF));
    assertThatThrownBy(() -> tm.checkClientTrusted(sent(LEAF), "RSA"))
        .isInstanceOf(CertificateException.class);
    assertThat(tm.getAcceptedIssuers()).isEmpty();
  }

  /** The message form of a record, as the trust manager prints it. */
  static final class TlsaDescriptions {
    private TlsaDescriptions() {}

    static String of(DnsRecord.Tlsa r) {
      return io.mailtls.dane.internal.TlsaData.describe(r);
    }
  }
}
