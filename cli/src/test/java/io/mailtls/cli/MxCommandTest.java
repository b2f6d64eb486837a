package io.mailtls.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import picocli.CommandLine;

/** Bad input to the command line: one line naming the problem, exit 64, no stack trace. */
class MxCommandTest {

  @ParameterizedTest(name = "{0}")
  @CsvSource(
      delimiter = '|',
      value = {
        "mx exa..mple.test|empty label",
        "mx example.test --dnssec maybe|--dnssec must be validate or trust-ad",
        "mx example.test --resolver dns.example|resolver must be an IP address",
        "mx example.test --resolver 127.0.0.1:x|invalid resolver port",
        "mx example.test --bogus|Unknown option",
        "mx|Missing required parameter",
        "mx example.test --dnssec trust-ad --resolver 192.0.2.1|non-loopback",
      })
  void badInputIsOneLineAndExit64(String args, String message) {
    StringWriter err = new StringWriter();
    StringWriter out = new StringWriter();
    CommandLine cl = Mailtls.commandLine();
    cl.setErr(new PrintWriter(err));
    cl.setOut(new PrintWriter(out));
    int exit = cl.execute(args.split(" "));
    assertThat(exit).isEqualTo(64);
    assertThat(err.toString())
        .startsWith("mailtls: ")
        .contains(message)
        .doesNotContain("Exception")
        .doesNotContain("\tat ");
  }
}
