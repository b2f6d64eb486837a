package io.mailtls.testkit.internal.smtp;

import io.mailtls.testkit.SmtpFaultInjector;
import java.net.InetAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/**
 * The validated, immutable configuration of one mock SMTP server, built by {@code
 * MockSmtpServer.Builder}.
 *
 * <p>Immutable and thread-safe.
 *
 * @param address the loopback address to bind
 * @param port the port, 0 for an ephemeral one
 * @param hostname the name in the greeting and the EHLO reply
 * @param sslContext the server TLS context, or {@code null} for no TLS
 * @param implicitTls TLS from the first byte (RFC 8314 §3.3) instead of STARTTLS
 * @param stripStarttls accept STARTTLS but leave it out of the EHLO reply
 * @param tlsProtocols protocols to enable on server sockets; empty for the JDK defaults
 * @param tlsCipherSuites cipher suites to enable; empty for the JDK defaults
 * @param legacyTlsVersion the TLS 1.0/1.1 version code to emulate (see {@link LegacyTlsResponder}),
 *     or -1 to run JSSE
 * @param extensions the EHLO keywords other than STARTTLS and AUTH
 * @param credentials user name to password, for AUTH PLAIN and LOGIN; empty for no AUTH
 * @param script the scripted actions
 * @param dropAfterMessageBytes close the connection after this many octets of message content (DATA
 *     as sent, or BDAT chunk octets), -1 for never
 * @param keepMessageBytes keep message octets, not only size and SHA-256
 * @param idleTimeout how long a read may wait before the server gives up (RFC 5321 §4.5.3.2.7)
 * @param faultInjector decides actions at run time before the script is asked, or {@code null}
 * @param keepHeaders keep each message's header section even in digest-only mode
 * @param requireTlsAfterTls advertise REQUIRETLS (RFC 8689) in the EHLO reply over TLS
 * @param requireTlsBeforeTls advertise REQUIRETLS in the plaintext EHLO reply, as an attacker on
 *     the path may inject it before STARTTLS
 * @param receiveBufferSize the accepted sockets' SO_RCVBUF, or 0 for the system's (autotuned)
 */
public record ServerConfig(
    InetAddress address,
    int port,
    String hostname,
    @Nullable SSLContext sslContext,
    boolean implicitTls,
    boolean stripStarttls,
    List<String> tlsProtocols,
    List<String> tlsCipherSuites,
    int legacyTlsVersion,
    List<String> extensions,
    Map<String, String> credentials,
    ActionScript script,
    long dropAfterMessageBytes,
    boolean keepMessageBytes,
    Duration idleTimeout,
    @Nullable SmtpFaultInjector faultInjector,
    boolean keepHeaders,
    boolean requireTlsAfterTls,
    boolean requireTlsBeforeTls,
    int receiveBufferSize) {

  /** Copies the collections. */
  public ServerConfig {
    tlsProtocols = List.copyOf(tlsProtocols);
    tlsCipherSuites = List.copyOf(tlsCipherSuites);
    extensions = List.copyOf(extensions);
    credentials = Map.copyOf(credentials);
  }

  /**
   * The EHLO keyword lines for a session whose TLS state is {@code tlsActive}: the extensions, then
   * STARTTLS unless TLS is active, implicit, absent or stripped (RFC 3207 §4.2: not offered again
   * after the handshake), then AUTH PLAIN LOGIN when credentials exist and the extensions do not
   * name AUTH mechanisms themselves (so a test can offer LOGIN only).
   */
  public List<String> ehloKeywords(boolean tlsActive) {
    List<String> lines = new ArrayList<>(extensions);
    if (tlsActive ? requireTlsAfterTls : requireTlsBeforeTls) {
      lines.add("REQUIRETLS");
    }
    if (sslContext != null && !implicitTls && !stripStarttls && !tlsActive) {
      lines.add("STARTTLS");
    }
    if (!credentials.isEmpty() && !advertises("AUTH")) {
      lines.add("AUTH PLAIN LOGIN");
    }
    return lines;
  }

  /** Whether the extensions include {@code keyword} (case-insensitive, RFC 5321 §2.4). */
  public boolean advertises(String keyword) {
    for (String line : extensions) {
      String first = line.split(" ", 2)[0];
      if (first.toUpperCase(Locale.ROOT).equals(keyword)) {
        return true;
      }
    }
    return false;
  }

  /** The fixed SIZE limit (RFC 1870 §4), or 0 for none. */
  public long sizeLimit() {
    for (String line : extensions) {
      String[] words = line.split(" ", -1);
      if (words[0].toUpperCase(Locale.ROOT).equals("SIZE") && words.length > 1) {
        try {
          return Long.parseLong(words[1]);
        } catch (NumberFormatException e) {
          return 0;
        }
      }
    }
    return 0;
  }

  /** Whether STARTTLS is accepted at all (advertised or stripped). */
  public boolean starttlsAvailable() {
    return sslContext != null && !implicitTls;
  }
}
