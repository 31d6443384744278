import type { AuditEvent } from '../core/event.js';

/** Where a reader stands in an outbox; opaque to callers. */
export interface OutboxPosition {
  /** Number of events before this position since the outbox began: pending = head - seq. */
  seq: number;
}

export interface OutboxRead<P extends OutboxPosition = OutboxPosition> {
  events: AuditEvent[];
  /** Pass to `commit` once the events are delivered. */
  next: P;
  /** Events that were discarded (outbox over its size bound) before this reader got them. */
  skipped: number;
}

/**
 * The log sinks read from: events are appended once, and every reader (one per sink) moves its own stored
 * cursor through them. Entries every reader has passed are discarded.
 */
export interface Outbox {
  /** Appends a batch. Never waits for readers. */
  append(events: readonly AuditEvent[]): Promise<void>;
  /** Up to `max` events after the reader's cursor (none when it is at the head). */
  read(reader: string, max: number): Promise<OutboxRead>;
  /** Moves the reader's cursor (durably, for a file outbox) past what `read` returned. */
  commit(reader: string, position: OutboxPosition): Promise<void>;
  /** Events appended and not yet committed by `reader`. */
  pending(reader: string): number;
  close(): Promise<void>;
}
