package io.mailtls.cli;

import io.mailtls.core.MxHost;
import io.mailtls.core.MxResolution;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What {@code mailtls mx --json} prints (schema {@code mailtls.mx/1}, docs/cli-json.md). Immutable.
 *
 * @param schema {@value #SCHEMA}
 * @param nextHop the domain or address literal asked about
 * @param outcome the resolution's kind ({@code MX}, {@code NULL_MX}, {@code TEMPORARY_FAILURE}...)
 * @param dnssec the DNSSEC state of the MX answer
 * @param exitCode the command's exit code
 * @param mx the MX answer; null for an address literal
 * @param hosts the MX hosts, by preference
 * @param notes why hosts were left out, or why the resolution failed
 */
record MxReport(
    String schema,
    String nextHop,
    String outcome,
    String dnssec,
    int exitCode,
    CheckReport.@Nullable Answer mx,
    List<Host> hosts,
    List<String> notes) {

  /** The schema name and version. */
  static final String SCHEMA = "mailtls.mx/1";

  /**
   * One MX host.
   *
   * @param name the host name
   * @param preference the MX preference
   * @param implicit whether it is the domain itself (no MX records, RFC 5321 §5.1)
   * @param addresses its addresses
   * @param a the A answer
   * @param aaaa the AAAA answer
   */
  record Host(
      String name,
      int preference,
      boolean implicit,
      List<String> addresses,
      CheckReport.Answer a,
      CheckReport.Answer aaaa) {}

  static MxReport of(MxResolution r, int exitCode) {
    List<Host> hosts = new ArrayList<>();
    for (MxHost h : r.hosts()) {
      List<String> addresses = new ArrayList<>();
      for (InetAddress a : h.addresses()) {
        addresses.add(a.getHostAddress());
      }
      hosts.add(
          new Host(
              h.name().toString(),
              h.preference(),
              h.implicit(),
              addresses,
              CheckReport.Answer.of(h.ipv4()),
              CheckReport.Answer.of(h.ipv6())));
    }
    return new MxReport(
        SCHEMA,
        r.nextHop().toString(),
        r.kind().name(),
        r.mxState().name(),
        exitCode,
        r.mxAnswer().map(CheckReport.Answer::of).orElse(null),
        hosts,
        r.notes());
  }
}
