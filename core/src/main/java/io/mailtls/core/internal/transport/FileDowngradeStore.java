package io.mailtls.core.internal.transport;

import io.mailtls.core.DomainName;
import io.mailtls.core.DowngradeMemory;
import io.mailtls.core.TransportSecurity;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.DateTimeException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.jspecify.annotations.Nullable;

/**
 * {@link DowngradeMemory#file(Path)}: every domain in memory, every raise that changes something
 * appended to a log file, the log compacted through a temporary file and an atomic rename on open
 * and when it has grown to twice its live size.
 *
 * <p>Format, version 1 (UTF-8, US-ASCII in practice, LF line ends):
 *
 * <pre>
 * mailtls-downgrade-memory 1
 * example.com authenticated-tls 1735689600000
 * example.org tls 1735689600000
 * </pre>
 *
 * The first line names the format and its version. Each other line is one raise: the domain in its
 * normal form ({@link DomainName#toString()}: A-labels, lower case, no trailing dot), the level
 * ({@code tls} or {@code authenticated-tls}; the latter implies the former), and the time in
 * milliseconds since the epoch, separated by single spaces. Reading merges the lines (each level's
 * latest time), so their order and repetitions do not matter.
 *
 * <p>Crashes: appends are single writes, not synced one by one; a process crash loses nothing
 * written, an operating-system crash may lose the last appends (the memory is then that much
 * shorter, never wrong) or leave a torn last line, which is the one defect reading forgives: text
 * after the last line end is ignored (and logged). Compaction writes a complete file, syncs it and
 * renames it over the log, so the log is always either the old file or the new one. Anything else
 * that does not parse (a wrong header or version, a malformed line) is {@link
 * DowngradeMemory.CorruptFileException}: never read as "nothing seen".
 *
 * <p>A lock ({@code <file>.lock}, {@link FileChannel#tryLock()}) keeps a second store, in this
 * process or another, from writing the same log. Thread-safe: reads are lock-free, writes take one
 * lock.
 */
public final class FileDowngradeStore implements DowngradeMemory {

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(FileDowngradeStore.class);

  /** The first line of a version-1 file. */
  static final String HEADER = "mailtls-downgrade-memory 1";

  /** The least number of appended lines before a compaction while open. */
  private static final int MIN_COMPACTION_LINES = 1_000;

  private final Path file;
  private final FileChannel lockChannel;
  private final FileLock fileLock;
  private final Map<DomainName, Seen> seen;
  private final ReentrantLock writes = new ReentrantLock();

  /** Appends to the log; null once closed. Guarded by {@code writes}. */
  private @Nullable FileChannel appender;

  /** Lines appended since the last compaction. Guarded by {@code writes}. */
  private long appended;

  private FileDowngradeStore(
      Path file, FileChannel lockChannel, FileLock fileLock, Map<DomainName, Seen> seen) {
    this.file = file;
    this.lockChannel = lockChannel;
    this.fileLock = fileLock;
    this.seen = seen;
  }

  /** Opens (or creates) the store in {@code file}: see {@link DowngradeMemory#file(Path)}. */
  public static FileDowngradeStore open(Path file) throws IOException {
    Objects.requireNonNull(file, "file");
    Path abs = file.toAbsolutePath();
    Path lockFile = abs.resolveSibling(abs.getFileName() + ".lock");
    FileChannel lockChannel =
        FileChannel.open(lockFile, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = lockChannel.tryLock();
    } catch (OverlappingFileLockException e) {
      lockChannel.close();
      throw new IOException("downgrade memory " + abs + " is already open in this process", e);
    } catch (IOException | RuntimeException e) {
      lockChannel.close();
      throw e;
    }
    if (lock == null) {
      lockChannel.close();
      throw new IOException("downgrade memory " + abs + " is locked by another process");
    }
    try {
      Map<DomainName, Seen> map = new ConcurrentHashMap<>();
      if (Files.exists(abs)) {
        map.putAll(read(abs, Files.readAllBytes(abs)));
      }
      FileDowngradeStore store = new FileDowngradeStore(abs, lockChannel, lock, map);
      store.writes.lock();
      try {
        store.compact();
      } finally {
        store.writes.unlock();
      }
      return store;
    } catch (IOException | RuntimeException e) {
      lock.release();
      lockChannel.close();
      throw e;
    }
  }

  /** The records of a file's bytes. */
  static Map<DomainName, Seen> read(Path file, byte[] bytes) throws CorruptFileException {
    String text = new String(bytes, StandardCharsets.UTF_8);
    int end = text.lastIndexOf('\n');
    if (end < 0) {
      throw new CorruptFileException(file, 0, "no header line (\"" + HEADER + "\")");
    }
    if (end < text.length() - 1) {
      // A torn last write (this format's one forgiven defect): ignored, never a record.
      log.warn(
          "downgrade memory {}: ignoring {} octets after the last line end (a torn write)",
          file,
          text.length() - 1 - end);
    }
    String[] lines = text.substring(0, end).split("\n", -1);
    if (!lines[0].equals(HEADER)) {
      throw new CorruptFileException(
          file, 1, "not a version-1 downgrade memory (expected \"" + HEADER + "\")");
    }
    Map<DomainName, Seen> map = new TreeMap<>();
    for (int i = 1; i < lines.length; i++) {
      Raise r = parse(file, i + 1, lines[i]);
      map.merge(r.domain(), Seen.NOTHING.raise(r.level(), r.at()), Seen::merge);
    }
    return map;
  }

