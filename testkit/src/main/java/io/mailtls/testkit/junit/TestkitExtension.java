package io.mailtls.testkit.junit;

import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.TestDnsServer;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A JUnit 5 extension that starts testkit servers for a test class and closes them when they are no
 * longer needed, so that a test declares its servers and writes no {@code @AfterAll} for them.
 *
 * <pre>{@code
 * class DeliveryTest {
 *   @RegisterExtension
 *   static final TestkitExtension testkit = new TestkitExtension();
 *
 *   static final TestDnsServer dns = testkit.start(TestDnsServer.builder()
 *       .zone("example.test", z -> z.mx("example.test", 10, "mx.example.test")));
 *
 *   MockSmtpServer smtp;
 *
 *   @BeforeEach
 *   void start() {
 *     smtp = testkit.start(MockSmtpServer.builder().hostname("mx.example.test"));
 *   }
 *   ...
 * }
 * }</pre>
 *
 * <p>What it starts, or is handed with {@link #closeAfter}, lives as long as the part of the test
 * class that started it:
 *
 * <ul>
 *   <li>started while a test runs (from its {@code @BeforeEach} methods to its {@code @AfterEach}
 *       methods): closed after that test;
 *   <li>started before the first test (a static field's initializer, {@code @BeforeAll}): closed
 *       after the class's last test, or for a {@code @Nested} class after that class's last test;
 *   <li>with the extension in an instance field rather than a static one, JUnit calls it for each
 *       test alone: everything it started is closed after that test.
 * </ul>
 *
 * <p>Resources close in the reverse order of their start (a resolver before the DNS server it
 * asks). If one fails to close the others still close, and the first failure fails the test or the
 * class. The extension expects the tests of one class to run one at a time.
 */
// "exports": its JUnit supertypes come from a module the testkit requires static, not transitive
// (module-info.java says why); a test that registers the extension reads JUnit itself.
@SuppressWarnings("exports")
public final class TestkitExtension
    implements BeforeAllCallback, AfterAllCallback, BeforeEachCallback, AfterEachCallback {

  private final Object lock = new Object();

  /** Started before JUnit called this extension (static initializers): closed last. */
  private final List<AutoCloseable> beforeAnyClass = new ArrayList<>(); // guarded by lock

  /** One entry per class being run (the outer class, then each @Nested class inside it). */
  private final Deque<List<AutoCloseable>> classes = new ArrayDeque<>(); // guarded by lock

  /** The running test's resources; null between tests. */
  private @Nullable List<AutoCloseable> test; // guarded by lock

  private boolean registeredForClasses; // guarded by lock

  /** An extension with nothing started yet; register it with {@code @RegisterExtension}. */
  public TestkitExtension() {}

  /**
   * Starts a DNS server from {@code builder} and closes it when its scope ends.
   *
   * @param builder the configured server
   * @return the started server
   */
  public TestDnsServer start(TestDnsServer.Builder builder) {
    return closeAfter(builder.start());
  }

  /**
   * Starts a mock SMTP server from {@code builder} and closes it when its scope ends.
   *
   * @param builder the configured server
   * @return the started server
   * @throws UncheckedIOException if the server cannot bind its socket
   */
  public MockSmtpServer start(MockSmtpServer.Builder builder) {
    try {
      return closeAfter(builder.start());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the mock SMTP server", e);
    }
  }

  /**
   * Starts an MTA-STS policy server from {@code builder} and closes it when its scope ends.
   *
   * @param builder the configured server
   * @return the started server
   */
  public MtaStsServer start(MtaStsServer.Builder builder) {
    return closeAfter(builder.start());
  }

  /**
   * Closes {@code resource} when its scope ends, as if this extension had started it: for a server
   * started some other way, such as a {@code ValidatingResolverServer}.
   *
   * @param resource what to close
   * @param <T> its type
   * @return {@code resource}
   */
  public <T extends AutoCloseable> T closeAfter(T resource) {
    Objects.requireNonNull(resource, "resource");
    synchronized (lock) {
      if (test != null) {
        test.add(resource);
      } else if (!classes.isEmpty()) {
        classes.peek().add(resource);
      } else {
        beforeAnyClass.add(resource);
      }
    }
    return resource;
  }

  @Override
  public void beforeAll(ExtensionContext context) {
    synchronized (lock) {
      registeredForClasses = true;
      classes.push(new ArrayList<>());
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    List<AutoCloseable> closing = new ArrayList<>();
    synchronized (lock) {
      List<AutoCloseable> own = classes.poll();
      if (own != null) {
        closing.addAll(own);
      }
      if (classes.isEmpty()) {
        closing.addAll(0, beforeAnyClass);
        beforeAnyClass.clear();
      }
    }
    closeAll(closing);
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    synchronized (lock) {
      test = new ArrayList<>();
    }
  }

  @Override
  public void afterEach(ExtensionContext context) throws Exception {
    List<AutoCloseable> closing = new ArrayList<>();
    synchronized (lock) {
      if (test != null) {
        closing.addAll(test);
        test = null;
      }
      if (!registeredForClasses) {
        // An instance field: JUnit made this extension for this test alone.
        closing.addAll(0, beforeAnyClass);
        beforeAnyClass.clear();
      }
    }
    closeAll(closing);
  }

  /** Closes the newest first; every one is tried, the first failure is thrown. */
  private static void closeAll(List<AutoCloseable> resources) throws Exception {
    Exception failure = null;
    for (int i = resources.size() - 1; i >= 0; i--) {
      try {
        resources.get(i).close();
      } catch (Exception e) {
        if (failure == null) {
          failure = e;
        } else {
          failure.addSuppressed(e);
        }
      }
    }
    if (failure != null) {
      throw failure;
    }
  }
}
