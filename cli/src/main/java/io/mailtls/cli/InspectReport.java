package io.mailtls.cli;

import io.mailtls.core.ReceivedChain;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What {@code mailtls inspect --json} prints (schema {@value #SCHEMA}, docs/cli-json.md).
 * Immutable.
 *
 * @param schema {@value #SCHEMA}
 * @param file the file read, or {@code -}
 * @param verdict {@code ALL_ENCRYPTED}, {@code NOT_ALL_ENCRYPTED}, {@code UNKNOWN} or {@code
 *     NO_HOPS}
 * @param summary the verdict in words
 * @param truncated whether a bound cut the header
 * @param problem why the header could not be read to its end, else null
 * @param hops every Received field, oldest first
 */
record InspectReport(
    String schema,
    String file,
    String verdict,
    String summary,
    boolean truncated,
    @Nullable String problem,
    List<Hop> hops) {

  /** The schema name and version. */
  static final String SCHEMA = "mailtls.inspect/1";

  /**
   * One hop.
   *
   * @param index its position, 0 for the oldest
   * @param role {@code submission}, {@code relay} (counted for the verdict), {@code internal}
   *     (within one host) or {@code before} (before submission)
   * @param encryption {@code ENCRYPTED}, {@code PLAINTEXT} or {@code UNKNOWN}
   * @param protocol the {@code with} protocol as written, or null
   * @param type the registered mail transmission type, or null
   * @param tlsVersion the TLS version, or null
   * @param cipher the cipher suite, or null
   * @param from the {@code from} domain, or null
   * @param by the {@code by} domain, or null
   * @param text the field, unfolded
   */
  record Hop(
      int index,
      String role,
      String encryption,
      @Nullable String protocol,
      @Nullable String type,
      @Nullable String tlsVersion,
      @Nullable String cipher,
      @Nullable String from,
      @Nullable String by,
      String text) {}

  static InspectReport of(String file, ReceivedChain chain) {
    List<ReceivedChain.Hop> counted = chain.afterSubmission();
    List<Hop> hops = new ArrayList<>();
    for (ReceivedChain.Hop h : chain.hops()) {
      String role =
          h.submission()
              ? "submission"
              : counted.contains(h) ? "relay" : h.internal() ? "internal" : "before";
      hops.add(
          new Hop(
              h.index(),
              role,
              h.encryption().name(),
              h.protocol().orElse(null),
              h.type().orElse(null),
              h.tlsVersion().orElse(null),
              h.cipher().orElse(null),
              h.from().orElse(null),
              h.by().orElse(null),
              h.text()));
    }
    return new InspectReport(
        SCHEMA,
        file,
        chain.verdict().name(),
        summary(chain, counted),
        chain.truncated(),
        chain.problem().orElse(null),
        hops);
  }

  private static String summary(ReceivedChain chain, List<ReceivedChain.Hop> counted) {
    String after =
        chain
            .submission()
            .map(s -> "after submission (hop " + s.index() + ")")
            .orElse("(no submission hop: every hop counts)");
    return switch (chain.verdict()) {
      case ALL_ENCRYPTED -> "every one of " + counted.size() + " hops " + after + " was encrypted";
      case NOT_ALL_ENCRYPTED -> {
        List<Integer> plain = new ArrayList<>();
        counted.stream()
            .filter(h -> h.encryption() == ReceivedChain.Encryption.PLAINTEXT)
            .forEach(h -> plain.add(h.index()));
        yield "hops " + plain + " " + after + " were in plaintext";
      }
      case UNKNOWN -> "no hop " + after + " was in plaintext, but some do not say";
      case NO_HOPS -> "no hop to judge " + after;
    };
  }
}
