/**
 * The per-host policy decision of {@code mailtls-core}, as pure functions over typed inputs: the
 * sender's level, the configured providers, the DNSSEC state of the MX, address and TLSA answers,
 * DANE usability and the MTA-STS policy and match (docs/design.md §1, whose precedence table the
 * tests generate from the same rules). No I/O, no clock, no state: the same inputs always give the
 * same decision.
 *
 * <p>Not API: types here may change in any release, without notice. Only {@code io.mailtls.core}
 * uses them, and the module does not export this package: {@code TransportPolicyResolver} does the
 * lookups and assembles a {@code DeliveryPlan} from these decisions. Other modules plan through
 * {@code TransportPolicyResolver}.
 */
@NullMarked
package io.mailtls.core.internal.policy;

import org.jspecify.annotations.NullMarked;
