package io.mailtls.tlsrpt;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.mailtls.tlsrpt.internal.CountsCodec;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDate;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.SortedSet;
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
 * <p>One process at a time: the file is locked while open ({@link java.nio.channels.FileLock}); a
 * second store on the same file fails to open. Thread-safe.
 */
public final class FileAggregateStore implements AggregateStore {

  private static final Logger log = LoggerFactory.getLogger(FileAggregateStore.class);
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String FORMAT = "mailtls-tlsrpt-aggregate-log";
  private static final int VERSION = 1;

  private final Path file;
  private final FileChannel channel;
  private final FileLock lock;
  private final InMemoryAggregateStore memory = new InMemoryAggregateStore();
  private final Optional<String> recovery;
  private boolean closed;

  private FileAggregateStore(Path file, FileChannel channel, FileLock lock, Optional<String> r) {
    this.file = file;
    this.channel = channel;
    this.lock = lock;
    this.recovery = r;
  }

  /**
   * Opens (or creates) the log at {@code file} and replays it.
   *
   * @throws IOException if the file cannot be read or locked, or a complete line is corrupt
   */
  public static FileAggregateStore open(Path file) throws IOException {
    Objects.requireNonNull(file, "file");
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null) {
      Files.createDirectories(parent);
    }
    FileChannel channel =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
    FileLock lock;
    try {
      lock = channel.tryLock();
    } catch (OverlappingFileLockException e) {
      channel.close();
      throw new IOException(file + " is open in another store of this process", e);
    } catch (IOException | RuntimeException e) {
      channel.close();
      throw e;
    }
    if (lock == null) {
      channel.close();
      throw new IOException(file + " is open in another store");
    }
    try {
      return replay(file, channel, lock);
    } catch (IOException | RuntimeException e) {
      lock.release();
      channel.close();
      throw e;
    }
  }

  private static FileAggregateStore replay(Path file, FileChannel channel, FileLock lock)
      throws IOException {
    byte[] bytes = Files.readAllBytes(file);
    int complete = lastLineFeed(bytes) + 1;
    Optional<String> recovery = Optional.empty();
    if (complete < bytes.length) {
      recovery =
          Optional.of(
              "ignored an incomplete last line of "
                  + (bytes.length - complete)
                  + " bytes at offset "
                  + complete
                  + " in "
                  + file
                  + " (a merge interrupted by a crash)");
      log.warn("TLS-RPT store: {}", recovery.get());
      channel.truncate(complete);
      channel.force(true);
    }
    String text = new String(bytes, 0, complete, StandardCharsets.UTF_8);
    List<String> lines = complete == 0 ? List.of() : List.of(text.split("\n", -1));
    FileAggregateStore store = new FileAggregateStore(file, channel, lock, recovery);
    int n = 0;
    for (String line : lines) {
      n++;
      if (n == lines.size() && line.isEmpty()) {
        break; // after the last line feed
      }
      try {
        store.apply(n, JSON.readTree(line));
      } catch (JsonProcessingException | IllegalArgumentException | ArithmeticException e) {
        throw new IOException("corrupt line " + n + " in " + file + ": " + e.getMessage(), e);
      }
    }
    if (n == 0) {
      ObjectNode header = JSON.createObjectNode();
      header.put("format", FORMAT);
      header.put("version", VERSION);
      store.append(header);
    }
    channel.position(channel.size());
    return store;
  }

  private static int lastLineFeed(byte[] bytes) {
    for (int i = bytes.length - 1; i >= 0; i--) {
      if (bytes[i] == '\n') {
        return i;
      }
    }
    return -1;
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

  @Override
  public synchronized void discard(LocalDate day) throws IOException {
    Objects.requireNonNull(day, "day");
    ensureOpen();
    ObjectNode line = JSON.createObjectNode();
    line.put("op", "discard");
    line.put("day", day.toString());
    append(line);
    memory.discard(day);
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
      lock.release();
    } finally {
      channel.close();
    }
  }
}
