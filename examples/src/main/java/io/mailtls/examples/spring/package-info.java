/**
 * A Spring Boot application that sends mail through {@code mailtls-spring-boot-starter}: its code
 * uses only Spring's {@code JavaMailSender}; the starter puts mailtls behind it.
 */
@NullMarked
package io.mailtls.examples.spring;

import org.jspecify.annotations.NullMarked;
