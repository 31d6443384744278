import type { AuditkitError } from '../core/errors.js';
import type { AuditEvent } from '../core/event.js';

/** Counters a writer keeps so operators can see what happened without logs. */
export interface WriterStats {
  /** Events handed to the writer. */
  accepted: number;
  /** Events the store confirmed (including duplicates skipped on replay). */
  written: number;
  /** Events currently in memory waiting for the store. */
  queued: number;
  /** Events currently in the durable spool on disk. */
  spooled: number;
  /** Events that could be neither stored nor spooled (each one was reported through onError). */
  lost: number;
  /** Failed store attempts so far. */
  failedAttempts: number;
  /** True while the store is failing and new batches go to the spool. */
  degraded: boolean;
}

export type ErrorHook = (error: AuditkitError) => void;

/** Retry policy for one batch before it is spooled: exponential backoff with full jitter. */
export interface RetryOptions {
  /** Attempts after the first one. Default 3. */
  retries: number;
  /** First delay. Default 50 ms. */
  minDelayMs: number;
  /** Ceiling for any delay. Default 2000 ms. */
  maxDelayMs: number;
}

/** Takes finished events and gets them into the store, one way or another. */
export interface EventWriter {
  /**
   * Hands over one event. In async mode this resolves once the event is queued (and journaled when the
   * journal is on); in sync mode once the store has it (or it has been spooled after retries).
   */
  write(event: AuditEvent): Promise<void>;
  /** Resolves when every event accepted so far is in the store or, if the store is down, in the spool. */
  flush(): Promise<void>;
  /** Flushes, stops timers, and releases the spool. Further writes throw `closed`. */
  close(): Promise<void>;
  stats(): WriterStats;
}
