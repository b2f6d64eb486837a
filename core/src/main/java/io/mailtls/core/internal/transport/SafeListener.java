package io.mailtls.core.internal.transport;

import io.mailtls.core.EventListener;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Calls the user's {@link EventListener}, so that a listener that throws changes nothing. */
public final class SafeListener {

  private static final Logger log = LoggerFactory.getLogger(SafeListener.class);

  private final EventListener delegate;

  public SafeListener(EventListener delegate) {
    this.delegate = delegate;
  }

  public void fire(Consumer<EventListener> event) {
    try {
      event.accept(delegate);
    } catch (RuntimeException | Error e) {
      if (e instanceof VirtualMachineError vme) {
        throw vme;
      }
      log.warn("event listener threw; ignored", e);
    }
  }
}
