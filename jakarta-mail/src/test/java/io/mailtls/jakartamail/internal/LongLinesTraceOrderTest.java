package io.mailtls.jakartamail.internal;

import static org.assertj.core.api.Assertions.assertThat;

import jakarta.mail.Header;
import jakarta.mail.Session;
import jakarta.mail.internet.MimeMessage;
import jakarta.mail.internet.MimeUtility;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Enumeration;
import java.util.List;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/**
 * RFC 5321 §4.4: each relay prepends its {@code Received} field, so their order is the message's
 * path, newest first. Folding one long {@code Received} field (RFC 5322 §2.2.3) must not change it.
 */
class LongLinesTraceOrderTest {

  @Test
  void foldingALongReceivedFieldKeepsTheTraceOrder() throws Exception {
    MimeMessage m = new MimeMessage(Session.getInstance(new Properties()));
    String longest = "from c.example by d.example" + " with ESMTPS id x".repeat(80) + "; now";
    // addHeader puts each Received first: add oldest to newest, read newest first.
    m.addHeader("Received", "from a.example by b.example; oldest");
    m.addHeader("Received", longest);
    m.addHeader("Received", "from e.example by f.example; newest");
    m.setText("x");
    List<String> before = received(m);
    assertThat(before.get(0)).endsWith("newest");

    assertThat(LongLines.foldHeaders(m)).isTrue();

    List<String> after = new ArrayList<>();
    for (String v : received(m)) {
      after.add(MimeUtility.unfold(v));
    }
    assertThat(after).containsExactlyElementsOf(before);
  }

  private static List<String> received(MimeMessage m) throws Exception {
    List<String> out = new ArrayList<>();
    for (Enumeration<Header> e = m.getAllHeaders(); e.hasMoreElements(); ) {
      Header h = e.nextElement();
      if (h.getName().equalsIgnoreCase("Received")) {
        out.add(h.getValue());
      }
    }
    return Collections.unmodifiableList(out);
  }
}
