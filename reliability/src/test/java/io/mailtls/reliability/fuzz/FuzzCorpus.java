package io.mailtls.reliability.fuzz;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * A target's corpus directories under {@code src/test/resources/fuzz/<target>/}: {@code seeds/}
 * (RFC examples and real servers' data) and {@code findings/} (inputs that once broke a promise,
 * kept as regression tests), read from the test class path.
 */
final class FuzzCorpus {

  static final List<String> KINDS = List.of("seeds", "findings");

  private FuzzCorpus() {}

  /** The existing corpus directories of the target. */
  static List<Path> directories(FuzzTarget target) {
    List<Path> dirs = new ArrayList<>();
    for (String kind : KINDS) {
      URL url = FuzzCorpus.class.getResource("/fuzz/" + target.name() + "/" + kind);
      if (url != null) {
        try {
          dirs.add(Path.of(url.toURI()));
        } catch (URISyntaxException e) {
          throw new IllegalStateException(url.toString(), e);
        }
      }
    }
    return dirs;
  }

  /** Every file in the target's corpus directories, sorted. */
  static List<Path> files(FuzzTarget target) {
    List<Path> files = new ArrayList<>();
    for (Path dir : directories(target)) {
      try (Stream<Path> list = Files.list(dir)) {
        list.filter(Files::isRegularFile).sorted().forEach(files::add);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return files;
  }
}
