package io.mailtls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.cli.demo.DeliveryDemo;
import io.mailtls.cli.demo.DnsDemo;
import io.mailtls.core.DnssecState;
import io.mailtls.core.MxResolution;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class DemoCommandTest {

  @Test
  void demoMatrixMatchesWhatTheRfcsRequireInBothModes() {
    List<DnsDemo.Row> rows = DnsDemo.run();
    assertThat(rows).hasSize(DnsDemo.SCENARIOS.size());
    assertThat(rows)
        .allSatisfy(
            r ->
                assertThat(r.asExpected())
                    .as("%s: validate=%s trustAd=%s", r.scenario(), r.validate(), r.trustAd())
                    .isTrue());
    assertThat(rows)
        .anySatisfy(
            r -> {
              assertThat(r.scenario().domain()).isEqualTo("expired.test");
              assertThat(r.validate().kind()).isEqualTo(MxResolution.Kind.TEMPORARY_FAILURE);
              assertThat(r.validate().state()).isEqualTo(DnssecState.BOGUS);
            });
  }

  @Test
  void deliveryMatrixMatchesDesignSection1ForEveryLevel() {
    List<DeliveryDemo.Row> rows = DeliveryDemo.run();
    assertThat(rows).hasSize(DeliveryDemo.SCENARIOS.size());
    assertThat(rows)
        .allSatisfy(
            r ->
                assertThat(r.actual())
                    .as("%s: %s", r.scenario().domain(), r.reasons())
                    .isEqualTo(r.scenario().required()));
  }

  @Test
  void demoCommandPrintsTheMatrixAndExitsZero() {
    StringWriter out = new StringWriter();
    CommandLine cl = Mailtls.commandLine();
    cl.setOut(new PrintWriter(out));
    int exit = cl.execute("demo");
    assertThat(exit).isZero();
    assertThat(out.toString())
        .contains("secure.test", "MX SECURE", "expired.test", "TEMPORARY_FAILURE BOGUS")
        .contains("all as the RFCs require", "all as docs/design.md §1 requires")
        .contains("dane-ee.test", "DELIVERED VERIFIED", "DELIVERED ENCRYPTED")
        .doesNotContain("MISMATCH (required");
    assertThat(out.toString().lines()).noneMatch(l -> l.endsWith(" MISMATCH"));
  }
}
