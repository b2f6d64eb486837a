package io.mailtls.testkit.internal.dns;

import static io.mailtls.testkit.DnsQuery.Transport.TCP;
import static io.mailtls.testkit.DnsQuery.Transport.UDP;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.mailtls.testkit.DnsQuery;
import io.mailtls.testkit.internal.dns.FaultTable.Fault;
import java.io.IOException;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.DNSSEC;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.RRSIGRecord;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;

/** The message-level rules of {@link Responder}, without sockets. */
class ResponderTest {
  private static final Instant NOW = Instant.parse("2031-01-01T00:00:00Z");
  private static final Name EXAMPLE = Name.fromConstantString("example.test.");

  private final KeyRing keys = new KeyRing(300);
  private final FaultTable faults = new FaultTable();
  private final QueryRecorder log = new QueryRecorder();
  private final ZoneSet zones =
      ZoneCompiler.compile(
          List.of(
              ZoneDefinition.empty(Name.root),
              ZoneDefinition.empty(Name.fromConstantString("test.")),
              new ZoneDefinition(EXAMPLE, records(), true, false, false, 1)),
          keys,
          NOW,
          ZoneCompiler.TTL);
  private final Responder responder =
      new Responder(() -> zones, faults, log, Clock.fixed(NOW, ZoneOffset.UTC));

  @Test
  void udpAnswerIsCutToTheRequestersPayloadSize() throws IOException {
    Message small = exchange(query("big.example.test.", Type.TXT, 600, true), UDP);
    Message tiny = exchange(query("big.example.test.", Type.TXT, 100, true), UDP);
    Message tcp = exchange(query("big.example.test.", Type.TXT, 600, true), TCP);

    assertThat(small.getHeader().getFlag(Flags.TC)).isTrue();
    assertThat(small.numBytes()).isLessThanOrEqualTo(600);
    assertThat(tiny.numBytes()).isLessThanOrEqualTo(512); // below 512 counts as 512
    assertThat(tcp.getHeader().getFlag(Flags.TC)).isFalse();
    assertThat(tcp.getSection(Section.ANSWER)).hasSize(41); // 40 TXT + RRSIG
  }

  @Test
  void corruptedSignatureNoLongerVerifies() throws IOException {
    faults.add(Fault.CORRUPT_SIGNATURES, Name.fromConstantString("big.example.test."), Type.TXT);

    Message response = exchange(query("big.example.test.", Type.TXT, 65535, true), UDP);

    RRset rrset = response.getSectionRRsets(Section.ANSWER).get(0);
    RRSIGRecord sig = rrset.sigs().get(0);
    assertThat(sig.getLabels()).isEqualTo(3);
    assertThatThrownBy(() -> DNSSEC.verify(rrset, sig, keys.key(EXAMPLE).dnskey(), NOW))
        .isInstanceOf(DNSSEC.DNSSECException.class);
  }

  @Test
  void cnameLoopIsReturnedOnce() throws IOException {
    Message response = exchange(query("loop1.example.test.", Type.A, 1232, false), UDP);

    assertThat(response.getRcode()).isEqualTo(Rcode.NOERROR);
    assertThat(response.getSection(Section.ANSWER))
        .extracting(Record::getName)
        .containsExactly(
            Name.fromConstantString("loop1.example.test."),
            Name.fromConstantString("loop2.example.test."));
  }

  @Test
  void responsesAndTinyGarbageAreIgnoredLongerGarbageGetsFormerr() throws IOException {
    Message query = query("example.test.", Type.SOA, 1232, false);
    query.getHeader().setFlag(Flags.QR);

    assertThat(responder.respond(query.toWire(), UDP)).isNull();
    assertThat(responder.respond(new byte[] {1, 2, 3}, UDP)).isNull();
    byte[] formerr = responder.respond(new byte[] {7, 8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 9}, UDP);
    assertThat(new Message(formerr).getRcode()).isEqualTo(Rcode.FORMERR);
    assertThat(new Message(formerr).getHeader().getID()).isEqualTo(0x0708);
    assertThat(log.snapshot()).isEmpty();
  }

  @Test
  void withoutEdnsThereIsNoOptAndNoDnssecData() throws IOException {
    Message query = Message.newQuery(Record.newRecord(EXAMPLE, Type.SOA, DClass.IN));

    Message response = exchange(query, UDP);

    assertThat(response.getOPT()).isNull();
    assertThat(response.getSection(Section.ANSWER))
        .extracting(Record::getType)
        .containsExactly(Type.SOA);
  }

  @Test
  void rrsigQueryReturnsSignaturesWithoutDo() throws IOException {
    Message response = exchange(query("example.test.", Type.RRSIG, 4096, false), TCP);

    assertThat(response.getSection(Section.ANSWER))
        .isNotEmpty()
        .allMatch(r -> r.getType() == Type.RRSIG);
  }

  private Message exchange(Message query, DnsQuery.Transport transport) throws IOException {
    byte[] response = responder.respond(query.toWire(), transport);
    assertThat(response).isNotNull();
    Message parsed = new Message(response);
    assertThat(parsed.getHeader().getID()).isEqualTo(query.getHeader().getID());
    return parsed;
  }

  private static Message query(String name, int type, int payload, boolean dnssecOk) {
    Message query =
        Message.newQuery(Record.newRecord(Name.fromConstantString(name), type, DClass.IN));
    query.addRecord(
        new OPTRecord(payload, 0, 0, dnssecOk ? ExtendedFlags.DO : 0), Section.ADDITIONAL);
    return query;
  }

  private static List<Record> records() {
    List<Record> records = new ArrayList<>();
    for (int i = 0; i < 40; i++) {
      records.add(
          new TXTRecord(
              Name.fromConstantString("big.example.test."),
              DClass.IN,
              300,
              "string " + i + "-".repeat(24)));
    }
    records.add(
        new CNAMERecord(
            Name.fromConstantString("loop1.example.test."),
            DClass.IN,
            300,
            Name.fromConstantString("loop2.example.test.")));
    records.add(
        new CNAMERecord(
            Name.fromConstantString("loop2.example.test."),
            DClass.IN,
            300,
            Name.fromConstantString("loop1.example.test.")));
    return records;
  }
}
