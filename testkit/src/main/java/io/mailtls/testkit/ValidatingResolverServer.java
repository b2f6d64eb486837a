package io.mailtls.testkit;

import java.io.ByteArrayInputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.BindException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.xbill.DNS.ExtendedErrorCodeOption;
import org.xbill.DNS.Flags;
import org.xbill.DNS.Message;
import org.xbill.DNS.OPTRecord;
import org.xbill.DNS.Rcode;
import org.xbill.DNS.Record;
import org.xbill.DNS.Section;
import org.xbill.DNS.SimpleResolver;
import org.xbill.DNS.dnssec.ValidatingResolver;

/**
 * A validating recursive resolver on a loopback socket, for testing code that trusts the AD bit (as
 * Postfix does with a local Unbound). Thread-safe.
 *
 * <p>It forwards each query to one upstream (normally a {@link TestDnsServer}) through dnsjava's
 * {@code ValidatingResolver} with the given trust anchor, and answers as a validating resolver
 * would: AD set on validated data, SERVFAIL with an Extended DNS Error (RFC 8914) on bogus data, no
 * AD on insecure data. The dnsjava-specific validation-reason record is removed, so clients see
 * only standard signals. UDP answers larger than the requester's EDNS size are truncated (TC set),
 * TCP answers are complete.
 */
public final class ValidatingResolverServer implements AutoCloseable {

  private static final int MAX_TCP_CONNECTIONS = 64;

  private final SimpleResolver upstream;
  private final ValidatingResolver validator;
  private final DatagramSocket udp;
  private final ServerSocket tcp;
  private final ExecutorService workers;
  private final Set<Socket> connections = ConcurrentHashMap.newKeySet();
  private final AtomicInteger queries = new AtomicInteger();
  private volatile boolean closed;

