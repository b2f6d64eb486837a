package io.mailtls.dane;

import static io.mailtls.dane.DaneTrustManagerTest.LEAF;
import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsFailure;
import io.mailtls.core.DnsOutcome;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnsResolver;
import io.mailtls.core.DnssecState;
import io.mailtls.core.DomainName;
import io.mailtls.core.MxHost;
import io.mailtls.core.MxResolution;
import io.mailtls.core.NextHop;
import io.mailtls.core.TlsaLookup;
import io.mailtls.core.internal.Values;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The full table of DNSSEC states and outcomes for the MX, address and TLSA answers (RFC 7672
 * §2.1-§2.2), with answers made by hand, including combinations a real zone cannot easily produce
 * (one address family secure and the other not). {@link DaneResolverTest} covers the same rules
 * against real DNS.
 */
class DaneResolverStatesTest {

  private static final DomainName HOST = DomainName.of("mx.example.test");
  private static final DomainName DOMAIN = DomainName.of("example.test");
  private static final DomainName OWNER = DomainName.of("_25._tcp.mx.example.test");
  private static final DnsRecord.Tlsa EE = new DnsRecord.Tlsa(3, 1, 1, LEAF.spkiSha256());
  private static final DnsRecord.Tlsa PKIX_EE = new DnsRecord.Tlsa(1, 1, 1, LEAF.spkiSha256());

  /** A resolver answering from a table (else secure NXDOMAIN), logging every question. */
  private static final class TableDns implements DnsResolver {
    final Map<String, DnsAnswer> answers = new HashMap<>();
    final List<String> asked = new ArrayList<>();

    TableDns put(DnsAnswer a) {
      answers.put(a.type() + " " + a.name(), a);
      return this;
    }

    @Override
    public synchronized CompletableFuture<DnsAnswer> resolveAsync(
        DomainName name, DnsRecordType type) {
      asked.add(type + " " + name);
      DnsAnswer a = answers.get(type + " " + name);
      return CompletableFuture.completedFuture(
          a != null ? a : answer(name, type, DnsOutcome.NXDOMAIN, DnssecState.SECURE, List.of()));
    }
  }

  private static DnsAnswer answer(
      DomainName name,
      DnsRecordType type,
      DnsOutcome outcome,
      DnssecState state,
      List<DnsRecord> records) {
    if (outcome == DnsOutcome.FAILURE) {
      return DnsAnswer.failed(
          name,
          type,
          state,
          state == DnssecState.BOGUS ? DnsFailure.VALIDATION_FAILED : DnsFailure.SERVFAIL,
          2,
          "test");
    }
    return DnsAnswer.builder(name, type, outcome, state).records(records).build();
  }

  private static DnsAnswer address(DnsRecordType type, DnsOutcome outcome, DnssecState state) {
    List<DnsRecord> records = new ArrayList<>();
    if (outcome == DnsOutcome.DATA) {
      try {
        records.add(
            new DnsRecord.Address(
                InetAddress.getByName(type == DnsRecordType.A ? "127.0.0.2" : "::1")));
      } catch (java.net.UnknownHostException e) {
        throw new AssertionError(e);
      }
    }
    return answer(HOST, type, outcome, state, records);
  }

  private static MxHost host(DnsAnswer v4, DnsAnswer v6) {
    List<InetAddress> addresses = new ArrayList<>();
    for (DnsAnswer a : List.of(v4, v6)) {
      a.records(DnsRecord.Address.class).forEach(r -> addresses.add(r.address()));
    }
    return Values.mxHost(HOST, 10, false, addresses, v4, v6);
  }

  private static MxResolution mx(DnssecState state, MxHost host) {
    DnsAnswer mx =
        answer(
            DOMAIN, DnsRecordType.MX, DnsOutcome.DATA, state, List.of(new DnsRecord.Mx(10, HOST)));
    return Values.mxResolution(
        new NextHop.Domain(DOMAIN),
        MxResolution.Kind.MX,
        List.of(host),
        Optional.of(mx),
        List.of());
  }

  private static TlsaLookup run(TableDns dns, MxHost host, MxResolution mx) {
    return DaneResolver.builder().dns(dns).build().lookupAsync(host, mx).join();
  }

