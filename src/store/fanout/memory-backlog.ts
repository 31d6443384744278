import { AuditkitError } from '../../core/errors.js';
import type { AuditEvent } from '../../core/event.js';
import type { Spool, SpooledBatch } from '../../pipeline/spool/spool.js';

/**
 * A {@link Spool} in memory, for a fan-out without a spool directory: batches wait here for a store that
 * is down. Bounded: past `maxEvents` an append throws `spool_failed` and the caller reports the loss.
 * A process exit loses what is still here (configure `spool: { dir }` to keep it).
 */
export function createMemoryBacklog(maxEvents: number): Spool {
  const batches: AuditEvent[][] = [];
  let pending = 0;
  return {
    append(events) {
      if (events.length === 0) return;
      if (pending + events.length > maxEvents) {
        throw new AuditkitError(
          'spool_failed',
          `The in-memory fan-out backlog is full (${maxEvents} events); configure spool: { dir } to keep more on disk.`,
        );
      }
      batches.push([...events]);
      pending += events.length;
    },
    pendingCount: () => pending,
    *batches(): Iterable<SpooledBatch> {
      for (;;) {
        const head = batches[0];
        if (!head) return;
        let acked = false;
        yield {
          events: head,
          ack() {
            if (acked) return;
            acked = true;
            batches.shift();
            pending -= head.length;
          },
        };
        if (!acked) return;
      }
    },
    close() {
      batches.length = 0;
      pending = 0;
    },
  };
}
