import { AuditkitError, toAuditkitError } from '../core/errors.js';
import type { AuditStore } from '../store/store.js';
import { createReplayer } from './replayer.js';
import { DEFAULT_RETRY, withRetry } from './retry.js';
import type { Spool } from './spool/spool.js';
import type { ErrorHook, EventWriter, RetryOptions } from './writer.js';

export interface SyncWriterOptions {
  store: AuditStore;
  retry?: RetryOptions;
  spool: Spool | null;
  onError: ErrorHook;
  /** When set, a write the store refuses rejects with `write_failed` (after being spooled). */
  raiseOnError?: boolean;
}

/** Writes each event before `write()` resolves; on failure it spools like the async writer and replays later. */
export function createSyncWriter({
  store,
  retry = DEFAULT_RETRY,
  spool,
  onError,
  raiseOnError = false,
}: SyncWriterOptions): EventWriter {
  const stats = { accepted: 0, written: 0, lost: 0, failedAttempts: 0 };
  let degraded = false;
  let closed = false;
  const replayer = spool
    ? createReplayer({
        store,
        spool,
        onError,
        onReplayed: (n) => {
          stats.written += n;
        },
        onDrained: () => {
          degraded = false;
        },
      })
    : null;
  if (spool && spool.pendingCount() > 0) {
    degraded = true;
    replayer?.start();
  }

  const spoolOrLose = (events: Parameters<Spool['append']>[0], cause: AuditkitError) => {
    if (spool) {
      try {
        spool.append(events);
        replayer?.start();
        return;
      } catch (error) {
        onError(toAuditkitError(error, 'spool_failed', 'An audit event could not be spooled'));
      }
    }
    stats.lost += events.length;
    onError(new AuditkitError('write_failed', `An audit event was lost: ${cause.message}`, { cause }));
  };

  return {
    async write(event) {
      if (closed) throw new AuditkitError('closed', 'The audit writer is closed.');
      stats.accepted += 1;
      if (degraded && spool) {
        spoolOrLose([event], new AuditkitError('store_unavailable', 'the store is being replayed'));
        return;
      }
      try {
        const result = await withRetry(
          () =>
            store.append([event]).catch((error: unknown) => {
              stats.failedAttempts += 1;
              throw error;
            }),
          retry,
        );
        stats.written += result.inserted + result.duplicates;
      } catch (error) {
        const wrapped = toAuditkitError(
          error,
          'store_unavailable',
          `Audit store "${store.name}" refused an event`,
        );
        onError(wrapped);
        if (spool) degraded = true;
        spoolOrLose([event], wrapped);
        if (raiseOnError) throw new AuditkitError('write_failed', wrapped.message, { cause: error });
      }
    },
    async flush() {},
    async close() {
      if (closed) return;
      closed = true;
      try {
        if (replayer && spool && spool.pendingCount() > 0) await replayer.drain();
      } finally {
        replayer?.stop();
        spool?.close();
      }
    },
    stats: () => ({
      accepted: stats.accepted,
      written: stats.written,
      queued: 0,
      spooled: spool ? spool.pendingCount() : 0,
      lost: stats.lost,
      failedAttempts: stats.failedAttempts,
      degraded,
    }),
  };
}
