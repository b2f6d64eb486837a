@NullMarked
package io.mailtls.core.internal.transport;

import org.jspecify.annotations.NullMarked;
