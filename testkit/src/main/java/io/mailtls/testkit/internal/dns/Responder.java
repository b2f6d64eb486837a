package io.mailtls.testkit.internal.dns;

import io.mailtls.testkit.DnsQuery;
import io.mailtls.testkit.internal.dns.FaultTable.Fault;
import java.io.IOException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.xbill.DNS.DClass;
import org.xbill.DNS.ExtendedFlags;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Header;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Opcode;
import org.xbill.DNS.RRSIGRecord;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.Type;

/**
 * Turns one query datagram (or TCP message) into the response bytes, as an authoritative server
 * holding every configured zone would, and as a recursive resolver would for CNAME chains that stay
 * within those zones. Applies the switched-on faults and logs every well-formed query.
 *
 * <p>Thread-safe: it reads an immutable {@link ZoneSet} per query.
 */
public final class Responder {
  /** RFC 1035 §4.2.1: the UDP payload limit without EDNS. */
  static final int CLASSIC_UDP_LIMIT = 512;

  /** The UDP payload size this server advertises (RFC 6891 §6.2.5; DNS Flag Day 2020 value). */
  static final int ADVERTISED_UDP_PAYLOAD = 1232;

  /** How many CNAMEs are followed before the chain is returned as it stands. */
  static final int MAX_CNAME_CHAIN = 8;

  private final Supplier<ZoneSet> zones;
  private final FaultTable faults;
  private final QueryRecorder log;
  private final Clock clock;

