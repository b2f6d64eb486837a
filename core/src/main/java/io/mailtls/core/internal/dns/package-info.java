@NullMarked
package io.mailtls.core.internal.dns;

import org.jspecify.annotations.NullMarked;
