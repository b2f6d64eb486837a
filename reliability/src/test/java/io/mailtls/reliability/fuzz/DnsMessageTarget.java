package io.mailtls.reliability.fuzz;

import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsOutcome;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnssecState;
import io.mailtls.core.DomainName;
import io.mailtls.core.internal.dns.DnsFuzzAccess;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.Record;

/**
 * DNS answers as the DNS layer reads them: raw wire messages (RFC 1035 §4) parsed by dnsjava's
 * {@link Message}, then turned into a {@link DnsAnswer} by the resolver's response reader, CNAME
 * hops included (each requery is answered by the same message, so chains and loops are reached). A
 * message dnsjava cannot parse becomes the answer the resolver gives for a failed exchange.
 *
 * <p>The first octet picks the question type when the message has no question of a type mailtls
 * asks for. Checked: a typed answer or a requery, never both or neither; a DATA answer holds only
 * records of the asked type; a negative answer holds none; a failure names its cause and is not
 * SECURE; TTLs are within range; the CNAME chain is bounded.
 */
public final class DnsMessageTarget extends FuzzTarget {

  private static final DnsRecordType[] TYPES = DnsRecordType.values();
  private static final Clock CLOCK =
      Clock.fixed(Instant.parse("2026-06-01T00:00:00Z"), ZoneOffset.UTC);
  private static final int MAX_CNAME_CHAIN = 8;

  @Override
  protected List<String> instrumented() {
    return List.of("org.xbill.DNS.**"); // the wire parser is dnsjava's
  }

  @Override
  protected void exercise(byte[] input) throws Exception {
    if (input.length == 0) {
      return;
    }
    DnsRecordType type = TYPES[(input[0] & 0xff) % TYPES.length];
    byte[] wire = Arrays.copyOfRange(input, 1, input.length);
    DomainName name = DomainName.of("example.com");
    Message response;
    try {
      response = new Message(wire);
    } catch (Exception unparsable) { // dnsjava's resolver hands any of these to the reader
      check(DnsFuzzAccess.fromException(name, type, unparsable), type, null);
      return;
    }
    Name qname = Name.fromString("example.com.");
    Record question = response.getQuestion();
    if (question != null) {
      DomainName asked = DnsFuzzAccess.toDomainName(question.getName());
      for (DnsRecordType t : TYPES) {
        if (t.code() == question.getType() && asked != null) {
          type = t;
          name = asked;
          qname = question.getName();
        }
      }
    }
    List<DomainName> chain = List.of();
    for (int hop = 0; hop <= MAX_CNAME_CHAIN + 1; hop++) {
      DnsFuzzAccess.Step step =
          DnsFuzzAccess.read(response, name, qname, type, chain, 256, MAX_CNAME_CHAIN, CLOCK);
      if ((step.answer() == null) == (step.requery() == null)) {
        throw new AssertionError("neither or both an answer and a requery: " + step);
      }
      if (step.answer() != null) {
        check(step.answer(), type, name);
        return;
      }
      check(step.chain().size() <= MAX_CNAME_CHAIN, "CNAME chain past the bound: " + step.chain());
      qname = step.requery();
      chain = step.chain();
    }
    throw new AssertionError("more requeries than the CNAME bound allows");
  }

  private static void check(DnsAnswer answer, DnsRecordType type, DomainName name) {
    check(answer.type() == type, "answer for another type: " + answer);
    if (name != null) {
      check(answer.name().equals(name), "answer for another name: " + answer);
    }
    check(
        !answer.ttl().isNegative() && answer.ttl().compareTo(DnsAnswer.MAX_TTL) <= 0,
        "TTL out of range: " + answer);
    check(answer.cnameChain().size() <= MAX_CNAME_CHAIN, "CNAME chain past the bound: " + answer);
    DnsOutcome outcome = answer.outcome();
    switch (outcome) {
      case DATA -> {
        check(!answer.records().isEmpty(), "DATA without records: " + answer);
        for (DnsRecord r : answer.records()) {
          check(r.type() == type, "a " + r.type() + " record in a " + type + " answer");
        }
      }
      case NODATA, NXDOMAIN -> check(answer.records().isEmpty(), "negative with records");
      case FAILURE -> {
        check(answer.failure().isPresent(), "failure without a cause: " + answer);
        check(answer.state() != DnssecState.SECURE, "a SECURE failure: " + answer);
        check(answer.records().isEmpty(), "failure with records: " + answer);
      }
    }
    check(!answer.toString().isEmpty(), "empty description");
  }

  private static void check(boolean condition, String what) {
    if (!condition) {
      throw new AssertionError(what);
    }
  }
}
