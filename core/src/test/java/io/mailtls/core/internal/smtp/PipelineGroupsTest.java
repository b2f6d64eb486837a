package io.mailtls.core.internal.smtp;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class PipelineGroupsTest {

  private static final SmtpCommand MAIL = SmtpCommand.mailFrom("a@sender.test");

  private static List<SmtpCommand> rcpts(int n, String local) {
    List<SmtpCommand> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(SmtpCommand.rcptTo(local + i + "@example.test"));
    }
    return out;
  }

  @Test
  void shortAddressesGoInGroupsOf100() {
    assertThat(PipelineGroups.sizes(MAIL, rcpts(250, "r"), SmtpCommand.data()))
        .containsExactly(100, 100, 50);
    assertThat(PipelineGroups.sizes(MAIL, rcpts(100, "r"), SmtpCommand.data()))
        .containsExactly(100);
    assertThat(PipelineGroups.sizes(MAIL, rcpts(1, "r"), null)).containsExactly(1);
  }

  /** RFC 2920 §3.1: each group, MAIL and DATA included, fits 4096 octets. */
  @Test
  void longAddressesAreBoundByTheOctetBudget() {
    List<SmtpCommand> long64 = rcpts(100, "x".repeat(62));
    List<Integer> sizes = PipelineGroups.sizes(MAIL, long64, SmtpCommand.data());
    assertThat(sizes.stream().mapToInt(Integer::intValue).sum()).isEqualTo(100);
    int next = 0;
    for (int g = 0; g < sizes.size(); g++) {
      int octets = g == 0 ? MAIL.toBytes().length : 0;
      for (int i = next; i < next + sizes.get(g); i++) {
        octets += long64.get(i).toBytes().length;
      }
      if (g == sizes.size() - 1) {
        octets += SmtpCommand.data().toBytes().length;
      }
      assertThat(octets).isLessThanOrEqualTo(PipelineGroups.MAX_OCTETS);
      next += sizes.get(g);
    }
    assertThat(sizes.get(0)).isGreaterThan(40);
  }

  /** Octets ahead of MAIL in the first group (a reused session's RSET) count against it. */
  @Test
  void octetsAheadOfTheFirstCommandCountInTheFirstGroup() {
    List<SmtpCommand> rcpts = rcpts(3, "r");
    int one = rcpts.get(0).toBytes().length;
    int budget = MAIL.toBytes().length + 2 * one;
    assertThat(PipelineGroups.sizes(0, MAIL, rcpts, null, 100, budget)).containsExactly(2, 1);
    assertThat(PipelineGroups.sizes(6, MAIL, rcpts, null, 100, budget)).containsExactly(1, 2);
  }

  @Test
  void aCommandLongerThanTheBudgetStillGoesAlone() {
    List<SmtpCommand> rcpts = rcpts(3, "r");
    assertThat(PipelineGroups.sizes(MAIL, rcpts, SmtpCommand.data(), 100, 10))
        .containsExactly(1, 1, 1);
  }
}
