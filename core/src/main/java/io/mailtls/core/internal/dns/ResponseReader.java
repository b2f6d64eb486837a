package io.mailtls.core.internal.dns;

import io.mailtls.core.DnsAnswer;
import io.mailtls.core.DnsFailure;
import io.mailtls.core.DnsOutcome;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DnsRecordType;
import io.mailtls.core.DnssecState;
import io.mailtls.core.DomainName;
import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeoutException;
import java.util.function.ToLongFunction;
import org.jspecify.annotations.Nullable;
import org.xbill.DNS.AAAARecord;
import org.xbill.DNS.ARecord;
import org.xbill.DNS.CNAMERecord;
import org.xbill.DNS.DClass;
import org.xbill.DNS.EDNSOption;
import org.xbill.DNS.ExtendedErrorCodeOption;
import org.xbill.DNS.Flags;
import org.xbill.DNS.MXRecord;
import org.xbill.DNS.Message;
import org.xbill.DNS.Name;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.RRSIGRecord;
import org.xbill.DNS.RRset;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.SOARecord;
import org.xbill.DNS.Section;
import org.xbill.DNS.TLSARecord;
import org.xbill.DNS.TTL;
import org.xbill.DNS.TXTRecord;
import org.xbill.DNS.Type;
import org.xbill.DNS.WireParseException;
import org.xbill.DNS.dnssec.ValidatingResolver;

/**
 * Turns one dnsjava response into a {@link DnsAnswer}, or into a request for the next CNAME hop.
 */
final class ResponseReader {

  /** Either a final answer, or the next name to ask for (an incomplete CNAME chain). */
  record Step(@Nullable DnsAnswer answer, @Nullable Name requery) {}

  private final int maxRecords;
  private final int maxCnameChain;
  private final Clock clock;

  /** Whether responses come from dnsjava's in-process validator ({@code DnssecMode.VALIDATE}). */
  private final boolean validating;

  /**
   * With the in-process validator: the seconds left in the chain of trust of a signer zone's keys
   * ({@link KeyResponseCache#chainSecondsLeft}); null otherwise.
   */
  private final @Nullable ToLongFunction<Name> chainSecondsLeft;

  ResponseReader(int maxRecords, int maxCnameChain, Clock clock) {
    this(maxRecords, maxCnameChain, clock, null);
  }

  /**
   * @param chainSecondsLeft for responses from dnsjava's in-process validator, how many seconds the
   *     chain of trust of a signer zone's keys lasts; null when the responses come from elsewhere
   */
  ResponseReader(
      int maxRecords,
      int maxCnameChain,
      Clock clock,
      @Nullable ToLongFunction<Name> chainSecondsLeft) {
    this.maxRecords = maxRecords;
    this.maxCnameChain = maxCnameChain;
    this.clock = clock;
    this.validating = chainSecondsLeft != null;
    this.chainSecondsLeft = chainSecondsLeft;
  }

  /**
   * Reads {@code response} to the question {@code qname}. Never throws on peer data: dnsjava's
   * record classes accept some records when parsing that throw later, when they are compared or
   * written (a WKS record with an empty bitmap throws {@link ArrayIndexOutOfBoundsException} when
   * {@link Message#getSectionRRsets} groups it with another); such a response is {@link
   * DnsFailure#MALFORMED}.
   */
  Step read(DnsjavaResolver.Chase chase, Name qname, Message response) {
    try {
      return readChecked(chase, qname, response);
    } catch (RuntimeException e) {
      return done(
          failed(
              chase,
              DnssecState.INDETERMINATE,
              DnsFailure.MALFORMED,
              response.getRcode(),
              "malformed response: dnsjava cannot handle a record in it ("
                  + e.getClass().getSimpleName()
                  + ")"));
    }
  }

