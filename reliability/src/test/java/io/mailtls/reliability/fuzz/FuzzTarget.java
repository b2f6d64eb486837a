package io.mailtls.reliability.fuzz;

import java.util.List;

/**
 * One parser that reads peer input, as a fuzz target: {@link #exercise} feeds it one input the way
 * the product does, and checks what comes out. Adding a target is one subclass, listed in {@link
 * FuzzTargets#ALL}, with its seed corpus in {@code src/test/resources/fuzz/<name>/seeds/}
 * (docs/reliability.md, "Fuzzing").
 *
 * <p>{@link FuzzHarness} runs {@link #exercise} within a time and a memory bound and accepts only a
 * normal return or one of {@link #documented()}; anything else (another exception, an error, a
 * failed check inside {@link #exercise}) is a finding.
 */
public abstract class FuzzTarget {

  /**
   * Gives the input to the parser as the product would and checks the result's promises (typed
   * results, escaped text, consistent counts). Throws {@link AssertionError} when a promise is
   * broken.
   */
  protected abstract void exercise(byte[] input) throws Exception;

  /** Exceptions the parser documents for malformed input; empty when it never throws. */
  protected List<Class<? extends Throwable>> documented() {
    return List.of();
  }

  /**
   * Packages besides {@code io.mailtls} whose coverage guides the fuzzer, in Jazzer's {@code
   * --instrumentation_includes} syntax (e.g. {@code org.xbill.DNS.**}). Each costs start-up time:
   * Jazzer instruments every class of them that the target loads.
   */
  protected List<String> instrumented() {
    return List.of();
  }

  /** The target's name: its corpus directory and the argument of the long-run command. */
  public final String name() {
    return FuzzTargets.name(getClass());
  }

  @Override
  public String toString() {
    return name();
  }
}
