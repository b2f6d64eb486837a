package io.mailtls.micrometer;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DeliveryReport;
import io.mailtls.core.DeliveryStatus;
import io.mailtls.core.SecureSmtpTransport;
import io.micrometer.core.instrument.LongTaskTimer;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.observation.DefaultMeterObservationHandler;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * An application's observation handler that throws, on a real {@link ObservationRegistry} beside
 * Micrometer's own {@link DefaultMeterObservationHandler} (the one Spring Boot registers, which
 * keeps a long-task timer running from each observation's start to its stop): every observation of
 * every delivery is still stopped, so no long-task timer runs on and the observations' timers count
 * each one; the deliveries go as scripted; nothing is thrown at the transport; and one WARN says
 * so, without the exception's message.
 */
class ThrowingObservationHandlerTest {

  /** In the handler's exception's message: it must reach no log line. */
  private static final String SECRET = "handler-exception-text";

  private static ScriptedDeliveries peers;

  @BeforeAll
  static void start() throws Exception {
    peers = new ScriptedDeliveries();
  }

  @AfterAll
  static void stop() {
    peers.close();
  }

  /** The handler callback that throws. */
  enum Callback {
    START,
    ERROR,
    STOP
  }

  /** Application code, as a buggy exporter would be: throws in one callback, every time. */
  private static final class ThrowingHandler implements ObservationHandler<Observation.Context> {
    private final Callback when;
    private final boolean overflow;

    ThrowingHandler(Callback when, boolean overflow) {
      this.when = when;
      this.overflow = overflow;
    }

    private void maybeThrow(Callback now) {
      if (now == when) {
        if (overflow) {
          recurse(0);
        }
        throw new IllegalStateException(SECRET);
      }
    }

    /** The handler's own runaway recursion: a StackOverflowError. */
    private static long recurse(long depth) {
      return depth == Long.MAX_VALUE ? depth : recurse(depth + 1) + 1;
    }

    @Override
    public void onStart(Observation.Context context) {
      maybeThrow(Callback.START);
    }

    @Override
    public void onError(Observation.Context context) {
      maybeThrow(Callback.ERROR);
    }

    @Override
    public void onStop(Observation.Context context) {
      maybeThrow(Callback.STOP);
    }

    @Override
    public boolean supportsContext(Observation.Context context) {
      return true;
    }
  }

  /** After a round of the four deliveries: observations still open, and observations stopped. */
  private record Round(
      long deliveriesOpen, long attemptsOpen, long deliveriesStopped, long attemptsStopped) {}

  private static long open(MeterRegistry meters, String observation) {
    return meters.find(observation + ".active").longTaskTimers().stream()
        .mapToLong(LongTaskTimer::activeTasks)
        .sum();
  }

  private static long stopped(MeterRegistry meters, String observation) {
    return meters.find(observation).timers().stream().mapToLong(Timer::count).sum();
  }

  /** Collects the records of one java.util.logging logger (SLF4J's JUL binding feeds it). */
  private static final class Records extends Handler {
    final List<LogRecord> records = new CopyOnWriteArrayList<>();

    @Override
    public void publish(LogRecord r) {
      records.add(r);
    }

    @Override
    public void flush() {}

    @Override
    public void close() {}
  }

  @ParameterizedTest
  @EnumSource(Callback.class)
  void everyObservationIsStoppedAndNothingReachesTheTransport(Callback when) {
    run(when, false, IllegalStateException.class);
  }

  /**
   * The same for a handler whose own recursion overflows the stack: by the time the error reaches
   * the listener its frames are gone, and it costs no other observation its stop.
   */
  @ParameterizedTest
  @EnumSource(Callback.class)
  void aHandlerOverflowingItsStackLeavesNoObservationOpen(Callback when) {
    run(when, true, StackOverflowError.class);
  }

  private static void run(Callback when, boolean overflow, Class<? extends Throwable> thrown) {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    ObservationRegistry observations = ObservationRegistry.create();
    ObservationHandler<Observation.Context> meterHandler =
        new DefaultMeterObservationHandler(meters);
    ObservationHandler<Observation.Context> throwing = new ThrowingHandler(when, overflow);
    // Micrometer calls the handlers in order for onStart and onError, in reverse for onStop, and
    // stops at the first that throws: the meter handler is placed to be called before the
    // throwing one, so that it saw each event and only the listener decides what is left open.
    if (when == Callback.STOP) {
      observations.observationConfig().observationHandler(throwing);
      observations.observationConfig().observationHandler(meterHandler);
    } else {
      observations.observationConfig().observationHandler(meterHandler);
      observations.observationConfig().observationHandler(throwing);
    }
    MailtlsMetrics metrics =
        MailtlsMetrics.builder(new SimpleMeterRegistry()).observationRegistry(observations).build();

    Logger transportLog = Logger.getLogger("io.mailtls.core.internal.transport.SafeListener");
    Logger metricsLog = Logger.getLogger(MailtlsMetrics.class.getName());
    Records thrownAtTransport = new Records();
    Records reported = new Records();
    transportLog.addHandler(thrownAtTransport);
    metricsLog.addHandler(reported);
    List<Round> rounds = new ArrayList<>();
    List<List<DeliveryStatus>> statuses = new ArrayList<>();
    try (SecureSmtpTransport transport = peers.transport(metrics)) {
      for (int i = 0; i < 2; i++) {
        List<DeliveryReport> reports = ScriptedDeliveries.sendAll(transport);
        statuses.add(
            List.of(
                reports.get(0).result("b@dane.example.test").status(),
                reports.get(1).result("b@opp.example.test").status(),
                reports.get(2).result("b@bounce.example.test").status(),
                reports.get(3).result("b@mismatch.example.test").status()));
        rounds.add(
            new Round(
                open(meters, Meters.DELIVERY_OBSERVATION),
                open(meters, Meters.ATTEMPT_OBSERVATION),
                stopped(meters, Meters.DELIVERY_OBSERVATION),
                stopped(meters, Meters.ATTEMPT_OBSERVATION)));
      }
    } finally {
      transportLog.removeHandler(thrownAtTransport);
      metricsLog.removeHandler(reported);
    }

    // Four deliveries a round, one attempt each (the mismatch's fails): all stopped, none open,
    // and the second round leaves no more open than the first.
    assertThat(rounds)
        .as("observations open and stopped after each round, the handler throwing in %s", when)
        .containsExactly(new Round(0, 0, 4, 4), new Round(0, 0, 8, 8));
    List<DeliveryStatus> scripted =
        List.of(
            DeliveryStatus.DELIVERED,
            DeliveryStatus.DELIVERED,
            DeliveryStatus.BOUNCED,
            DeliveryStatus.DEFERRED);
    assertThat(statuses).containsExactly(scripted, scripted);
    assertThat(thrownAtTransport.records)
        .as("the listener threw at the transport")
        .extracting(LogRecord::getMessage)
        .isEmpty();
    List<LogRecord> warnings =
        reported.records.stream().filter(r -> Level.WARNING.equals(r.getLevel())).toList();
    assertThat(warnings).as("one WARN for all the failures").hasSize(1);
    LogRecord warning = warnings.get(0);
    assertThat(warning.getMessage()).contains(thrown.getName()).doesNotContain(SECRET);
    assertThat(warning.getThrown()).isNull();
  }
}
