package io.mailtls.core.internal.policy;

import io.mailtls.core.DestinationPolicyMap;
import io.mailtls.core.DomainName;
import io.mailtls.core.PolicyMapException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.time.Clock;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * A {@link DestinationPolicyMap.Reloading}: the map of the last good version of its file. A lookup
 * checks the file when {@code checkEvery} has passed since the last check (by the given clock): its
 * modification time, size and (where the file system tells) change time, and, when any changed or
 * the file was modified within {@link #SETTLE}, its bytes; changed bytes are parsed and, when they
 * parse, replace the map. A file that does not parse, or cannot be read, leaves the last good map
 * in force and is reported ({@link #lastError()}, a warning). Thread-safe: lookups read one
 * volatile snapshot; one thread at a time checks.
 *
 * <p>A file rewritten in place (truncated, then written, as {@code Files.write} and many editors
 * do) is for a moment empty or cut short, and such a part of a map usually parses: every entry
 * after the cut would fall back to the sender's level. So new bytes replace the map only once the
 * file's modification time is {@link #SETTLE} away from the clock's now; until then the last good
 * map stays and the file is read again at the next check. A file replaced by a rename (write a
 * temporary file, then move it over) is never seen half written, and is the way to change a map at
 * once.
 */
public final class ReloadingPolicyMap implements DestinationPolicyMap.Reloading {

  private static final org.slf4j.Logger log =
      org.slf4j.LoggerFactory.getLogger(ReloadingPolicyMap.class);

  /** How long after its last modification new bytes of the file wait before they are taken. */
  public static final Duration SETTLE = Duration.ofSeconds(2);

  private static final long SETTLE_MILLIS = SETTLE.toMillis();

  private final Path file;
  private final long checkEveryMillis;
  private final Clock clock;

  /** The map in force, and what the file looked like when it was read. */
  private static final class Snapshot {
    private final InMemoryPolicyMap map;
    private final @Nullable Stamp stamp;
    private final byte[] bytes;

    Snapshot(InMemoryPolicyMap map, @Nullable Stamp stamp, byte[] bytes) {
      this.map = map;
      this.stamp = stamp;
      this.bytes = bytes;
    }

    InMemoryPolicyMap map() {
      return map;
    }

    @Nullable Stamp stamp() {
      return stamp;
    }

    byte[] bytes() {
      return bytes;
    }
  }

  /**
   * Modification time, size and change time (0 where the file system has none): cheap to read, and
   * what a change is first seen by. The change time moves with every write and with a replacement
   * by rename, and cannot be set back, so an edit that keeps the size and the modification time (a
   * copy that preserves times, a second write within the file system's time resolution) is still
   * seen, unless it falls within the same tick of the kernel's coarse clock (a few milliseconds) as
   * the check before it.
   */
  private record Stamp(long modifiedMillis, long size, long changedMillis) {}

  private volatile Snapshot current;
  private volatile @Nullable PolicyMapException lastError;
  private volatile long nextCheckMillis;
  private final Object checking = new Object();

  /**
   * Loads {@code file} now.
   *
   * @throws PolicyMapException when it cannot be read or parsed: there is no last good map yet
   */
  public ReloadingPolicyMap(Path file, Duration checkEvery, Clock clock) throws PolicyMapException {
    this.file = Objects.requireNonNull(file, "file");
    if (checkEvery.isNegative()) {
      throw new IllegalArgumentException("checkEvery must not be negative: " + checkEvery);
    }
    this.checkEveryMillis = checkEvery.toMillis();
    this.clock = Objects.requireNonNull(clock, "clock");
    Stamp stamp = stamp();
    byte[] bytes = PolicyMapFile.bytes(file);
    this.current =
        new Snapshot(
            new InMemoryPolicyMap(PolicyMapFile.parse(PolicyMapFile.decode(bytes))), stamp, bytes);
    this.nextCheckMillis = clock.millis() + checkEveryMillis;
  }

  @Override
  public Optional<Entry> lookup(DomainName domain) {
    maybeCheck();
    return current.map().lookup(domain);
  }

  @Override
  public List<Entry> entries() {
    maybeCheck();
    return current.map().entries();
  }

  @Override
  public Optional<PolicyMapException> lastError() {
    return Optional.ofNullable(lastError);
  }

  private void maybeCheck() {
    if (clock.millis() - nextCheckMillis >= 0) {
      checkNow();
    }
  }

  @Override
  public boolean checkNow() {
    synchronized (checking) {
      nextCheckMillis = clock.millis() + checkEveryMillis;
      Snapshot s = current;
      Stamp stamp;
      byte[] bytes;
      long now = clock.millis();
      boolean settled;
      try {
        stamp = stamp();
        settled = Math.abs(now - stamp.modifiedMillis()) >= SETTLE_MILLIS;
        if (stamp.equals(s.stamp()) && lastError == null && settled) {
          return false; // unchanged, as far as a cheap look tells
        }
        bytes = PolicyMapFile.bytes(file);
      } catch (PolicyMapException e) {
        return failed(e);
      }
      if (Arrays.equals(bytes, s.bytes())) {
        current = new Snapshot(s.map(), stamp, s.bytes());
        lastError = null;
        return false;
      }
      if (!settled) {
        // Perhaps still being written: the last good map stays, and the file is looked at again
        // once it has settled (the stamp is not kept, so that the next check reads it).
        long settledAt = Math.max(now, stamp.modifiedMillis() + SETTLE_MILLIS);
        nextCheckMillis = Math.min(nextCheckMillis, settledAt);
        return false;
      }
      InMemoryPolicyMap map;
      try {
        map = new InMemoryPolicyMap(PolicyMapFile.parse(PolicyMapFile.decode(bytes)));
      } catch (PolicyMapException e) {
        // remember the stamp as seen: the same broken file is not parsed again at every check
        current = new Snapshot(s.map(), stamp, s.bytes());
        return failed(e);
      }
      current = new Snapshot(map, stamp, bytes);
      lastError = null;
      log.info("policy map {} reloaded: {} entries", file, map.entries().size());
      return true;
    }
  }

  private boolean failed(PolicyMapException e) {
    String what = String.valueOf(e.getMessage());
    String prefix = "line " + e.line() + ": ";
    if (e.line() > 0 && what.startsWith(prefix)) {
      what = what.substring(prefix.length());
    }
    PolicyMapException wrapped =
        new PolicyMapException(e.line(), what + " (" + file + "); keeping the last good map", e);
    if (lastError == null || !Objects.equals(lastError.getMessage(), wrapped.getMessage())) {
      log.warn("{}", wrapped.getMessage());
    }
    lastError = wrapped;
    return false;
  }

  private Stamp stamp() throws PolicyMapException {
    try {
      BasicFileAttributes a = Files.readAttributes(file, BasicFileAttributes.class);
      return new Stamp(a.lastModifiedTime().toMillis(), a.size(), changedMillis());
    } catch (IOException | RuntimeException e) {
      throw new PolicyMapException(0, "cannot read " + file + ": " + e, e);
    }
  }

  /** The file's change time (POSIX ctime), or 0 where the file system does not tell it. */
  private long changedMillis() {
    try {
      return Files.getAttribute(file, "unix:ctime") instanceof FileTime t ? t.toMillis() : 0;
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return 0;
    }
  }
}
