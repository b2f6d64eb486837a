@NullMarked
package io.mailtls.core.internal.smtp;

import org.jspecify.annotations.NullMarked;
