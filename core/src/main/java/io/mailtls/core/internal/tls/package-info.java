@NullMarked
package io.mailtls.core.internal.tls;

import org.jspecify.annotations.NullMarked;
