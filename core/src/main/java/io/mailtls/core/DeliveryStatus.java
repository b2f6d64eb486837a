package io.mailtls.core;

/** The outcome for one recipient (docs/design.md §1). */
public enum DeliveryStatus {
  /** The server answered 250 to the final dot (or BDAT LAST) with this recipient accepted. */
  DELIVERED,
  /** Not delivered now; a transient condition: try again later. */
  DEFERRED,
  /** Not deliverable: a permanent condition. */
  BOUNCED
}
