import { join } from 'node:path';
import { z } from 'zod';
import { AuditkitError, isAuditkitError, toAuditkitError } from '../../core/errors.js';
import type { AuditEvent } from '../../core/event.js';
import { createReplayer } from '../../pipeline/replayer.js';
import { createFileSpool } from '../../pipeline/spool/file-spool.js';
import type { Spool } from '../../pipeline/spool/spool.js';
import type {
  AppendResult,
  AuditPage,
  AuditQuery,
  AuditStore,
  AuditSummary,
  SummaryOptions,
} from '../store.js';
import { type CopyResult, copyEvents } from './copy-events.js';
import { createMemoryBacklog } from './memory-backlog.js';

const storeSchema = z.custom<AuditStore>(
  (value) =>
    typeof value === 'object' &&
    value !== null &&
    typeof (value as AuditStore).append === 'function' &&
    typeof (value as AuditStore).query === 'function' &&
    typeof (value as AuditStore).get === 'function' &&
    typeof (value as AuditStore).migrate === 'function' &&
    typeof (value as AuditStore).close === 'function',
  { message: 'must be an AuditStore (for example pgliteStore() or postgresStore())' },
);

export const fanoutStoreOptionsSchema = z.strictObject({
  /** The store queries go to first, and the one `fallback` mode writes to while it is up. */
  primary: storeSchema,
  /** One or more further stores. */
  secondaries: z.array(storeSchema).min(1, 'secondaries needs at least one store'),
  /**
   * `all` (default): every batch goes to every store; a store that fails gets the batch in its backlog,
   * replayed when it returns. `fallback`: batches go to the primary; while it is down, to the first
   * secondary that takes them, and they are moved back to the primary when it returns.
   */
  mode: z.enum(['all', 'fallback']).default('all'),
  /**
   * Directory for the backlogs, so they survive a restart: `primary/`, `secondary-1/`... by position, so keep
   * the order of the stores the same across restarts. In memory when absent.
   */
  spool: z.strictObject({ dir: z.string().min(1) }).optional(),
  /** Events the in-memory backlog of one store may hold (ignored with `spool`). Default 100,000. */
  maxBacklogEvents: z.number().int().positive().default(100_000),
  /** How often a store that is down is probed by replaying its backlog: from `minDelayMs`, doubling up to `maxDelayMs`. */
  replay: z
    .strictObject({
      minDelayMs: z.number().int().positive().default(250),
      maxDelayMs: z.number().int().positive().default(10_000),
    })
    .default({ minDelayMs: 250, maxDelayMs: 10_000 }),
  /** Told about outages, replay failures and events that could not be kept for a store. */
  onError: z.custom<(error: AuditkitError) => void>((v) => typeof v === 'function').optional(),
});

export type FanoutStoreOptions = z.input<typeof fanoutStoreOptionsSchema>;
export type FanoutMode = 'all' | 'fallback';

/** How one store of a fan-out is doing. */
export interface FanoutStoreState {
  name: string;
  role: 'primary' | 'secondary';
  /** False while the store is failing or still has a backlog to catch up on. */
  healthy: boolean;
  /** Events waiting for this store (in `fallback` mode: events to move back to the primary). */
  backlog: number;
  /** Events replayed from the backlog into this store so far. */
  replayed: number;
  /** Failed writes to this store so far. */
  failures: number;
  lastError: string | null;
}

export interface FanoutStats {
  mode: FanoutMode;
  stores: FanoutStoreState[];
  /** Events that could be neither written to a store nor kept in its backlog (each one reported). */
  lost: number;
}

/** An {@link AuditStore} that writes to several stores. */
export interface FanoutStore extends AuditStore {
  readonly mode: FanoutMode;
  stats(): FanoutStats;
  /** Replays every backlog now; resolves true when all are empty. */
  drain(): Promise<boolean>;
  /**
   * Copies events of a time range between the stores, for when a backlog was lost (a spool directory on a
   * disk that did not survive): `fallback` mode copies the secondaries into the primary, `all` mode every
   * store into every other. Idempotent.
   */
  reconcile(range?: { from?: Date; to?: Date }): Promise<Array<CopyResult & { from: string; to: string }>>;
}

interface Lane {
  store: AuditStore;
  role: 'primary' | 'secondary';
  healthy: boolean;
  migrated: boolean;
  migrating: Promise<void> | null;
  backlog: Spool | null;
  replayer: ReturnType<typeof createReplayer> | null;
  replayed: number;
  failures: number;
  lastError: string | null;
  /** An outage has been reported and not yet ended: further replay failures are only counted. */
  outageReported: boolean;
}

const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));

