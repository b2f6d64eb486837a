package io.mailtls.cli;

import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DomainName;
import io.mailtls.tlsrpt.TlsRptDiscovery;
import io.mailtls.tlsrpt.TlsRptLookup;
import java.net.URI;
import java.util.List;

/**
 * The {@code tlsRpt} part of {@code mailtls check}: the {@code _smtp._tls} record of a policy
 * domain (RFC 8460 §3) as {@link TlsRptDiscovery} reads it on the check's resolver, with the TXT
 * records found, so that the output shows why no record applies. Stateless.
 */
final class TlsRptCheck {

  private static final String VERSION = "v=TLSRPTv1";

  private TlsRptCheck() {}

  /** {@code domain}'s TLS-RPT record through {@code discovery}, which uses {@code dns}. */
  static CheckReport.TlsRpt of(DnsResolver dns, TlsRptDiscovery discovery, DomainName domain) {
    TlsRptLookup lookup = discovery.lookup(domain);
    DomainName name = TlsRptDiscovery.recordName(domain);
    // The same question again (the resolver's cache answers it): the texts, for the output.
    DnsAnswer txt = dns.resolve(name, DnsRecordType.TXT);
    List<String> texts =
        txt.records(DnsRecord.Txt.class).stream().map(DnsRecord.Txt::text).toList();
    List<String> candidates = texts.stream().filter(TlsRptCheck::beginsWithVersion).toList();
    String dnssec = txt.state().name();
    if (lookup instanceof TlsRptLookup.Found f) {
      return new CheckReport.TlsRpt(
          "valid",
          candidates.size() == 1 ? candidates.get(0) : null,
          texts,
          dnssec,
          f.record().rua().stream().map(URI::toString).toList(),
          f.record().ignored().stream().map(URI::toString).toList(),
          null);
    }
    if (lookup instanceof TlsRptLookup.Failed failed) {
      return new CheckReport.TlsRpt(
          "failed", null, texts, dnssec, List.of(), List.of(), Mailtls.oneLine(failed.reason()));
    }
    String reason = ((TlsRptLookup.NotPublished) lookup).reason();
    String status = candidates.isEmpty() ? "absent" : candidates.size() > 1 ? "several" : "invalid";
    return new CheckReport.TlsRpt(
        status, null, texts, dnssec, List.of(), List.of(), Mailtls.oneLine(reason));
  }

  /** RFC 8460 §3: {@code v=TLSRPTv1}, optional white space, then {@code ;}. */
  private static boolean beginsWithVersion(String txt) {
    if (!txt.startsWith(VERSION)) {
      return false;
    }
    int i = VERSION.length();
    while (i < txt.length() && (txt.charAt(i) == ' ' || txt.charAt(i) == '\t')) {
      i++;
    }
    return i < txt.length() && txt.charAt(i) == ';';
  }
}
