package io.mailtls.reliability.soak;

import io.mailtls.testkit.SmtpAction;
import io.mailtls.testkit.SmtpContentFault;
import io.mailtls.testkit.SmtpFaultContext;
import io.mailtls.testkit.SmtpFaultInjector;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.LongAdder;

/**
 * The SMTP faults of the soak, drawn at random from a fixed seed: per session (greeting, EHLO,
 * STARTTLS, the TLS handshake, RSET, QUIT) and per transaction (MAIL, each RCPT, DATA, the content,
 * the reply to the final dot): replies, hang-ups, resets, TLS closes mid-content and stalls past
 * the client's timeout. A transaction's draw depends only on the seed, the domain, the envelope
 * sender (unique per message) and how many times this server has seen that sender, so the same
 * message meets the same faults whatever the threads do; a session's draw depends on the seed, the
 * domain and the session's number. Every fault is counted when the server carries it out.
 */
final class SoakFaults {

  /** Session-level faults. */
  enum SessionFault {
    NONE,
    GREETING_421,
    GREETING_554,
    GREETING_DISCONNECT,
    GREETING_STALL,
    EHLO_DISCONNECT,
    EHLO_421,
    /** The reply to the first EHLO comes after the client's timeout. */
    EHLO_STALL,
    STARTTLS_454,
    STARTTLS_DISCONNECT,
    TLS_HANDSHAKE_ABORT,
    TLS_HANDSHAKE_GARBAGE,
    RSET_DISCONNECT,
    QUIT_DISCONNECT
  }

  /** Transaction-level faults. */
  enum TxFault {
    NONE,
    MAIL_451,
    MAIL_550,
    MAIL_421,
    MAIL_DISCONNECT,
    /** The reply to MAIL comes after the client's timeout. */
    MAIL_STALL,
    RCPT_421,
    RCPT_DISCONNECT,
    /** The reply to one RCPT comes after the client's timeout. */
    RCPT_STALL,
    DATA_451,
    DATA_554,
    DATA_421,
    DATA_DISCONNECT,
    MID_DATA_DROP,
    /**
     * Under TLS, the close_notify alert and a FIN mid-content (RFC 8446 §6.1); a FIN in plaintext.
     */
    MID_DATA_CLOSE_NOTIFY,
    /** A FIN mid-content without any close_notify (RFC 8446 §6.1: a truncation). */
    MID_DATA_CLOSE_WITHOUT_NOTIFY,
    /** The server stops reading mid-content for longer than the client's timeout, then reads on. */
    MID_DATA_STALL,
    SLOW_READER,
    /** The first BDAT chunk of a large message: the connection drops instead of a reply. */
    BDAT_DISCONNECT,
    /** The first BDAT chunk of a large message is refused. */
    BDAT_451,
    DATA_END_451,
    DATA_END_554,
    DATA_END_421,
    /** The lost 250: the message arrived in full, the server hangs up without replying. */
    DATA_END_DISCONNECT,
    /** The lost 250 by a crash: the message arrived in full, a TCP reset instead of any reply. */
    DATA_END_RESET,
    /** The late 250: the server accepts after the client's final-reply timeout has passed. */
    DATA_END_LATE_250,
    /** 250, then the connection is dropped: the client has its reply. */
    DATA_END_250_THEN_DISCONNECT
  }

  private final long seed;
  private final Duration stall;
  private volatile boolean enabled;
  private final Map<String, LongAdder> counts = new ConcurrentHashMap<>();

  /**
   * "sender|domain" of every transaction with a reply after the client's timeout: to the final dot,
   * or to MAIL or a RCPT (with the message sent in one round trip, the server has it by then).
   */
  final java.util.Set<String> lateReplies = ConcurrentHashMap.newKeySet();

  /**
   * "sender|domain" of every transaction whose content the server read slowly: the client may have
   * written the end of the data into the socket's buffers long before the server read it, and given
   * up waiting for the reply while the server was still reading.
   */
  final java.util.Set<String> slowReads = ConcurrentHashMap.newKeySet();

  SoakFaults(long seed, Duration stall) {
    this.seed = seed;
    this.stall = stall;
  }

  /** Switches fault injection on or off (off for the warm-up). */
  void enabled(boolean on) {
    this.enabled = on;
  }

  /** How many times each fault was carried out, by name. */
  Map<String, Long> counts() {
    Map<String, Long> out = new TreeMap<>();
    counts.forEach((k, v) -> out.put(k, v.sum()));
    return out;
  }

