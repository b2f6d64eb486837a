package io.mailtls.interop;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.FailureType;
import io.mailtls.core.TlsLevel;
import io.mailtls.interop.Library.Outcome;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Issue 11 items 6 and 7 against peers that are separate processes reached through the real DNS
 * (interop/hostile-smtp.sh under socat, found through NSD and Unbound): a 250 to DATA and a 251 to
 * EHLO are protocol errors, deferred, never delivered, and no content is ever sent to such a peer.
 * The peers log every line they receive; the logs are the witness.
 */
class HostilePeerInteropTest {

  @BeforeAll
  static void environment() {
    InteropEnv.requireUp();
  }

  private static List<String> received(String mode) throws Exception {
    return Files.readAllLines(
        InteropEnv.STATE.resolve("logs").resolve("hostile-" + mode + ".log"),
        StandardCharsets.UTF_8);
  }

  @Test
  void a250ToDataIsAProtocolErrorAndNoContentIsSent() throws Exception {
    Outcome o =
        Library.send(
            Scenario.HOSTILE_DATA,
            TlsLevel.OPPORTUNISTIC,
            InteropEnv.validatingResolver(),
            "hostile");
    assertThat(o.result().status()).as("%s", o.result()).isEqualTo(DeliveryStatus.DEFERRED);
    assertThat(o.result().attempts())
        .singleElement()
        .satisfies(a -> assertThat(a.failure()).contains(FailureType.PROTOCOL_ERROR));
    List<String> lines = received("data250");
    assertThat(lines)
        .as("the peer saw the transaction up to DATA")
        .contains("DATA")
        .anySatisfy(l -> assertThat(l).startsWith("RCPT TO:<" + o.message().recipient()));
    assertThat(lines)
        .as("no message content reached the peer")
        .noneSatisfy(l -> assertThat(l).contains(o.message().id()));
  }

  @Test
  void a251ToEhloIsAProtocolErrorBeforeAnyTransaction() throws Exception {
    for (TlsLevel level : List.of(TlsLevel.OPPORTUNISTIC, TlsLevel.ENFORCED)) {
      Outcome o =
          Library.send(Scenario.HOSTILE_EHLO, level, InteropEnv.validatingResolver(), "hostile");
      assertThat(o.result().status()).as("%s", o.result()).isEqualTo(DeliveryStatus.DEFERRED);
      assertThat(o.result().attempts())
          .isNotEmpty()
          .allSatisfy(a -> assertThat(a.failure()).contains(FailureType.PROTOCOL_ERROR));
    }
    assertThat(received("ehlo251"))
        .as("nothing past EHLO (HELO and QUIT at most)")
        .allSatisfy(
            l ->
                assertThat(l)
                    .doesNotStartWith("MAIL")
                    .doesNotStartWith("RCPT")
                    .doesNotStartWith("DATA"));
  }

  /** The logs exist where up.sh writes them (a missing log would make the checks above vacuous). */
  @Test
  void thePeersLogWhatTheyReceive() {
    assertThat(Path.of(InteropEnv.STATE.resolve("logs").toString(), "hostile-data250.log"))
        .exists();
    assertThat(InteropEnv.STATE.resolve("logs").resolve("hostile-ehlo251.log")).exists();
  }
}