  private Step readChecked(DnsjavaResolver.Chase chase, Name qname, Message response) {
    int rcode = response.getRcode();
    Record question = response.getQuestion();
    if (question == null
        || !question.getName().equals(qname)
        || question.getType() != chase.type.code()) {
      return done(
          failed(
              chase,
              DnssecState.INDETERMINATE,
              DnsFailure.MALFORMED,
              rcode,
              "response does not answer the question " + qname + " " + chase.type));
    }
    if (rcode == Rcode.SERVFAIL) {
      return done(servfail(chase, response));
    }
    if (rcode != Rcode.NOERROR && rcode != Rcode.NXDOMAIN) {
      return done(
          failed(
              chase,
              DnssecState.INDETERMINATE,
              DnsFailure.REFUSED,
              rcode,
              "resolver answered " + Rcode.string(rcode)));
    }
    // RFC 4035 §3.2.3 / RFC 6840 §5.8: AD set by a validating resolver means every RRset in the
    // answer and authority sections validated; dnsjava's ValidatingResolver sets it likewise.
    boolean ad = response.getHeader().getFlag(Flags.AD);
    chase.state = chase.state.weakest(ad ? DnssecState.SECURE : DnssecState.INSECURE);
    if (ad && chainSecondsLeft != null) {
      chase.ttlSeconds = Math.min(chase.ttlSeconds, chainTtl(response, chainSecondsLeft));
    }

    List<RRset> answer = response.getSectionRRsets(Section.ANSWER);
    int count = 0;
    for (RRset set : answer) {
      count += set.size();
    }
    if (count > maxRecords) {
      return done(
          failed(
              chase,
              DnssecState.INDETERMINATE,
              DnsFailure.TOO_LARGE,
              rcode,
              count + " answer records, more than the limit of " + maxRecords));
    }

    // RFC 1034 §3.6.2 / RFC 2181 §10.1: follow CNAMEs from the question name to the data.
    Name current = qname;
    RRset data = null;
    while (true) {
      data = find(answer, current, chase.type.code());
      if (data != null || chase.type == DnsRecordType.CNAME) {
        break;
      }
      RRset cname = find(answer, current, Type.CNAME);
      if (cname == null) {
        break;
      }
      if (!(cname.first() instanceof CNAMERecord cnameRecord)) {
        // A CNAME with empty RDATA parses as dnsjava's EmptyRecord: no target to follow.
        return done(
            failed(
                chase,
                DnssecState.INDETERMINATE,
                DnsFailure.MALFORMED,
                rcode,
                "CNAME record at " + current + " has no target (RFC 1035 §3.3.1)"));
      }
      Name target = cnameRecord.getTarget();
      DomainName targetName = toDomainName(target);
      if (targetName == null) {
        return done(
            failed(
                chase,
                DnssecState.INDETERMINATE,
                DnsFailure.MALFORMED,
                rcode,
                "CNAME target is not a valid domain name: " + target));
      }
      if (targetName.equals(chase.name) || chase.chain.contains(targetName)) {
        return done(
            failed(
                chase,
                DnssecState.INDETERMINATE,
                DnsFailure.CNAME_CHAIN,
                rcode,
                "CNAME loop at " + targetName));
      }
      if (chase.chain.size() >= maxCnameChain) {
        return done(
            failed(
                chase,
                DnssecState.INDETERMINATE,
                DnsFailure.CNAME_CHAIN,
                rcode,
                "CNAME chain longer than " + maxCnameChain));
      }
      chase.chain.add(targetName);
      // The CNAME may itself be a wildcard expansion, proven by this response's NSEC or NSEC3.
      chase.ttlSeconds = Math.min(chase.ttlSeconds, Math.min(ttlOf(cname), proofTtl(response)));
      current = target;
      if (validating && !ad) {
        // dnsjava's validator checks the answer's RRsets in order and stops at the first one it
        // finds insecure, reporting the whole response insecure: what follows the alias (its
        // target's data or denial, in another zone) was never validated, and may be bogus (RFC
        // 4035 §5: each RRset with its own zone's keys). The CNAME at the asked name is either
        // secure or provably insecure; its target is asked for on its own, and validated.
        return new Step(null, current);
      }
    }

    if (data != null) {
      List<DnsRecord> records = new ArrayList<>();
      List<String> rejected = new ArrayList<>();
      for (Record r : data.rrs()) {
        DnsRecord converted = convert(r);
        if (converted == null) {
          rejected.add(r.rdataToString());
        } else {
          records.add(converted);
        }
      }
      if (records.isEmpty()) {
        return done(
            failed(
                chase,
                DnssecState.INDETERMINATE,
                DnsFailure.MALFORMED,
                rcode,
                "no usable record in " + chase.type + " RRset: " + rejected));
      }
      chase.ttlSeconds = Math.min(chase.ttlSeconds, Math.min(ttlOf(data), proofTtl(response)));
      return done(
          answer(
              chase,
              DnsOutcome.DATA,
              records,
              rcode,
              rejected.isEmpty() ? null : "ignored malformed records: " + rejected));
    }
    if (rcode == Rcode.NXDOMAIN) {
      // RFC 6604 §3: with a CNAME chain the rcode speaks of the last name in it.
      chase.ttlSeconds = Math.min(chase.ttlSeconds, negativeTtl(response));
      return done(answer(chase, DnsOutcome.NXDOMAIN, List.of(), rcode, null));
    }
    if (!current.equals(qname) && !hasSoaFor(response, current)) {
      // The resolver stopped at a CNAME without an answer or a negative proof for its target:
      // ask for the target itself.
      return new Step(null, current);
    }
    String notADenial = notADenial(response, current);
    if (notADenial != null) {
      return done(failed(chase, DnssecState.INDETERMINATE, DnsFailure.REFUSED, rcode, notADenial));
    }
    chase.ttlSeconds = Math.min(chase.ttlSeconds, negativeTtl(response));
    return done(answer(chase, DnsOutcome.NODATA, List.of(), rcode, null));
  }