  void count(String fault) {
    counts.computeIfAbsent(fault, k -> new LongAdder()).increment();
  }

  /** The injector for the server of {@code domain}. */
  SmtpFaultInjector injector(String domain) {
    return new Injector(domain);
  }

  private static long mix(long... parts) {
    long h = 0x9E3779B97F4A7C15L;
    for (long p : parts) {
      h ^= p;
      h *= 0xBF58476D1CE4E5B9L;
      h ^= h >>> 31;
    }
    return h;
  }

  private static SessionFault drawSession(SplittableRandom r) {
    if (r.nextDouble() >= 0.08) {
      return SessionFault.NONE;
    }
    SessionFault[] all = SessionFault.values();
    return all[1 + r.nextInt(all.length - 1)];
  }

  private static TxFault drawTransaction(SplittableRandom r) {
    if (r.nextDouble() >= 0.18) {
      return TxFault.NONE;
    }
    TxFault[] all = TxFault.values();
    TxFault f = all[1 + r.nextInt(all.length - 1)];
    // A stall holds a delivery for a whole client timeout: these three are drawn a third as
    // often as the other faults, which keeps the soak's run time bounded.
    if ((f == TxFault.MAIL_STALL || f == TxFault.RCPT_STALL || f == TxFault.MID_DATA_STALL)
        && r.nextInt(3) != 0) {
      return TxFault.NONE;
    }
    return f;
  }

  /** What one transaction meets. */
  private record TxPlan(TxFault fault, long seedForRecipients, long dropAt, int rcptFaultAt) {}

  /** {@link TxPlan#dropAt()} of a plan whose first BDAT chunk has drawn its chunk fault. */
  private static final long CHUNK_SEEN = -2;

  private final class Injector implements SmtpFaultInjector {
    private final String domain;
    private final long domainHash;
    private final Map<Integer, SessionFault> sessions = new ConcurrentHashMap<>();
    private final Map<Integer, TxPlan> transactions = new ConcurrentHashMap<>();
    private final Map<Integer, AtomicInteger> rcptIndex = new ConcurrentHashMap<>();
    private final Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();

    Injector(String domain) {
      this.domain = domain;
      this.domainHash = domain.hashCode();
    }

    private SessionFault session(int id) {
      return sessions.computeIfAbsent(
          id, k -> drawSession(new SplittableRandom(mix(seed, domainHash, 1, k))));
    }

    private Optional<SmtpAction> fire(String name, SmtpAction action) {
      count(name);
      return Optional.of(action);
    }

    @Override
    public Optional<SmtpAction> at(SmtpFaultContext c) {
      if (!enabled) {
        return Optional.empty();
      }
      SessionFault sf = session(c.sessionId());
      switch (c.step()) {
        case GREETING:
          switch (sf) {
            case GREETING_421:
              return fire(sf.name(), SmtpAction.reply(421, "4.3.2 soak: service not available"));
            case GREETING_554:
              return fire(sf.name(), SmtpAction.reply(554, "soak: no service for you"));
            case GREETING_DISCONNECT:
              return fire(sf.name(), SmtpAction.disconnect());
            case GREETING_STALL:
              return fire(sf.name(), SmtpAction.stall(stall));
            default:
              return Optional.empty();
          }
        case EHLO:
          if (sf == SessionFault.EHLO_DISCONNECT && !c.tls()) {
            return fire(sf.name(), SmtpAction.disconnect());
          }
          if (sf == SessionFault.EHLO_421 && c.tls()) {
            return fire(sf.name(), SmtpAction.reply(421, "4.3.2", "soak: shutting down"));
          }
          if (sf == SessionFault.EHLO_STALL && !c.tls()) {
            return fire(sf.name(), SmtpAction.stall(stall));
          }
          return Optional.empty();
        case STARTTLS:
          if (sf == SessionFault.STARTTLS_454) {
            return fire(sf.name(), SmtpAction.reply(454, "4.7.0", "soak: TLS not available"));
          }
          if (sf == SessionFault.STARTTLS_DISCONNECT) {
            return fire(sf.name(), SmtpAction.disconnect());
          }
          return Optional.empty();
        case TLS_HANDSHAKE:
          if (sf == SessionFault.TLS_HANDSHAKE_ABORT) {
            return fire(sf.name(), SmtpAction.disconnect());
          }
          if (sf == SessionFault.TLS_HANDSHAKE_GARBAGE) {
            return fire(sf.name(), SmtpAction.raw("HTTP/1.1 400 Bad Request\r\n\r\n"));
          }
          return Optional.empty();
        case RSET:
          return sf == SessionFault.RSET_DISCONNECT
              ? fire(sf.name(), SmtpAction.disconnect())
              : Optional.empty();
        case QUIT:
          return sf == SessionFault.QUIT_DISCONNECT
              ? fire(sf.name(), SmtpAction.disconnect())
              : Optional.empty();
        case MAIL:
          return mail(c);
        case RCPT:
          return rcpt(c);
        case DATA:
          return data(c);
        case DATA_END:
          return dataEnd(c);
        case BDAT:
          return bdat(c);
        default:
          return Optional.empty();
      }
    }

