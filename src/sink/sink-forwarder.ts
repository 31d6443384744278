import { z } from 'zod';
import { AuditkitError, toAuditkitError } from '../core/errors.js';
import type { AuditEvent } from '../core/event.js';
import { createFileOutbox } from './file-outbox.js';
import { createMemoryOutbox } from './memory-outbox.js';
import type { Outbox } from './outbox.js';
import type { Sink } from './sink.js';

const sinkSchema = z.custom<Sink>(
  (v) =>
    typeof v === 'object' &&
    v !== null &&
    typeof (v as Sink).name === 'string' &&
    (v as Sink).name.length > 0 &&
    typeof (v as Sink).send === 'function',
  { message: 'must be a Sink: { name, send(events) }, for example webhookSink() or jsonlFileSink()' },
);

export const sinkForwarderOptionsSchema = z.strictObject({
  sinks: z
    .array(sinkSchema)
    .min(1, 'sinks needs at least one sink')
    .refine((sinks) => new Set(sinks.map((s) => s.name)).size === sinks.length, {
      message: 'sink names must be unique (each names its stored cursor); pass name: to tell them apart',
    }),
  /** Directory of the outbox and the cursors, so undelivered events survive a restart. In memory when absent. */
  dir: z.string().min(1).optional(),
  /** Events per `send`. Default 500. */
  batchSize: z.number().int().positive().max(50_000).default(500),
  /** Disk the outbox may use before the oldest undelivered events are discarded (reported). Default 1 GiB. */
  maxOutboxBytes: z
    .number()
    .int()
    .positive()
    .default(1024 ** 3),
  /** Events the in-memory outbox keeps before discarding the oldest (reported). Default 100,000. */
  maxOutboxEvents: z.number().int().positive().default(100_000),
  /** fsync the outbox after each append. Default true. */
  fsync: z.boolean().default(true),
  /** Pause after a failed send: from `minDelayMs`, doubling up to `maxDelayMs`, with jitter; retried forever. */
  retry: z
    .strictObject({
      minDelayMs: z.number().int().positive().default(500),
      maxDelayMs: z.number().int().positive().default(30_000),
    })
    .default({ minDelayMs: 500, maxDelayMs: 30_000 }),
  /** How long `close()` keeps delivering what is waiting before it stops. Default 5000 ms. */
  closeTimeoutMs: z.number().int().min(0).default(5000),
  onError: z.custom<(error: AuditkitError) => void>((v) => typeof v === 'function').optional(),
});

export type SinkForwarderOptions = z.input<typeof sinkForwarderOptionsSchema>;

/** What one sink has done so far. */
export interface SinkStats {
  name: string;
  /** Events the sink confirmed. */
  delivered: number;
  /** Events waiting for it. */
  pending: number;
  /** Failed sends so far. */
  failures: number;
  /** Events discarded before it got them (the outbox hit its size bound), each batch reported. */
  dropped: number;
  /** True from a failed send until the next successful one. */
  down: boolean;
  lastError: string | null;
}

/** Hands stored events to sinks in the background. */
export interface SinkForwarder {
  /** Adds stored events to the outbox; resolves once they are in it (on disk with `dir`), never waiting for a sink. */
  push(events: readonly AuditEvent[]): Promise<void>;
  /** Resolves true once every sink has everything pushed so far, false if `timeoutMs` passes first. */
  flush(timeoutMs?: number): Promise<boolean>;
  stats(): SinkStats[];
  /** Delivers for up to `closeTimeoutMs`, then stops; with `dir`, what is left is sent after the next start. */
  close(): Promise<void>;
}

interface Lane {
  sink: Sink;
  stats: SinkStats;
  loop: Promise<void>;
}

/**
 * Starts one delivery loop per sink over a shared outbox. Each loop reads a batch after its cursor,
 * sends it, and moves the cursor only when the sink confirmed (at-least-once). A failing or slow sink only
 * delays itself: pushes append to the outbox and return.
 *
 * @example
 * const forwarder = createSinkForwarder({
 *   sinks: [webhookSink({ url: 'https://siem.example.com/ingest', secret: process.env.SIEM_SECRET! })],
 *   dir: './audit-outbox',
 * });
 */