  /**
   * Why a NOERROR response without data for {@code name} is no NODATA, or null when it is one. RFC
   * 2308 §2.2: NODATA carries an SOA in the authority section (types 1 and 2) or neither an SOA nor
   * NS records (type 3); NS records without an SOA make it a referral, which an upstream that does
   * not recurse (RA clear: a lame or authoritative-only server) sends, or a recursive one passes
   * on. The name was not resolved, and reading it as NODATA would turn a resolver problem into "no
   * such record" (for an MX lookup: the implicit MX, then no mail host, a permanent bounce).
   * Without an SOA and from a server that neither recursed (RA clear) nor answered with authority
   * (AA clear), the response speaks for no one either. dnsjava's validator hands on the upstream's
   * header and sections, so a validated denial, which carries its SOA, is NODATA as before.
   */
  private static @Nullable String notADenial(Message response, Name name) {
    if (hasSoaFor(response, name)) {
      return null;
    }
    boolean recursed = response.getHeader().getFlag(Flags.RA);
    String upstream = recursed ? "" : "; the upstream does not recurse (RA clear)";
    for (RRset set : response.getSectionRRsets(Section.AUTHORITY)) {
      if (set.getType() == Type.NS) {
        return "referral to "
            + set.getName()
            + " instead of an answer or a denial (NS and no SOA in the authority section, RFC 2308"
            + " §2.2)"
            + upstream;
      }
    }
    if (!recursed && !response.getHeader().getFlag(Flags.AA)) {
      return "empty answer without an SOA from a server that neither recursed (RA clear) nor is"
          + " authoritative (AA clear): no denial (RFC 2308 §2.2)";
    }
    return null;
  }

  private static Step done(DnsAnswer answer) {
    return new Step(answer, null);
  }

