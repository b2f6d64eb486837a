package io.mailtls.interop;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.Attempt;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.FailureType;
import io.mailtls.core.PolicySource;
import io.mailtls.core.TlsLevel;
import io.mailtls.interop.InteropEnv.Stored;
import io.mailtls.interop.Library.Outcome;
import io.mailtls.interop.Scenario.Expect;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every scenario × every sender level through the public API, against Postfix, NSD, Unbound and
 * nginx: status, authentication, policy source and failure types as {@link Scenario} says; every
 * DELIVERED message is in Postfix's maildir byte-for-byte, every other one is not.
 */
class ScenarioMatrixTest {

  /** Messages that must never arrive: checked once more at the end, after Postfix had time. */
  private static final InteropEnv.Undelivered UNDELIVERED = new InteropEnv.Undelivered();

  private static final Set<String> SEEN = ConcurrentHashMap.newKeySet();

  @BeforeAll
  static void environment() {
    InteropEnv.requireUp();
  }

  static Stream<Arguments> matrix() {
    return Stream.of(Scenario.values())
        .flatMap(s -> Stream.of(TlsLevel.values()).map(l -> Arguments.of(s, l)));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("matrix")
  void validatingInProcess(Scenario s, TlsLevel level) throws Exception {
    Outcome o = Library.send(s, level, InteropEnv.validatingResolver(), "api");
    assertOutcome(s, level, o, s.expect(level), UNDELIVERED);
  }

  /**
   * The same at opportunistic level with Unbound's AD bit trusted (TRUST_AD). Unbound answers
   * SERVFAIL for bogus data, and a SERVFAIL cannot say why: a bogus MX answer reads DNS_FAILURE
   * instead of DNSSEC_INVALID (still deferred, never delivered). A failed TLSA lookup is
   * DNSSEC_INVALID either way (RFC 7672 §2.2: the host is unusable).
   */
  @ParameterizedTest(name = "{0}")
  @EnumSource(Scenario.class)
  void trustingUnboundsAdBit(Scenario s) throws Exception {
    Outcome o = Library.send(s, TlsLevel.OPPORTUNISTIC, InteropEnv.trustAdResolver(), "ad");
    Expect e = s.expect(TlsLevel.OPPORTUNISTIC);
    if (s == Scenario.BOGUS_EXPIRED || s == Scenario.BOGUS_DS || s == Scenario.BOGUS_MX_SIG) {
      e =
          new Expect(
              e.status(), e.authentication(), PolicySource.NONE, Set.of(FailureType.DNS_FAILURE));
    }
    assertOutcome(s, TlsLevel.OPPORTUNISTIC, o, e, UNDELIVERED);
  }

  static void assertOutcome(
      Scenario s, TlsLevel level, Outcome o, Expect expected, InteropEnv.Undelivered undelivered)
      throws Exception {
    String what =
        s
            + " at "
            + level
            + ": "
            + o.result()
            + "\n  plan: "
            + o.result().plan()
            + "\n  events: "
            + o.events();
    Expect observed = o.observed();
    assertThat(observed.status()).as("status, " + what).isEqualTo(expected.status());
    assertThat(observed.authentication())
        .as("authentication, " + what)
        .isEqualTo(expected.authentication());
    assertThat(observed.source()).as("policy source, " + what).isEqualTo(expected.source());
    assertThat(observed.failures())
        .as("failure types, " + what)
        .containsExactlyInAnyOrderElementsOf(expected.failures());
    for (FailureType f : observed.failures()) {
      // RFC 8460 result types where the failure is a TLS or policy failure
      if (f != FailureType.CONNECTION_FAILED
          && f != FailureType.DNS_FAILURE
          && f != FailureType.STS_REQUIRED
          && f != FailureType.PROTOCOL_ERROR) {
        assertThat(f.tlsRptResultType()).as("RFC 8460 result type of %s", f).isPresent();
      }
    }
    // what TLS-RPT reports must reach the listener: every policy failure of the plan, and every
    // failed attempt under a recipient policy (DANE, MTA-STS)
    assertThat(o.events())
        .as("PolicyFailure events, " + what)
        .containsAll(o.result().plan().policyFailures());
    for (Attempt a : o.result().attempts()) {
      Optional<FailureType> f = a.failure().filter(x -> x.tlsRptResultType().isPresent());
      if (f.isPresent()
          && (a.source() == PolicySource.DANE || a.source() == PolicySource.MTA_STS)) {
        assertThat(o.events())
            .as("PolicyFailure events, " + what)
            .anySatisfy(ev -> assertThat(ev.type()).isEqualTo(f.get()));
      }
    }
    if (observed.status() == DeliveryStatus.DELIVERED) {
      assertDelivered(s, o);
    } else {
      undelivered.record(
          s.domain, o.message().id(), InteropEnv.messageIdNeedle(o.message().id()), what);
    }
  }

  /** In the maildir exactly once, byte-for-byte after Postfix's headers; Received names TLS. */
  static void assertDelivered(Scenario s, Outcome o) throws Exception {
    assertThat(SEEN.add(o.message().id())).isTrue();
    Path file = InteropEnv.awaitInMaildir(s.domain, o.message().id(), Duration.ofSeconds(10));
    assertThat(
            InteropEnv.awaitPostfixLogged(
                InteropEnv.messageIdNeedle(o.message().id()), Duration.ofSeconds(10)))
        .as("Postfix's log")
        .isTrue();
    Stored stored = InteropEnv.split(Files.readAllBytes(file));
    assertThat(stored.received()).as("Received: headers in %s", file).isNotEmpty();
    String received = stored.received().get(0);
    if (o.result().tls().isPresent()) {
      String protocol = o.result().tls().get().protocol();
      assertThat(protocol).isIn("TLSv1.2", "TLSv1.3");
      assertThat(received)
          .as(file.toString())
          .contains("with ESMTPS")
          .contains("using " + protocol + " with cipher ");
      if (protocol.equals("TLSv1.3")) { // OpenSSL and JSSE name TLS 1.3 suites alike
        assertThat(received).contains(" with cipher " + o.result().tls().get().cipherSuite());
      }
    } else {
      assertThat(received)
          .as(file.toString())
          .contains("with ESMTP ")
          .doesNotContain("ESMTPS")
          .doesNotContain("using TLS");
    }
    assertThat(new String(stored.rest(), StandardCharsets.ISO_8859_1))
        .as("message as stored in %s", file)
        .isEqualTo(new String(o.message().stored(), StandardCharsets.ISO_8859_1));
    assertThat(stored.rest()).isEqualTo(o.message().stored());
  }

  @AfterAll
  static void nothingUndeliveredArrivedLater() throws Exception {
    UNDELIVERED.assertNoneArrived();
  }
}
