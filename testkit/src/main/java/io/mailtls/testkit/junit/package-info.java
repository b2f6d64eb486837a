/** JUnit 5 support for the testkit: {@link io.mailtls.testkit.junit.TestkitExtension}. */
@NullMarked
package io.mailtls.testkit.junit;

import org.jspecify.annotations.NullMarked;
