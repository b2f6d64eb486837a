package io.mailtls.reliability.fuzz;

import java.lang.reflect.InvocationTargetException;
import java.util.ArrayList;
import java.util.List;

/**
 * Every fuzz target; a new one is added here (docs/reliability.md, "Fuzzing"). Targets are created
 * on demand, so that a fuzzing JVM loads only the parser it fuzzes.
 */
public final class FuzzTargets {

  /** The targets' classes, in the order CI fuzzes them. */
  public static final List<Class<? extends FuzzTarget>> ALL =
      List.of(
          SmtpReplyTarget.class,
          StsRecordTarget.class,
          TlsRptRecordTarget.class,
          StsPolicyTarget.class,
          TlsaTarget.class,
          DnsMessageTarget.class,
          MimeHeaderTarget.class,
          MessageContentTarget.class,
          ReceivedTarget.class,
          TlsRequiredHeaderTarget.class,
          PolicyMapTarget.class);

  private FuzzTargets() {}

  /** The name of a target class: its simple name without {@code Target}. */
  public static String name(Class<? extends FuzzTarget> type) {
    String simple = type.getSimpleName();
    return simple.endsWith("Target") ? simple.substring(0, simple.length() - 6) : simple;
  }

  /** Every target's name. */
  public static List<String> names() {
    List<String> names = new ArrayList<>();
    for (Class<? extends FuzzTarget> type : ALL) {
      names.add(name(type));
    }
    return names;
  }

  /** A new target of that {@linkplain FuzzTarget#name() name}. */
  public static FuzzTarget byName(String name) {
    for (Class<? extends FuzzTarget> type : ALL) {
      if (name(type).equals(name)) {
        try {
          return type.getDeclaredConstructor().newInstance();
        } catch (ReflectiveOperationException e) {
          Throwable cause = e instanceof InvocationTargetException i ? i.getCause() : e;
          throw new IllegalStateException("cannot create fuzz target " + name, cause);
        }
      }
    }
    throw new IllegalArgumentException("no fuzz target " + name + "; there are " + names());
  }
}
