package io.mailtls.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * CI's run of every end-to-end driver: each for a fraction of a second, on the real peer process,
 * asserting no timing, only that it ran and wrote well-formed CSV with every expected column, a row
 * per scenario, and messages (or handshakes, plans) that were actually delivered.
 */
class BenchmarkSmokeTest {

  private static final Path DIR =
      Path.of(System.getProperty("benchmarks.smokeDir", "target/smoke"));

  /** Every scenario has a total row with messages, and nothing went undelivered. */
  private static void assertTotals(SmokeCsv csv, List<String> scenarios, List<Integer> sizes) {
    for (int size : sizes) {
      for (String s : scenarios) {
        List<Map<String, String>> total =
            csv.where("scenario", s).stream()
                .filter(r -> r.get("round").equals("all"))
                .filter(r -> r.get("size_bytes").equals(Integer.toString(size)))
                .toList();
        assertThat(total).as("total row of %s at %d", s, size).hasSize(1);
        Map<String, String> r = total.get(0);
        assertThat(SmokeCsv.number(r, "messages")).as("messages of %s", s).isPositive();
        assertThat(SmokeCsv.number(r, "errors")).as("errors of %s", s).isZero();
        assertThat(SmokeCsv.number(r, "msg_per_s")).as("rate of %s", s).isPositive();
        assertThat(SmokeCsv.number(r, "client_cpu_us_per_msg")).isPositive();
      }
    }
  }

  private static final List<String> RATIO_EMPTY = List.of();
  private static final List<String> E2E_EMPTY = List.of();

  @Test
  void endToEnd() throws Exception {
    Path out = DIR.resolve("e2e.csv");
    EndToEnd.run(
        new String[] {
          "--seconds",
          "0.2",
          "--rounds",
          "1",
          "--warmup",
          "0",
          "--out",
          out.toString(),
          "--workdir",
          DIR.resolve("e2e-work").toString()
        });
    SmokeCsv csv = new SmokeCsv(out, Rounds.COLUMNS, E2E_EMPTY);
    List<String> scenarios =
        List.of(
            "a_mailtls_reuse",
            "d_angus_reuse_nodelay",
            "b_mailtls_newconn",
            "b_angus_send_nodelay",
            "c_angus_send_default",
            "e_mailtls_jakarta",
            "e_angus_reuse_nodelay_mime");
    assertTotals(csv, scenarios, List.of(10240, 102400));
    // Every message the clients counted reached the sink (through the peer's own count).
    for (Map<String, String> r : csv.where("round", "all")) {
      assertThat(SmokeCsv.number(r, "peer_messages"))
          .isGreaterThanOrEqualTo(SmokeCsv.number(r, "messages"));
    }
    SmokeCsv ratios = new SmokeCsv(EndToEnd.ratioFile(out), Rounds.RATIO_COLUMNS, RATIO_EMPTY);
    assertThat(ratios.rows).hasSize(8);
    assertThat(ratios.rows)
        .allSatisfy(r -> assertThat(SmokeCsv.number(r, "msg_per_s_ratio")).isPositive());
  }

  @Test
  void directToMx() throws Exception {
    Path out = DIR.resolve("direct.csv");
    DirectMx.run(
        new String[] {
          "--domains",
          "10",
          "--seconds",
          "0.6",
          "--rounds",
          "1",
          "--warmup",
          "0",
          "--out",
          out.toString(),
          "--workdir",
          DIR.resolve("direct-work").toString()
        });
    SmokeCsv csv = new SmokeCsv(out, Rounds.COLUMNS, E2E_EMPTY);
    assertTotals(
        csv,
        List.of(
            "direct_one_domain",
            "direct_n_domains",
            "direct_fanout_domains",
            "relay_reuse",
            "relay_spread"),
        List.of(10240));
    Map<String, String> warm = csv.where("scenario", "warmup_plan_n_domains").get(0);
    assertThat(SmokeCsv.number(warm, "messages")).isEqualTo(10);
    // d00000.test's policy was fetched by the check before the warm-up
    assertThat(SmokeCsv.number(warm, "policy_fetches")).isGreaterThanOrEqualTo(9);
    SmokeCsv ratios = new SmokeCsv(EndToEnd.ratioFile(out), Rounds.RATIO_COLUMNS, RATIO_EMPTY);
    assertThat(ratios.rows).hasSize(4);
    assertThat(ratios.rows)
        .allSatisfy(r -> assertThat(SmokeCsv.number(r, "msg_per_s_ratio")).isPositive());
  }

  @Test
  void coldResolution() throws Exception {
    Path out = DIR.resolve("cold.csv");
    int rows =
        ColdResolution.run(
            new String[] {
              "--samples",
              "1",
              "--callers",
              "20",
              "--out",
              out.toString(),
              "--workdir",
              DIR.resolve("cold-work").toString()
            });
    SmokeCsv csv = new SmokeCsv(out, ColdResolution.COLUMNS, List.of("structural_round_trips"));
    assertThat(csv.rows).hasSize(rows).hasSize(4);
    for (String s : List.of("cold", "warm_keys_new_domain", "warm_same_domain")) {
      Map<String, String> r = csv.where("scenario", s).get(0);
      assertThat(SmokeCsv.number(r, "plans_with_dane")).as(s).isEqualTo(1);
      assertThat(SmokeCsv.number(r, "plans_with_mta_sts")).as(s).isEqualTo(1);
      assertThat(SmokeCsv.number(r, "plan_ms")).as(s).isPositive();
      assertThat(SmokeCsv.number(r, "structural_round_trips")).as(s).isPositive();
    }
    Map<String, String> c = csv.where("scenario", "concurrent").get(0);
    assertThat(SmokeCsv.number(c, "callers")).isEqualTo(20);
    assertThat(SmokeCsv.number(c, "txt_queries")).isPositive();
  }

