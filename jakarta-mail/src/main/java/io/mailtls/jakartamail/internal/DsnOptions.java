package io.mailtls.jakartamail.internal;

import io.mailtls.core.DsnRequest;
import io.mailtls.core.DsnRequest.Notify;
import io.mailtls.core.DsnRequest.Ret;
import jakarta.mail.Message;
import jakarta.mail.MessagingException;
import jakarta.mail.Session;
import java.lang.reflect.InvocationTargetException;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * A message's request for delivery status notifications (RFC 3461) as Angus Mail's {@code
 * SMTPTransport} makes it: the {@code NOTIFY} of an {@code SMTPMessage}'s {@code setNotifyOptions},
 * else the session's {@value #NOTIFY}; the {@code RET} of its {@code setReturnOption}, else the
 * session's {@value #RET}. Neither set: no request. The {@code SMTPMessage} is read without linking
 * to Angus Mail. Stateless and thread-safe.
 *
 * <p>Unlike Angus Mail, which sends the property's text as it stands, the properties are checked
 * (RFC 3461 §4.1, §4.3), so that no text of theirs reaches a command line.
 */
public final class DsnOptions {

  /** Angus Mail's session property for {@code NOTIFY=}. */
  public static final String NOTIFY = "mail.smtp.dsn.notify";

  /** Angus Mail's session property for {@code RET=}. */
  public static final String RET = "mail.smtp.dsn.ret";

  private static final List<String> SMTP_MESSAGE_CLASSES =
      List.of("org.eclipse.angus.mail.smtp.SMTPMessage", "com.sun.mail.smtp.SMTPMessage");

  // SMTPMessage's constants (the same in both packages).
  private static final int NOTIFY_NEVER = -1;
  private static final int NOTIFY_SUCCESS = 1;
  private static final int NOTIFY_FAILURE = 2;
  private static final int NOTIFY_DELAY = 4;
  private static final int RETURN_FULL = 1;
  private static final int RETURN_HDRS = 2;

  /**
   * The session's defaults, read once (at connect).
   *
   * @param notifyOn the conditions of {@value #NOTIFY}, or null when it is not set
   * @param ret the value of {@value #RET}
   */
  public record Defaults(@Nullable Set<Notify> notifyOn, Optional<Ret> ret) {

    /** No defaults. */
    public static final Defaults NONE = new Defaults(null, Optional.empty());
  }

  private DsnOptions() {}

  /**
   * The session's {@value #NOTIFY} and {@value #RET}.
   *
   * @throws IllegalArgumentException naming the property whose value is not {@code NEVER} or a
   *     comma-separated list of {@code SUCCESS}, {@code FAILURE}, {@code DELAY} (RFC 3461 §4.1), or
   *     not {@code FULL} or {@code HDRS} (RFC 3461 §4.3); case and spaces around are ignored
   */
  public static Defaults defaults(Session session) {
    String notify = Envelopes.nonBlank(ProviderSettings.text(session, NOTIFY));
    String ret = Envelopes.nonBlank(ProviderSettings.text(session, RET));
    return new Defaults(
        notify == null ? null : parseNotify(notify),
        ret == null ? Optional.empty() : Optional.of(parseRet(ret)));
  }

  private static Set<Notify> parseNotify(String raw) {
    Set<Notify> on = EnumSet.noneOf(Notify.class);
    for (String part : raw.split(",", -1)) {
      Notify n;
      try {
        n = Notify.valueOf(part.trim().toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        n = null;
      }
      if (n == null || !on.add(n)) {
        throw new IllegalArgumentException(notifyError(raw));
      }
    }
    if (on.contains(Notify.NEVER) && on.size() > 1) {
      throw new IllegalArgumentException(notifyError(raw));
    }
    return on;
  }

  private static String notifyError(String raw) {
    return NOTIFY
        + " must be NEVER, or SUCCESS, FAILURE, DELAY separated by commas (RFC 3461 §4.1), not \""
        + raw
        + "\"";
  }

  private static Ret parseRet(String raw) {
    return switch (raw.trim().toUpperCase(Locale.ROOT)) {
      case "FULL" -> Ret.FULL;
      case "HDRS" -> Ret.HDRS;
      default ->
          throw new IllegalArgumentException(
              RET + " must be FULL or HDRS (RFC 3461 §4.3), not \"" + raw + "\"");
    };
  }

  /**
   * The request for {@code message}: each of its {@code SMTPMessage} options that is set, else the
   * session's; empty when neither says anything. ORCPT goes with it ({@link DsnRequest}).
   *
   * @throws MessagingException when the {@code SMTPMessage}'s options cannot be read or hold a
   *     value {@code SMTPMessage} does not define
   */
  public static Optional<DsnRequest> of(Message message, Defaults session)
      throws MessagingException {
    int notifyOptions = 0;
    int returnOption = 0;
    for (Class<?> c = message.getClass(); c != null; c = c.getSuperclass()) {
      if (SMTP_MESSAGE_CLASSES.contains(c.getName())) {
        notifyOptions = intOption(c, message, "getNotifyOptions");
        returnOption = intOption(c, message, "getReturnOption");
        break;
      }
    }
    Set<Notify> notify = notifyOptions == 0 ? session.notifyOn() : notify(notifyOptions);
    Optional<Ret> ret = returnOption == 0 ? session.ret() : Optional.of(ret(returnOption));
    if (notify == null && ret.isEmpty()) {
      return Optional.empty();
    }
    return Optional.of(
        new DsnRequest(notify == null ? Set.of() : notify, ret, Optional.empty(), true));
  }

  private static int intOption(Class<?> c, Message message, String getter)
      throws MessagingException {
    Object v;
    try {
      v = c.getMethod(getter).invoke(message);
    } catch (InvocationTargetException e) {
      throw new MessagingException("SMTPMessage." + getter + " failed", e);
    } catch (ReflectiveOperationException | RuntimeException e) {
      throw new MessagingException("cannot read SMTPMessage." + getter + ": " + e, e);
    }
    if (!(v instanceof Integer i)) {
      throw new MessagingException("SMTPMessage." + getter + " returned " + v);
    }
    return i;
  }

  private static Set<Notify> notify(int options) throws MessagingException {
    if (options == NOTIFY_NEVER) {
      return Set.of(Notify.NEVER);
    }
    if (options < 0 || (options & ~(NOTIFY_SUCCESS | NOTIFY_FAILURE | NOTIFY_DELAY)) != 0) {
      throw new MessagingException("SMTPMessage notify options " + options + " are not valid");
    }
    Set<Notify> on = EnumSet.noneOf(Notify.class);
    if ((options & NOTIFY_SUCCESS) != 0) {
      on.add(Notify.SUCCESS);
    }
    if ((options & NOTIFY_FAILURE) != 0) {
      on.add(Notify.FAILURE);
    }
    if ((options & NOTIFY_DELAY) != 0) {
      on.add(Notify.DELAY);
    }
    return on;
  }

  private static Ret ret(int option) throws MessagingException {
    return switch (option) {
      case RETURN_FULL -> Ret.FULL;
      case RETURN_HDRS -> Ret.HDRS;
      default ->
          throw new MessagingException("SMTPMessage return option " + option + " is not valid");
    };
  }
}
