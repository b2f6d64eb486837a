@NullMarked
package io.mailtls.testkit.internal.smtp;

import org.jspecify.annotations.NullMarked;
