@NullMarked
package io.mailtls.testkit.internal.pki;

import org.jspecify.annotations.NullMarked;
