package io.mailtls.benchmarks.peer;

import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLSocket;

/**
 * A lean SMTP server for benchmarks: accepts every command, offers STARTTLS, PIPELINING, SIZE,
 * 8BITMIME, SMTPUTF8, ENHANCEDSTATUSCODES and CHUNKING, discards message data and counts what it
 * accepted. The testkit's {@code MockSmtpServer} records every session and message in memory (it is
 * made for assertions), which neither a long run nor a 1 GiB message can afford.
 *
 * <p>One thread per connection, blocking I/O, 64 KiB buffers; replies to pipelined commands are
 * flushed together when the client's input is used up. Listens on one port on each of several
 * loopback addresses (MX hosts of their own). Thread-safe.
 */
public final class SmtpSink implements Closeable {

  private static final int BUFFER = 64 * 1024;
  private static final int MAX_LINE = 4096;

  private final SSLContext tls;
  private final String hostname;
  private final List<ServerSocket> listeners = new ArrayList<>();
  private final Set<Socket> open = ConcurrentHashMap.newKeySet();
  private final LongAdder messages = new LongAdder();
  private final LongAdder bytes = new LongAdder();
  private final LongAdder connections = new LongAdder();
  private final LongAdder handshakes = new LongAdder();
  private volatile boolean closed;

  private SmtpSink(SSLContext tls, String hostname) {
    this.tls = tls;
    this.hostname = hostname;
  }

  /**
   * Starts listening on {@code addresses}, all on one port ({@code port}, or a free one for 0).
   *
   * @param tls the server context STARTTLS uses
   */
  public static SmtpSink start(
      List<InetAddress> addresses, int port, SSLContext tls, String hostname) throws IOException {
    SmtpSink sink = null;
    for (int attempt = 0; sink == null; attempt++) {
      SmtpSink candidate = new SmtpSink(tls, hostname);
      try {
        int bound = port;
        for (InetAddress a : addresses) {
          ServerSocket s = new ServerSocket();
          candidate.listeners.add(s);
          s.setReuseAddress(true);
          s.bind(new InetSocketAddress(a, bound), 1024);
          bound = s.getLocalPort();
        }
        sink = candidate;
      } catch (java.net.BindException e) {
        candidate.close();
        // an ephemeral port free on the first address but taken on another: try another one
        if (port != 0 || attempt >= 20) {
          throw e;
        }
      } catch (IOException e) {
        candidate.close();
        throw e;
      }
    }
    SmtpSink started = sink;
    for (ServerSocket s : started.listeners) {
      Thread t = new Thread(() -> started.accept(s), "sink-accept-" + s.getInetAddress());
      t.setDaemon(true);
      t.start();
    }
    return started;
  }

  /** The port every address listens on. */
  public int port() {
    return listeners.get(0).getLocalPort();
  }

  /** Messages accepted (250 to the final dot or to BDAT LAST). */
  public long messages() {
    return messages.sum();
  }

  /** Message octets received (DATA as sent, dot-stuffed; BDAT chunk octets). */
  public long bytes() {
    return bytes.sum();
  }

  /** Connections accepted. */
  public long connections() {
    return connections.sum();
  }

  /** STARTTLS handshakes completed. */
  public long handshakes() {
    return handshakes.sum();
  }