  private ValidatingResolverServer(
      InetSocketAddress upstream,
      InputStream trustAnchor,
      Clock clock,
      InetAddress bind,
      Duration upstreamTimeout)
      throws IOException {
    SimpleResolver head = new SimpleResolver(upstream);
    head.setTimeout(upstreamTimeout);
    this.validator = new ValidatingResolver(head, clock);
    this.upstream = new SimpleResolver(upstream);
    this.upstream.setTimeout(upstreamTimeout);
    validator.loadTrustAnchors(trustAnchor);
    validator.setAddReasonToAdditional(false);
    Sockets sockets = bindPair(bind);
    this.udp = sockets.udp();
    this.tcp = sockets.tcp();
    AtomicInteger n = new AtomicInteger();
    this.workers =
        Executors.newCachedThreadPool(
            r -> {
              Thread t = new Thread(r, "validating-resolver-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    workers.execute(this::udpLoop);
    workers.execute(this::tcpLoop);
  }

  private record Sockets(DatagramSocket udp, ServerSocket tcp) {}

  /** How often an ephemeral UDP port whose TCP twin is taken is given up for another. */
  private static final int BIND_ATTEMPTS = 20;

  /**
   * A UDP socket on an ephemeral port of {@code bind} and a TCP listener on the same port. The
   * kernel picks the UDP port without looking at TCP, so the TCP port may be in use (by a listener
   * or a connection of another process): then both are closed and another port tried.
   */
  private static Sockets bindPair(InetAddress bind) throws IOException {
    BindException last = null;
    for (int attempt = 0; attempt < BIND_ATTEMPTS; attempt++) {
      DatagramSocket udp = new DatagramSocket(new InetSocketAddress(bind, 0));
      ServerSocket tcp = new ServerSocket();
      try {
        tcp.bind(new InetSocketAddress(bind, udp.getLocalPort()), 16);
        return new Sockets(udp, tcp);
      } catch (BindException e) {
        last = e;
        tcp.close();
        udp.close();
      } catch (IOException | RuntimeException e) {
        tcp.close();
        udp.close();
        throw e;
      }
    }
    throw last;
  }

  /**
   * Starts a validating resolver on an ephemeral port of {@code bind} (UDP and TCP on the same
   * port) that asks {@code upstream} and validates from {@code trustAnchor} (DS or DNSKEY records
   * in zone-file syntax) with {@code clock}.
   *
   * @throws IllegalArgumentException if {@code bind} is not a loopback address
   */
  public static ValidatingResolverServer start(
      InetSocketAddress upstream, String trustAnchor, Clock clock, InetAddress bind) {
    Objects.requireNonNull(upstream, "upstream");
    Objects.requireNonNull(trustAnchor, "trustAnchor");
    Objects.requireNonNull(clock, "clock");
    if (!bind.isLoopbackAddress()) {
      throw new IllegalArgumentException("test servers bind to loopback only: " + bind);
    }
    try {
      return new ValidatingResolverServer(
          upstream,
          new ByteArrayInputStream(trustAnchor.getBytes(java.nio.charset.StandardCharsets.UTF_8)),
          clock,
          bind,
          Duration.ofSeconds(2));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start validating resolver", e);
    }
  }

  /** Starts one on 127.0.0.1 with the system clock. */
  public static ValidatingResolverServer start(InetSocketAddress upstream, String trustAnchor) {
    return start(upstream, trustAnchor, Clock.systemUTC(), InetAddress.getLoopbackAddress());
  }

  /** The address and port clients send queries to. */
  public InetSocketAddress socketAddress() {
    return (InetSocketAddress) udp.getLocalSocketAddress();
  }

  /** How many queries have been answered or attempted. */
  public int queryCount() {
    return queries.get();
  }

  private void udpLoop() {
    byte[] buf = new byte[65535];
    while (!closed) {
      DatagramPacket packet = new DatagramPacket(buf, buf.length);
      try {
        udp.receive(packet);
      } catch (IOException e) {
        if (closed) {
          return;
        }
        continue;
      }
      byte[] wire = java.util.Arrays.copyOf(packet.getData(), packet.getLength());
      InetSocketAddress from = (InetSocketAddress) packet.getSocketAddress();
      workers.execute(() -> answerUdp(wire, from));
    }
  }

  private void answerUdp(byte[] wire, InetSocketAddress from) {
    Message query;
    try {
      query = new Message(wire);
    } catch (IOException e) {
      return; // not DNS: dropped, as a resolver drops junk
    }
    Message response = answer(query);
    OPTRecord opt = query.getOPT();
    int limit = Math.max(512, opt == null ? 512 : opt.getPayloadSize());
    byte[] out = response.toWire(limit);
    try {
      udp.send(new DatagramPacket(out, out.length, from));
    } catch (IOException e) {
      // the client went away; nothing to do
    }
  }

  private void tcpLoop() {
    while (!closed) {
      Socket s;
      try {
        s = tcp.accept();
      } catch (IOException e) {
        if (closed) {
          return;
        }
        continue;
      }
      if (connections.size() >= MAX_TCP_CONNECTIONS) {
        closeQuietly(s);
        continue;
      }
      connections.add(s);
      workers.execute(() -> serveTcp(s));
    }
  }

  private void serveTcp(Socket s) {
    try (s) {
      s.setSoTimeout(10_000);
      DataInputStream in = new DataInputStream(s.getInputStream());
      DataOutputStream out = new DataOutputStream(s.getOutputStream());
      while (!closed) {
        int len;
        try {
          len = in.readUnsignedShort();
        } catch (IOException e) {
          return;
        }
        byte[] wire = in.readNBytes(len);
        if (wire.length != len) {
          return;
        }
        Message response = answer(new Message(wire));
        byte[] bytes = response.toWire();
        out.writeShort(bytes.length);
        out.write(bytes);
        out.flush();
      }
    } catch (IOException e) {
      // connection ended
    } finally {
      connections.remove(s);
    }
  }

  private Message answer(Message query) {
    queries.incrementAndGet();
    Message response;
    try {
      response = validator.sendAsync(query).toCompletableFuture().get(10, TimeUnit.SECONDS);
      if (response.getRcode() == Rcode.SERVFAIL && upstreamFailed(query)) {
        // dnsjava's validator calls an upstream failure "bogus"; a real resolver does not.
        response = servfail(query, ExtendedErrorCodeOption.NO_REACHABLE_AUTHORITY);
      }
    } catch (Exception e) {
      response = servfail(query, ExtendedErrorCodeOption.NO_REACHABLE_AUTHORITY);
    }
    response.getHeader().setID(query.getHeader().getID());
    response.getHeader().setFlag(Flags.QR);
    response.getHeader().setFlag(Flags.RA);
    if (query.getHeader().getFlag(Flags.RD)) {
      response.getHeader().setFlag(Flags.RD);
    }
    response.getHeader().unsetFlag(Flags.AA);
    // Drop the validator's private reason records (class 65280): real resolvers send only EDE.
    for (Record r : new java.util.ArrayList<>(response.getSection(Section.ADDITIONAL))) {
      if (r.getDClass() == ValidatingResolver.VALIDATION_REASON_QCLASS) {
        response.removeRecord(r, Section.ADDITIONAL);
      }
    }
    return response;
  }

  /** Whether the upstream, asked without validation (CD), fails to answer NOERROR or NXDOMAIN. */
  private boolean upstreamFailed(Message query) {
    Message probe = query.clone();
    probe.getHeader().setFlag(Flags.CD);
    try {
      int rcode = upstream.send(probe).getRcode();
      return rcode != Rcode.NOERROR && rcode != Rcode.NXDOMAIN;
    } catch (IOException e) {
      return true;
    }
  }

  private static Message servfail(Message query, int ede) {
    Message response = new Message(query.getHeader().getID());
    response.getHeader().setRcode(Rcode.SERVFAIL);
    if (query.getQuestion() != null) {
      response.addRecord(query.getQuestion(), Section.QUESTION);
    }
    response.addRecord(
        new OPTRecord(1232, 0, 0, 0, List.of(new ExtendedErrorCodeOption(ede))),
        Section.ADDITIONAL);
    return response;
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing
    }
  }

  /** Stops listening and ends open connections. */
  @Override
  public void close() {
    closed = true;
    udp.close();
    try {
      tcp.close();
    } catch (IOException ignored) {
      // closing
    }
    connections.forEach(ValidatingResolverServer::closeQuietly);
    workers.shutdownNow();
  }

  @Override
  public String toString() {
    return "ValidatingResolverServer{" + socketAddress() + "}";
  }
}
