package io.mailtls.core;

import io.mailtls.core.internal.transport.FileDowngradeStore;
import io.mailtls.core.internal.transport.InMemoryDowngradeStore;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Objects;
import java.util.Optional;

/**
 * Remembers, per recipient domain (the next hop of a delivery), when a delivery last achieved each
 * level of {@link TransportSecurity}: the store behind {@link DowngradeProtection} (docs/design.md
 * §1, "Downgrade memory"). Off unless a transport is given one.
 *
 * <p>The one write is {@link #raise}, an atomic, monotone merge: "the last time {@code achieved}
 * (and every weaker level) was seen is at least {@code at}". It never lowers anything, so a weaker
 * delivery never erases a stronger recent one, concurrent raises commute, and a shared store (a
 * later Redis implementation, say) needs only an atomic per-field maximum.
 *
 * <p>Implementations must be thread-safe. {@link #seen} is called before every delivery to a domain
 * while protection is on and should be fast; when it throws, the transport defers the domain rather
 * than deliver without the check (fail closed). {@link #raise} is called after a delivery, off the
 * report's path: when it throws, the report is unchanged and the failure logged.
 *
 * <p>Two implementations ship: {@link #inMemory(int)} (bounded; forgets on restart) and {@link
 * #file(Path)} (survives restarts; crash-safe).
 */
public interface DowngradeMemory extends AutoCloseable {

  /** What is remembered for {@code domain}; {@link Seen#NOTHING} when nothing is. */
  Seen seen(DomainName domain);

  /**
   * Records that a delivery to {@code domain} achieved {@code achieved} at {@code at}: the
   * last-seen time of {@code achieved} and of each weaker level becomes at least {@code at},
   * atomically. {@link TransportSecurity#PLAINTEXT} changes nothing (plaintext is the floor).
   */
  void raise(DomainName domain, TransportSecurity achieved, Instant at);

  /** Releases what the store holds (a file store's file and lock); by default nothing. */
  @Override
  default void close() throws IOException {}

  /**
   * A store in this JVM's memory for at most {@code maxDomains} domains (least recently and least
   * frequently used ones forgotten first). A forgotten domain is a domain without protection until
   * it is seen again; size it above the number of domains mail goes to within the period.
   */
  static DowngradeMemory inMemory(int maxDomains) {
    return new InMemoryDowngradeStore(maxDomains);
  }

  /**
   * A store in {@code file}, created when missing, read whole into memory. Crash-safe: an
   * append-only log of raises, compacted on open through a temporary file and an atomic rename
   * (format: docs/design.md §1, "Downgrade memory"). A lock file next to it keeps a second process
   * or store out. Close it when done (or hand it to {@link SecureSmtpTransport.Builder#alsoClose}).
   *
   * @throws CorruptFileException if the file is not a version-1 store or a line other than a torn
   *     last one does not parse: it is never read as "nothing seen"; move it aside to start over
   * @throws IOException if the file cannot be read or written, or is locked by another store
   */
  static DowngradeMemory file(Path file) throws IOException {
    return FileDowngradeStore.open(file);
  }

  /**
   * When each level was last seen for a domain. Immutable. An authenticated session is also a TLS
   * session, so {@code tls} is never earlier than {@code authenticatedTls}.
   *
   * @param tls when TLS (authenticated or not) was last achieved
   * @param authenticatedTls when authenticated TLS was last achieved
   */
  record Seen(Optional<Instant> tls, Optional<Instant> authenticatedTls) {

    /** Nothing remembered. */
    public static final Seen NOTHING = new Seen(Optional.empty(), Optional.empty());

    public Seen {
      Objects.requireNonNull(tls, "tls");
      Objects.requireNonNull(authenticatedTls, "authenticatedTls");
      tls = later(tls, authenticatedTls);
    }

    /** This with {@code achieved} (and every weaker level) seen at {@code at} or later. */
    public Seen raise(TransportSecurity achieved, Instant at) {
      Objects.requireNonNull(at, "at");
      return switch (achieved) {
        case PLAINTEXT -> this;
        case TLS -> new Seen(later(tls, Optional.of(at)), authenticatedTls);
        case AUTHENTICATED_TLS ->
            new Seen(later(tls, Optional.of(at)), later(authenticatedTls, Optional.of(at)));
      };
    }

    /** The merge of two records: each level's later time. */
    public Seen merge(Seen other) {
      return new Seen(later(tls, other.tls), later(authenticatedTls, other.authenticatedTls));
    }

    /** When {@code level} was last seen; always empty for {@link TransportSecurity#PLAINTEXT}. */
    public Optional<Instant> lastSeen(TransportSecurity level) {
      return switch (level) {
        case PLAINTEXT -> Optional.empty();
        case TLS -> tls;
        case AUTHENTICATED_TLS -> authenticatedTls;
      };
    }

    /** The strongest level seen at or after {@code cutoff}; {@code PLAINTEXT} when none was. */
    public TransportSecurity strongestSince(Instant cutoff) {
      if (authenticatedTls.filter(t -> !t.isBefore(cutoff)).isPresent()) {
        return TransportSecurity.AUTHENTICATED_TLS;
      }
      if (tls.filter(t -> !t.isBefore(cutoff)).isPresent()) {
        return TransportSecurity.TLS;
      }
      return TransportSecurity.PLAINTEXT;
    }

    private static Optional<Instant> later(Optional<Instant> a, Optional<Instant> b) {
      if (a.isEmpty()) {
        return b;
      }
      if (b.isEmpty()) {
        return a;
      }
      return a.get().isBefore(b.get()) ? b : a;
    }
  }

  /**
   * A store file that is not what {@link #file(Path)} wrote: a wrong header or version, or a
   * malformed line that is not a torn last write. Never read as "nothing seen", which would switch
   * the protection off for every domain; the operator decides (move the file aside to start over).
   */
  final class CorruptFileException extends IOException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final long line;

    /** {@code file} is corrupt at {@code line} (1-based; 0 for the file as a whole). */
    public CorruptFileException(Path file, long line, String why) {
      super("corrupt downgrade memory " + file + (line > 0 ? " line " + line : "") + ": " + why);
      this.file = file;
      this.line = line;
    }

    /** The file. */
    public Path file() {
      return file;
    }

    /** The 1-based line that did not parse; 0 when the file as a whole is wrong. */
    public long line() {
      return line;
    }
  }
}