  private void accept(ServerSocket server) {
    while (!closed) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        return;
      }
      connections.increment();
      open.add(s);
      // Named by the address it serves, so a profile tells the relay's sessions from the MX hosts'.
      Thread t = new Thread(() -> serve(s), "sink-session-" + s.getLocalAddress().getHostAddress());
      t.setDaemon(true);
      t.start();
    }
  }

  private void serve(Socket socket) {
    Socket current = socket;
    try {
      socket.setTcpNoDelay(true);
      Session session = new Session(socket);
      current = session.run();
    } catch (IOException | RuntimeException e) {
      // the client went away, or spoke nonsense: the session ends
    } finally {
      closeQuietly(current);
      closeQuietly(socket);
      open.remove(socket);
    }
  }

  /** One SMTP session; confined to its thread. */
  private final class Session {
    private Socket socket;
    private InputStream in;
    private OutputStream out;
    private final byte[] buf = new byte[BUFFER];
    private int pos;
    private int limit;
    private final byte[] outBuf = new byte[BUFFER];
    private int outPos;
    private boolean secure;

    Session(Socket socket) throws IOException {
      this.socket = socket;
      this.in = socket.getInputStream();
      this.out = socket.getOutputStream();
    }

    Socket run() throws IOException {
      reply("220 " + hostname + " ESMTP benchmark sink\r\n");
      flush();
      while (true) {
        String line = readLine();
        if (line == null) {
          return socket;
        }
        String verb = line.length() >= 4 ? line.substring(0, 4).toUpperCase(Locale.ROOT) : "";
        switch (verb) {
          case "EHLO" -> {
            reply(
                "250-"
                    + hostname
                    + "\r\n250-PIPELINING\r\n250-SIZE 0\r\n250-8BITMIME\r\n"
                    + "250-SMTPUTF8\r\n250-ENHANCEDSTATUSCODES\r\n"
                    + (secure ? "" : "250-STARTTLS\r\n")
                    + "250 CHUNKING\r\n");
          }
          case "HELO" -> reply("250 " + hostname + "\r\n");
          case "STAR" -> {
            if (secure) {
              reply("503 5.5.1 TLS already active\r\n");
              continue;
            }
            reply("220 2.0.0 ready to start TLS\r\n");
            flush();
            startTls();
          }
          case "MAIL" -> reply("250 2.1.0 OK\r\n");
          case "RCPT" -> reply("250 2.1.5 OK\r\n");
          case "DATA" -> {
            reply("354 end with <CRLF>.<CRLF>\r\n");
            flush();
            if (!readData()) {
              return socket;
            }
            messages.increment();
            reply("250 2.0.0 OK accepted\r\n");
          }
          case "BDAT" -> {
            String[] parts = line.trim().split(" +", -1);
            long size = Long.parseLong(parts[1]);
            if (!skip(size)) {
              return socket;
            }
            bytes.add(size);
            boolean last = parts.length > 2 && parts[2].equalsIgnoreCase("LAST");
            if (last) {
              messages.increment();
              reply("250 2.0.0 OK accepted\r\n");
            } else {
              reply("250 2.0.0 " + size + " octets received\r\n");
            }
          }
          case "RSET" -> reply("250 2.0.0 OK\r\n");
          case "NOOP" -> reply("250 2.0.0 OK\r\n");
          case "QUIT" -> {
            reply("221 2.0.0 bye\r\n");
            flush();
            return socket;
          }
          default -> reply("502 5.5.2 not implemented\r\n");
        }
      }
    }

    private void startTls() throws IOException {
      if (pos < limit) {
        throw new IOException("plaintext after STARTTLS"); // RFC 3207 §4.2: never used
      }
      SSLSocket ssl =
          (SSLSocket) tls.getSocketFactory().createSocket(socket, null, socket.getPort(), true);
      ssl.setUseClientMode(false);
      ssl.startHandshake();
      handshakes.increment();
      socket = ssl;
      in = ssl.getInputStream();
      out = ssl.getOutputStream();
      secure = true;
    }

    private void reply(String text) throws IOException {
      byte[] b = text.getBytes(StandardCharsets.US_ASCII);
      if (outPos + b.length > outBuf.length) {
        flush();
      }
      System.arraycopy(b, 0, outBuf, outPos, b.length);
      outPos += b.length;
    }

    private void flush() throws IOException {
      if (outPos > 0) {
        out.write(outBuf, 0, outPos);
        out.flush();
        outPos = 0;
      }
    }

    /** Refills the input buffer, flushing replies first: the client waits for them. */
    private boolean fill() throws IOException {
      if (pos < limit) {
        return true;
      }
      flush();
      int n = in.read(buf, 0, buf.length);
      if (n <= 0) {
        return false;
      }
      pos = 0;
      limit = n;
      return true;
    }

    private String readLine() throws IOException {
      StringBuilder sb = new StringBuilder(64);
      while (true) {
        if (!fill()) {
          return null;
        }
        int start = pos;
        while (pos < limit && buf[pos] != '\n') {
          pos++;
        }
        int end = pos;
        boolean found = pos < limit;
        if (found) {
          pos++;
        }
        for (int i = start; i < end; i++) {
          sb.append((char) (buf[i] & 0xff));
        }
        if (sb.length() > MAX_LINE) {
          throw new IOException("command line too long");
        }
        if (found) {
          int len = sb.length();
          if (len > 0 && sb.charAt(len - 1) == '\r') {
            sb.setLength(len - 1);
          }
          return sb.toString();
        }
      }
    }

    /** Discards DATA up to and including CRLF.CRLF; false at end of stream. */
    private boolean readData() throws IOException {
      // 0: at a line start; 1: a dot at a line start; 2: dot CR; 3: inside a line
      int state = 0;
      long n = 0;
      while (true) {
        if (!fill()) {
          return false;
        }
        int i = pos;
        int end = limit;
        while (i < end) {
          byte b = buf[i++];
          if (state == 3) {
            // the common case: skip to the end of the line
            if (b != '\n') {
              while (i < end && buf[i] != '\n') {
                i++;
              }
              if (i == end) {
                break;
              }
              i++;
            }
            state = 0;
          } else if (state == 0) {
            state = b == '.' ? 1 : b == '\n' ? 0 : 3;
          } else if (state == 1) {
            state = b == '\r' ? 2 : b == '\n' ? 0 : 3;
          } else {
            if (b == '\n') {
              n += i - pos;
              pos = i;
              bytes.add(n);
              return true;
            }
            state = 3;
          }
        }
        n += i - pos;
        pos = i;
      }
    }

    /** Discards {@code size} octets of a BDAT chunk; false at end of stream. */
    private boolean skip(long size) throws IOException {
      long left = size;
      while (left > 0) {
        if (!fill()) {
          return false;
        }
        int take = (int) Math.min(left, limit - pos);
        pos += take;
        left -= take;
      }
      return true;
    }
  }

  @Override
  public void close() {
    closed = true;
    for (ServerSocket s : listeners) {
      closeQuietly(s);
    }
    for (Socket s : open) {
      closeQuietly(s);
    }
  }

  private static void closeQuietly(Closeable c) {
    try {
      c.close();
    } catch (IOException e) {
      // closing anyway
    }
  }
}
