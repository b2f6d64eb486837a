/** The recommended wiring in one call: {@link io.mailtls.standard.StandardTransport}. */
@NullMarked
package io.mailtls.standard;

import org.jspecify.annotations.NullMarked;
