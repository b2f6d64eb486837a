package io.mailtls.examples.cli;

import io.mailtls.core.DaneProvider;
import io.mailtls.core.DnsRecord;
import io.mailtls.core.DomainName;
import io.mailtls.core.EventListener;
import io.mailtls.core.FailureType;
import io.mailtls.core.SmtpReply;
import io.mailtls.core.TlsDetails;
import io.mailtls.core.TlsRequirement;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLException;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSession;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509ExtendedTrustManager;

/**
 * The live STARTTLS probe of {@code mailtls check --probe}: connects to one MX address, reads
 * the greeting, sends EHLO, and when STARTTLS is offered performs the handshake and QUITs; no
 * MAIL transaction is ever started. Built on plain JDK sockets and {@link SSLSocket}, outside
 * {@code SecureSmtpTransport} (core has no public probe API), with the transport's rules where
 * they matter:
 *
 * <ul>
 *   <li>TLS 1.3 and 1.2 only (RFC 8996; RFC 8461 §7, RFC 7672 §8); SNI is the TLSA base domain
 *       for DANE hosts (RFC 7672 §8.1), else the MX host name, none for an address literal.
 *   <li>Bytes the server sends after its 220 to STARTTLS, before the handshake, are a protocol
 *       violation (RFC 3207 §4.2): the probe fails rather than read them.
 *   <li>The certificate is checked two ways, whatever the requirement: by DANE with the host's
 *       usable TLSA records (the {@link DaneProvider}'s trust manager, as the transport uses it),
 *       and by PKIX with the run's roots and the JDK's {@code HTTPS} identity check of the SNI
 *       name (the transport applies its own RFC 6125 matcher; for ordinary names they agree).
 *       Neither check stops the handshake: the probe sends nothing after it but QUIT.
 * </ul>
 *
 * <p>The verdict applies the host's requirement from the {@code opportunistic} plan (the
 * recipient's own policy): DANE required and passed → {@link Verdict#VERIFIED_DANE}; PKIX passed
 * → {@link Verdict#VERIFIED_PKIX}; TLS without a passing check → {@link Verdict#ENCRYPTED},
 * unless the requirement authenticates (DANE, MTA-STS {@code enforce}), then {@link
 * Verdict#FAILED}; no STARTTLS → {@link Verdict#PLAINTEXT}, or {@link Verdict#FAILED} where TLS is
 * required. Thread-safe: each {@link #probe} uses its own socket and trust manager.
 */
final class StarttlsProbe {

  /** What the probe concluded for one address. */
  enum Verdict {
    /** TLS, and a usable TLSA record authenticated the peer (RFC 7672 §3). */
    VERIFIED_DANE("verified-dane"),
    /** TLS, and the chain verified against the PKIX roots for the host name. */
    VERIFIED_PKIX("verified-pkix"),
    /** TLS, peer not authenticated, and the requirement does not ask for it. */
    ENCRYPTED("encrypted"),
    /** No STARTTLS (offered or accepted), and the requirement allows plaintext. */
    PLAINTEXT("plaintext"),
    /** Unreachable, or short of what the requirement demands. */
    FAILED("failed");

    private final String token;

    Verdict(String token) {
      this.token = token;
    }

    /** The JSON token, e.g. {@code verified-dane}. */
    String token() {
      return token;
    }
  }

  /**
   * The outcome for one address. Immutable; absent values are null (they map to JSON nulls).
   *
   * @param address the address and port probed
   * @param serverName the SNI name sent, or null
   * @param reachable whether the TCP connection was established
   * @param greeting the greeting reply, or null
   * @param starttlsOffered whether EHLO advertised STARTTLS, or null when EHLO was not reached
   * @param protocol the negotiated TLS protocol, or null
   * @param cipher the negotiated cipher suite, or null
   * @param peerChain the certificates presented, leaf first (empty without TLS)
   * @param pkixFailure why PKIX did not verify, or null when it did (or TLS was not reached)
   * @param daneFailure why DANE did not verify, or null when it did or did not apply
   * @param daneMatched the TLSA record that authenticated the peer, or null
   * @param verdict the verdict
   * @param reason why, in words
   * @param millis how long the probe took
   */
  record Result(InetSocketAddress address, String serverName, boolean reachable, String greeting,
      Boolean starttlsOffered, String protocol, String cipher, List<X509Certificate> peerChain,
      String pkixFailure, String daneFailure, String daneMatched, Verdict verdict, String reason,
      long millis) {}

