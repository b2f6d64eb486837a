package io.mailtls.benchmarks;

import io.mailtls.core.SecureSmtpTransport;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import jakarta.mail.Transport;
import jakarta.mail.internet.MimeMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The relay path, mailtls against Angus Mail, in one run of interleaved rounds (docs/benchmarks.md
 * "End to end"): both clients send the same input to the same loopback STARTTLS sink (a separate
 * process), both verify it by PKIX against the testkit's CA and the name {@code localhost}.
 *
 * <ul>
 *   <li>{@code a_mailtls_reuse}: one shared transport, relay = SmartHost, connection reuse with the
 *       library's defaults (4 sessions, each reused for up to 300 s); input: ready-made RFC 5322
 *       bytes.
 *   <li>{@code b_mailtls_newconn}: one shared transport with {@code noConnectionReuse()}: a new
 *       connection (TCP, EHLO, STARTTLS, full handshake) per message. A fresh transport per message
 *       would also time building a transport (its timer threads, trust managers), which Angus's
 *       {@code Transport.send} has no counterpart of; one shared non-reusing transport is the fair
 *       match.
 *   <li>{@code b_angus_send_nodelay}: {@code Transport.send} per message (a new connection each),
 *       sockets with TCP_NODELAY.
 *   <li>{@code c_angus_send_default}: {@code Transport.send} with Angus's defaults.
 *   <li>{@code d_angus_reuse_nodelay}: one connected {@code Transport} per client thread, reused,
 *       TCP_NODELAY; {@code sendMessage} of the message parsed from the bytes.
 *   <li>{@code e_mailtls_jakarta}: {@code MailtlsJakarta.send} of a {@code MimeMessage} built per
 *       message, on a shared reusing transport; {@code e_angus_reuse_nodelay_mime}: the same {@code
 *       MimeMessage}, saved and sent by Angus as in {@code d}.
 * </ul>
 *
 * Angus Mail cannot send bytes: its "bytes" input is a {@code MimeMessage} parsed from the same
 * bytes for every message, which it writes out unchanged with {@code sendMessage} (after {@code
 * saveChanges} with {@code Transport.send}, as that method does).
 */
public final class EndToEnd {

  static final String TO = "rcpt@elsewhere.bench.test";

  private EndToEnd() {}

  public static void main(String[] argv) throws Exception {
    run(argv);
    System.exit(0);
  }

  /**
   * Options: {@code --seconds} measured seconds per contender and size, split over {@code --rounds}
   * (default 20 and 5), {@code --warmup} seconds per contender and size (default 3), {@code
   * --threads} (4), {@code --sizes} (10240,102400), {@code --out} (benchmarks/results/e2e.csv; the
   * ratios go to the same name with {@code -ratios}), {@code --workdir} (a new temporary one).
   *
   * @return the totals per contender ({@code scenario@size})
   */
  public static Map<String, Rounds.Result> run(String[] argv) throws Exception {
    Args args = new Args(argv);
    double seconds = args.decimal("seconds", 20);
    int rounds = args.integer("rounds", 5);
    double warmup = args.decimal("warmup", 3);
    int threads = args.integer("threads", 4);
    List<Integer> sizes = args.integers("sizes", "10240,102400");
    Path out = Path.of(args.string("out", "benchmarks/results/e2e.csv"));
    Path work =
        Path.of(args.string("workdir", Files.createTempDirectory("mailtls-e2e").toString()));
    args.done();

    Csv csv = new Csv(out, Rounds.COLUMNS);
    Csv ratios = new Csv(ratioFile(out), Rounds.RATIO_COLUMNS);
    try (PeerProcess peer = PeerProcess.start(work, List.of(), "--mx-hosts", "0")) {
      KeyStore trust = peer.trustStore();
      int port = peer.port("smtp_port");
      List<Rounds.Contender> all = new ArrayList<>();
      try (SecureSmtpTransport reuse = Mailtls.relay(trust, port, true);
          SecureSmtpTransport newConn = Mailtls.relay(trust, port, false);
          SecureSmtpTransport jakarta = Mailtls.relay(trust, port, true)) {
        Session angusNoDelay = Angus.session(trust, port, true);
        Session angusDefault = Angus.session(trust, port, false);
        for (int size : sizes) {
          byte[] bytes = Messages.rfc5322(TO, size);
          all.add(new MailtlsBytes("a_mailtls_reuse", reuse, bytes, size));
          all.add(
              new AngusReuse("d_angus_reuse_nodelay", "bytes", angusNoDelay, threads, size, bytes));
          all.add(new MailtlsBytes("b_mailtls_newconn", newConn, bytes, size));
          all.add(new AngusSend("b_angus_send_nodelay", angusNoDelay, bytes, size));
          all.add(new AngusSend("c_angus_send_default", angusDefault, bytes, size));
          all.add(new MailtlsMime("e_mailtls_jakarta", jakarta, size));
          all.add(
              new AngusReuse(
                  "e_angus_reuse_nodelay_mime", "mime", angusNoDelay, threads, size, null));
        }
        checkFirst(all);
        Map<String, Rounds.Result> totals =
            new Rounds("e2e", peer, threads, csv).run(all, warmup, rounds, seconds / rounds);
        for (int size : sizes) {
          Rounds.ratio(ratios, "e2e", size, "a_mailtls_reuse", "d_angus_reuse_nodelay", totals);
          Rounds.ratio(ratios, "e2e", size, "b_mailtls_newconn", "b_angus_send_nodelay", totals);
          Rounds.ratio(
              ratios, "e2e", size, "c_angus_send_default", "d_angus_reuse_nodelay", totals);
          Rounds.ratio(
              ratios, "e2e", size, "e_mailtls_jakarta", "e_angus_reuse_nodelay_mime", totals);
        }
        return totals;
      } finally {
        for (Rounds.Contender c : all) {
          c.close();
        }
      }
    }
  }

