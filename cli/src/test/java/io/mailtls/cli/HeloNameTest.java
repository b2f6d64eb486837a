package io.mailtls.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/**
 * Issue 11 item 12, the EHLO name: the command line takes {@code --helo} or this machine's fully
 * qualified name, and refuses a name that is not one (RFC 5321 §4.1.1.1).
 */
class HeloNameTest {

  private static CommonOptions machineNamed(String name) {
    CommonOptions o = new CommonOptions();
    o.localHostName = () -> name;
    return o;
  }

  @Test
  void withoutHeloTheMachinesFullyQualifiedNameIsUsed() {
    assertThat(machineNamed("Build7.Example.COM").heloName()).isEqualTo("build7.example.com");
  }

  @Test
  void aMachineNameThatIsNotFullyQualifiedIsRefusedNamingTheFix() {
    for (String name : new String[] {"localhost", "buildbox", "buildbox.localdomain"}) {
      assertThatThrownBy(() -> machineNamed(name).heloName())
          .isInstanceOf(CliException.class)
          .hasMessageContaining("this machine's host name \"" + name + "\"")
          .hasMessageContaining("pass --helo NAME");
    }
  }

  @Test
  void anExplicitHeloWinsOverTheMachineName() {
    CommonOptions o = machineNamed("localhost");
    o.helo = "mail.example.com";
    assertThat(o.heloName()).isEqualTo("mail.example.com");
  }
}