    private TxPlan plan(SmtpFaultContext c) {
      return transactions.getOrDefault(c.sessionId(), new TxPlan(TxFault.NONE, 0, -1, -1));
    }

    private Optional<SmtpAction> mail(SmtpFaultContext c) {
      String from = c.mailFrom().orElse("");
      int attempt = attempts.computeIfAbsent(from, k -> new AtomicInteger()).incrementAndGet();
      SplittableRandom r = new SplittableRandom(mix(seed, domainHash, 2, from.hashCode(), attempt));
      TxFault f = drawTransaction(r);
      TxPlan plan = new TxPlan(f, r.nextLong(), 1 + r.nextInt(4096), r.nextInt(4));
      transactions.put(c.sessionId(), plan);
      rcptIndex.put(c.sessionId(), new AtomicInteger());
      switch (f) {
        case MAIL_451:
          return fire(f.name(), SmtpAction.reply(451, "4.3.0", "soak: try later"));
        case MAIL_550:
          return fire(f.name(), SmtpAction.reply(550, "5.7.1", "soak: sender refused"));
        case MAIL_421:
          return fire(f.name(), SmtpAction.reply(421, "4.3.2", "soak: closing"));
        case MAIL_DISCONNECT:
          return fire(f.name(), SmtpAction.disconnect());
        case MAIL_STALL:
          // With the message in one round trip, the server then has it and may accept it late.
          lateReplies.add(from + "|" + domain);
          return fire(f.name(), SmtpAction.stall(stall));
        default:
          return Optional.empty();
      }
    }

    private Optional<SmtpAction> rcpt(SmtpFaultContext c) {
      TxPlan plan = plan(c);
      int index =
          rcptIndex.computeIfAbsent(c.sessionId(), k -> new AtomicInteger()).getAndIncrement();
      if (index == plan.rcptFaultAt()) {
        if (plan.fault() == TxFault.RCPT_421) {
          return fire(plan.fault().name(), SmtpAction.reply(421, "4.3.2", "soak: closing"));
        }
        if (plan.fault() == TxFault.RCPT_DISCONNECT) {
          return fire(plan.fault().name(), SmtpAction.disconnect());
        }
        if (plan.fault() == TxFault.RCPT_STALL) {
          lateReplies.add(c.mailFrom().orElse("") + "|" + domain);
          return fire(plan.fault().name(), SmtpAction.stall(stall));
        }
      }
      String rcpt = c.recipient().orElse("");
      SplittableRandom r = new SplittableRandom(mix(plan.seedForRecipients(), rcpt.hashCode()));
      double x = r.nextDouble();
      if (x < 0.02) {
        return fire("RCPT_450", SmtpAction.reply(450, "4.2.1", "soak: mailbox busy"));
      }
      if (x < 0.04) {
        return fire("RCPT_550", SmtpAction.reply(550, "5.1.1", "soak: no such user"));
      }
      return Optional.empty();
    }

    private Optional<SmtpAction> data(SmtpFaultContext c) {
      TxFault f = plan(c).fault();
      switch (f) {
        case DATA_451:
          return fire(f.name(), SmtpAction.reply(451, "4.3.0", "soak: not now"));
        case DATA_554:
          return fire(f.name(), SmtpAction.reply(554, "5.3.0", "soak: no"));
        case DATA_421:
          return fire(f.name(), SmtpAction.reply(421, "4.3.2", "soak: closing"));
        case DATA_DISCONNECT:
          return fire(f.name(), SmtpAction.disconnect());
        default:
          return Optional.empty();
      }
    }