  /**
   * How long an RRset may be reused, in seconds: its TTL (dnsjava gives an RRset the smallest TTL
   * of its records), bounded by each covering signature's original TTL (RFC 4034 §3.1.4, RFC 4035
   * §5.3.3) and by the time left until the signature expires. Signatures are there when the
   * response carries them (dnsjava's validator keeps them in the RRsets it validated). Each TTL is
   * read as {@link #ttlValue} says; an RRset whose records' TTLs differ, an error by RFC 2181 §5.2,
   * has the smallest as dnsjava compares them, unsigned.
   */
  private long ttlOf(RRset set) {
    long ttl = ttlValue(set.getTTL());
    Instant now = null;
    for (RRSIGRecord sig : set.sigs()) {
      ttl = Math.min(ttl, ttlValue(sig.getOrigTTL()));
      if (now == null) {
        now = clock.instant();
      }
      ttl = Math.min(ttl, Math.max(0, Duration.between(now, sig.getExpire()).toSeconds()));
    }
    return Math.max(0, ttl);
  }

  /**
   * How long the chains of trust that validated {@code response} last, in seconds: the least of
   * {@code secondsLeft} over the signers of the RRSIGs in its answer and authority sections (the
   * data, each CNAME, the SOA and NSEC or NSEC3 of a denial or of a wildcard's proof). RFC 4035 §5:
   * a secure RRset is authenticated by its signer's DNSKEY RRset, and that by the chain of DS and
   * DNSKEY RRsets from the trust anchor; once a signature in that chain has expired (RFC 4035
   * §5.3.1) or a key RRset's TTL has run out, the answer can no longer be validated, so it is no
   * longer kept as validated. {@link Long#MAX_VALUE} when nothing in it is signed.
   */
  private static long chainTtl(Message response, ToLongFunction<Name> secondsLeft) {
    long ttl = Long.MAX_VALUE;
    Name last = null;
    for (int section : new int[] {Section.ANSWER, Section.AUTHORITY}) {
      for (RRset set : response.getSectionRRsets(section)) {
        for (RRSIGRecord sig : set.sigs()) {
          Name signer = sig.getSigner();
          if (!signer.equals(last)) {
            ttl = Math.min(ttl, secondsLeft.applyAsLong(signer));
            last = signer;
          }
        }
      }
    }
    return ttl;
  }

  /**
   * A TTL field as received, in seconds: RFC 2181 §8 limits a TTL to 2<sup>31</sup>-1 and says that
   * a value with the most significant bit set is to be treated as zero. dnsjava keeps the field's
   * 32 bits unsigned, so without this such a TTL would read as about 68 years. Also applied to the
   * RRSIG Original TTL (RFC 4034 §3.1.4) and to the SOA MINIMUM, the negative-caching TTL (RFC 2308
   * §4).
   */
  static long ttlValue(long wireTtl) {
    return wireTtl > TTL.MAX_VALUE ? 0 : wireTtl;
  }

  /**
   * How long a negative answer may be reused, in seconds. RFC 2308 §5: the smaller of the SOA
   * record's TTL and its MINIMUM field, the SOA from the authority section; without one it is not
   * cached (§5: "negative responses without SOA records SHOULD NOT be cached"). A DNSSEC denial
   * lasts no longer than the NSEC or NSEC3 records that prove it (RFC 9077 §3–§4: their TTL is the
   * negative-cache lifetime), each RRset read as {@link #ttlOf} reads data, its signatures'
   * original TTL and expiry included (RFC 4035 §5.3.3): a denial kept past its proof would still
   * read as validated when it no longer can be. Other authority records (the zone's NS) prove
   * nothing about the name and bound nothing.
   */
  private long negativeTtl(Message response) {
    long soaTtl = -1;
    for (RRset set : response.getSectionRRsets(Section.AUTHORITY)) {
      if (set.getType() == Type.SOA && set.first() instanceof SOARecord soa) {
        long ttl = Math.min(ttlOf(set), ttlValue(soa.getMinimum()));
        soaTtl = soaTtl < 0 ? ttl : Math.min(soaTtl, ttl);
      }
    }
    return soaTtl < 0 ? 0 : Math.min(soaTtl, proofTtl(response));
  }

