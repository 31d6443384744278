import type { AuditEvent } from '../../core/event.js';

/** One spooled batch, handed out oldest first; `ack()` once the store has it. */
export interface SpooledBatch {
  events: AuditEvent[];
  ack(): void;
}

/** Durable local storage for batches the store could not take (yet). */
export interface Spool {
  /** Appends a batch durably (fsync). Throws `spool_failed` when the disk refuses. */
  append(events: readonly AuditEvent[]): void;
  /** Events spooled and not yet acknowledged. */
  pendingCount(): number;
  /** Unacknowledged batches, oldest first. Stop iterating at the first one the store refuses. */
  batches(): Iterable<SpooledBatch>;
  close(): void;
}
