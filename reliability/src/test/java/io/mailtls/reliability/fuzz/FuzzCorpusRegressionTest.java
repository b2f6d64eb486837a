package io.mailtls.reliability.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every input of every target's seed corpus and saved findings, through {@link FuzzHarness}: the
 * fixed, fast part of the fuzzing, run on every build.
 */
class FuzzCorpusRegressionTest {

  @TestFactory
  List<DynamicContainer> everyCorpusInput() {
    List<DynamicContainer> containers = new ArrayList<>();
    for (String name : FuzzTargets.names()) {
      FuzzTarget target = FuzzTargets.byName(name);
      List<DynamicTest> tests = new ArrayList<>();
      for (Path file : FuzzCorpus.files(target)) {
        String display = file.getParent().getFileName() + "/" + file.getFileName();
        tests.add(
            DynamicTest.dynamicTest(
                display, file.toUri(), () -> FuzzHarness.check(target, Files.readAllBytes(file))));
      }
      containers.add(DynamicContainer.dynamicContainer(target.name(), tests));
    }
    return containers;
  }

  @Test
  void everyTargetHasSeeds() {
    for (String name : FuzzTargets.names()) {
      FuzzTarget target = FuzzTargets.byName(name);
      assertThat(target.name()).isEqualTo(name);
      assertThat(FuzzCorpus.files(target)).as(name).hasSizeGreaterThanOrEqualTo(3);
    }
  }
}