  /**
   * How long the NSEC and NSEC3 records in the authority section of {@code response} may be reused,
   * in seconds, each RRset read as {@link #ttlOf} reads data (its signatures' original TTL and
   * expiry included); {@link Long#MAX_VALUE} when there are none. In a denial they are its proof
   * (RFC 9077 §3). Beside data or a CNAME they prove that the asked name does not exist, which a
   * wildcard expansion is validated with (RFC 4035 §3.1.3.3, §5.3.4; RFC 5155 §7.2.6, §8.8): the
   * expansion holds no longer than that proof, or it would still read as validated once the name
   * may exist with other data. That proof is the usual reason for NSEC or NSEC3 records beside an
   * answer; all of them bound it, since one there for another reason can only shorten how long the
   * answer is kept, never lengthen it.
   */
  private long proofTtl(Message response) {
    long proofTtl = Long.MAX_VALUE;
    for (RRset set : response.getSectionRRsets(Section.AUTHORITY)) {
      if (set.getType() == Type.NSEC || set.getType() == Type.NSEC3) {
        proofTtl = Math.min(proofTtl, ttlOf(set));
      }
    }
    return proofTtl;
  }

  private static @Nullable RRset find(List<RRset> sets, Name owner, int type) {
    for (RRset set : sets) {
      if (set.getType() == type && set.getDClass() == DClass.IN && set.getName().equals(owner)) {
        return set;
      }
    }
    return null;
  }

  private static boolean hasSoaFor(Message response, Name name) {
    for (RRset set : response.getSectionRRsets(Section.AUTHORITY)) {
      if (set.getType() == Type.SOA && name.subdomain(set.getName())) {
        return true;
      }
    }
    return false;
  }

  private static DnsAnswer answer(
      DnsjavaResolver.Chase chase,
      DnsOutcome outcome,
      List<DnsRecord> records,
      int rcode,
      @Nullable String reason) {
    DnsAnswer.Builder answer =
        DnsAnswer.builder(chase.name, chase.type, outcome, chase.state)
            .records(records)
            .cnameChain(chase.chain)
            .rcode(rcode)
            .ttl(Duration.ofSeconds(Math.min(chase.ttlSeconds, DnsAnswer.MAX_TTL.toSeconds())));
    return (reason != null ? answer.reason(reason) : answer).build();
  }

  private static DnsAnswer failed(
      DnsjavaResolver.Chase chase,
      DnssecState state,
      DnsFailure failure,
      int rcode,
      @Nullable String reason) {
    DnssecState s = chase.state.weakest(state);
    if (s != DnssecState.BOGUS) {
      s = DnssecState.INDETERMINATE;
    }
    DnsAnswer.Builder answer =
        DnsAnswer.builder(chase.name, chase.type, DnsOutcome.FAILURE, s)
            .cnameChain(chase.chain)
            .rcode(rcode)
            .failure(failure);
    return (reason != null ? answer.reason(reason) : answer).build();
  }

  /**
   * SERVFAIL: a validation failure when an Extended DNS Error in the DNSSEC range says so (RFC 8914
   * §4), otherwise an undetermined failure. dnsjava's validator also attaches a reason record
   * (class 65280) when the upstream itself answered SERVFAIL, and even to insecure answers, so that
   * record alone proves nothing: it only supplies the text.
   */
  private static DnsAnswer servfail(DnsjavaResolver.Chase chase, Message response) {
    String reason = null;
    boolean bogus = false;
    for (Record r : response.getSection(Section.ADDITIONAL)) {
      if (r instanceof TXTRecord txt
          && r.getDClass() == ValidatingResolver.VALIDATION_REASON_QCLASS) {
        reason = String.join("", txt.getStrings());
      }
    }
    OPTRecord opt = response.getOPT();
    if (opt != null) {
      for (EDNSOption o : opt.getOptions()) {
        if (o instanceof ExtendedErrorCodeOption ede) {
          int code = ede.getErrorCode();
          String text =
              "EDE "
                  + code
                  + " ("
                  + ExtendedErrorCodeOption.text(code)
                  + ")"
                  + (ede.getText() == null || ede.getText().isEmpty() ? "" : ": " + ede.getText());
          reason = reason == null ? text : reason + "; " + text;
          bogus |= isValidationFailure(code);
        }
      }
    }
    if (bogus) {
      chase.state = DnssecState.BOGUS;
      return failed(chase, DnssecState.BOGUS, DnsFailure.VALIDATION_FAILED, Rcode.SERVFAIL, reason);
    }
    return failed(
        chase,
        DnssecState.INDETERMINATE,
        DnsFailure.SERVFAIL,
        Rcode.SERVFAIL,
        reason == null ? "resolver answered SERVFAIL" : reason);
  }

