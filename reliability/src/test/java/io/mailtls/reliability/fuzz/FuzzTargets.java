package io.mailtls.reliability.fuzz;

import java.util.List;

/** Every fuzz target; a new one is added here (docs/reliability.md, "Fuzzing"). */
public final class FuzzTargets {

  /** The targets, in the order CI fuzzes them. */
  public static final List<FuzzTarget> ALL =
      List.of(
          new SmtpReplyTarget(),
          new StsRecordTarget(),
          new StsPolicyTarget(),
          new TlsaTarget(),
          new DnsMessageTarget(),
          new MimeHeaderTarget(),
          new MessageContentTarget());

  private FuzzTargets() {}

  /** The target of that {@linkplain FuzzTarget#name() name}. */
  public static FuzzTarget byName(String name) {
    for (FuzzTarget target : ALL) {
      if (target.name().equals(name)) {
        return target;
      }
    }
    throw new IllegalArgumentException("no fuzz target " + name + "; there are " + ALL);
  }
}