  private static MxHost secureHost() {
    return host(
        address(DnsRecordType.A, DnsOutcome.DATA, DnssecState.SECURE),
        address(DnsRecordType.AAAA, DnsOutcome.NODATA, DnssecState.SECURE));
  }

  @ParameterizedTest(name = "TLSA {0} {1} {2} -> {3}")
  @CsvSource({
    "DATA,     SECURE,        usable,   Usable",
    "DATA,     SECURE,        unusable, Unusable",
    "DATA,     INSECURE,      usable,   None",
    "NODATA,   SECURE,        -,        None",
    "NODATA,   INSECURE,      -,        None",
    "NXDOMAIN, SECURE,        -,        None",
    "NXDOMAIN, INSECURE,      -,        None",
    "FAILURE,  BOGUS,         -,        Failed",
    "FAILURE,  INDETERMINATE, -,        Failed",
  })
  void rfc7672Section2_2TlsaAnswer(
      DnsOutcome outcome, DnssecState state, String records, String expected) {
    List<DnsRecord> rrs =
        records.equals("usable")
            ? List.of(EE, PKIX_EE)
            : records.equals("unusable") ? List.of(PKIX_EE) : List.of();
    TableDns dns = new TableDns().put(answer(OWNER, DnsRecordType.TLSA, outcome, state, rrs));
    MxHost host = secureHost();
    TlsaLookup t = run(dns, host, mx(DnssecState.SECURE, host));
    assertThat(t.getClass().getSimpleName()).as("%s", t).isEqualTo(expected);
  }

  @ParameterizedTest(name = "A {0} {1}, AAAA {2} {3} -> {4}, TLSA asked: {5}")
  @CsvSource({
    "DATA,    SECURE,        NODATA,  SECURE,        Usable, true",
    "DATA,    SECURE,        DATA,    SECURE,        Usable, true",
    "NODATA,  SECURE,        DATA,    SECURE,        Usable, true",
    "DATA,    INSECURE,      NODATA,  INSECURE,      None,   false",
    "DATA,    INSECURE,      DATA,    INSECURE,      None,   false",
    // Only insecure answers carry addresses: no DANE, as Postfix decides per address.
    "DATA,    INSECURE,      NODATA,  SECURE,        None,   false",
    // Mixed, both with addresses: Postfix would use DANE for the secure ones; one lookup
    // speaks for all addresses, so DANE applies to all (the stricter choice).
    "DATA,    SECURE,        DATA,    INSECURE,      Usable, true",
    "DATA,    INSECURE,      DATA,    SECURE,        Usable, true",
    // RFC 7672 §2.1.1: failed address data is never used. One failed family is dropped and
    // the other decides, as Postfix does (issue 11 item 11: a failed AAAA lookup must not make
    // a host with a secure A answer unusable); no family left with addresses fails the host.
    "FAILURE, BOGUS,         DATA,    SECURE,        Usable, true",
    "DATA,    SECURE,        FAILURE, INDETERMINATE, Usable, true",
    "DATA,    INSECURE,      FAILURE, INDETERMINATE, None,   false",
    "FAILURE, BOGUS,         NODATA,  SECURE,        Failed, false",
    "FAILURE, INDETERMINATE, FAILURE, BOGUS,         Failed, false",
  })
  void rfc7672Section2_2AddressAnswers(
      DnsOutcome v4,
      DnssecState s4,
      DnsOutcome v6,
      DnssecState s6,
      String expected,
      boolean tlsaAsked) {
    TableDns dns =
        new TableDns()
            .put(
                answer(
                    OWNER, DnsRecordType.TLSA, DnsOutcome.DATA, DnssecState.SECURE, List.of(EE)));
    MxHost host = host(address(DnsRecordType.A, v4, s4), address(DnsRecordType.AAAA, v6, s6));
    TlsaLookup t = run(dns, host, mx(DnssecState.SECURE, host));
    assertThat(t.getClass().getSimpleName()).as("%s", t).isEqualTo(expected);
    assertThat(dns.asked.contains("TLSA " + OWNER)).isEqualTo(tlsaAsked);
    if (s4 != s6 && expected.equals("Usable") && v4 == DnsOutcome.DATA && v6 == DnsOutcome.DATA) {
      assertThat(((TlsaLookup.Usable) t).note()).contains("every address");
    }
    if (v4 == DnsOutcome.FAILURE ^ v6 == DnsOutcome.FAILURE) {
      String failed = v4 == DnsOutcome.FAILURE ? "A" : "AAAA";
      String note =
          t instanceof TlsaLookup.Usable u
              ? u.note()
              : t instanceof TlsaLookup.None n ? n.reason() : ((TlsaLookup.Failed) t).reason();
      assertThat(note).as("the failed family is reported").contains(failed + " lookup failed");
    }
  }

