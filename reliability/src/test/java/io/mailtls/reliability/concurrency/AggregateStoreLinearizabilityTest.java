package io.mailtls.reliability.concurrency;

import io.mailtls.core.DomainName;
import io.mailtls.tlsrpt.AggregateStore;
import io.mailtls.tlsrpt.AppliedPolicy;
import io.mailtls.tlsrpt.FailureDetail;
import io.mailtls.tlsrpt.InMemoryAggregateStore;
import io.mailtls.tlsrpt.PolicyCounts;
import java.io.IOException;
import java.time.LocalDate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.SortedSet;
import org.jetbrains.lincheck.datastructures.IntGen;
import org.jetbrains.lincheck.datastructures.Operation;
import org.jetbrains.lincheck.datastructures.Param;
import org.junit.jupiter.api.Test;

/**
 * {@link InMemoryAggregateStore}, where the TLS-RPT aggregator (RFC 8460 §4) counts sessions per
 * UTC day and policy, is linearizable under concurrent merges, reads, listings and discards of two
 * days: Lincheck's model checker explores the interleavings (its stress mode runs them on real
 * threads) and checks every result against a sequential run of the same store. So a merge of
 * several policies' counts is seen whole or not at all, no count is lost between two merges of the
 * same policy, and a discard never leaves half a day. {@code AggregationStressTest} in the tls-rpt
 * module adds real reports from sixteen threads into both stores, the file store included.
 */
@Param(name = "day", gen = IntGen.class, conf = "0:1")
public class AggregateStoreLinearizabilityTest {

  private static final LocalDate[] DAYS = {
    LocalDate.parse("2026-12-03"), LocalDate.parse("2026-12-04")
  };
  private static final AppliedPolicy FIRST = AppliedPolicy.noPolicy(DomainName.of("a.test"));
  private static final AppliedPolicy OTHER = AppliedPolicy.noPolicy(DomainName.of("b.test"));
  private static final FailureDetail STARTTLS =
      new FailureDetail(
          "starttls-not-supported",
          Optional.empty(),
          Optional.of("mx.b.test"),
          Optional.empty(),
          Optional.of("192.0.2.1"),
          Optional.of("STARTTLS_NOT_SUPPORTED"),
          Optional.empty());

  private final AggregateStore store = new InMemoryAggregateStore();

  /** One session's success for one policy. */
  @Operation
  public void mergeSuccess(@Param(name = "day") int d) throws IOException {
    store.merge(DAYS[d], Map.of(FIRST, PolicyCounts.success()));
  }

  /** Two policies at once, one failure each way: seen whole or not at all. */
  @Operation
  public void mergeTwoPolicies(@Param(name = "day") int d) throws IOException {
    store.merge(
        DAYS[d],
        Map.of(FIRST, PolicyCounts.failure(STARTTLS), OTHER, PolicyCounts.failure(STARTTLS)));
  }

  @Operation
  public Map<AppliedPolicy, PolicyCounts> read(@Param(name = "day") int d) throws IOException {
    return store.read(DAYS[d]);
  }

  @Operation
  public List<LocalDate> days() throws IOException {
    SortedSet<LocalDate> days = store.days();
    return List.copyOf(days);
  }

  @Operation
  public void discard(@Param(name = "day") int d) throws IOException {
    store.discard(DAYS[d]);
  }

  @Test
  void modelChecking() {
    StressBudget.modelCheck(getClass(), 3);
  }

  @Test
  void stress() {
    StressBudget.stressCheck(getClass(), 3);
  }
}
