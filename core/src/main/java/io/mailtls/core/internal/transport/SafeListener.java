package io.mailtls.core.internal.transport;

import io.mailtls.core.DeliveryCall;
import io.mailtls.core.EventListener;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Calls the user's {@link EventListener}, so that a listener that throws changes nothing, and one
 * event at a time: the domains of one call are delivered on several threads at once, and their
 * events still reach the call's listener one after another, each happening-before the next (the
 * lock of this instance, one per call, orders them).
 */
public final class SafeListener {

  private static final Logger log = LoggerFactory.getLogger(SafeListener.class);

  private final EventListener delegate;
  private final Object lock = new Object();

  public SafeListener(EventListener delegate) {
    this.delegate = delegate;
  }

  /**
   * The listener {@code factory} makes for {@code call}, or {@link EventListener#NONE} when it
   * throws or returns null: a broken factory costs the call its events, never its delivery.
   */
  public static EventListener create(EventListener.Factory factory, DeliveryCall call) {
    try {
      EventListener listener = factory.create(call);
      if (listener != null) {
        return listener;
      }
      log.warn(
          "event listener factory returned null for call {}; its events are dropped", call.id());
    } catch (Throwable e) {
      // Throwable: a factory in Kotlin, or with @SneakyThrows, throws undeclared checked ones too.
      rethrowIfFatal(e);
      keepInterrupt(e);
      log.warn("event listener factory threw for call {}; its events are dropped", call.id(), e);
    }
    return EventListener.NONE;
  }

  public void fire(Consumer<EventListener> event) {
    synchronized (lock) {
      fireLocked(event);
    }
  }

  private void fireLocked(Consumer<EventListener> event) {
    try {
      event.accept(delegate);
    } catch (Throwable e) {
      // Throwable: a listener in Kotlin, or with @SneakyThrows, throws undeclared checked ones
      // too, which would otherwise escape a delivery (or end an executor task, and leave send()
      // waiting for its part of the report for ever).
      rethrowIfFatal(e);
      keepInterrupt(e);
      log.warn("event listener threw; ignored", e);
    }
  }

  /**
   * Rethrows what leaves the JVM unfit to go on (out of memory, an internal error). Not a {@link
   * StackOverflowError}: the listener's own recursion threw it, and by the time it reaches this
   * catch its frames are gone, so it is the listener's failure like any other. Rethrown, it would
   * make {@code send} throw after the message was delivered (a retry delivers it twice), or end an
   * executor's task and leave {@code send} waiting for ever.
   */
  private static void rethrowIfFatal(Throwable e) {
    if (e instanceof VirtualMachineError vme && !(e instanceof StackOverflowError)) {
      throw vme;
    }
  }

  /**
   * Caller code that threw an InterruptedException (undeclared: Kotlin, {@code @SneakyThrows}) had
   * the thread's interrupt status cleared by it: swallowed, the interrupt is set again, so that the
   * caller of send() (an executor's shutdownNow, a cancelled task) still sees it.
   */
  public static void keepInterrupt(Throwable e) {
    if (e instanceof InterruptedException) {
      Thread.currentThread().interrupt();
    }
  }
}