  @Test
  void memory() throws Exception {
    Path out = DIR.resolve("memory.csv");
    Memory.run(
        new String[] {
          "--entries",
          "1000",
          "--stream-mib",
          "16",
          "--out",
          out.toString(),
          "--workdir",
          DIR.resolve("memory-work").toString()
        });
    SmokeCsv csv = new SmokeCsv(out, Memory.COLUMNS, Memory.COLUMNS);
    for (String m : List.of("policy_cache", "dns_answer_mx", "dns_answer_a", "plan_cache")) {
      Map<String, String> r = csv.where("measurement", m).get(0);
      assertThat(SmokeCsv.number(r, "count")).isEqualTo(1000);
      assertThat(SmokeCsv.number(r, "bytes_per_entry")).as(m).isPositive();
    }
    Map<String, String> s = csv.where("measurement", "stream_16mib").get(0);
    assertThat(s.get("delivered")).isEqualTo("true");
    assertThat(SmokeCsv.number(s, "heap_max_mib")).isLessThanOrEqualTo(64);
    assertThat(SmokeCsv.number(s, "count")).isGreaterThan(16 * 1024 * 1024 - 100);
  }

  @Test
  void handshakes() throws Exception {
    Path out = DIR.resolve("handshake.csv");
    Handshake.run(
        new String[] {
          "--seconds",
          "0.3",
          "--rounds",
          "1",
          "--warmup",
          "0",
          "--out",
          out.toString(),
          "--workdir",
          DIR.resolve("handshake-work").toString()
        });
    SmokeCsv csv = new SmokeCsv(out, Rounds.COLUMNS, E2E_EMPTY);
    assertTotals(csv, List.of("pkix", "dane_ee", "dane_ta"), List.of(0));
    for (Map<String, String> r : csv.where("round", "all")) {
      // one connection per handshake
      assertThat(SmokeCsv.number(r, "connections"))
          .isGreaterThanOrEqualTo(SmokeCsv.number(r, "messages"));
    }
  }

  @Test
  void handshakeFloor() throws Exception {
    Path out = DIR.resolve("floor.csv");
    HandshakeFloor.run(
        new String[] {
          "--seconds",
          "0.6",
          "--rounds",
          "1",
          "--warmup",
          "0",
          "--cpu-samples",
          "10",
          "--settle-s",
          "0.5",
          "--out",
          out.toString(),
          "--workdir",
          DIR.resolve("floor-work").toString()
        });
    SmokeCsv csv = new SmokeCsv(out, Rounds.COLUMNS, E2E_EMPTY);
    assertTotals(csv, List.of("jdk_full", "mailtls_full", "jdk_resumed"), List.of(0));
    assertTotals(
        csv,
        List.of("jdk_resumed_send", "b_mailtls_newconn", "b_angus_send_nodelay"),
        List.of(10240));
    for (Map<String, String> r : csv.where("round", "all")) {
      // a new connection per handshake or message
      assertThat(SmokeCsv.number(r, "connections"))
          .isGreaterThanOrEqualTo(SmokeCsv.number(r, "messages"));
    }
    SmokeCsv ratios = new SmokeCsv(EndToEnd.ratioFile(out), Rounds.RATIO_COLUMNS, RATIO_EMPTY);
    assertThat(ratios.rows).hasSize(4);
    // CPU times of the JIT's, the collector's and the VM's threads are mostly 0 for one operation,
    // and a ratio to 0 is empty.
    SmokeCsv cpu =
        new SmokeCsv(
            HandshakeFloor.cpuFile(out),
            HandshakeFloor.CPU_COLUMNS,
            List.of("ratio_median", "ratio_trimmed_mean", "min_block_ratio", "max_block_ratio"));
    // per measure of an operation six contenders, the empty operation and mailtls (b) against
    // Angus (b); then three requirements
    List<String> perOp =
        List.of(
            "all_threads_cpu_op", "jit_cpu_op", "gc_cpu_op", "vm_cpu_op", "java_threads_cpu_op");
    for (String measure : perOp) {
      assertThat(cpu.where("measure", measure)).as(measure).hasSize(8);
    }
    assertThat(cpu.where("measure", "thread_cpu_handshake")).hasSize(3);
    assertThat(cpu.rows).hasSize(5 * 8 + 3);
    for (Map<String, String> r : cpu.rows) {
      assertThat(SmokeCsv.number(r, "samples")).isEqualTo(10);
      assertThat(SmokeCsv.number(r, "mean_cpu_us")).as(r.get("contender")).isNotNegative();
    }
    List<Map<String, String>> exact = new ArrayList<>();
    exact.addAll(cpu.where("measure", "thread_cpu_handshake"));
    exact.addAll(cpu.where("measure", "java_threads_cpu_op"));
    exact.addAll(cpu.where("measure", "all_threads_cpu_op"));
    for (Map<String, String> r : exact) {
      // thread CPU time is exact: every operation costs some, the empty one the reading itself
      assertThat(SmokeCsv.number(r, "median_cpu_us")).as(r.get("contender")).isPositive();
      assertThat(SmokeCsv.number(r, "ratio_median")).as(r.get("contender")).isPositive();
    }
  }
}