  private static final List<String> PROTOCOLS = List.of("TLSv1.3", "TLSv1.2");
  private static final int MAX_LINE = 2048;
  private static final int MAX_LINES = 256;

  private final int port;
  private final Duration timeout;
  private final String helo;
  private final X509ExtendedTrustManager pkix;
  private final DaneProvider dane;
  private final EventListener listener;

  /**
   * A probe of {@code port} with {@code timeout} per step, saying EHLO {@code helo}, checking
   * PKIX with {@code pkix} and DANE through {@code dane}, reporting to {@code listener}.
   */
  StarttlsProbe(int port, Duration timeout, String helo, X509ExtendedTrustManager pkix,
      DaneProvider dane, EventListener listener) {
    this.port = port;
    this.timeout = timeout;
    this.helo = helo;
    this.pkix = pkix;
    this.dane = dane;
    this.listener = listener;
  }

  /** Probes {@code address} of MX {@code host} under {@code requirement}. Never throws. */
  Result probe(Optional<DomainName> host, InetAddress address, TlsRequirement requirement) {
    long start = System.nanoTime();
    InetSocketAddress peer = new InetSocketAddress(address, port);
    String sni = requirement instanceof TlsRequirement.Dane d ? d.baseDomain().toString()
        : host.map(DomainName::toString).orElse(null);
    Attempt a = new Attempt(host, peer, sni, requirement);
    try {
      a.run();
    } catch (RuntimeException e) {
      a.fail("probe failed: " + e);
    }
    return a.result((System.nanoTime() - start) / 1_000_000);
  }

  /** One probe's state, confined to the calling thread. */
  private final class Attempt {
    private final Optional<DomainName> host;
    private final InetSocketAddress peer;
    private final String sni;
    private final TlsRequirement requirement;
    private boolean reachable;
    private String greeting;
    private Boolean offered;
    private String protocol;
    private String cipher;
    private List<X509Certificate> chain = List.of();
    private Checker checker;
    private Verdict verdict;
    private String reason;

    Attempt(Optional<DomainName> host, InetSocketAddress peer, String sni,
        TlsRequirement requirement) {
      this.host = host;
      this.peer = peer;
      this.sni = sni;
      this.requirement = requirement;
    }

    void fail(String why) {
      verdict = Verdict.FAILED;
      reason = why;
    }

    /** No TLS: plaintext where allowed, else a failure (the transport would not deliver). */
    void noTls(String why) {
      if (requirement.requiresTls()) {
        fail(why + "; the " + TraceListener.requirement(requirement)
            + " requirement needs TLS, so the transport would not deliver here");
      } else {
        verdict = Verdict.PLAINTEXT;
        reason = why + "; opportunistic: the transport would deliver in plaintext";
      }
    }

    Result result(long millis) {
      return new Result(peer, sni, reachable, greeting, offered, protocol, cipher, chain,
          checker == null || !checker.called ? null : checker.pkixFailure,
          checker == null ? null : checker.daneFailure,
          checker == null ? null : checker.daneMatched, verdict, reason, millis);
    }

    void run() {
      listener.connectStart(host, peer);
      Socket socket = new Socket();
      try {
        try {
          socket.connect(peer, (int) timeout.toMillis());
          socket.setSoTimeout((int) timeout.toMillis());
          socket.setTcpNoDelay(true);
        } catch (IOException e) {
          listener.connectEnd(host, peer, Optional.of(e instanceof SocketTimeoutException
              ? FailureType.TIMEOUT : FailureType.CONNECTION_FAILED));
          fail("connection failed: " + describe(e));
          return;
        }
        reachable = true;
        session(socket);
      } catch (SocketTimeoutException e) {
        fail("no reply within " + timeout.toSeconds() + " s");
      } catch (IOException e) {
        fail("connection lost: " + describe(e));
      } finally {
        try {
          socket.close();
        } catch (IOException e) {
          // Closing a probe socket: nothing left to report.
        }
      }
    }

