package io.mailtls.core.internal.dns;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsFailure;
import io.mailtls.core.DnsOutcome;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DomainName;
import java.time.Clock;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.xbill.DNS.DClass;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/** Defects the DNS fuzz target found in {@link ResponseReader}, each kept as a test. */
class ResponseReaderRegressionTest {

  /**
   * A CNAME with empty RDATA (RDLENGTH 0) parses in dnsjava as an {@code EmptyRecord}; the reader
   * cast it to {@code CNAMERecord} and threw {@link ClassCastException}. Now a MALFORMED failure.
   */
  @Test
  void cnameWithEmptyRdataIsMalformedNotThrown() throws Exception {
    Name qname = Name.fromString("_25._tcp.mx.example.com.");
    Message response = new Message();
    response.getHeader().setFlag(Flags.QR);
    // dnsjava reads RDLENGTH 0 as an EmptyRecord in messages of opcode UPDATE (RFC 2136 §2.5.2),
    // whatever the type; the fuzzer's input had that opcode, and the reader does not check it.
    response.getHeader().setOpcode(Opcode.UPDATE);
    response.addRecord(Record.newRecord(qname, Type.TLSA, DClass.IN), Section.QUESTION);
    Message wire = new Message(withEmptyCname(response));
    assertThat(wire.getSection(Section.ANSWER).get(0).getType()).isEqualTo(Type.CNAME);

    DomainName name = DomainName.of("_25._tcp.mx.example.com");
    DnsFuzzAccess.Step step =
        DnsFuzzAccess.read(
            wire, name, qname, DnsRecordType.TLSA, List.of(), 256, 8, Clock.systemUTC());

    DnsAnswer answer = step.answer();
    assertThat(answer).isNotNull();
    assertThat(answer.outcome()).isEqualTo(DnsOutcome.FAILURE);
    assertThat(answer.failure()).contains(DnsFailure.MALFORMED);
    assertThat(answer.reason()).hasValueSatisfying(r -> assertThat(r).contains("no target"));
  }

  /**
   * A response whose authority section holds WKS records with empty bitmaps: dnsjava parses them,
   * but {@link Message#getSectionRRsets} compares them in canonical wire form and WKS's writer
   * throws {@link ArrayIndexOutOfBoundsException} on an empty bitmap. The reader let it escape. Now
   * a MALFORMED failure. The fuzzer's input, as saved in the regression corpus (its first octet
   * picks the target's record type; the rest is the message).
   */
  @Test
  void wksWithEmptyBitmapInAuthorityIsMalformedNotThrown() throws Exception {
    byte[] input;
    try (var in =
        ResponseReaderRegressionTest.class.getResourceAsStream(
            "/fuzz/DnsMessage/findings/wks-with-empty-bitmap-in-authority")) {
      input = in.readAllBytes();
    }
    Message wire = new Message(java.util.Arrays.copyOfRange(input, 1, input.length));
    Name qname = wire.getQuestion().getName();
    DomainName name = DomainName.of(qname.toString());

    DnsFuzzAccess.Step step =
        DnsFuzzAccess.read(
            wire, name, qname, DnsRecordType.MX, List.of(), 256, 8, Clock.systemUTC());

    DnsAnswer answer = step.answer();
    assertThat(answer).isNotNull();
    assertThat(answer.outcome()).isEqualTo(DnsOutcome.FAILURE);
    assertThat(answer.failure()).contains(DnsFailure.MALFORMED);
    assertThat(answer.reason()).hasValueSatisfying(r -> assertThat(r).contains("cannot handle"));
  }

  /** The response's wire form with one answer: a CNAME at the question's name, RDLENGTH 0. */
  private static byte[] withEmptyCname(Message response) {
    byte[] head = response.toWire();
    head[7] = 1; // ANCOUNT = 1
    byte[] rr = {
      (byte) 0xc0,
      0x0c, // the question's name
      0x00,
      0x05, // CNAME
      0x00,
      0x01, // IN
      0x00,
      0x00,
      0x01,
      0x2c, // TTL 300
      0x00,
      0x00 // RDLENGTH 0
    };
    byte[] wire = new byte[head.length + rr.length];
    System.arraycopy(head, 0, wire, 0, head.length);
    System.arraycopy(rr, 0, wire, head.length, rr.length);
    return wire;
  }
}
