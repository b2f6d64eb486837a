package io.mailtls.reliability.fuzz;

import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * The Jazzer entry point of every target: {@code
 * --target_class=io.mailtls.reliability.fuzz.FuzzMain --target_args=<target name>}. {@link
 * FuzzCampaignTest} starts one JVM per target with it.
 */
public final class FuzzMain {

  private static @Nullable FuzzTarget target;

  private FuzzMain() {}

  /** Jazzer calls this once, with {@code --target_args}: the name of the target to fuzz. */
  public static void fuzzerInitialize(String[] args) {
    if (args.length != 1) {
      throw new IllegalArgumentException("--target_args must name one of " + FuzzTargets.names());
    }
    target = FuzzTargets.byName(args[0]);
    // Loads (and instruments) the parser's classes before the first timed input.
    for (java.nio.file.Path file : FuzzCorpus.files(target)) {
      try {
        FuzzHarness.check(target, java.nio.file.Files.readAllBytes(file));
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    }
  }

  /** Jazzer calls this for every input. */
  public static void fuzzerTestOneInput(byte[] input) {
    FuzzHarness.check(Objects.requireNonNull(target, "fuzzerInitialize names the target"), input);
  }
}
