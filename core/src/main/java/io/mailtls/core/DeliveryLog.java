package io.mailtls.core;

import java.net.InetSocketAddress;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * Logs one line per recipient through SLF4J, in the shape operators know from Postfix's {@code
 * smtp} delivery agent:
 *
 * <pre>{@code
 * to=<b@example.com>, relay=mx.example.com[192.0.2.25]:25, delay=0.42,
 *     delays=0.05/0.11/0.14/0.12, tls=VERIFIED DANE TLSv1.3 TLS_AES_256_GCM_SHA384, dsn=2.0.0,
 *     status=sent (250 2.0.0 ok: queued)
 * }</pre>
 *
 * (one line). {@code delays} are planning, connection set-up, TLS and the transaction ({@link
 * Timings}); {@code tls} is the authentication, the policy that set the requirement, the protocol
 * and the cipher suite of the deciding attempt ({@code tls=none} without a session, {@code
 * tls=PLAINTEXT SENDER} for a session without TLS). {@code status} is {@code sent}, {@code
 * deferred} or {@code bounced}, with the deciding reply. Sent lines are logged at INFO, the others
 * at WARN, to the logger {@value #LOGGER_NAME}; while a line is logged the MDC holds the call's id
 * under {@value #MDC_DELIVERY_ID} (as {@link DeliveryCall#id()}), so that a log pattern can show it
 * as Postfix shows its queue id.
 *
 * <p>Never logs message content or credentials: a line holds the recipient, the peer's name and
 * address, timings, TLS parameters and the reply, with control characters replaced. Use it as
 * {@link SecureSmtpTransport.Builder#eventListenerFactory}'s argument, or inside {@link
 * EventListener#all} with the listener of a call.
 */
public final class DeliveryLog implements EventListener.Factory {

  /** The logger every line goes to. */
  public static final String LOGGER_NAME = "io.mailtls.delivery";

  /** The MDC key of the call's id while a line is logged. */
  public static final String MDC_DELIVERY_ID = "mailtls.delivery.id";

  private final Logger log;

  private DeliveryLog(Logger log) {
    this.log = log;
  }

  /** Lines to the logger {@value #LOGGER_NAME}. */
  public static DeliveryLog create() {
    return new DeliveryLog(LoggerFactory.getLogger(LOGGER_NAME));
  }

  /** Lines to the logger {@code name}. */
  public static DeliveryLog toLogger(String name) {
    return new DeliveryLog(LoggerFactory.getLogger(Objects.requireNonNull(name, "name")));
  }

  @Override
  public EventListener create(DeliveryCall call) {
    String id = Long.toString(call.id());
    return new EventListener() {
      @Override
      public void recipientEnd(RecipientResult result) {
        log(id, result);
      }
    };
  }

  private void log(String id, RecipientResult result) {
    boolean sent = result.status() == DeliveryStatus.DELIVERED;
    if (sent ? !log.isInfoEnabled() : !log.isWarnEnabled()) {
      return;
    }
    String previous = MDC.get(MDC_DELIVERY_ID);
    MDC.put(MDC_DELIVERY_ID, id);
    try {
      String line = line(result);
      if (sent) {
        log.info("{}", line);
      } else {
        log.warn("{}", line);
      }
    } finally {
      if (previous == null) {
        MDC.remove(MDC_DELIVERY_ID);
      } else {
        MDC.put(MDC_DELIVERY_ID, previous);
      }
    }
  }

  /** The line for {@code result}, without the logger's own prefix. */
  public static String line(RecipientResult result) {
    StringBuilder out = new StringBuilder();
    out.append("to=<").append(clean(result.recipient().toString())).append(">");
    out.append(", relay=").append(result.attempt().map(DeliveryLog::relay).orElse("none"));
    out.append(", ").append(result.timings());
    out.append(", tls=").append(result.attempt().map(DeliveryLog::tls).orElse("none"));
    SmtpReply reply = result.reply();
    out.append(", dsn=")
        .append(reply.enhancedStatus().map(Object::toString).orElse((reply.code() / 100) + ".0.0"));
    out.append(", status=").append(status(result.status()));
    out.append(" (").append(clean(reply.toString())).append(")");
    return out.toString();
  }

  private static String relay(Attempt a) {
    InetSocketAddress address = a.address();
    String ip =
        address.getAddress() != null
            ? address.getAddress().getHostAddress()
            : address.getHostString();
    return a.host().map(DomainName::toString).orElse("") + "[" + ip + "]:" + address.getPort();
  }

  private static String tls(Attempt a) {
    if (a.authentication().isEmpty()) {
      return "none";
    }
    String base = a.authentication().get() + " " + a.source();
    return a.tls()
        .map(t -> base + " " + clean(t.protocol()) + " " + clean(t.cipherSuite()))
        .orElse(base);
  }

  private static String status(DeliveryStatus s) {
    switch (s) {
      case DELIVERED:
        return "sent";
      case BOUNCED:
        return "bounced";
      case DEFERRED:
        return "deferred";
    }
    throw new AssertionError(s);
  }

  /** Control characters (a multiline reply's line breaks among them) as spaces: one line. */
  private static String clean(String s) {
    StringBuilder out = new StringBuilder(s.length());
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      out.append(Character.isISOControl(c) ? ' ' : c);
    }
    return out.toString();
  }
}
