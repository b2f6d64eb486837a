package io.mailtls.core.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.testkit.FakeClock;
import io.mailtls.testkit.ManualScheduler;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The transport's bound on deliveries at once: fair, bounded in time, refusing when closed. */
class DeliverySlotsTest {

  private final FakeClock clock = new FakeClock();
  private final ManualScheduler timer = new ManualScheduler(clock);
  private final DeliverySlots slots = new DeliverySlots(2, Duration.ofSeconds(30), timer);

  private static DeliverySlots.Slot slot(CompletableFuture<DeliverySlots.Grant> f) {
    assertThat(f).isDone();
    return (DeliverySlots.Slot) f.join();
  }

  @Test
  void atTheLimitDeliveriesWaitAndGetSlotsInTheOrderTheyAsked() {
    DeliverySlots.Slot a = slot(slots.acquire());
    DeliverySlots.Slot b = slot(slots.acquire());
    List<CompletableFuture<DeliverySlots.Grant>> waiting = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      waiting.add(slots.acquire());
    }
    assertThat(waiting).noneMatch(CompletableFuture::isDone);
    assertThat(slots.inUse()).isEqualTo(2);
    assertThat(slots.waiting()).isEqualTo(3);

    a.release();
    a.release(); // a second release gives nothing away
    assertThat(waiting.get(0)).isDone();
    assertThat(waiting.get(1)).isNotDone();
    assertThat(slots.inUse()).isEqualTo(2);

    b.release();
    assertThat(waiting.get(1)).isDone();
    assertThat(waiting.get(2)).isNotDone();
    slot(waiting.get(0)).release();
    slot(waiting.get(1)).release();
    slot(waiting.get(2)).release();
    assertThat(slots.inUse()).isZero();
    assertThat(slots.waiting()).isZero();
  }

  @Test
  void aNewcomerDoesNotOvertakeAWaiter() {
    DeliverySlots.Slot a = slot(slots.acquire());
    slot(slots.acquire());
    CompletableFuture<DeliverySlots.Grant> first = slots.acquire();
    a.release(); // passes straight to the waiter
    CompletableFuture<DeliverySlots.Grant> late = slots.acquire();
    assertThat(first).isDone();
    assertThat(late).isNotDone();
  }

  @Test
  void aWaitThatRunsOutIsRefusedAsCongestionAndFreesNothing() {
    slot(slots.acquire());
    DeliverySlots.Slot b = slot(slots.acquire());
    CompletableFuture<DeliverySlots.Grant> w = slots.acquire();
    clock.advance(Duration.ofSeconds(29));
    timer.runDue();
    assertThat(w).isNotDone();
    clock.advance(Duration.ofSeconds(1));
    timer.runDue();
    assertThat(w.join())
        .isInstanceOfSatisfying(
            DeliverySlots.Refused.class,
            r -> {
              assertThat(r.closed()).isFalse();
              assertThat(r.reason()).contains("PT30S", "2 deliveries at once");
            });
    assertThat(slots.waiting()).isZero();
    b.release();
    assertThat(slots.inUse()).isEqualTo(1);
  }

  @Test
  void aGrantedWaiterIsNotTimedOutLater() {
    DeliverySlots.Slot a = slot(slots.acquire());
    slot(slots.acquire());
    CompletableFuture<DeliverySlots.Grant> w = slots.acquire();
    a.release();
    clock.advance(Duration.ofMinutes(1));
    timer.runDue();
    assertThat(w.join()).isInstanceOf(DeliverySlots.Slot.class);
    assertThat(timer.pending()).isEmpty(); // the timeout was cancelled
  }

  @Test
  void closeRefusesWaitersAndLaterCallsWithAReasonNeverAnException() {
    DeliverySlots.Slot a = slot(slots.acquire());
    slot(slots.acquire());
    CompletableFuture<DeliverySlots.Grant> w = slots.acquire();
    slots.close();
    assertThat(w.join())
        .isInstanceOfSatisfying(
            DeliverySlots.Refused.class,
            r -> {
              assertThat(r.closed()).isTrue();
              assertThat(r.reason()).contains("closed");
            });
    assertThat(slots.acquire().join()).isInstanceOf(DeliverySlots.Refused.class);
    a.release(); // a slot held across close is given back without error
    assertThat(slots.inUse()).isEqualTo(1);
  }

  @Test
  void closeThenRunsOnceTheLastSlotHeldIsReleasedAndOnlyOnce() {
    java.util.concurrent.atomic.AtomicInteger drained =
        new java.util.concurrent.atomic.AtomicInteger();
    DeliverySlots.Slot a = slot(slots.acquire());
    DeliverySlots.Slot b = slot(slots.acquire());
    CompletableFuture<DeliverySlots.Grant> waiter = slots.acquire();
    slots.closeThen(drained::incrementAndGet);
    // The waiter is refused; the two held slots are deliveries under way.
    assertThat(waiter.join()).isInstanceOf(DeliverySlots.Refused.class);
    assertThat(drained).hasValue(0);
    a.release();
    assertThat(drained).hasValue(0);
    b.release();
    b.release();
    assertThat(drained).hasValue(1);
    assertThat(slots.inUse()).isZero();
  }

  @Test
  void closeThenRunsAtOnceWhenNoSlotIsHeld() {
    java.util.concurrent.atomic.AtomicInteger drained =
        new java.util.concurrent.atomic.AtomicInteger();
    slot(slots.acquire()).release();
    slots.closeThen(drained::incrementAndGet);
    assertThat(drained).hasValue(1);
    assertThat(slots.acquire().join()).isInstanceOf(DeliverySlots.Refused.class);
  }
}
