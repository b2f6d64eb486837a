package io.mailtls.spring;

import io.mailtls.core.DnsResolver;
import io.mailtls.core.DomainName;
import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnBean;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnMissingBean;
import org.springframework.boot.health.autoconfigure.contributor.ConditionalOnEnabledHealthIndicator;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.context.annotation.Bean;

/**
 * Registers {@link MailtlsHealthIndicator} as {@code mailtls} when Spring Boot's health module is
 * present (as with the actuator) and {@code management.health.mailtls.enabled} is not false.
 */
@AutoConfiguration(after = MailtlsAutoConfiguration.class)
@ConditionalOnClass(HealthIndicator.class)
@ConditionalOnBean(DnsResolver.class)
@ConditionalOnEnabledHealthIndicator("mailtls")
public class MailtlsHealthAutoConfiguration {

  /** The indicator; its bean name gives the {@code mailtls} health component. */
  @Bean
  @ConditionalOnMissingBean(name = "mailtlsHealthIndicator")
  public MailtlsHealthIndicator mailtlsHealthIndicator(
      DnsResolver dns, MailtlsProperties properties) {
    MailtlsProperties.Health h = properties.getHealth();
    return new MailtlsHealthIndicator(
        dns,
        SpringSupport.build("mailtls.health.signed-name", () -> DomainName.of(h.getSignedName())),
        SpringSupport.build("mailtls.health.bogus-name", () -> DomainName.of(h.getBogusName())),
        properties.getMtaSts().isEnabled() ? properties.getMtaSts().getStoreDirectory() : null);
  }
}
