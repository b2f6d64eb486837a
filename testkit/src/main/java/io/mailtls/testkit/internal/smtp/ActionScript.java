package io.mailtls.testkit.internal.smtp;

import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpStep;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The scripted actions of one server: per step, and per RCPT address. The n-th occurrence of a step
 * on the server (counted over all sessions, in the order they happen) gets the n-th action; once
 * the list is used up, its last action repeats. A step without a script proceeds normally.
 *
 * <p>Thread-safe: the lists are immutable, the counters atomic.
 */
public final class ActionScript {

  private final Map<SmtpStep, List<SmtpAction>> bySteps;
  private final Map<SmtpStep, AtomicInteger> stepCounters = new EnumMap<>(SmtpStep.class);
  private final Map<String, List<SmtpAction>> byRecipient = new HashMap<>();
  private final Map<String, AtomicInteger> recipientCounters = new HashMap<>();

  /** A script from the given actions; recipient keys are matched case-insensitively. */
  public ActionScript(
      Map<SmtpStep, List<SmtpAction>> bySteps, Map<String, List<SmtpAction>> byRecipient) {
    this.bySteps = new EnumMap<>(SmtpStep.class);
    bySteps.forEach((step, actions) -> this.bySteps.put(step, List.copyOf(actions)));
    for (SmtpStep step : SmtpStep.values()) {
      stepCounters.put(step, new AtomicInteger());
    }
    byRecipient.forEach(
        (address, actions) -> {
          String key = key(address);
          this.byRecipient.put(key, List.copyOf(actions));
          recipientCounters.put(key, new AtomicInteger());
        });
  }

  private static String key(String address) {
    return address.toLowerCase(Locale.ROOT);
  }

  /** The action for the next occurrence of {@code step}. */
  public SmtpAction next(SmtpStep step) {
    return pick(bySteps.get(step), Objects.requireNonNull(stepCounters.get(step))); // one per step
  }

  /** The action for the next RCPT of {@code address}: its own script, else the RCPT script. */
  public SmtpAction nextForRecipient(String address) {
    String key = key(address);
    List<SmtpAction> actions = byRecipient.get(key);
    return actions != null
        ? pick(actions, Objects.requireNonNull(recipientCounters.get(key))) // one per script
        : next(SmtpStep.RCPT);
  }

  private static SmtpAction pick(@Nullable List<SmtpAction> actions, AtomicInteger counter) {
    if (actions == null || actions.isEmpty()) {
      return SmtpAction.proceed();
    }
    int n = counter.getAndIncrement();
    return actions.get(Math.min(n, actions.size() - 1));
  }
}
