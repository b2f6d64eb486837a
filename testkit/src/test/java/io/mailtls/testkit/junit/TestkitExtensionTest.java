package io.mailtls.testkit.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import io.mailtls.testkit.MockSmtpServer;
import io.mailtls.testkit.MtaStsServer;
import io.mailtls.testkit.TestDnsServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.ClassOrderer;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestClassOrder;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.testkit.engine.EngineTestKit;
import org.junit.platform.testkit.engine.Event;
import org.junit.platform.testkit.engine.Events;

/**
 * The extension starts what a test class declares and closes each server when its scope ends: the
 * test, the class, or for an extension in an instance field, the test. The sample classes below run
 * on their own engine, so that what happened after them can be checked.
 */
class TestkitExtensionTest {

  /** A server's listening address, and what it was, for the messages. */
  record Listener(String what, InetSocketAddress address) {}

  static final List<Listener> started = new CopyOnWriteArrayList<>();

  static boolean listening(Listener l) {
    try (Socket s = new Socket()) {
      s.connect(l.address(), 2_000);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  static Listener of(String what, MockSmtpServer smtp) {
    return new Listener(what, smtp.socketAddress());
  }

  static Listener of(String what, MtaStsServer sts) {
    return new Listener(what, new InetSocketAddress(sts.address(), sts.port()));
  }

  static Listener of(String what, TestDnsServer dns) {
    return new Listener(what, dns.socketAddress()); // TCP beside UDP, on the same port
  }

  private static Events run(Class<?> sample) {
    started.clear();
    Events tests =
        EngineTestKit.engine("junit-jupiter").selectors(selectClass(sample)).execute().testEvents();
    // a sample's own failures, for the report when its statistics are not the expected ones
    tests.failed().stream().map(TestkitExtensionTest::failure).forEach(Throwable::printStackTrace);
    return tests;
  }

  private static Throwable failure(Event e) {
    return e.getPayload(TestExecutionResult.class)
        .flatMap(TestExecutionResult::getThrowable)
        .orElseThrow();
  }

  // ------------------------------------------------------------------- static extension

  @TestMethodOrder(MethodOrderer.OrderAnnotation.class)
  @TestClassOrder(ClassOrderer.OrderAnnotation.class)
  static class StaticSample {
    @RegisterExtension static final TestkitExtension testkit = new TestkitExtension();

    static final TestDnsServer dns =
        testkit.start(
            TestDnsServer.builder()
                .zone("example.test", z -> z.mx("example.test", 10, "mx.example.test")));

    static MtaStsServer sts;
    MockSmtpServer smtp;

    @BeforeAll
    static void startSts() {
      sts = testkit.start(MtaStsServer.builder());
      started.add(of("dns", dns));
      started.add(of("sts", sts));
    }

    @BeforeEach
    void startSmtp() {
      smtp = testkit.start(MockSmtpServer.builder());
      started.add(of("smtp", smtp));
    }

    @Test
    @Order(1)
    void everyServerListensDuringATest() {
      assertThat(started).allMatch(TestkitExtensionTest::listening);
    }

    @Test
    @Order(2)
    void theLastTestsServerIsClosedAndTheClasssServersAreNot() {
      Listener previous = started.get(2);
      assertThat(previous.what()).isEqualTo("smtp");
      assertThat(listening(previous)).as("the first test's SMTP server").isFalse();
      assertThat(listening(of("this smtp", smtp))).isTrue();
      assertThat(listening(of("dns", dns))).isTrue();
      assertThat(listening(of("sts", sts))).isTrue();
    }

    @Nested
    @Order(1)
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class Inner {
      MockSmtpServer innerServer;

      @BeforeAll
      void startInner() {
        innerServer = testkit.start(MockSmtpServer.builder());
        started.add(of("inner", innerServer));
      }

      @Test
      void itsServerListens() {
        assertThat(listening(of("inner", innerServer))).isTrue();
      }
    }

    @Nested
    @Order(2)
    class AfterInner {
      @Test
      void innerClosedItsServerWhileTheOuterClassKeepsItsOwn() {
        Listener inner =
            started.stream().filter(l -> l.what().equals("inner")).findFirst().orElseThrow();
        assertThat(listening(inner)).isFalse();
        assertThat(listening(of("dns", dns))).isTrue();
        assertThat(listening(of("sts", sts))).isTrue();
      }
    }
  }

  @Test
  void serversLiveAsLongAsTheTestOrTheClassThatStartedThem() {
    Events tests = run(StaticSample.class);
    tests.assertStatistics(s -> s.started(4).succeeded(4));
    List<String> kinds = started.stream().map(Listener::what).toList();
    // the outer class's @BeforeEach runs for the nested classes' tests too
    assertThat(kinds).containsExactly("dns", "sts", "smtp", "smtp", "inner", "smtp", "smtp");
    assertThat(started).as("all closed after the class").noneMatch(TestkitExtensionTest::listening);
  }

  // ---------------------------------------------------------------- instance extension

  static class InstanceSample {
    @RegisterExtension final TestkitExtension testkit = new TestkitExtension();

    final MockSmtpServer smtp = testkit.start(MockSmtpServer.builder());

    @Test
    void one() {
      started.add(of("smtp", smtp));
      assertThat(listening(of("smtp", smtp))).isTrue();
    }

    @Test
    void two() {
      started.add(of("smtp", smtp));
      assertThat(listening(of("smtp", smtp))).isTrue();
    }
  }

  @Test
  void anInstanceFieldExtensionClosesItsServersAfterEachTest() {
    run(InstanceSample.class).assertStatistics(s -> s.started(2).succeeded(2));
    assertThat(started).hasSize(2);
    assertThat(started.get(0).address()).isNotEqualTo(started.get(1).address());
    assertThat(started).noneMatch(TestkitExtensionTest::listening);
  }

  // ---------------------------------------------------------------- order and failures

  static final List<String> closed = new CopyOnWriteArrayList<>();

  static class FailingCloseSample {
    @RegisterExtension static final TestkitExtension testkit = new TestkitExtension();

    @Test
    void startsThree() {
      testkit.closeAfter(() -> closed.add("first"));
      testkit.closeAfter(
          () -> {
            closed.add("second");
            throw new IOException("second cannot close");
          });
      testkit.closeAfter(() -> closed.add("third"));
    }
  }

  @Test
  void closesTheNewestFirstTriesEveryOneAndFailsTheTestWithTheFirstFailure() {
    closed.clear();
    Events tests = run(FailingCloseSample.class);
    tests.assertStatistics(s -> s.started(1).failed(1));
    assertThat(closed).containsExactly("third", "second", "first");
    assertThat(failure(tests.failed().stream().findFirst().orElseThrow()))
        .isInstanceOf(IOException.class)
        .hasMessage("second cannot close");
  }

  @Test
  void whatStartsBeforeJUnitCallsTheExtensionClosesAfterTheLastClass() throws Exception {
    TestkitExtension testkit = new TestkitExtension();
    Listener smtp = of("smtp", testkit.start(MockSmtpServer.builder()));
    assertThat(listening(smtp)).isTrue();
    testkit.afterAll(null); // as JUnit does after the last class
    assertThat(listening(smtp)).isFalse();
  }
}