  @ParameterizedTest(name = "MX {0} -> mxSecure {1}")
  @CsvSource({"SECURE, true", "INSECURE, false"})
  void rfc7672Section2_2_1MxState(DnssecState state, boolean secure) {
    TableDns dns =
        new TableDns()
            .put(
                answer(
                    OWNER, DnsRecordType.TLSA, DnsOutcome.DATA, DnssecState.SECURE, List.of(EE)));
    MxHost host = secureHost();
    TlsaLookup t = run(dns, host, mx(state, host));
    assertThat(t).isInstanceOf(TlsaLookup.Usable.class);
    TlsaLookup.Usable u = (TlsaLookup.Usable) t;
    assertThat(u.requirement().mxSecure()).isEqualTo(secure);
    assertThat(u.requirement().referenceNames())
        .isEqualTo(secure ? List.of(HOST, DOMAIN) : List.of(HOST));
  }

  @Test
  void aFailedMxAnswerFails() {
    MxHost host = secureHost();
    DnsAnswer failed =
        DnsAnswer.failed(
            DOMAIN, DnsRecordType.MX, DnssecState.BOGUS, DnsFailure.VALIDATION_FAILED, 2, "test");
    MxResolution mx =
        Values.mxResolution(
            new NextHop.Domain(DOMAIN),
            MxResolution.Kind.MX,
            List.of(host),
            Optional.of(failed),
            List.of());
    assertThat(run(new TableDns(), host, mx)).isInstanceOf(TlsaLookup.Failed.class);
  }

  @Test
  void anUnexpectedResolverErrorFailsClosed() {
    DnsResolver broken =
        (name, type) -> CompletableFuture.failedFuture(new IllegalStateException("resolver bug"));
    MxHost host = secureHost();
    TlsaLookup t =
        DaneResolver.builder()
            .dns(broken)
            .build()
            .lookupAsync(host, mx(DnssecState.SECURE, host))
            .join();
    assertThat(t).isInstanceOf(TlsaLookup.Failed.class);
    assertThat(((TlsaLookup.Failed) t).reason()).contains("resolver bug");
  }

  @Test
  void aFailureAtTheExpandedNameIsNotRetriedAtTheOriginal() {
    DomainName target = DomainName.of("real.example.net");
    DnsAnswer v4 =
        DnsAnswer.builder(HOST, DnsRecordType.A, DnsOutcome.DATA, DnssecState.SECURE)
            .records(address(DnsRecordType.A, DnsOutcome.DATA, DnssecState.SECURE).records())
            .cnameChain(List.of(target))
            .build();
    MxHost host = host(v4, address(DnsRecordType.AAAA, DnsOutcome.NODATA, DnssecState.SECURE));
    TableDns dns =
        new TableDns()
            .put(
                answer(
                    DomainName.of("_25._tcp.real.example.net"),
                    DnsRecordType.TLSA,
                    DnsOutcome.FAILURE,
                    DnssecState.INDETERMINATE,
                    List.of()))
            .put(
                answer(
                    OWNER, DnsRecordType.TLSA, DnsOutcome.DATA, DnssecState.SECURE, List.of(EE)));
    TlsaLookup t = run(dns, host, mx(DnssecState.SECURE, host));
    assertThat(t).isInstanceOf(TlsaLookup.Failed.class);
    assertThat(dns.asked).doesNotContain("TLSA " + OWNER);
  }
}
