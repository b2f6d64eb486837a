package io.mailtls.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.Type;

/**
 * {@link TestDnsServer.Builder#latency}: every response held back, UDP responses side by side; and
 * {@link TestDnsServer#totalQueryCount()}, which the bounded log does not limit.
 */
class TestDnsServerLatencyTest {

  private static final Duration LATENCY = Duration.ofMillis(150);

  private static TestDnsServer server(Duration latency) {
    TestDnsServer.Builder b =
        TestDnsServer.builder().zone("example.test", z -> z.a("host.example.test", "127.0.0.2"));
    if (latency != null) {
      b.latency(latency);
    }
    return b.start();
  }

  private static Message query(TestDnsServer dns, boolean tcp) throws IOException {
    SimpleResolver r = new SimpleResolver(dns.socketAddress());
    r.setTCP(tcp);
    r.setTimeout(Duration.ofSeconds(5));
    return r.send(
        Message.newQuery(
            Record.newRecord(Name.fromString("host.example.test."), Type.A, DClass.IN)));
  }

  @Test
  void everyResponseOverUdpAndTcpIsHeldBack() throws Exception {
    try (TestDnsServer dns = server(LATENCY)) {
      for (boolean tcp : new boolean[] {false, true}) {
        long start = System.nanoTime();
        Message m = query(dns, tcp);
        long elapsed = System.nanoTime() - start;
        assertThat(m.getRcode()).isEqualTo(Rcode.NOERROR);
        assertThat(m.getSection(Section.ANSWER)).hasSize(1);
        assertThat(Duration.ofNanos(elapsed)).as("tcp=%s", tcp).isGreaterThanOrEqualTo(LATENCY);
      }
    }
  }

  @Test
  void concurrentUdpQueriesAreDelayedSideBySide() throws Exception {
    try (TestDnsServer dns = server(LATENCY)) {
      query(dns, false); // warm up the client side
      int n = 10;
      long start = System.nanoTime();
      List<CompletableFuture<Message>> all = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        all.add(
            CompletableFuture.supplyAsync(
                () -> {
                  try {
                    return query(dns, false);
                  } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                  }
                },
                runnable -> new Thread(runnable).start()));
      }
      for (CompletableFuture<Message> f : all) {
        assertThat(f.get(10, TimeUnit.SECONDS).getRcode()).isEqualTo(Rcode.NOERROR);
      }
      long elapsed = System.nanoTime() - start;
      // One after another they would take n × 150 ms; side by side about one delay.
      assertThat(Duration.ofNanos(elapsed)).isLessThan(LATENCY.multipliedBy(n / 2));
    }
  }

  @Test
  void noLatencyByDefaultAndNegativeIsRefused() throws Exception {
    assertThatThrownBy(() -> TestDnsServer.builder().latency(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class);
    TestDnsServer.Builder b = TestDnsServer.builder().latency(Duration.ZERO);
    assertThatThrownBy(() -> b.latency(Duration.ZERO)).isInstanceOf(IllegalStateException.class);
    try (TestDnsServer dns = server(null)) {
      long start = System.nanoTime();
      query(dns, false);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    }
  }

  @Test
  void totalQueryCountOutlivesClearingTheLog() throws Exception {
    try (TestDnsServer dns = server(null)) {
      query(dns, false);
      query(dns, true);
      assertThat(dns.totalQueryCount()).isEqualTo(2);
      dns.clearQueryLog();
      query(dns, false);
      assertThat(dns.queries()).hasSize(1);
      assertThat(dns.totalQueryCount()).isEqualTo(3);
    }
  }
}
