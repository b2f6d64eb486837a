package io.mailtls.reliability.concurrency;

import io.mailtls.core.internal.transport.DeliverySlots;
import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.ManualScheduler;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedDeque;
import java.util.concurrent.atomic.AtomicInteger;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Validate;
import org.junit.jupiter.api.Test;

/**
 * {@link DeliverySlots}, the transport's bound on deliveries at once, never loses or invents a slot
 * under concurrent acquire, release (also twice), wait expiry and close: Lincheck's model checker
 * explores the interleavings of these calls (and its stress mode runs them on real threads), and
 * after every execution the slots in use are exactly the slots that callers hold (granted at once
 * or passed on to a waiter), never more than the bound, and every acquire has had exactly one
 * answer (a slot or a refusal) or still waits; nothing is refused at once while the semaphore is
 * open. The operations return nothing: the test's record of held slots is updated outside the
 * semaphore's lock, so the properties are checked as invariants rather than against a sequential
 * specification. The waits' timer is the testkit's manual scheduler, moved by {@link #timeout()}.
 */
public class DeliverySlotsInterleavingTest {

  private static final int MAX = 2;
  private static final Duration MAX_WAIT = Duration.ofSeconds(10);

  private final FakeClock clock = new FakeClock(Instant.parse("2026-01-01T00:00:00Z"));
  private final ManualScheduler timer = new ManualScheduler(clock);
  private final DeliverySlots slots = new DeliverySlots(MAX, MAX_WAIT, timer);

  /** Slots granted and not yet released, whoever got them. */
  private final ConcurrentLinkedDeque<DeliverySlots.Slot> held = new ConcurrentLinkedDeque<>();

  private final AtomicInteger asked = new AtomicInteger();
  private final AtomicInteger answered = new AtomicInteger();
  private final java.util.concurrent.atomic.AtomicBoolean closedOrTimedOut =
      new java.util.concurrent.atomic.AtomicBoolean();

  /** Asks for a slot: granted now, refused, or granted later when one passes to it. */
  @Operation
  public void acquire() {
    asked.incrementAndGet();
    CompletableFuture<DeliverySlots.Grant> grant = slots.acquire();
    boolean now = grant.isDone();
    var unused =
        grant.thenAccept(
            g -> {
              answered.incrementAndGet();
              if (g instanceof DeliverySlots.Slot s) {
                held.add(s);
              }
            });
    if (now && !(grant.join() instanceof DeliverySlots.Slot) && !closedOrTimedOut.get()) {
      throw new AssertionError("refused at once while the semaphore was open");
    }
  }

  /** Releases a held slot, if any (it passes to the first waiter). */
  @Operation
  public void release() {
    DeliverySlots.Slot s = held.pollFirst();
    if (s != null) {
      s.release();
    }
  }

  /** A release of a slot already released changes nothing. */
  @Operation
  public void releaseTwice() {
    DeliverySlots.Slot s = held.pollFirst();
    if (s != null) {
      s.release();
      s.release();
    }
  }

  /** Every wait runs out: the waiters are refused. */
  @Operation
  public void timeout() {
    closedOrTimedOut.set(true);
    clock.advance(MAX_WAIT.plusSeconds(1));
    timer.runDue();
  }

  @Operation
  public void close() {
    closedOrTimedOut.set(true);
    slots.close();
  }

  @Validate
  public void noSlotLostOrInvented() {
    int inUse = slots.inUse();
    if (inUse != held.size() || inUse > MAX || inUse < 0) {
      throw new AssertionError("in use " + inUse + ", held " + held.size() + ", bound " + MAX);
    }
    if (answered.get() + slots.waiting() != asked.get()) {
      throw new AssertionError(
          "asked " + asked.get() + ", answered " + answered.get() + ", waiting " + slots.waiting());
    }
  }

  @Test
  void modelChecking() {
    StressBudget.modelCheck(getClass(), 3);
  }

  @Test
  void stress() {
    StressBudget.stressCheck(getClass(), 3);
  }
}
