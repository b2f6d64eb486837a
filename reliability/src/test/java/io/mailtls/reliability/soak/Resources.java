package io.mailtls.reliability.soak;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/**
 * What the JVM holds at one moment: its file descriptors by kind (from {@code /proc/self/fd}), its
 * live threads by name (numbers stripped, so {@code mailtls-send-12} counts as {@code
 * mailtls-send-#}), and its used heap after a full GC.
 */
record Resources(Map<String, Integer> fds, Map<String, Integer> threads, long heapUsed) {

  static Resources take() {
    return new Resources(listFds(), listThreads(), heapAfterGc());
  }

  int fdCount() {
    return fds.values().stream().mapToInt(Integer::intValue).sum();
  }

  int threadCount() {
    return threads.values().stream().mapToInt(Integer::intValue).sum();
  }

  /** Sockets, pipes and other non-file descriptors: what a leak of connections would raise. */
  int socketLikeCount() {
    return fds.entrySet().stream()
        .filter(e -> !e.getKey().equals("file"))
        .mapToInt(Map.Entry::getValue)
        .sum();
  }

  private static Map<String, Integer> listFds() {
    Map<String, Integer> out = new TreeMap<>();
    Path dir = Path.of("/proc/self/fd");
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (Stream<Path> list = Files.list(dir)) {
      list.forEach(
          p -> {
            String kind;
            try {
              String target = Files.readSymbolicLink(p).toString();
              if (target.startsWith("socket:")) {
                kind = "socket";
              } else if (target.startsWith("pipe:")) {
                kind = "pipe";
              } else if (target.startsWith("anon_inode:")) {
                kind = target;
              } else {
                kind = "file";
              }
            } catch (IOException e) {
              return; // closed while listing (the listing's own descriptor, for one)
            }
            out.merge(kind, 1, Integer::sum);
          });
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return out;
  }

  private static Map<String, Integer> listThreads() {
    Map<String, Integer> out = new TreeMap<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.isAlive()) {
        out.merge(t.getName().replaceAll("[0-9]+", "#"), 1, Integer::sum);
      }
    }
    return out;
  }

  static long heapAfterGc() {
    long used = Long.MAX_VALUE;
    for (int i = 0; i < 4; i++) {
      System.gc();
      try {
        Thread.sleep(100);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      used = Math.min(used, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed());
    }
    return used;
  }
}