  /**
   * A responder.
   *
   * @param zones the zones currently served (read once per query)
   * @param faults the switched-on faults
   * @param log where queries are logged
   * @param clock the clock for log timestamps
   */
  public Responder(Supplier<ZoneSet> zones, FaultTable faults, QueryRecorder log, Clock clock) {
    this.zones = Objects.requireNonNull(zones, "zones");
    this.faults = Objects.requireNonNull(faults, "faults");
    this.log = Objects.requireNonNull(log, "log");
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  /**
   * Answers one DNS message.
   *
   * @param wire the query as received (without the TCP length prefix)
   * @param transport how it arrived; decides the size limit and the truncate fault
   * @return the response, or null when nothing is to be sent
   */
  public byte @Nullable [] respond(byte[] wire, DnsQuery.Transport transport) {
    Message query;
    try {
      query = new Message(wire);
    } catch (IOException | RuntimeException e) {
      return formatError(wire);
    }
    Header header = query.getHeader();
    if (header.getFlag(Flags.QR)) {
      return null; // a response, not a query: never answer it (no reflection loops)
    }
    OPTRecord opt = query.getOPT();
    if (header.getOpcode() != Opcode.QUERY) {
      return render(error(query, Rcode.NOTIMP, opt), transport, opt);
    }
    List<Record> questions = query.getSection(Section.QUESTION);
    if (questions.size() != 1 || optCount(query) > 1) {
      // RFC 6891 §6.1.1: more than one OPT is a format error, as is a question count but one.
      return render(error(query, Rcode.FORMERR, opt), transport, opt);
    }
    Record question = questions.get(0);
    Name qname = question.getName();
    int qtype = question.getType();
    boolean dnssecOk = opt != null && (opt.getFlags() & ExtendedFlags.DO) != 0;
    log.record(new DnsQuery(qname.toString(), qtype, transport, clock.instant(), dnssecOk));

    if (opt != null && opt.getVersion() != 0) {
      return render(error(query, Rcode.BADVERS, opt), transport, opt); // RFC 6891 §6.1.3
    }
    if (qtype == Type.OPT) {
      return render(error(query, Rcode.FORMERR, opt), transport, opt); // RFC 6891 §6.1.1
    }
    if (question.getDClass() != DClass.IN) {
      return render(error(query, Rcode.REFUSED, opt), transport, opt);
    }
    if (qtype == Type.AXFR || qtype == Type.IXFR) {
      return render(error(query, Rcode.REFUSED, opt), transport, opt); // RFC 5936 §2.2.1
    }
    if (faults.matches(Fault.DROP, qname, qtype)) {
      return null;
    }
    if (faults.matches(Fault.SERVFAIL, qname, qtype)) {
      return render(error(query, Rcode.SERVFAIL, opt), transport, opt);
    }
    if (transport == DnsQuery.Transport.UDP && faults.matches(Fault.TRUNCATE, qname, qtype)) {
      Message truncated = error(query, Rcode.NOERROR, opt);
      truncated.getHeader().setFlag(Flags.TC); // RFC 1035 §4.1.1: retry over TCP (RFC 7766 §5)
      return render(truncated, transport, opt);
    }

    Resolution resolution = resolve(qname, qtype);
    Message response = error(query, resolution.rcode, opt);
    if (resolution.authoritative) {
      response.getHeader().setFlag(Flags.AA);
    }
    for (RRset rrset : resolution.answer) {
      if (qtype == Type.ANY && !dnssecOk && rrset.getType() == Type.NSEC) {
        continue; // RFC 3225 §3: no DNSSEC records unless asked for by type or by DO
      }
      addRRset(response, rrset, Section.ANSWER, dnssecOk, qtype == Type.RRSIG);
    }
    boolean omitDenial = faults.matches(Fault.OMIT_DENIAL, qname, qtype);
    for (RRset rrset : resolution.authority) {
      if (omitDenial && (rrset.getType() == Type.NSEC || rrset.getType() == Type.NSEC3)) {
        continue;
      }
      // RFC 4035 §3.1.3 and §3.1.4: NSEC (RFC 5155 §7.2: NSEC3) proofs and DS in referrals only
      // when DO is set.
      int type = rrset.getType();
      if (dnssecOk || (type != Type.NSEC && type != Type.NSEC3 && type != Type.DS)) {
        addRRset(response, rrset, Section.AUTHORITY, dnssecOk, false);
      }
    }
    for (RRset rrset : resolution.additional) {
      addRRset(response, rrset, Section.ADDITIONAL, dnssecOk, false);
    }
    return render(response, transport, opt);
  }

  /** Follows the name (and CNAMEs) through the held zones. */
  private Resolution resolve(Name qname, int qtype) {
    ZoneSet set = zones.get();
    Resolution resolution = new Resolution();
    Set<Name> visited = new HashSet<>();
    Name name = qname;
    for (int step = 0; step < MAX_CNAME_CHAIN; step++) {
      ZoneAnswer answer = set.select(name, qtype).lookup(name, qtype);
      if (answer.kind() == ZoneAnswer.Kind.REFERRAL) {
        if (step == 0) {
          resolution.authority.addAll(answer.authority());
          resolution.additional.addAll(answer.additional());
        }
        // A chain leading into a zone this server does not hold ends with what it has.
        break;
      }
      if (step == 0) {
        resolution.authoritative = true; // RFC 1035 §4.1.1: AA is about the first owner name
      }
      resolution.answer.addAll(answer.answer());
      for (RRset rrset : answer.authority()) {
        if (!resolution.authority.contains(rrset)) {
          resolution.authority.add(rrset);
        }
      }
      // RFC 6604 §3: the rcode describes the last name of the chain.
      resolution.rcode = answer.kind() == ZoneAnswer.Kind.NXDOMAIN ? Rcode.NXDOMAIN : Rcode.NOERROR;
      if (answer.kind() != ZoneAnswer.Kind.CNAME) {
        break;
      }
      visited.add(name);
      name = Objects.requireNonNull(answer.target()); // a CNAME answer has one
      if (visited.contains(name)) {
        break; // a CNAME loop: return the chain once
      }
    }
    return resolution;
  }

  private void addRRset(
      Message response, RRset rrset, int section, boolean dnssecOk, boolean signaturesOnly) {
    if (!signaturesOnly) {
      for (Record r : rrset.rrs(false)) {
        response.addRecord(r, section);
      }
    }
    // RFC 4035 §3.1.1: RRSIGs go with their RRset when DO is set (or when asked for).
    if (dnssecOk || signaturesOnly) {
      boolean corrupt = faults.matches(Fault.CORRUPT_SIGNATURES, rrset.getName(), rrset.getType());
      for (RRSIGRecord sig : rrset.sigs()) {
        response.addRecord(corrupt ? corrupted(sig) : sig, section);
      }
    }
  }

  /** The same RRSIG with the last signature byte flipped: it can never verify. */
  private static Record corrupted(RRSIGRecord sig) {
    byte[] rdata = sig.rdataToWireCanonical();
    rdata[rdata.length - 1] ^= 0x01;
    return Record.newRecord(sig.getName(), Type.RRSIG, sig.getDClass(), sig.getTTL(), rdata);
  }

  /** A response with the query's ID, opcode, RD and CD, its question and the given rcode. */
  private static Message error(Message query, int rcode, OPTRecord queryOpt) {
    Header qh = query.getHeader();
    Message response = new Message(qh.getID());
    Header rh = response.getHeader();
    rh.setFlag(Flags.QR);
    rh.setOpcode(qh.getOpcode());
    if (qh.getFlag(Flags.RD)) {
      rh.setFlag(Flags.RD);
    }
    if (qh.getFlag(Flags.CD)) {
      rh.setFlag(Flags.CD); // RFC 4035 §3.1.6: copy CD into the response
    }
    rh.setRcode(rcode & 0xF);
    List<Record> questions = query.getSection(Section.QUESTION);
    if (questions.size() == 1) {
      response.addRecord(questions.get(0), Section.QUESTION);
    }
    if (queryOpt != null) {
      // RFC 6891 §6.1.1: answer EDNS with EDNS; RFC 3225 §3: echo the DO bit.
      int flags = queryOpt.getFlags() & ExtendedFlags.DO;
      response.addRecord(
          new OPTRecord(ADVERTISED_UDP_PAYLOAD, rcode >>> 4, 0, flags), Section.ADDITIONAL);
    }
    return response;
  }

  private static byte[] render(Message response, DnsQuery.Transport transport, OPTRecord opt) {
    if (transport == DnsQuery.Transport.TCP) {
      return response.toWire(Message.MAXLENGTH);
    }
    // RFC 6891 §6.2.5: the requester's payload size, at least 512; toWire sets TC and cuts at an
    // RRset boundary when the answer does not fit (RFC 2181 §9).
    int limit = CLASSIC_UDP_LIMIT;
    if (opt != null) {
      limit = Math.min(Message.MAXLENGTH, Math.max(CLASSIC_UDP_LIMIT, opt.getPayloadSize()));
    }
    return response.toWire(limit);
  }

  private static int optCount(Message query) {
    int n = 0;
    for (Record r : query.getSection(Section.ADDITIONAL)) {
      if (r.getType() == Type.OPT) {
        n++;
      }
    }
    return n;
  }

  /**
   * RFC 1035 §4.1.1: FORMERR for a message that cannot be parsed, if at least its header can be
   * read and it is not itself a response; null (no answer) otherwise.
   */
  private static byte @Nullable [] formatError(byte[] wire) {
    if (wire.length < Header.LENGTH || (wire[2] & 0x80) != 0) {
      return null;
    }
    byte[] response = new byte[Header.LENGTH];
    response[0] = wire[0];
    response[1] = wire[1];
    response[2] = (byte) (0x80 | (wire[2] & 0x79)); // QR, the opcode and RD of the query
    response[3] = (byte) Rcode.FORMERR;
    return response;
  }

  /** The sections of a response being assembled. */
  private static final class Resolution {
    private final List<RRset> answer = new ArrayList<>();
    private final List<RRset> authority = new ArrayList<>();
    private final List<RRset> additional = new ArrayList<>();
    private int rcode = Rcode.NOERROR;
    private boolean authoritative;
  }
}
