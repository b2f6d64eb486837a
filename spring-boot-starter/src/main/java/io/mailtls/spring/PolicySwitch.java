package io.mailtls.spring;

import org.springframework.boot.autoconfigure.condition.ConditionOutcome;
import org.springframework.boot.autoconfigure.condition.SpringBootCondition;
import org.springframework.boot.context.properties.bind.Binder;
import org.springframework.context.annotation.ConditionContext;
import org.springframework.core.type.AnnotatedTypeMetadata;

/**
 * Whether a recipient policy is on, read as {@link MailtlsProperties} binds it: any of Spring's
 * boolean words ({@code true}/{@code false}, {@code on}/{@code off}, {@code yes}/{@code no}, {@code
 * 1}/{@code 0}), on when unset. Boot's {@code @ConditionalOnBooleanProperty} matches only {@code
 * true} and {@code false}, so {@code on} bound the property on while the policy's beans were left
 * out. A value that does not bind fails start-up, naming the property.
 */
abstract class PolicySwitch extends SpringBootCondition {

  private final String property;

  PolicySwitch(String property) {
    this.property = property;
  }

  @Override
  public ConditionOutcome getMatchOutcome(
      ConditionContext context, AnnotatedTypeMetadata metadata) {
    boolean on = Binder.get(context.getEnvironment()).bind(property, Boolean.class).orElse(true);
    return new ConditionOutcome(on, property + (on ? " is on" : " is off"));
  }

  /** {@code mailtls.mta-sts.enabled}. */
  static final class MtaSts extends PolicySwitch {
    MtaSts() {
      super("mailtls.mta-sts.enabled");
    }
  }

  /** {@code mailtls.dane.enabled}. */
  static final class Dane extends PolicySwitch {
    Dane() {
      super("mailtls.dane.enabled");
    }
  }
}