    private void session(Socket socket) throws IOException {
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      Reply hello = Reply.read(in);
      greeting = hello.toString();
      if (hello.code() != 220) {
        listener.connectEnd(host, peer, Optional.of(FailureType.GREETING_REJECTED));
        fail("greeting not 220: " + hello);
        return;
      }
      listener.connectEnd(host, peer, Optional.empty());
      send(out, "EHLO " + helo);
      Reply ehlo = Reply.read(in);
      if (ehlo.code() / 100 != 5 && ehlo.code() != 250) {
        // RFC 5321 §4.3.2: 250 is EHLO's only success; the transport treats any other non-5xx
        // reply as a protocol error (a 5xx leads it to HELO, which works without TLS).
        quit(in, out);
        fail("EHLO answered " + ehlo + ": a protocol error (RFC 5321 §4.3.2), nothing is sent");
        return;
      }
      offered = ehlo.code() == 250 && ehlo.lines().stream().skip(1)
          .anyMatch(l -> l.trim().toUpperCase(Locale.ROOT).equals("STARTTLS"));
      if (!offered) {
        quit(in, out);
        noTls(ehlo.code() == 250 ? "STARTTLS not offered" : "EHLO refused: " + ehlo);
        return;
      }
      listener.startTlsStart(host, peer);
      send(out, "STARTTLS");
      Reply go = Reply.read(in);
      listener.startTlsEnd(host, peer, Optional.of(go.toSmtpReply()));
      if (go.code() != 220) {
        quit(in, out);
        noTls("STARTTLS refused: " + go);
        return;
      }
      if (in.available() > 0) {
        // RFC 3207 §4.2: anything before the handshake was sent in plaintext; never read it.
        fail("the server sent " + in.available() + " byte(s) after its 220 to STARTTLS, before"
            + " TLS (RFC 3207 §4.2: response injection)");
        return;
      }
      handshake(socket);
    }

    private void handshake(Socket socket) throws IOException {
      listener.handshakeStart(host, peer, requirement);
      checker = new Checker(requirement instanceof TlsRequirement.Dane d
          ? dane.trustManager(d) : null);
      SSLSocket tls;
      try {
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {checker}, null);
        tls = (SSLSocket) ctx.getSocketFactory().createSocket(socket,
            sni != null ? sni : peer.getAddress().getHostAddress(), peer.getPort(), true);
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException("cannot create a TLS context", e);
      }
      SSLParameters params = tls.getSSLParameters();
      List<String> supported = Arrays.asList(tls.getSupportedProtocols());
      params.setProtocols(PROTOCOLS.stream().filter(supported::contains).toArray(String[]::new));
      params.setServerNames(sni == null ? List.of() : List.of(new SNIHostName(sni)));
      // The JDK's trust manager checks the SNI name (or the address) under HTTPS rules.
      params.setEndpointIdentificationAlgorithm("HTTPS");
      tls.setSSLParameters(params);
      try {
        tls.startHandshake();
      } catch (SSLException e) {
        listener.handshakeEnd(host, peer, Optional.empty(),
            Optional.of(FailureType.TLS_HANDSHAKE_FAILED), describe(e));
        fail("TLS handshake failed: " + describe(e)
            + (requirement.requiresTls() ? "" : " (opportunistic: the transport would retry in"
                + " plaintext on a fresh connection)"));
        return;
      }
      SSLSession s = tls.getSession();
      protocol = s.getProtocol();
      cipher = s.getCipherSuite();
      List<X509Certificate> certs = new ArrayList<>();
      for (Certificate c : s.getPeerCertificates()) {
        if (c instanceof X509Certificate x) {
          certs.add(x);
        }
      }
      chain = List.copyOf(certs);
      decide();
      listener.handshakeEnd(host, peer, Optional.of(new TlsDetails(protocol, cipher, chain,
          Optional.ofNullable(sni))), verdict == Verdict.FAILED
              ? Optional.of(FailureType.VALIDATION_FAILURE) : Optional.empty(), reason);
      quit(tls.getInputStream(), tls.getOutputStream());
      tls.close();
    }

    /** The verdict once TLS is up, from the two checks and the requirement. */
    private void decide() {
      String pkixText = checker.pkixFailure == null ? "PKIX verified for " + nameChecked()
          : "PKIX: " + checker.pkixFailure;
      if (requirement instanceof TlsRequirement.Dane) {
        if (checker.daneFailure == null) {
          verdict = Verdict.VERIFIED_DANE;
          reason = "DANE: TLSA record " + checker.daneMatched + " matched; " + pkixText;
        } else {
          fail("DANE required: " + checker.daneFailure + "; " + pkixText);
        }
      } else if (checker.pkixFailure == null) {
        verdict = Verdict.VERIFIED_PKIX;
        reason = pkixText;
      } else if (requirement instanceof TlsRequirement.Pkix) {
        fail("MTA-STS enforce requires PKIX: " + checker.pkixFailure);
      } else {
        verdict = Verdict.ENCRYPTED;
        reason = "certificate not verified (" + pkixText + "); the "
            + TraceListener.requirement(requirement) + " requirement does not ask for it";
      }
    }