  private record Raise(DomainName domain, TransportSecurity level, Instant at) {}

  private static Raise parse(Path file, long n, String line) throws CorruptFileException {
    String[] f = line.split(" ", -1);
    if (f.length != 3) {
      throw new CorruptFileException(file, n, "expected \"domain level millis\"");
    }
    DomainName domain;
    try {
      domain = DomainName.of(f[0]);
    } catch (IllegalArgumentException e) {
      throw new CorruptFileException(file, n, "not a domain name");
    }
    if (domain.isRoot() || !domain.toString().equals(f[0])) {
      throw new CorruptFileException(file, n, "domain not in normal form");
    }
    TransportSecurity level =
        switch (f[1]) {
          case "tls" -> TransportSecurity.TLS;
          case "authenticated-tls" -> TransportSecurity.AUTHENTICATED_TLS;
          default -> throw new CorruptFileException(file, n, "unknown level");
        };
    if (f[2].isEmpty() || f[2].length() > 18 || !f[2].chars().allMatch(c -> c >= '0' && c <= '9')) {
      throw new CorruptFileException(file, n, "time is not milliseconds since the epoch");
    }
    try {
      return new Raise(domain, level, Instant.ofEpochMilli(Long.parseLong(f[2])));
    } catch (NumberFormatException | DateTimeException e) {
      throw new CorruptFileException(file, n, "time out of range");
    }
  }

  private static String line(DomainName domain, TransportSecurity level, Instant at) {
    String token = level == TransportSecurity.AUTHENTICATED_TLS ? "authenticated-tls" : "tls";
    return domain + " " + token + " " + at.toEpochMilli() + "\n";
  }

  @Override
  public Seen seen(DomainName domain) {
    Seen s = seen.get(Objects.requireNonNull(domain, "domain"));
    return s == null ? Seen.NOTHING : s;
  }

  /**
   * {@inheritDoc}
   *
   * @throws UncheckedIOException when the log cannot be written (the record is then not kept)
   * @throws IllegalStateException when the store is closed
   */
  @Override
  public void raise(DomainName domain, TransportSecurity achieved, Instant at) {
    Objects.requireNonNull(domain, "domain");
    Objects.requireNonNull(achieved, "achieved");
    Instant ms = at.truncatedTo(ChronoUnit.MILLIS);
    if (achieved == TransportSecurity.PLAINTEXT) {
      return;
    }
    writes.lock();
    try {
      FileChannel out = appender;
      if (out == null) {
        throw new IllegalStateException("downgrade memory " + file + " is closed");
      }
      Seen old = seen(domain);
      Seen next = old.raise(achieved, ms);
      if (next.equals(old)) {
        return;
      }
      write(out, line(domain, achieved, ms));
      seen.put(domain, next);
      appended++;
      if (appended > Math.max(MIN_COMPACTION_LINES, 2L * seen.size())) {
        compact();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("writing downgrade memory " + file + " failed", e);
    } finally {
      writes.unlock();
    }
  }

  private static void write(FileChannel out, String text) throws IOException {
    ByteBuffer b = ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8));
    while (b.hasRemaining()) {
      out.write(b);
    }
  }

  /**
   * Rewrites the log with one line per domain and level: a complete temporary file, synced, renamed
   * over the log. Holds {@code writes}.
   */
  private void compact() throws IOException {
    List<String> lines = new ArrayList<>();
    new TreeMap<>(seen)
        .forEach(
            (d, s) -> {
              Optional<Instant> auth = s.authenticatedTls();
              auth.ifPresent(t -> lines.add(line(d, TransportSecurity.AUTHENTICATED_TLS, t)));
              s.tls()
                  .filter(t -> auth.map(a -> a.isBefore(t)).orElse(true))
                  .ifPresent(t -> lines.add(line(d, TransportSecurity.TLS, t)));
            });
    Path dir = Objects.requireNonNull(file.getParent(), "an absolute path has a parent");
    Path tmp = Files.createTempFile(dir, file.getFileName() + ".", ".tmp");
    try {
      try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
        StringBuilder text = new StringBuilder(HEADER).append('\n');
        lines.forEach(text::append);
        write(out, text.toString());
        out.force(true);
      }
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } finally {
      Files.deleteIfExists(tmp);
    }
    syncDirectory(dir);
    // Until here a failure leaves the old log, and its channel, in use.
    FileChannel old = appender;
    appender = null;
    if (old != null) {
      old.close();
    }
    appender = FileChannel.open(file, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    appended = 0;
  }

  /** Makes the rename durable where the platform allows syncing a directory (Linux does). */
  private static void syncDirectory(Path dir) {
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException e) {
      log.debug("cannot sync directory {}: {}", dir, e.toString());
    }
  }

  /** The number of domains held. */
  public int size() {
    return seen.size();
  }

  @Override
  public void close() throws IOException {
    writes.lock();
    try {
      FileChannel out = appender;
      appender = null;
      try {
        if (out != null) {
          out.close();
        }
      } finally {
        if (fileLock.isValid()) {
          fileLock.release();
        }
        lockChannel.close();
      }
    } finally {
      writes.unlock();
    }
  }

  @Override
  public String toString() {
    return "DowngradeMemory.file(" + file + ", " + seen.size() + " domains)";
  }
}
