package io.mailtls.reliability.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
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
    for (FuzzTarget target : FuzzTargets.ALL) {
      List<DynamicTest> tests = new ArrayList<>();
      for (Path file : FuzzCorpus.files(target)) {
        String name = file.getParent().getFileName() + "/" + file.getFileName();
        tests.add(
            DynamicTest.dynamicTest(
                name, file.toUri(), () -> FuzzHarness.check(target, Files.readAllBytes(file))));
      }
      containers.add(DynamicContainer.dynamicContainer(target.name(), tests));
    }
    return containers;
  }

  @Test
  void everyTargetHasSeeds() throws IOException {
    for (FuzzTarget target : FuzzTargets.ALL) {
      assertThat(FuzzCorpus.files(target)).as(target.name()).hasSizeGreaterThanOrEqualTo(3);
      assertThat(FuzzTargets.byName(target.name())).isSameAs(target);
    }
  }
}