    private Optional<SmtpAction> bdat(SmtpFaultContext c) {
      TxPlan plan = plan(c);
      if (plan.fault() == TxFault.NONE && plan.dropAt() != CHUNK_SEEN) {
        // Only a message larger than one chunk (over 1 MiB, BdatOutputStream.DEFAULT_CHUNK_SIZE)
        // has a chunk before BDAT LAST, and few messages are: drawn at MAIL with every other
        // transaction fault, the chunk faults almost never met one (none in 10,000 messages).
        // So the first such chunk of a transaction without a fault draws again, from the
        // transaction's own seed: half of them meet a chunk fault.
        SplittableRandom r = new SplittableRandom(mix(plan.seedForRecipients(), 3));
        TxFault f =
            r.nextBoolean()
                ? TxFault.NONE
                : r.nextBoolean() ? TxFault.BDAT_451 : TxFault.BDAT_DISCONNECT;
        plan = new TxPlan(f, plan.seedForRecipients(), CHUNK_SEEN, plan.rcptFaultAt());
        transactions.put(c.sessionId(), plan);
      }
      if (plan.fault() == TxFault.BDAT_DISCONNECT || plan.fault() == TxFault.BDAT_451) {
        // Once per transaction: the plan is replaced by a fault-free one.
        transactions.put(
            c.sessionId(), new TxPlan(TxFault.NONE, plan.seedForRecipients(), CHUNK_SEEN, -1));
        return plan.fault() == TxFault.BDAT_DISCONNECT
            ? fire(plan.fault().name(), SmtpAction.disconnect())
            : fire(plan.fault().name(), SmtpAction.reply(451, "4.3.0", "soak: chunk refused"));
      }
      return Optional.empty();
    }

    private Optional<SmtpAction> dataEnd(SmtpFaultContext c) {
      TxFault f = plan(c).fault();
      transactions.remove(c.sessionId());
      switch (f) {
        case DATA_END_451:
          return fire(f.name(), SmtpAction.reply(451, "4.3.0", "soak: queue full"));
        case DATA_END_554:
          return fire(f.name(), SmtpAction.reply(554, "5.6.0", "soak: content refused"));
        case DATA_END_421:
          return fire(f.name(), SmtpAction.reply(421, "4.3.2", "soak: closing"));
        case DATA_END_DISCONNECT:
          return fire(f.name(), SmtpAction.disconnect());
        case DATA_END_RESET:
          return fire(f.name(), SmtpAction.reset());
        case DATA_END_LATE_250:
          lateReplies.add(c.mailFrom().orElse("") + "|" + domain);
          return fire(f.name(), SmtpAction.stall(stall));
        case DATA_END_250_THEN_DISCONNECT:
          return fire(f.name(), SmtpAction.proceed().thenDisconnect());
        default:
          return Optional.empty();
      }
    }

    @Override
    public long dropAfterContentOctets(SmtpFaultContext c) {
      TxPlan plan = plan(c);
      if (enabled && plan.fault() == TxFault.MID_DATA_DROP) {
        count(TxFault.MID_DATA_DROP.name());
        return plan.dropAt();
      }
      return -1;
    }

    @Override
    public Optional<SmtpContentFault> contentFault(SmtpFaultContext c) {
      TxPlan plan = plan(c);
      if (!enabled) {
        return Optional.empty();
      }
      switch (plan.fault()) {
        case MID_DATA_CLOSE_NOTIFY:
          count(plan.fault().name());
          return Optional.of(SmtpContentFault.closeNotify(plan.dropAt()));
        case MID_DATA_CLOSE_WITHOUT_NOTIFY:
          count(plan.fault().name());
          return Optional.of(SmtpContentFault.closeWithoutCloseNotify(plan.dropAt()));
        case MID_DATA_STALL:
          count(plan.fault().name());
          // The server reads on after its stall: what sat in the socket's buffers may make a
          // whole message it accepts after the client gave up, as after a slow read.
          slowReads.add(c.mailFrom().orElse("") + "|" + domain);
          return Optional.of(SmtpContentFault.stopReading(plan.dropAt(), stall));
        default:
          return Optional.empty();
      }
    }

    @Override
    public Duration contentReadPause(SmtpFaultContext c) {
      if (enabled && plan(c).fault() == TxFault.SLOW_READER) {
        count(TxFault.SLOW_READER.name());
        slowReads.add(c.mailFrom().orElse("") + "|" + domain);
        return Duration.ofMillis(20);
      }
      return Duration.ZERO;
    }

    @Override
    public String toString() {
      return "SoakFaults(" + domain + ")";
    }
  }
}
