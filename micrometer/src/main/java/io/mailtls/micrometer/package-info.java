/**
 * Micrometer metrics and observations for mailtls: {@link MailtlsMetrics} (an {@link
 * io.mailtls.core.EventListener.Factory}) and {@link TransportPoolMetrics} (a {@link
 * io.micrometer.core.instrument.binder.MeterBinder}). Names and tags: docs/metrics.md.
 */
@NullMarked
package io.mailtls.micrometer;

import org.jspecify.annotations.NullMarked;
