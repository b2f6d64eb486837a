/**
 * Test fixtures for mailtls and its users: real servers on loopback, a test PKI, a fake clock and a
 * manual scheduler.
 */
@NullMarked
package io.mailtls.testkit;

import org.jspecify.annotations.NullMarked;