/**
 * Writes every batch to several stores: to all of them (`mode: 'all'`), or to the primary with the
 * secondaries as fallback (`mode: 'fallback'`). A store that is down never stops the others: its share
 * waits in a backlog (on disk with `spool`) and is replayed when it returns. Replays are harmless because
 * every store skips ids it already has.
 *
 * @example
 * const store = fanoutStore({
 *   primary: postgresStore({ connectionString: process.env.DATABASE_URL! }),
 *   secondaries: [pgliteStore({ dataDir: './audit-fallback' })],
 *   mode: 'fallback',
 *   spool: { dir: './audit-fanout' },
 * });
 * const audit = createAuditor({ store });
 */
export function fanoutStore(options: FanoutStoreOptions): FanoutStore {
  const parsed = fanoutStoreOptionsSchema.safeParse(options);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${i.path.map(String).join('.') || '(options)'}: ${i.message}`,
    );
    throw new AuditkitError('invalid_config', `Invalid fanoutStore options:\n  ${problems.join('\n  ')}`, {
      details: { problems },
    });
  }
  const config = parsed.data;
  const { mode } = config;
  let lost = 0;
  let closed = false;

  const report = (error: AuditkitError) => {
    try {
      config.onError?.(error);
    } catch {
      // a throwing hook must not break writes
    }
  };

  const backlogFor = (index: number): Spool =>
    config.spool
      ? createFileSpool({
          // Named by position, not store name (wrappers rename stores): keep the order of stores across restarts.
          dir: join(config.spool.dir, index === 0 ? 'primary' : `secondary-${index}`),
          onError: report,
        })
      : createMemoryBacklog(config.maxBacklogEvents);

  const stores = [config.primary, ...config.secondaries];
  const lanes: Lane[] = stores.map((store, index) => {
    const role = index === 0 ? 'primary' : 'secondary';
    // `all`: every store may need to catch up. `fallback`: only the primary, with what went elsewhere.
    const backlog = mode === 'all' || index === 0 ? backlogFor(index) : null;
    return {
      store,
      role,
      healthy: true,
      migrated: false,
      migrating: null,
      backlog,
      replayer: null,
      replayed: 0,
      failures: 0,
      lastError: null,
      outageReported: false,
    };
  });

  const migrateLane = (lane: Lane): Promise<void> => {
    if (lane.migrated) return Promise.resolve();
    lane.migrating ??= lane.store
      .migrate()
      .then(() => {
        lane.migrated = true;
      })
      .finally(() => {
        lane.migrating = null;
      });
    return lane.migrating;
  };

  /** Appends to one store, migrating it first if its migration failed earlier (it was down at startup). */
  const laneAppend = async (lane: Lane, events: readonly AuditEvent[]): Promise<AppendResult> => {
    await migrateLane(lane);
    return lane.store.append(events);
  };

  const noteFailure = (lane: Lane, error: unknown) => {
    lane.failures += 1;
    lane.lastError = reason(error);
  };

  const reportOutage = (lane: Lane, error: unknown, what: string) => {
    if (lane.outageReported) return;
    lane.outageReported = true;
    report(toAuditkitError(error, 'store_unavailable', `Fan-out store "${lane.store.name}" failed; ${what}`));
  };

  const healIfCaughtUp = (lane: Lane) => {
    if (lane.healthy || (lane.backlog?.pendingCount() ?? 0) > 0) return;
    lane.healthy = true;
    lane.outageReported = false;
  };

  for (const lane of lanes) {
    const backlog = lane.backlog;
    if (!backlog) continue;
    lane.replayer = createReplayer({
      store: {
        name: lane.store.name,
        migrate: () => migrateLane(lane),
        append: (events) => laneAppend(lane, events),
        query: (q) => lane.store.query(q),
        get: (id) => lane.store.get(id),
        close: () => lane.store.close(),
      },
      spool: backlog,
      onError: (error) => {
        noteFailure(lane, error);
        reportOutage(lane, error, 'its backlog will be replayed when it answers again');
      },
      onReplayed: (count) => {
        lane.replayed += count;
      },
      onDrained: () => {
        // Batches added during the pass sit in a segment the pass did not read: go round again.
        if (backlog.pendingCount() > 0) lane.replayer?.start();
        else healIfCaughtUp(lane);
      },
      minDelayMs: config.replay.minDelayMs,
      maxDelayMs: config.replay.maxDelayMs,
    });
  }

  /** Puts a batch in a store's backlog; if even that fails, the events are missing there and reported. */
  const keepFor = (lane: Lane, events: readonly AuditEvent[]) => {
    try {
      lane.backlog?.append(events);
      lane.healthy = false;
      lane.replayer?.start();
    } catch (error) {
      lost += events.length;
      report(
        toAuditkitError(
          error,
          'spool_failed',
          `${events.length} audit event(s) could not be kept for store "${lane.store.name}" and are missing there ` +
            '(they are in the other stores; reconcile() copies them over)',
        ),
      );
    }
  };

  const direct = async (lane: Lane, events: readonly AuditEvent[]): Promise<AppendResult> => {
    try {
      const result = await laneAppend(lane, events);
      healIfCaughtUp(lane);
      return result;
    } catch (error) {
      noteFailure(lane, error);
      throw error;
    }
  };

  const nobodyTookIt = (failures: Array<{ lane: Lane; error: unknown }>) =>
    new AuditkitError(
      'store_unavailable',
      `No store of the fan-out took the batch: ${failures.map((f) => `${f.lane.store.name}: ${reason(f.error)}`).join('; ')}`,
      { cause: failures[0]?.error, details: { stores: failures.map((f) => f.lane.store.name) } },
    );

  /** A data problem fails in every store alike: it is passed on, never failed over or kept for replay. */
  const rethrowInvalid = (error: unknown) => {
    if (isAuditkitError(error, 'invalid_event')) throw error;
  };

  const appendToAll = async (events: readonly AuditEvent[]): Promise<AppendResult> => {
    const healthy = lanes.filter((l) => l.healthy);
    // With every store in trouble, try them all: one may be back before its replayer noticed.
    const tried = healthy.length > 0 ? healthy : lanes;
    const outcomes = await Promise.allSettled(tried.map((lane) => direct(lane, events)));
    const accepted: Array<{ lane: Lane; result: AppendResult }> = [];
    const failures: Array<{ lane: Lane; error: unknown }> = [];
    outcomes.forEach((outcome, i) => {
      const lane = tried[i] as Lane;
      if (outcome.status === 'fulfilled') accepted.push({ lane, result: outcome.value });
      else failures.push({ lane, error: outcome.reason });
    });
    for (const f of failures) rethrowInvalid(f.error);
    // Nothing stored anywhere: the caller's own retry and spool handle it, no backlog doubles it.
    if (accepted.length === 0) throw nobodyTookIt(failures);
    for (const lane of lanes) {
      if (accepted.some((a) => a.lane === lane)) continue;
      const failure = failures.find((f) => f.lane === lane);
      if (failure)
        reportOutage(lane, failure.error, 'its batches wait in a backlog and are replayed when it returns');
      keepFor(lane, events);
    }
    return (accepted.find((a) => a.lane.role === 'primary') ?? (accepted[0] as { result: AppendResult }))
      .result;
  };

  const appendWithFallback = async (events: readonly AuditEvent[]): Promise<AppendResult> => {
    const [primary, ...secondaries] = lanes as [Lane, ...Lane[]];
    const failures: Array<{ lane: Lane; error: unknown }> = [];
    if (primary.healthy) {
      try {
        return await direct(primary, events);
      } catch (error) {
        rethrowInvalid(error);
        primary.healthy = false;
        failures.push({ lane: primary, error });
        reportOutage(primary, error, 'writing to the fallback store until it returns');
      }
    }
    for (const lane of secondaries) {
      try {
        const result = await direct(lane, events);
        keepFor(primary, events); // to move back once the primary answers
        return result;
      } catch (error) {
        rethrowInvalid(error);
        failures.push({ lane, error });
      }
    }
    if (!failures.some((f) => f.lane === primary)) {
      try {
        return await direct(primary, events);
      } catch (error) {
        rethrowInvalid(error);
        failures.push({ lane: primary, error });
      }
    }
    throw nobodyTookIt(failures);
  };

  /**
   * Reads from the first store that answers: healthy ones first in `all` mode, the primary first otherwise.
   * Stores that cannot do the operation (`eligible` false) are passed over.
   */
  const read = async <T>(
    op: (store: AuditStore) => Promise<T>,
    accept: (value: T) => boolean = () => true,
    eligible: (store: AuditStore) => boolean = () => true,
  ) => {
    const order = (
      mode === 'all' ? [...lanes.filter((l) => l.healthy), ...lanes.filter((l) => !l.healthy)] : lanes
    ).filter((lane) => eligible(lane.store));
    let firstError: unknown;
    let fallbackValue: { value: T } | undefined;
    for (const lane of order) {
      try {
        const value = await op(lane.store);
        if (accept(value)) return value;
        fallbackValue ??= { value };
      } catch (error) {
        if (!isAuditkitError(error, 'store_unavailable')) throw error;
        firstError ??= error;
      }
    }
    if (fallbackValue) return fallbackValue.value;
    throw firstError;
  };

  // Aggregates come from the store queries would read. In `all` mode every store holds every event, so any
  // store that can aggregate will do; in `fallback` mode only the primary holds them all (a secondary, up
  // while the primary is down, answers then, as it does queries). Without one, the fan-out has no
  // `summarize` and callers scan pages instead (the UI's dashboard does).
  const canSummarize = (store: AuditStore) => typeof store.summarize === 'function';
  const summarizable = mode === 'all' ? stores.some(canSummarize) : canSummarize(config.primary);
  const summarize = summarizable
    ? (query: AuditQuery, options: SummaryOptions): Promise<AuditSummary> =>
        read(
          (store) => (store.summarize as NonNullable<AuditStore['summarize']>).call(store, query, options),
          undefined,
          canSummarize,
        )
    : undefined;

  // Backlogs left on disk by an earlier process are replayed from the start.
  for (const lane of lanes) {
    if ((lane.backlog?.pendingCount() ?? 0) > 0) {
      lane.healthy = false;
      lane.replayer?.start();
    }
  }

  return {
    name: `fanout(${stores.map((s) => s.name).join(',')})`,
    mode,
    async migrate() {
      const outcomes = await Promise.allSettled(lanes.map(migrateLane));
      const failed = outcomes.flatMap((o, i) =>
        o.status === 'rejected' ? [{ lane: lanes[i] as Lane, error: o.reason }] : [],
      );
      if (failed.length === outcomes.length) throw failed[0]?.error;
      for (const { lane, error } of failed) {
        noteFailure(lane, error);
        report(
          toAuditkitError(
            error,
            'migration_failed',
            `Fan-out store "${lane.store.name}" could not be migrated; it is migrated again before its next write`,
          ),
        );
      }
    },
    append(events) {
      if (closed) return Promise.reject(new AuditkitError('closed', 'This fan-out store is closed.'));
      if (events.length === 0) return Promise.resolve({ inserted: 0, duplicates: 0 });
      return mode === 'all' ? appendToAll(events) : appendWithFallback(events);
    },
    query: (query?: AuditQuery): Promise<AuditPage> => read((store) => store.query(query)),
    get: (id: string): Promise<AuditEvent | null> =>
      read(
        (store) => store.get(id),
        (event) => event !== null,
      ),
    ...(summarize ? { summarize } : {}),
    stats: () => ({
      mode,
      lost,
      stores: lanes.map((lane) => ({
        name: lane.store.name,
        role: lane.role,
        healthy: lane.healthy,
        backlog: lane.backlog?.pendingCount() ?? 0,
        replayed: lane.replayed,
        failures: lane.failures,
        lastError: lane.lastError,
      })),
    }),
    async drain() {
      let empty = true;
      for (const lane of lanes) {
        if (!lane.backlog || !lane.replayer) continue;
        for (let pass = 0; pass < 10 && lane.backlog.pendingCount() > 0; pass++) {
          if (!(await lane.replayer.drain())) break;
        }
        if (lane.backlog.pendingCount() > 0) empty = false;
      }
      return empty;
    },
    async reconcile(range = {}) {
      const pairs =
        mode === 'fallback'
          ? lanes.slice(1).map((lane) => [lane, lanes[0] as Lane] as const)
          : lanes.flatMap((source) =>
              lanes.filter((l) => l !== source).map((dest) => [source, dest] as const),
            );
      const results: Array<CopyResult & { from: string; to: string }> = [];
      for (const [source, destination] of pairs) {
        await migrateLane(destination);
        const copied = await copyEvents(source.store, destination.store, { from: range.from, to: range.to });
        results.push({ ...copied, from: source.store.name, to: destination.store.name });
      }
      return results;
    },
    async close() {
      if (closed) return;
      closed = true;
      // One last attempt to hand over what is waiting; a store still down keeps its backlog on disk.
      for (const lane of lanes) {
        if (lane.replayer && (lane.backlog?.pendingCount() ?? 0) > 0) await lane.replayer.drain();
        lane.replayer?.stop();
      }
      for (const lane of lanes) {
        const left = lane.backlog?.pendingCount() ?? 0;
        if (left > 0 && !config.spool) {
          lost += left;
          report(
            new AuditkitError(
              'write_failed',
              `${left} audit event(s) waiting in memory for store "${lane.store.name}" are lost at close ` +
                '(configure spool: { dir } to keep them across restarts)',
            ),
          );
        }
        lane.backlog?.close();
      }
      const closing = await Promise.allSettled(stores.map((s) => s.close()));
      const failed = closing.find((c) => c.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}