export function createSinkForwarder(options: SinkForwarderOptions): SinkForwarder {
  const parsed = sinkForwarderOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.map(String).join('.') || '(options)'}: ${i.message}`,
    );
    throw new AuditkitError('invalid_config', `Invalid sink options:\n  ${problems.join('\n  ')}`, {
      details: { problems },
    });
  }
  const config = parsed.data;
  const report = (error: AuditkitError) => {
    try {
      config.onError?.(error);
    } catch {
      // a throwing hook must not stop delivery
    }
  };
  const readers = config.sinks.map((s) => s.name);
  const outbox: Outbox = config.dir
    ? createFileOutbox({
        dir: config.dir,
        readers,
        maxBytes: config.maxOutboxBytes,
        fsync: config.fsync,
        onError: report,
      })
    : createMemoryOutbox({ readers, maxEvents: config.maxOutboxEvents });

  let stopping = false;
  const abort = new AbortController();
  // Loops waiting at the head of the outbox (or in a pause) wake up on the next push or on close.
  let wakers: Array<() => void> = [];
  const wakeAll = () => {
    const current = wakers;
    wakers = [];
    for (const wake of current) wake();
  };
  const waitForWork = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      timer.unref();
      function done() {
        clearTimeout(timer);
        resolve();
      }
      wakers.push(done);
    });
  const pause = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        abort.signal.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      timer.unref();
      abort.signal.addEventListener('abort', done, { once: true });
    });

  const deliver = async (lane: Lane): Promise<void> => {
    const { sink, stats } = lane;
    let attempt = 0;
    while (!stopping) {
      let read: Awaited<ReturnType<Outbox['read']>>;
      try {
        read = await outbox.read(sink.name, config.batchSize);
      } catch (error) {
        report(
          toAuditkitError(error, 'sink_outbox_failed', `Reading the outbox for sink "${sink.name}" failed`),
        );
        await pause(config.retry.maxDelayMs);
        continue;
      }
      if (read.skipped > 0) {
        stats.dropped += read.skipped;
        report(
          new AuditkitError(
            'sink_overflow',
            `${read.skipped} audit event(s) were discarded before sink "${sink.name}" got them: the outbox reached its size bound while the sink was down. Raise maxOutboxBytes/maxOutboxEvents or fix the sink.`,
            { details: { sink: sink.name, dropped: read.skipped } },
          ),
        );
      }
      if (read.events.length === 0) {
        if (read.skipped > 0) await outbox.commit(sink.name, read.next).catch(() => undefined);
        await waitForWork(1000);
        continue;
      }
      try {
        await sink.send(read.events, { signal: abort.signal });
      } catch (error) {
        stats.failures += 1;
        stats.lastError = error instanceof Error ? error.message : String(error);
        if (!stats.down) {
          stats.down = true;
          report(
            toAuditkitError(
              error,
              'sink_failed',
              `Sink "${sink.name}" failed; its events wait in the outbox and are sent again`,
            ),
          );
        }
        const ceiling = Math.min(config.retry.maxDelayMs, config.retry.minDelayMs * 2 ** attempt);
        attempt += 1;
        await pause(ceiling / 2 + (Math.random() * ceiling) / 2);
        continue;
      }
      attempt = 0;
      stats.down = false;
      stats.delivered += read.events.length;
      try {
        await outbox.commit(sink.name, read.next);
      } catch (error) {
        // The batch may be sent again after a restart: at-least-once allows it.
        report(
          toAuditkitError(error, 'sink_outbox_failed', `Storing the cursor of sink "${sink.name}" failed`),
        );
      }
    }
  };

  const lanes: Lane[] = config.sinks.map((sink) => {
    const lane: Lane = {
      sink,
      loop: Promise.resolve(),
      stats: {
        name: sink.name,
        delivered: 0,
        pending: 0,
        failures: 0,
        dropped: 0,
        down: false,
        lastError: null,
      },
    };
    lane.loop = deliver(lane).catch((error: unknown) => {
      report(toAuditkitError(error, 'sink_failed', `The delivery loop of sink "${sink.name}" stopped`));
    });
    return lane;
  });

  const allDelivered = () => lanes.every((lane) => outbox.pending(lane.sink.name) === 0);

  const flush = async (timeoutMs = 30_000): Promise<boolean> => {
    const deadline = Date.now() + timeoutMs;
    while (!allDelivered()) {
      if (Date.now() >= deadline || stopping) return allDelivered();
      wakeAll();
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    return true;
  };

  return {
    async push(events) {
      if (events.length === 0) return;
      if (stopping) throw new AuditkitError('closed', 'The sink forwarder is closed.');
      await outbox.append(events);
      wakeAll();
    },
    flush,
    stats: () => lanes.map((lane) => ({ ...lane.stats, pending: outbox.pending(lane.sink.name) })),
    async close() {
      if (stopping) return;
      if (config.closeTimeoutMs > 0) await flush(config.closeTimeoutMs);
      stopping = true;
      abort.abort();
      wakeAll();
      await Promise.all(lanes.map((lane) => lane.loop));
      if (!config.dir) {
        for (const lane of lanes) {
          const left = outbox.pending(lane.sink.name);
          if (left > 0) {
            report(
              new AuditkitError(
                'sink_undelivered',
                `${left} audit event(s) were not delivered to sink "${lane.sink.name}" before close and are lost ` +
                  '(configure dir to keep them for the next start)',
                { details: { sink: lane.sink.name, undelivered: left } },
              ),
            );
          }
        }
      }
      await outbox.close();
      await Promise.allSettled(lanes.map((lane) => lane.sink.close?.()));
    },
  };
}
