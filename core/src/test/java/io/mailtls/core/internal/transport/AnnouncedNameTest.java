package io.mailtls.core.internal.transport;

import static org.assertj.core.api.Assertions.assertThat;

import io.mailtls.core.SmtpReply;
import org.junit.jupiter.api.Test;

/**
 * The name a server announces in its greeting or EHLO reply (RFC 5321 §4.2, §4.1.1.1), which
 * TLS-RPT reports as {@code receiving-mx-helo}: kept only when it is a domain or address literal.
 */
class AnnouncedNameTest {

  private static SmtpReply reply(int code, String text) {
    return SmtpReply.local(code, text);
  }

  @Test
  void theFirstWordOfTheFirstLineInLowerCase() {
    assertThat(AnnouncedName.of(reply(220, "MX1.Example.TEST ESMTP Postfix")))
        .contains("mx1.example.test");
    assertThat(AnnouncedName.of(reply(250, "mx.example.test Hello client\nPIPELINING\nSTARTTLS")))
        .contains("mx.example.test");
    assertThat(AnnouncedName.of(reply(250, "mx.example.test"))).contains("mx.example.test");
    assertThat(AnnouncedName.of(reply(220, "[192.0.2.1] ready"))).contains("[192.0.2.1]");
    assertThat(AnnouncedName.of(reply(220, "[IPv6:2001:db8::1] ready")))
        .contains("[ipv6:2001:db8::1]");
  }

  @Test
  void anythingElseIsNoName() {
    assertThat(AnnouncedName.of(reply(220, ""))).isEmpty();
    assertThat(AnnouncedName.of(reply(220, "ESMTP\u001b[31m ready"))).isEmpty();
    assertThat(AnnouncedName.of(reply(220, "<mx.example.test> ready"))).isEmpty();
    assertThat(AnnouncedName.of(reply(220, "2.0.0 ready"))).isEmpty();
    assertThat(AnnouncedName.of(reply(220, "192.0.2.1 ready"))).isEmpty();
    assertThat(AnnouncedName.of(reply(220, "-mx.example.test"))).isEmpty();
    assertThat(AnnouncedName.of(reply(220, "[not an address]"))).isEmpty();
    assertThat(AnnouncedName.of(reply(220, "[]"))).isEmpty();
    assertThat(AnnouncedName.of(reply(220, "a".repeat(256)))).isEmpty();
  }
}
