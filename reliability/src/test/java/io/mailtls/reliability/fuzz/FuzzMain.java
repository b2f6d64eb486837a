package io.mailtls.reliability.fuzz;

/**
 * The Jazzer entry point of every target: {@code
 * --target_class=io.mailtls.reliability.fuzz.FuzzMain --target_args=<target name>}. {@link
 * FuzzCampaignTest} starts one JVM per target with it.
 */
public final class FuzzMain {

  private static FuzzTarget target = FuzzTargets.byName("SmtpReply");

  private FuzzMain() {}

  /** Jazzer calls this once, with {@code --target_args}: the name of the target to fuzz. */
  public static void fuzzerInitialize(String[] args) {
    if (args.length != 1) {
      throw new IllegalArgumentException("--target_args must name one of " + FuzzTargets.ALL);
    }
    target = FuzzTargets.byName(args[0]);
  }

  /** Jazzer calls this for every input. */
  public static void fuzzerTestOneInput(byte[] input) {
    FuzzHarness.check(target, input);
  }
}
