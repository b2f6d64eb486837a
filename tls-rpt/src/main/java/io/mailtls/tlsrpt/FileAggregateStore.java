package io.mailtls.tlsrpt;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mailtls.tlsrpt.internal.CountsCodec;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An {@link AggregateStore} that survives a crash: an append-only log of merges in one file, each
 * merge one line of JSON written with a single write and forced to the device before {@link #merge}
 * returns. Opening the store replays the log into memory.
 *
 * <p>A crash can leave only the last line incomplete (no line feed yet): it is ignored, cut off the
 * file, and reported ({@link #recovery()}, and a log warning), so that the merge it held is the
 * only one lost and it was never acknowledged. A complete line that does not parse is corruption,
 * not a torn write: opening fails rather than guess. docs/tls-rpt.md describes the format.
 *
 * <p>The log does not grow for ever: {@link #discard} rewrites it without the day discarded, {@link
 * #compact} rewrites it with one line per day, opening a log larger than 1 MiB compacts it, and so
 * does a merge that takes the log past twice its size after the last rewrite (and past 1 MiB): a
 * sender that merges every delivery call would otherwise append gigabytes a day between reports.
 * Each rewrite is crash-safe (a temporary file, forced, then moved over the log atomically), and
 * costs the size of the counts held, so that merges stay constant work on average. Opening reads
 * the log as a stream, one line at a time, whatever its size.
 *
 * <p>One process at a time: a lock file beside the log ({@code <log>.lock}, never replaced, so that
 * a rewrite cannot hand a second store the lock of a replaced log) is locked while the store is
 * open ({@link java.nio.channels.FileLock}); a second store on the same file fails to open.
 * Thread-safe.
 */
public final class FileAggregateStore implements AggregateStore {

  private static final Logger log = LoggerFactory.getLogger(FileAggregateStore.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String FORMAT = "mailtls-tlsrpt-aggregate-log";
  private static final int VERSION = 1;

  /** A log larger than this is compacted when opened, if compaction would shorten it. */
  static final long COMPACT_ON_OPEN_BYTES = 1 << 20;

  private final Path file;
  private FileChannel channel;
  private final FileChannel lockChannel;
  private final FileLock lock;
  private final InMemoryAggregateStore memory = new InMemoryAggregateStore();
  private final Optional<String> recovery;
  private final long compactFloor;
  // A merge that takes the log past this compacts it: twice its size after the last rewrite, and
  // at least compactFloor.
  private long compactAbove;
  private int lineCount;
  private boolean closed;

  private FileAggregateStore(
      Path file,
      FileChannel channel,
      FileChannel lockChannel,
      FileLock lock,
      Optional<String> r,
      long compactFloor) {
    this.file = file;
    this.channel = channel;
    this.lockChannel = lockChannel;
    this.lock = lock;
    this.recovery = r;
    this.compactFloor = compactFloor;
    this.compactAbove = compactFloor;
  }

  /**
   * Opens (or creates) the log at {@code file} and replays it.
   *
   * @throws IOException if the file cannot be read or locked, or a complete line is corrupt
   */
  public static FileAggregateStore open(Path file) throws IOException {
    return open(file, COMPACT_ON_OPEN_BYTES);
  }

  /** {@link #open(Path)} compacting above {@code compactFloor} bytes rather than 1 MiB (tests). */
  static FileAggregateStore open(Path file, long compactFloor) throws IOException {
    Objects.requireNonNull(file, "file");
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    // The lock is on a file that is never replaced: a lock on the log itself would be released
    // with the replaced log by a rewrite, and a store that opened the path just before the move
    // would take it and write to a file no one reads again.
    FileChannel lockChannel =
        FileChannel.open(
            lockFile(file),
            StandardOpenOption.CREATE,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = lockChannel.tryLock();
    } catch (OverlappingFileLockException e) {
      lockChannel.close();
      throw new IOException(file + " is open in another store of this process", e);
    } catch (IOException | RuntimeException e) {
      lockChannel.close();
      throw e;
    }
    if (lock == null) {
      lockChannel.close();
      throw new IOException(file + " is open in another store");
    }
    FileAggregateStore store;
    FileChannel channel = null;
    try {
      // A compaction interrupted by a crash leaves its temporary file: the log is still whole.
      Files.deleteIfExists(compactionFile(file));
      channel =
          FileChannel.open(
              file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
      store = replay(file, channel, lockChannel, lock, compactFloor);
    } catch (IOException | RuntimeException e) {
      try {
        if (channel != null) {
          channel.close();
        }
        lock.release();
      } finally {
        lockChannel.close();
      }
      throw e;
    }
    store.compactIfLong("on open");
    return store;
  }

  private static Path lockFile(Path file) {
    return file.resolveSibling(file.getFileName() + ".lock");
  }

  private static Path compactionFile(Path file) {
    return file.resolveSibling(file.getFileName() + ".compact.tmp");
  }

  private static FileAggregateStore replay(
      Path file, FileChannel channel, FileChannel lockChannel, FileLock lock, long compactFloor)
      throws IOException {
    long size = channel.size();
    long complete = lastLineFeed(channel, size) + 1;
    Optional<String> recovery = Optional.empty();
    if (complete < size) {
      recovery =
          Optional.of(
              "ignored an incomplete last line of "
                  + (size - complete)
                  + " bytes at offset "
                  + complete
                  + " in "
                  + file
                  + " (a merge interrupted by a crash)");
      log.warn("TLS-RPT store: {}", recovery.get());
      channel.truncate(complete);
      channel.force(true);
    }
    FileAggregateStore store =
        new FileAggregateStore(file, channel, lockChannel, lock, recovery, compactFloor);
    // One line at a time: the log may be far larger than the counts it sums to.
    int n = 0;
    ByteArrayOutputStream line = new ByteArrayOutputStream();
    ByteBuffer chunk = ByteBuffer.allocate(1 << 16);
    long position = 0;
    while (position < complete) {
      chunk.clear();
      chunk.limit((int) Math.min(chunk.capacity(), complete - position));
      int read = channel.read(chunk, position);
      if (read < 0) {
        throw new IOException(file + " ended at " + position + ", before " + complete + " bytes");
      }
      position += read;
      byte[] bytes = chunk.array();
      int start = 0;
      for (int i = 0; i < read; i++) {
        if (bytes[i] == '\n') {
          line.write(bytes, start, i - start);
          n++;
          store.apply(n, line.toByteArray(), file);
          line.reset();
          start = i + 1;
        }
      }
      line.write(bytes, start, read - start);
    }
    store.lineCount = n;
    if (n == 0) {
      store.append(header());
    }
    channel.position(channel.size());
    return store;
  }

  private void apply(int lineNumber, byte[] line, Path file) throws IOException {
    try {
      apply(lineNumber, JSON.readTree(line));
    } catch (JsonProcessingException | IllegalArgumentException | ArithmeticException e) {
      throw new IOException(
          "corrupt line " + lineNumber + " in " + file + ": " + e.getMessage(), e);
    }
  }

  /** Where the last line feed of the first {@code size} bytes is, or -1; reads from the end. */
  private static long lastLineFeed(FileChannel channel, long size) throws IOException {
    ByteBuffer chunk = ByteBuffer.allocate(1 << 13);
    long end = size;
    while (end > 0) {
      long start = Math.max(0, end - chunk.capacity());
      chunk.clear();
      chunk.limit((int) (end - start));
      while (chunk.hasRemaining()) {
        if (channel.read(chunk, start + chunk.position()) < 0) {
          throw new IOException("the log ended while read");
        }
      }
      for (int i = chunk.limit() - 1; i >= 0; i--) {
        if (chunk.get(i) == '\n') {
          return start + i;
        }
      }
      end = start;
    }
    return -1;
  }

  /**
   * Compacts the log if it is past {@link #compactAbove} and a rewrite would shorten it; a failed
   * rewrite leaves the log whole, only long, and is not tried again before the log doubles.
   */
  private void compactIfLong(String when) {
    try {
      if (channel.size() <= compactAbove || lineCount <= memory.days().size() + 1) {
        return;
      }
      rewrite(null);
    } catch (IOException e) {
      log.warn("TLS-RPT store: could not compact {} {}", file, when, e);
      try {
        compactAbove = Math.max(compactAbove, 2 * channel.size());
      } catch (IOException ignored) {
        compactAbove *= 2;
      }
    }
  }

  private static ObjectNode header() {
    ObjectNode header = JSON.createObjectNode();
    header.put("format", FORMAT);
    header.put("version", VERSION);
    return header;
  }

  private void apply(int lineNumber, JsonNode line) {
    if (lineNumber == 1) {
      if (!FORMAT.equals(line.path("format").asText()) || line.path("version").asInt() != VERSION) {
        throw new IllegalArgumentException("not a " + FORMAT + " version " + VERSION + " file");
      }
      return;
    }
    String op = line.path("op").asText();
    LocalDate day;
    try {
      day = LocalDate.parse(line.path("day").asText());
    } catch (DateTimeParseException e) {
      throw new IllegalArgumentException("bad day: " + e.getMessage(), e);
    }
    switch (op) {
      case "merge" -> memory.merge(day, CountsCodec.read(line.path("counts")));
      case "discard" -> memory.discard(day);
      default -> throw new IllegalArgumentException("unknown op " + op);
    }
  }

  /** What opening had to repair: an incomplete last line it ignored, if there was one. */
  public Optional<String> recovery() {
    return recovery;
  }

  /** The log file. */
  public Path file() {
    return file;
  }

  @Override
  public synchronized void merge(LocalDate day, Map<AppliedPolicy, PolicyCounts> counts)
      throws IOException {
    Objects.requireNonNull(day, "day");
    Map<AppliedPolicy, PolicyCounts> copy = Map.copyOf(counts);
    if (copy.isEmpty()) {
      return;
    }
    ensureOpen();
    // The sums first (an overflow throws here), so that no line is written that memory refuses.
    Map<AppliedPolicy, PolicyCounts> held = memory.read(day);
    copy.forEach((k, v) -> held.getOrDefault(k, PolicyCounts.ZERO).plus(v));
    ObjectNode line = JSON.createObjectNode();
    line.put("op", "merge");
    line.put("day", day.toString());
    line.set("counts", CountsCodec.write(copy));
    append(line); // durable first: a count in memory is always in the file
    memory.merge(day, copy);
    compactIfLong("after a merge");
  }

  @Override
  public synchronized Map<AppliedPolicy, PolicyCounts> read(LocalDate day) throws IOException {
    ensureOpen();
    return memory.read(day);
  }

  @Override
  public synchronized SortedSet<LocalDate> days() throws IOException {
    ensureOpen();
    return memory.days();
  }

  /**
   * Forgets {@code day}'s counts: the log is rewritten without them ({@link #compact}). Should the
   * rewrite fail, a discard line is appended instead, so the day is still forgotten durably.
   */
  @Override
  public synchronized void discard(LocalDate day) throws IOException {
    Objects.requireNonNull(day, "day");
    ensureOpen();
    try {
      rewrite(day);
      memory.discard(day);
      return;
    } catch (IOException e) {
      log.warn("TLS-RPT store: could not compact {}; appending the discard instead", file, e);
    }
    ObjectNode line = JSON.createObjectNode();
    line.put("op", "discard");
    line.put("day", day.toString());
    append(line);
    memory.discard(day);
  }

  /**
   * Rewrites the log as its header and one merge line per day that holds counts, so that it no
   * longer grows with every merge: written to a temporary file in the same directory, forced to the
   * device, then moved over the log atomically ({@code ATOMIC_MOVE}) and the directory forced. A
   * crash at any point leaves either the old log or the new one, whole; opening removes a leftover
   * temporary file. The counts are unchanged.
   *
   * @throws IOException if the rewrite failed (the log is then as it was)
   */
  public synchronized void compact() throws IOException {
    ensureOpen();
    rewrite(null);
  }

  /** Rewrites the log with every day's counts but {@code without}'s. */
  private void rewrite(@Nullable LocalDate without) throws IOException {
    Path tmp = compactionFile(file);
    StringBuilder text = new StringBuilder();
    text.append(JSON.writeValueAsString(header())).append('\n');
    int n = 1;
    for (LocalDate day : memory.days()) {
      if (day.equals(without)) {
        continue;
      }
      ObjectNode line = JSON.createObjectNode();
      line.put("op", "merge");
      line.put("day", day.toString());
      line.set("counts", CountsCodec.write(memory.read(day)));
      text.append(JSON.writeValueAsString(line)).append('\n');
      n++;
    }
    byte[] bytes = text.toString().getBytes(StandardCharsets.UTF_8);
    FileChannel next =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.TRUNCATE_EXISTING,
            StandardOpenOption.READ,
            StandardOpenOption.WRITE);
    boolean moved = false;
    try {
      ByteBuffer buf = ByteBuffer.wrap(bytes);
      while (buf.hasRemaining()) {
        next.write(buf, buf.position());
      }
      next.force(true);
      Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      moved = true;
    } catch (IOException | RuntimeException e) {
      try {
        next.close();
        Files.deleteIfExists(tmp);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    } finally {
      if (moved) {
        forceDirectory(file);
      }
    }
    FileChannel oldChannel = channel;
    channel = next;
    lineCount = n;
    compactAbove = Math.max(compactFloor, 2L * bytes.length);
    channel.position(channel.size());
    oldChannel.close(); // the replaced file's
  }

  /** Forces {@code file}'s directory entry to the device, where the platform allows it. */
  private static void forceDirectory(Path file) {
    Path dir = file.toAbsolutePath().getParent();
    if (dir == null) {
      return;
    }
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException | RuntimeException e) {
      // Not every platform opens directories (Windows); the move itself is atomic.
      log.debug("TLS-RPT store: could not force directory {}", dir, e);
    }
  }

  private void append(JsonNode line) throws IOException {
    byte[] bytes = (JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8);
    long start = channel.size();
    ByteBuffer buf = ByteBuffer.wrap(bytes);
    try {
      while (buf.hasRemaining()) {
        channel.write(buf, start + buf.position());
      }
      channel.force(false);
      lineCount++;
    } catch (IOException e) {
      // Take back what part of the line reached the file, so that the log stays whole.
      try {
        channel.truncate(start);
      } catch (IOException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  private void ensureOpen() throws IOException {
    if (closed) {
      throw new IOException("store closed: " + file);
    }
  }

  @Override
  public synchronized void close() throws IOException {
    if (closed) {
      return;
    }
    closed = true;
    try {
      channel.close();
    } finally {
      try {
        lock.release();
      } finally {
        lockChannel.close();
      }
    }
  }
}
