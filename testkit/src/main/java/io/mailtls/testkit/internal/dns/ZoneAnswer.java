package io.mailtls.testkit.internal.dns;

import java.util.List;
import org.jspecify.annotations.Nullable;
import org.xbill.DNS.Name;
import org.xbill.DNS.RRset;

/**
 * What one zone says about one name and type: the kind of answer and the RRsets (each with its
 * signatures, if the zone is signed) for each section.
 *
 * <p>Immutable and thread-safe.
 */
public final class ZoneAnswer {
  /** The kind of answer (RFC 1034 §4.3.2, RFC 4035 §3.1). */
  public enum Kind {
    /** The RRset asked for (or, for ANY, every RRset at the name). */
    ANSWER,
    /** A CNAME at the name; {@link #target()} is to be followed. */
    CNAME,
    /** The name exists, the type does not. */
    NODATA,
    /** The name does not exist. */
    NXDOMAIN,
    /** The name lies at or below a delegation to a zone this server does not hold. */
    REFERRAL
  }

  private final Kind kind;
  private final List<RRset> answer;
  private final List<RRset> authority;
  private final List<RRset> additional;
  private final @Nullable Name target;

  private ZoneAnswer(
      Kind kind,
      List<RRset> answer,
      List<RRset> authority,
      List<RRset> additional,
      @Nullable Name target) {
    this.kind = kind;
    this.answer = List.copyOf(answer);
    this.authority = List.copyOf(authority);
    this.additional = List.copyOf(additional);
    this.target = target;
  }

  static ZoneAnswer answer(List<RRset> answer, List<RRset> authority) {
    return new ZoneAnswer(Kind.ANSWER, answer, authority, List.of(), null);
  }

  static ZoneAnswer cname(RRset cname, Name target, List<RRset> authority) {
    return new ZoneAnswer(Kind.CNAME, List.of(cname), authority, List.of(), target);
  }

  static ZoneAnswer nodata(List<RRset> authority) {
    return new ZoneAnswer(Kind.NODATA, List.of(), authority, List.of(), null);
  }

  static ZoneAnswer nxdomain(List<RRset> authority) {
    return new ZoneAnswer(Kind.NXDOMAIN, List.of(), authority, List.of(), null);
  }

  static ZoneAnswer referral(List<RRset> authority, List<RRset> additional) {
    return new ZoneAnswer(Kind.REFERRAL, List.of(), authority, additional, null);
  }

  /** The kind of answer. */
  public Kind kind() {
    return kind;
  }

  /** RRsets for the answer section. */
  public List<RRset> answer() {
    return answer;
  }

  /** RRsets for the authority section: SOA, NSEC proofs, or the delegation's NS and DS. */
  public List<RRset> authority() {
    return authority;
  }

  /** RRsets for the additional section (glue of a referral). */
  public List<RRset> additional() {
    return additional;
  }

  /** For {@link Kind#CNAME}, the canonical name to follow; otherwise null. */
  public @Nullable Name target() {
    return target;
  }
}