    private String nameChecked() {
      return sni != null ? sni : peer.getAddress().getHostAddress();
    }

    private void quit(InputStream in, OutputStream out) {
      try {
        send(out, "QUIT");
        Reply.read(in);
      } catch (IOException e) {
        // The verdict is made; a server that hangs up on QUIT changes nothing.
      }
    }
  }

  private static void send(OutputStream out, String line) throws IOException {
    out.write((line + "\r\n").getBytes(StandardCharsets.US_ASCII));
    out.flush();
  }

  private static String describe(Exception e) {
    return e.getMessage() == null ? e.getClass().getSimpleName()
        : e.getClass().getSimpleName() + ": " + Mailtls.oneLine(e.getMessage());
  }

  /**
   * Runs PKIX and (where it applies) DANE on the presented chain during the handshake, records
   * both outcomes and never refuses: the verdict is made afterwards. Client checks are refused.
   */
  private final class Checker extends X509ExtendedTrustManager {
    private final X509ExtendedTrustManager daneManager;
    private volatile boolean called;
    private volatile String pkixFailure;
    private volatile String daneFailure;
    private volatile String daneMatched;

    Checker(X509ExtendedTrustManager daneManager) {
      this.daneManager = daneManager;
    }

    private void check(X509Certificate[] chain, String authType, Socket socket) {
      called = true;
      try {
        pkix.checkServerTrusted(chain, authType, socket);
      } catch (CertificateException | RuntimeException e) {
        pkixFailure = describe(e);
      }
      if (daneManager != null) {
        try {
          daneManager.checkServerTrusted(chain, authType, socket);
          if (daneManager instanceof DaneProvider.Matched m) {
            daneMatched = m.matchedRecord().map(DnsRecord.Tlsa::toString).orElse("(unnamed)");
          }
        } catch (CertificateException | RuntimeException e) {
          daneFailure = Mailtls.oneLine(e.getMessage());
        }
      }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
      check(chain, authType, socket);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType,
        SSLEngine engine) {
      check(chain, authType, null);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {
      check(chain, authType, null);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket)
        throws CertificateException {
      throw new CertificateException("the probe is a client");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType,
        SSLEngine engine) throws CertificateException {
      throw new CertificateException("the probe is a client");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType)
        throws CertificateException {
      throw new CertificateException("the probe is a client");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }

  /**
   * One SMTP reply as the probe reads it: unbuffered, byte by byte, so that nothing beyond the
   * reply is consumed (RFC 3207 §4.2 needs to see what follows); lines and their count bounded.
   */
  record Reply(int code, List<String> lines) {

    static Reply read(InputStream in) throws IOException {
      List<String> lines = new ArrayList<>();
      while (true) {
        String line = readLine(in);
        if (line.length() < 3 || !line.substring(0, 3).chars().allMatch(Character::isDigit)
            || (line.length() > 3 && line.charAt(3) != ' ' && line.charAt(3) != '-')) {
          throw new IOException("malformed SMTP reply line: \"" + line + "\"");
        }
        lines.add(line.length() > 4 ? line.substring(4) : "");
        if (line.length() == 3 || line.charAt(3) == ' ') {
          int code = Integer.parseInt(line.substring(0, 3));
          if (code < 200 || code > 599) {
            throw new IOException("SMTP reply code out of range: " + code);
          }
          return new Reply(code, List.copyOf(lines));
        }
        if (lines.size() >= MAX_LINES) {
          throw new IOException("SMTP reply longer than " + MAX_LINES + " lines");
        }
      }
    }

    private static String readLine(InputStream in) throws IOException {
      ByteArrayOutputStream buf = new ByteArrayOutputStream();
      while (true) {
        int b = in.read();
        if (b < 0) {
          throw new IOException("connection closed by the server");
        }
        if (b == '\n') {
          byte[] bytes = buf.toByteArray();
          int n = bytes.length > 0 && bytes[bytes.length - 1] == '\r' ? bytes.length - 1
              : bytes.length;
          // A stray CR inside a line is kept visible, never as a line break.
          return new String(bytes, 0, n, StandardCharsets.UTF_8).replace('\r', ' ');
        }
        if (buf.size() >= MAX_LINE) {
          throw new IOException("SMTP reply line longer than " + MAX_LINE + " octets");
        }
        buf.write(b);
      }
    }

    SmtpReply toSmtpReply() {
      return new SmtpReply(code, Optional.empty(), lines, false);
    }

    @Override
    public String toString() {
      return code + " " + String.join(" / ", lines);
    }
  }
}
