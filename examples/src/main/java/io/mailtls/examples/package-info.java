/**
 * Small programs that show the mailtls API, each run by a test against the testkit's fixtures:
 * {@link io.mailtls.examples.SendOneMessage} (the smallest complete send), {@link
 * io.mailtls.examples.RetryingSender} (a custom sender with its own queue and back-off on deferred
 * recipients), and {@link io.mailtls.examples.DecisionLogger} (an event listener that logs every
 * security decision). The command line is its own module, {@code mailtls-cli}.
 */
@NullMarked
package io.mailtls.examples;

import org.jspecify.annotations.NullMarked;