  /** RFC 8914 §4.7–4.13: the Extended DNS Errors that report a failed DNSSEC validation. */
  private static boolean isValidationFailure(int code) {
    return code == ExtendedErrorCodeOption.DNSSEC_BOGUS
        || code == ExtendedErrorCodeOption.SIGNATURE_EXPIRED
        || code == ExtendedErrorCodeOption.SIGNATURE_NOT_YET_VALID
        || code == ExtendedErrorCodeOption.DNSKEY_MISSING
        || code == ExtendedErrorCodeOption.RRSIGS_MISSING
        || code == ExtendedErrorCodeOption.NO_ZONE_KEY_BIT_SET
        || code == ExtendedErrorCodeOption.NSEC_MISSING
        || code == ExtendedErrorCodeOption.SIGNATURE_EXPIRED_BEFORE_VALID;
  }

  /** Maps a failed exchange (timeout, I/O, parse error) to a failed answer, never "no records". */
  DnsAnswer fromException(DomainName name, DnsRecordType type, Throwable error) {
    Throwable e = error;
    while ((e instanceof CompletionException || e instanceof ExecutionException)
        && e.getCause() != null) {
      e = e.getCause();
    }
    DnsFailure failure;
    if (e instanceof TimeoutException || e instanceof SocketTimeoutException) {
      failure = DnsFailure.TIMEOUT;
    } else if (e instanceof WireParseException) {
      failure = DnsFailure.MALFORMED;
    } else if (e instanceof IOException) {
      failure = DnsFailure.NETWORK;
    } else if (e instanceof RuntimeException && !(e instanceof IllegalStateException)) {
      // dnsjava signals some malformed data with unchecked exceptions while parsing records.
      failure = DnsFailure.MALFORMED;
    } else {
      failure = DnsFailure.NETWORK;
    }
    String message =
        e.getClass().getSimpleName() + (e.getMessage() == null ? "" : ": " + e.getMessage());
    return DnsAnswer.failed(name, type, DnssecState.INDETERMINATE, failure, -1, message);
  }

  private static @Nullable DnsRecord convert(Record r) {
    try {
      if (r instanceof ARecord a) {
        return new DnsRecord.Address(a.getAddress());
      } else if (r instanceof AAAARecord a) {
        return new DnsRecord.Address(a.getAddress());
      } else if (r instanceof MXRecord mx) {
        DomainName target = toDomainName(mx.getTarget());
        return target == null ? null : new DnsRecord.Mx(mx.getPriority(), target);
      } else if (r instanceof TXTRecord txt) {
        List<String> strings = new ArrayList<>();
        for (byte[] b : txt.getStringsAsByteArrays()) {
          strings.add(new String(b, StandardCharsets.ISO_8859_1));
        }
        return new DnsRecord.Txt(strings);
      } else if (r instanceof TLSARecord t) {
        return new DnsRecord.Tlsa(
            t.getCertificateUsage(),
            t.getSelector(),
            t.getMatchingType(),
            t.getCertificateAssociationData());
      } else if (r instanceof CNAMERecord c) {
        DomainName target = toDomainName(c.getTarget());
        return target == null ? null : new DnsRecord.Cname(target);
      }
    } catch (IllegalArgumentException e) {
      return null;
    }
    return null;
  }

  /** A dnsjava name as a {@link DomainName}, or null when it is not a valid one. */
  static @Nullable DomainName toDomainName(Name name) {
    if (name.equals(Name.root)) {
      return DomainName.ROOT;
    }
    try {
      return DomainName.of(name.toString(true));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }
}
