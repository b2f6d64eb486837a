package io.mailtls.testkit.internal.smtp;

import io.mailtls.testkit.SmtpCommand;
import io.mailtls.testkit.SmtpMessage;
import io.mailtls.testkit.SmtpSession;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * The {@link SmtpSession} the mock server fills in as a connection runs.
 *
 * <p>Thread-safe: the session thread writes, test threads read; every accessor returns an immutable
 * snapshot taken under the lock.
 */
final class SessionRecorder implements SmtpSession {

  /** Told when a message is recorded and when a session ends. */
  interface Listener {
    void messageRecorded(SmtpMessage message);

    void sessionClosed(SessionRecorder session);
  }

  private final int id;
  private final InetSocketAddress remoteAddress;
  private final InetSocketAddress localAddress;
  private final Listener listener;
  private final CountDownLatch closed = new CountDownLatch(1);

  private final List<SmtpCommand> commands = new ArrayList<>();
  private final List<SmtpMessage> messages = new ArrayList<>();
  private @Nullable String clientName;
  private boolean tlsNegotiated;
  private @Nullable String sniHostName;
  private List<String> clientHelloVersions = List.of();
  private @Nullable String tlsProtocol;
  private @Nullable String tlsCipherSuite;
  private @Nullable String tlsFailure;
  private int bytesDiscardedAtStarttls;
  private @Nullable String authenticatedUser;

  SessionRecorder(
      int id, InetSocketAddress remoteAddress, InetSocketAddress localAddress, Listener listener) {
    this.id = id;
    this.remoteAddress = remoteAddress;
    this.localAddress = localAddress;
    this.listener = listener;
  }

  synchronized void command(String line, boolean tls, int readIndex) {
    commands.add(new SmtpCommand(line, tls, readIndex));
  }

  synchronized void clientName(String name) {
    this.clientName = name;
  }

  synchronized void clientHello(ClientHello hello) {
    this.sniHostName = hello.serverName();
    this.clientHelloVersions = hello.offeredVersionNames();
  }

  synchronized void tlsNegotiated(String protocol, String cipherSuite) {
    this.tlsNegotiated = true;
    this.tlsProtocol = protocol;
    this.tlsCipherSuite = cipherSuite;
  }

  synchronized void tlsFailure(String failure) {
    this.tlsFailure = failure;
  }

  synchronized void discardedAtStarttls(int bytes) {
    this.bytesDiscardedAtStarttls += bytes;
  }

  synchronized void authenticated(String user) {
    this.authenticatedUser = user;
  }

  void message(SmtpMessage message) {
    synchronized (this) {
      messages.add(message);
    }
    listener.messageRecorded(message);
  }

  /** Marks the record final; the first call wins. */
  void close() {
    if (closed.getCount() > 0) {
      closed.countDown();
      listener.sessionClosed(this);
    }
  }

  @Override
  public int id() {
    return id;
  }

  @Override
  public InetSocketAddress remoteAddress() {
    return remoteAddress;
  }

  @Override
  public InetSocketAddress localAddress() {
    return localAddress;
  }

  @Override
  public synchronized List<SmtpCommand> commands() {
    return List.copyOf(commands);
  }

  @Override
  public synchronized List<String> commandLines() {
    return commands.stream().map(SmtpCommand::line).toList();
  }

  @Override
  public synchronized List<List<String>> commandBatches() {
    List<List<String>> batches = new ArrayList<>();
    List<String> batch = new ArrayList<>();
    int index = -1;
    for (SmtpCommand command : commands) {
      if (command.readIndex() != index && !batch.isEmpty()) {
        batches.add(List.copyOf(batch));
        batch.clear();
      }
      index = command.readIndex();
      batch.add(command.line());
    }
    if (!batch.isEmpty()) {
      batches.add(List.copyOf(batch));
    }
    return List.copyOf(batches);
  }

  @Override
  public synchronized Optional<String> clientName() {
    return Optional.ofNullable(clientName);
  }

  @Override
  public synchronized boolean tlsNegotiated() {
    return tlsNegotiated;
  }

  @Override
  public synchronized Optional<String> sniHostName() {
    return Optional.ofNullable(sniHostName);
  }

  @Override
  public synchronized List<String> clientHelloVersions() {
    return clientHelloVersions;
  }

  @Override
  public synchronized Optional<String> tlsProtocol() {
    return Optional.ofNullable(tlsProtocol);
  }

  @Override
  public synchronized Optional<String> tlsCipherSuite() {
    return Optional.ofNullable(tlsCipherSuite);
  }

  @Override
  public synchronized Optional<String> tlsFailure() {
    return Optional.ofNullable(tlsFailure);
  }

  @Override
  public synchronized int bytesDiscardedAtStarttls() {
    return bytesDiscardedAtStarttls;
  }

  @Override
  public synchronized Optional<String> authenticatedUser() {
    return Optional.ofNullable(authenticatedUser);
  }

  @Override
  public synchronized List<SmtpMessage> messages() {
    return List.copyOf(messages);
  }

  @Override
  public boolean isClosed() {
    return closed.getCount() == 0;
  }

  @Override
  public boolean awaitClosed(Duration timeout) throws InterruptedException {
    return closed.await(timeout.toNanos(), TimeUnit.NANOSECONDS);
  }

  @Override
  public synchronized String toString() {
    return "SmtpSession{id="
        + id
        + ", remote="
        + remoteAddress
        + ", tls="
        + (tlsNegotiated ? tlsProtocol : tlsFailure != null ? "failed: " + tlsFailure : "none")
        + ", sni="
        + sniHostName
        + ", commands="
        + commandLines()
        + ", messages="
        + messages.size()
        + (isClosed() ? ", closed" : ", open")
        + "}";
  }
}
