import { toAuditkitError } from '../core/errors.js';
import type { AuditStore } from '../store/store.js';
import type { Spool } from './spool/spool.js';
import type { ErrorHook } from './writer.js';

export interface ReplayerOptions {
  store: AuditStore;
  spool: Spool;
  onError: ErrorHook;
  /** Called with the number of events the store accepted from the spool. */
  onReplayed: (count: number) => void;
  /** Called when the spool has been emptied. */
  onDrained: () => void;
  minDelayMs?: number;
  maxDelayMs?: number;
}

/**
 * Replays the spool into the store in the background, oldest batch first, probing a failing store at
 * growing intervals (250 ms up to 10 s). Timers are unref'd: a replayer never keeps the process alive.
 */
export function createReplayer({
  store,
  spool,
  onError,
  onReplayed,
  onDrained,
  minDelayMs = 250,
  maxDelayMs = 10_000,
}: ReplayerOptions) {
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<boolean> | null = null;
  let delay = minDelayMs;
  let stopped = false;

  /** One pass; resolves true when the spool is empty afterwards. */
  const drain = (): Promise<boolean> => {
    running ??= (async () => {
      try {
        // Writers may spool more while a pass runs (into a new segment): keep going until a pass finds
        // nothing, or nobody would schedule the replay of what arrived during the last pass.
        for (let replayed = -1; replayed !== 0 && spool.pendingCount() > 0; ) {
          replayed = 0;
          for (const batch of spool.batches()) {
            const result = await store.append(batch.events);
            batch.ack();
            replayed += 1;
            onReplayed(result.inserted + result.duplicates);
          }
        }
        delay = minDelayMs;
        onDrained();
        return true;
      } catch (error) {
        onError(toAuditkitError(error, 'store_unavailable', 'Replaying the audit spool failed; will retry'));
        delay = Math.min(maxDelayMs, delay * 2);
        return false;
      } finally {
        running = null;
      }
    })();
    return running;
  };

  const schedule = () => {
    if (timer || stopped) return;
    timer = setTimeout(async () => {
      timer = null;
      if (!(await drain())) schedule();
    }, delay);
    timer.unref();
  };

  return {
    /** Starts background replay if it is not already scheduled. */
    start: schedule,
    drain,
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
    },
  };
}