  /** {@code e2e.csv} → {@code e2e-ratios.csv}, beside it. */
  static Path ratioFile(Path out) {
    String name = out.getFileName().toString();
    String base = name.endsWith(".csv") ? name.substring(0, name.length() - 4) : name;
    return out.resolveSibling(base + "-ratios.csv");
  }

  /** Every contender must deliver one message before anything is timed. */
  static void checkFirst(List<? extends Rounds.Contender> all) throws Exception {
    for (Rounds.Contender c : all) {
      if (!c.send(0)) {
        throw new IllegalStateException(c.scenario + " did not deliver its first message");
      }
    }
  }

  static final class MailtlsBytes extends Rounds.Contender {
    private final SecureSmtpTransport transport;
    private final byte[] bytes;

    MailtlsBytes(String scenario, SecureSmtpTransport transport, byte[] bytes, int size) {
      super(scenario, "mailtls", "bytes", size, 0);
      this.transport = transport;
      this.bytes = bytes;
    }

    @Override
    protected boolean send(int thread) {
      return Mailtls.send(transport, Messages.FROM, TO, bytes);
    }
  }

  static final class MailtlsMime extends Rounds.Contender {
    private final SecureSmtpTransport transport;
    private final Session session = Messages.plainSession();

    MailtlsMime(String scenario, SecureSmtpTransport transport, int size) {
      super(scenario, "mailtls", "mime", size, 0);
      this.transport = transport;
    }

    @Override
    protected boolean send(int thread) throws Exception {
      return Mailtls.sendJakarta(transport, Messages.mime(session, TO, size));
    }
  }

  /** {@code Transport.send}: a new connection per message. */
  static final class AngusSend extends Rounds.Contender {
    private final Session session;
    private final byte[] bytes;

    AngusSend(String scenario, Session session, byte[] bytes, int size) {
      super(scenario, "angus", "bytes", size, 0);
      this.session = session;
      this.bytes = bytes;
    }

    @Override
    protected boolean send(int thread) throws Exception {
      MimeMessage m = Messages.parse(session, bytes);
      Transport.send(m);
      return true;
    }
  }

  /** One connected transport per client thread, reused. */
  static final class AngusReuse extends Rounds.Contender {
    private final Session session;
    private final byte[] bytes;
    private final Transport[] transports;

    AngusReuse(
        String scenario, String input, Session session, int threads, int size, byte[] bytes) {
      super(scenario, "angus", input, size, 0);
      this.session = session;
      this.bytes = bytes;
      this.transports = new Transport[threads];
    }

    @Override
    protected boolean send(int thread) throws Exception {
      Transport t = transports[thread];
      if (t == null) {
        t = session.getTransport("smtp");
        t.connect();
        transports[thread] = t;
      }
      MimeMessage m;
      if (bytes != null) {
        m = Messages.parse(session, bytes);
      } else {
        m = Messages.mime(session, TO, size);
        m.saveChanges();
      }
      try {
        t.sendMessage(m, m.getAllRecipients());
        return true;
      } catch (jakarta.mail.MessagingException e) {
        transports[thread] = null; // reconnect next time
        t.close();
        throw e;
      }
    }

    @Override
    public void close() {
      for (Transport t : transports) {
        if (t != null) {
          try {
            t.close();
          } catch (MessagingException e) {
            // the run is over; a QUIT that fails changes no figure
          }
        }
      }
    }
  }
}
