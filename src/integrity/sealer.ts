import type { KeyObject } from 'node:crypto';
import { z } from 'zod';
import { AuditkitError, toAuditkitError } from '../core/errors.js';
import type { SqlExecutor } from '../store/sql/sql-executor.js';
import type { AuditStore } from '../store/store.js';
import {
  CHECKPOINT_SELECT,
  type Checkpoint,
  type CheckpointRow,
  makeCheckpoint,
  rowToCheckpoint,
} from './checkpoint.js';
import { GENESIS_HASH, newSalts } from './event-hash.js';
import type { SealChainJob, SealChainResult } from './hash-jobs.js';
import { createHashPool, type HashPool, inlinePool, type WorkersOption, workerCount } from './hash-pool.js';
import { type KeyInput, loadSigningKey } from './keys.js';
import { ensureIntegritySchema } from './migrations.js';
import {
  chainKey,
  type IntegrityTables,
  occurredAtText,
  type SqlAccess,
  sqlAccessOf,
  tablesOf,
  textArray,
  withMaintenance,
} from './sql-access.js';

const keySchema = z.custom<KeyInput>(
  (v) => typeof v === 'string' || Buffer.isBuffer(v) || (typeof v === 'object' && v !== null && 'type' in v),
  { message: 'signingKey must be PEM text, a PEM file path or a KeyObject' },
);

export const sealOptionsSchema = z.strictObject({
  /** Ed25519 private key that signs checkpoints (PEM, file path or KeyObject). Without it checkpoints are unsigned. */
  signingKey: keySchema.optional(),
  /** Events sealed per transaction (default 2000). */
  batchSize: z.number().int().min(1).max(50_000).default(2000),
  /** A checkpoint covers this many events of one tenant (default 1000). */
  checkpointEvery: z.number().int().min(1).max(1_000_000).default(1000),
  /** Also checkpoint a tenant whose last checkpoint is older than this, if it has new events (default 60 s). */
  checkpointIntervalMs: z.number().int().min(0).default(60_000),
  /** Stop after about this many events (default: everything unsealed). */
  maxEvents: z.number().int().min(1).optional(),
  /** Wait for another sealer to finish (default true); false returns `busy` at once. */
  wait: z.boolean().default(true),
  /** Checkpoint every tenant with events after its last checkpoint now, whatever the interval. */
  checkpointNow: z.boolean().default(false),
  /** The clock; tests replace it. */
  now: z.custom<() => Date>((v) => typeof v === 'function').optional(),
  /** Stops between two batches once aborted (what `Sealer.stop()` uses). */
  signal: z.instanceof(AbortSignal).optional(),
  /**
   * Worker threads that hash (so a background sealer stays off the app's event loop): `'auto'`
   * (default) one per core but one, at most 4, once a run has a few thousand events; 0 hashes on the
   * calling thread.
   */
  workers: z.union([z.literal('auto'), z.number().int().min(0).max(64)]).default('auto'),
});

export type SealOptions = z.input<typeof sealOptionsSchema>;

export interface SealResult {
  /** Events that got a seq and a hash. */
  sealed: number;
  /** Checkpoints written. */
  checkpoints: Checkpoint[];
  /** True when another sealer (or a cleanup or erasure) held the lock and `wait` was false. */
  busy: boolean;
}

function parseOptions<T extends z.ZodType>(schema: T, options: unknown, what: string): z.output<T> {
  const parsed = schema.safeParse(options ?? {});
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`);
    throw new AuditkitError('invalid_config', `Invalid ${what} options: ${problems.join('; ')}`, {
      details: { problems },
    });
  }
  return parsed.data;
}

export { parseOptions as parseIntegrityOptions };

interface Head {
  chain: string;
  tenantId: string | null;
  lastSeq: number;
  lastHash: string;
  checkpointSeq: number;
  checkpointId: string | null;
  checkpointAt: Date;
  dirty: boolean;
}

interface HeadRow {
  chain: string;
  tenant_id: string | null;
  last_seq: string | number;
  last_hash: string;
  checkpoint_seq: string | number;
  checkpoint_id: string | null;
  checkpoint_at: string | Date | null;
}

const HEAD_SELECT = 'chain, tenant_id, last_seq, last_hash, checkpoint_seq, checkpoint_id, checkpoint_at';

function rowToHead(row: HeadRow, now: Date): Head {
  return {
    chain: row.chain,
    tenantId: row.tenant_id,
    lastSeq: Number(row.last_seq),
    lastHash: row.last_hash,
    checkpointSeq: Number(row.checkpoint_seq),
    checkpointId: row.checkpoint_id,
    checkpointAt: row.checkpoint_at ? new Date(row.checkpoint_at) : now,
    dirty: false,
  };
}

interface UnsealedRow {
  id: string;
  at: string;
  tenant_id: string | null;
  /** The event JSON as text: parsed here, once, instead of by the driver. */
  data: string;
  xid: string;
}

interface CursorRow {
  lo: string;
  pending: string;
  round_hi: string | null;
  round_running: string | null;
  after_xid: string | null;
  after_at: string | null;
  after_id: string | null;
  legacy: boolean;
}

const NIL_UUID = '00000000-0000-0000-0000-000000000000';

/**
 * Seals what is waiting: takes the events of finished writing transactions in order (transaction, then
 * id), gives each the next `seq` of its tenant's chain and `hash = sha256(prevHash || canonical
 * record)`, stored in `audit_seals` (the event row is never rewritten), and writes signed checkpoints
 * every `checkpointEvery` events (or `checkpointIntervalMs`). Runs in transactions of `batchSize` events
 * under the maintenance lock; writers never wait for it.
 *
 * @example
 * const { sealed, checkpoints } = await seal(audit.store, { signingKey: './keys/auditkit-signing.key' });
 */
export async function seal(store: AuditStore | SqlAccess, options: SealOptions = {}): Promise<SealResult> {
  const config = parseOptions(sealOptionsSchema, options, 'seal');
  const pools = new SealerPool(config.workers);
  try {
    return await sealWith(store, config, pools);
  } finally {
    await pools.close();
  }
}

/**
 * The hash pool of a sealer: none (hashing on the calling thread) until it has had enough events for
 * workers to pay off, then kept (by a background sealer, from run to run until it stops).
 */
class SealerPool {
  #pool: HashPool | undefined;
  #events = 0;
  readonly #inline = inlinePool();
  constructor(readonly option: WorkersOption) {}
  /** The pool for a batch of `events` events. */
  for(events: number): HashPool {
    this.#events += events;
    if (!this.#pool) {
      const workers = workerCount(this.option, this.#events);
      if (workers > 0) this.#pool = createHashPool(workers);
    }
    return this.#pool ?? this.#inline;
  }
  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.close();
  }
}

async function sealWith(
  store: AuditStore | SqlAccess,
  config: z.output<typeof sealOptionsSchema>,
  pools: SealerPool,
): Promise<SealResult> {
  const access = sqlAccessOf(store);
  await ensureIntegritySchema(access);
  const key = config.signingKey === undefined ? undefined : loadSigningKey(config.signingKey);
  const now = config.now ?? (() => new Date());
  const tables = tablesOf(access);
  const result: SealResult = { sealed: 0, checkpoints: [], busy: false };
  for (;;) {
    const limit = Math.min(config.batchSize, (config.maxEvents ?? Number.POSITIVE_INFINITY) - result.sealed);
    if (limit <= 0 || config.signal?.aborted) break;
    const batch = await withMaintenance(
      access,
      'seal',
      (tx) =>
        sealBatch(tx, tables, limit, {
          key,
          every: config.checkpointEvery,
          now: now(),
          pool: (events) => pools.for(events),
        }),
      { wait: config.wait },
    );
    if (batch.busy) {
      result.busy = true;
      return result;
    }
    result.sealed += batch.value.sealed;
    result.checkpoints.push(...batch.value.checkpoints);
    if (batch.value.roundDone) break;
  }
  if (config.signal?.aborted) return result;
  // Tenants whose last checkpoint is old (or all, with checkpointNow) get one for their newer events.
  const timed = await withMaintenance(
    access,
    'seal',
    (tx) =>
      checkpointDue(tx, tables, {
        key,
        every: config.checkpointEvery,
        now: now(),
        pool: () => pools.for(0),
        olderThanMs: config.checkpointNow ? -1 : config.checkpointIntervalMs,
      }),
    { wait: config.wait },
  );
  if (timed.busy) result.busy = true;
  else result.checkpoints.push(...timed.value);
  return result;
}

interface BatchContext {
  key: KeyObject | undefined;
  every: number;
  now: Date;
  /** The hash pool for a batch of this many events. */
  pool: (events: number) => HashPool;
}

async function loadHeads(tx: SqlExecutor, tables: IntegrityTables, chains: string[], now: Date) {
  const rows = (
    await tx.query<HeadRow>(`SELECT ${HEAD_SELECT} FROM ${tables.heads} WHERE chain = ANY($1::text[])`, [
      textArray(chains),
    ])
  ).rows;
  return new Map(rows.map((row) => [row.chain, rowToHead(row, now)]));
}

/**
 * The sealer's place in the stream of writing transactions. A round starts from a snapshot: it seals the
 * events of the transactions that had finished by then (those below the snapshot's xmax, but not the
 * ones still running, which wait in `pending` for a later round), a batch at a time, keyset on (xid, id).
 * Transaction ids only grow, so no event of a finished transaction can appear after its round.
 */
async function readCursor(tx: SqlExecutor, tables: IntegrityTables): Promise<CursorRow> {
  const select =
    'SELECT lo::text AS lo, pending::text AS pending, round_hi::text AS round_hi, round_running::text AS round_running, ' +
    `after_xid::text AS after_xid, ${occurredAtText('after')} AS after_at, after_id::text AS after_id, legacy ` +
    `FROM (SELECT *, after_at AS occurred_at FROM ${tables.sealCursor} WHERE id = 1) after`;
  let cursor = (await tx.query<CursorRow>(select)).rows[0];
  if (!cursor) {
    await tx.query(`INSERT INTO ${tables.sealCursor} (id) VALUES (1) ON CONFLICT DO NOTHING`);
    cursor = (await tx.query<CursorRow>(select)).rows[0] as CursorRow;
  }
  if (cursor.round_hi === null) {
    const snapshot = (
      await tx.query<{ hi: string; running: string }>(
        'SELECT pg_snapshot_xmax(pg_current_snapshot())::text AS hi, ' +
          'ARRAY(SELECT pg_snapshot_xip(pg_current_snapshot()))::text AS running',
      )
    ).rows[0] as { hi: string; running: string };
    cursor = {
      ...cursor,
      round_hi: snapshot.hi,
      round_running: snapshot.running,
      after_xid: '0',
      after_at: '-infinity',
      after_id: NIL_UUID,
    };
  }
  return cursor;
}

/**
 * The next `limit` events of the round in (xid, time, id) order: first those of pending transactions
 * (all below `lo`), then the range.
 */
function candidatesSql(tables: IntegrityTables, legacy: boolean): string {
  const columns = `e.id::text AS id, ${occurredAtText('e')} AS at, e.tenant_id, e.data::text AS data, e.recorded_xid::text AS xid, e.recorded_xid AS x, e.occurred_at AS o`;
  const common =
    'NOT (e.recorded_xid = ANY($3::xid8[])) AND (e.recorded_xid, e.occurred_at, e.id) > ($4::xid8, $8::timestamptz, $5::uuid)';
  // Events written before the seal cursor existed all read as transaction 0; when the first layout had
  // sealed some of them (moved to audit_seals by migration 703), the first round skips those.
  const unsealed = legacy
    ? ` AND NOT EXISTS (SELECT 1 FROM ${tables.seals} s WHERE s.event_id = e.id AND s.occurred_at = e.occurred_at)`
    : '';
  return (
    `SELECT id, at, tenant_id, data, xid FROM (` +
    `(SELECT ${columns} FROM ${tables.events} e WHERE e.recorded_xid = ANY($6::xid8[]) AND ${common} ORDER BY e.recorded_xid, e.occurred_at, e.id LIMIT $7) ` +
    'UNION ALL ' +
    `(SELECT ${columns} FROM ${tables.events} e WHERE e.recorded_xid >= $1::xid8 AND e.recorded_xid < $2::xid8 AND ${common}${unsealed} ` +
    'ORDER BY e.recorded_xid, e.occurred_at, e.id LIMIT $7)) c ORDER BY x, o, id LIMIT $7'
  );
}

async function sealBatch(
  tx: SqlExecutor,
  tables: IntegrityTables,
  limit: number,
  context: BatchContext,
): Promise<{ sealed: number; checkpoints: Checkpoint[]; roundDone: boolean }> {
  const cursor = await readCursor(tx, tables);
  // Read the next batch straight off the (xid, time, id) index, stopping after `limit` rows. Right after
  // a bulk load the statistics still say "a few rows", and the planner would rather fetch and sort the
  // whole rest of the round for every batch (quadratic on a backlog).
  // A plan switch off adds "disable cost" to every estimate, which passes jit_above_cost: PostgreSQL would
  // JIT-compile this query (about 2 s on each batch, measured) to run a 50 ms index scan. No JIT here.
  await tx.query('SET LOCAL enable_bitmapscan = off');
  await tx.query('SET LOCAL enable_sort = off');
  await tx.query('SET LOCAL jit = off');
  const rows = (
    await tx.query<UnsealedRow>(candidatesSql(tables, cursor.legacy && cursor.lo === '0'), [
      cursor.lo,
      cursor.round_hi,
      cursor.round_running,
      cursor.after_xid,
      cursor.after_id,
      cursor.pending,
      limit,
      cursor.after_at,
    ])
  ).rows;
  await tx.query('SET LOCAL enable_bitmapscan = on');
  await tx.query('SET LOCAL enable_sort = on');
  const roundDone = rows.length < limit;
  const last = rows[rows.length - 1];
  // A finished round moves the cursor on: the transactions still running when it began become pending.
  await tx.query(
    roundDone
      ? `UPDATE ${tables.sealCursor} SET lo = $1::xid8, pending = $2::xid8[], round_hi = NULL, round_running = NULL, ` +
          'after_xid = NULL, after_at = NULL, after_id = NULL, updated_at = now() WHERE id = 1'
      : `UPDATE ${tables.sealCursor} SET round_hi = $1::xid8, round_running = $2::xid8[], after_xid = $3::xid8, ` +
          'after_at = $4::timestamptz, after_id = $5::uuid, updated_at = now() WHERE id = 1',
    roundDone
      ? [cursor.round_hi, cursor.round_running]
      : [cursor.round_hi, cursor.round_running, last?.xid, last?.at, last?.id],
  );
  if (rows.length === 0) return { sealed: 0, checkpoints: [], roundDone };
  const chains = [...new Set(rows.map((r) => chainKey(r.tenant_id)))];
  const heads = await loadHeads(tx, tables, chains, context.now);
  const salts = newSalts(rows.length);
  // Seqs are given here, in order; each chain's hashes (each covering the one before) are computed by
  // the hash pool, one job per worker, a chain never split.
  const jobs = new Map<string, { job: SealChainJob; rows: number[] }>();
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i] as UnsealedRow;
    const chain = chainKey(row.tenant_id);
    let entry = jobs.get(chain);
    if (!entry) {
      const head = heads.get(chain);
      entry = {
        job: {
          prevHash: head?.lastHash ?? GENESIS_HASH,
          firstSeq: (head?.lastSeq ?? 0) + 1,
          tenantId: row.tenant_id,
          ids: [],
          ats: [],
          data: [],
          salts: [],
        },
        rows: [],
      };
      jobs.set(chain, entry);
    }
    entry.job.ids.push(row.id);
    entry.job.ats.push(row.at);
    entry.job.data.push(row.data);
    entry.job.salts.push(salts[i] as string);
    entry.rows.push(i);
  }
  const pool = context.pool(rows.length);
  const entries = [...jobs.entries()];
  const groups: (typeof entries)[] = Array.from(
    { length: Math.max(1, Math.min(pool.size || 1, entries.length)) },
    () => [],
  );
  for (let i = 0; i < entries.length; i++)
    groups[i % groups.length]?.push(entries[i] as (typeof entries)[number]);
  const results = await Promise.all(
    groups.map((group) => pool.run<SealChainResult[]>({ kind: 'seal', jobs: group.map(([, e]) => e.job) })),
  );
  const chainKeys = new Array<string>(rows.length);
  const seqs = new Array<number>(rows.length);
  const hashes = new Array<string>(rows.length);
  const digests = new Array<string>(rows.length);
  groups.forEach((group, g) => {
    group.forEach(([chain, { job, rows: indexes }], j) => {
      const sealed = (results[g] as SealChainResult[])[j] as SealChainResult;
      indexes.forEach((row, k) => {
        chainKeys[row] = chain;
        seqs[row] = job.firstSeq + k;
        hashes[row] = sealed.hashes[k] as string;
        digests[row] = sealed.digests[k] as string;
      });
      const head = heads.get(chain) ?? {
        chain,
        tenantId: job.tenantId,
        lastSeq: 0,
        lastHash: GENESIS_HASH,
        checkpointSeq: 0,
        checkpointId: null,
        checkpointAt: context.now,
        dirty: true,
      };
      head.lastSeq = job.firstSeq + indexes.length - 1;
      head.lastHash = sealed.hashes.at(-1) as string;
      head.dirty = true;
      heads.set(chain, head);
    });
  });
  const ids = rows.map((r) => r.id);
  const ats = rows.map((r) => r.at);
  await tx.query(
    `INSERT INTO ${tables.seals} (chain, seq, event_id, occurred_at, hash, personal_digest, personal_salt) ` +
      'SELECT * FROM unnest($1::text[], $2::int8[], $3::uuid[], $4::timestamptz[], $5::text[], $6::text[], $7::text[])',
    [
      textArray(chainKeys),
      `{${seqs.join(',')}}`,
      `{${ids.join(',')}}`,
      `{${ats.join(',')}}`,
      `{${hashes.join(',')}}`,
      `{${digests.join(',')}}`,
      `{${salts.join(',')}}`,
    ],
  );
  const checkpoints: Checkpoint[] = [];
  for (const head of heads.values()) {
    while (head.lastSeq - head.checkpointSeq >= context.every) {
      checkpoints.push(await writeCheckpoint(tx, tables, head, head.checkpointSeq + context.every, context));
    }
  }
  await saveHeads(
    tx,
    tables,
    [...heads.values()].filter((h) => h.dirty),
  );
  return { sealed: rows.length, checkpoints, roundDone };
}

async function saveHeads(tx: SqlExecutor, tables: IntegrityTables, heads: Head[]): Promise<void> {
  if (heads.length === 0) return;
  await tx.query(
    `INSERT INTO ${tables.heads} AS h (chain, tenant_id, last_seq, last_hash, checkpoint_seq, checkpoint_id, checkpoint_at, updated_at) ` +
      'SELECT u.chain, u.tenant_id, u.last_seq, u.last_hash, u.checkpoint_seq, u.checkpoint_id, u.checkpoint_at, now() ' +
      'FROM unnest($1::text[], $2::text[], $3::int8[], $4::text[], $5::int8[], $6::text[], $7::timestamptz[]) ' +
      'AS u(chain, tenant_id, last_seq, last_hash, checkpoint_seq, checkpoint_id, checkpoint_at) ' +
      'ON CONFLICT (chain) DO UPDATE SET last_seq = excluded.last_seq, last_hash = excluded.last_hash, ' +
      'checkpoint_seq = excluded.checkpoint_seq, checkpoint_id = excluded.checkpoint_id, ' +
      'checkpoint_at = excluded.checkpoint_at, updated_at = now()',
    [
      textArray(heads.map((h) => h.chain)),
      textArray(heads.map((h) => h.tenantId)),
      `{${heads.map((h) => h.lastSeq).join(',')}}`,
      textArray(heads.map((h) => h.lastHash)),
      `{${heads.map((h) => h.checkpointSeq).join(',')}}`,
      textArray(heads.map((h) => h.checkpointId)),
      textArray(heads.map((h) => h.checkpointAt.toISOString())),
    ],
  );
}

/** The chain hashes of seq `from`..`to` of one tenant (seals of present and removed events), in order. */
export async function chainLeaves(
  executor: SqlExecutor,
  tables: IntegrityTables,
  tenantId: string | null,
  from: number,
  to: number,
): Promise<{ seq: number; hash: string }[]> {
  const rows = (
    await executor.query<{ seq: string | number; hash: string }>(
      `SELECT seq, hash FROM ${tables.seals} WHERE chain = $1 AND seq BETWEEN $2 AND $3 ORDER BY seq`,
      [chainKey(tenantId), from, to],
    )
  ).rows;
  return rows.map((r) => ({ seq: Number(r.seq), hash: r.hash }));
}

async function writeCheckpoint(
  tx: SqlExecutor,
  tables: IntegrityTables,
  head: Head,
  lastSeq: number,
  context: BatchContext,
): Promise<Checkpoint> {
  const firstSeq = head.checkpointSeq + 1;
  const leaves = await chainLeaves(tx, tables, head.tenantId, firstSeq, lastSeq);
  const complete = leaves.length === lastSeq - firstSeq + 1 && leaves.every((l, i) => l.seq === firstSeq + i);
  if (!complete) {
    throw new AuditkitError(
      'integrity_error',
      `Cannot checkpoint seq ${firstSeq}-${lastSeq} of tenant ${head.tenantId ?? '(none)'}: ` +
        `${leaves.length} of ${lastSeq - firstSeq + 1} events are there. Run \`auditkit verify\` to find out what happened.`,
    );
  }
  const checkpoint = makeCheckpoint(
    {
      tenantId: head.tenantId,
      firstSeq,
      lastSeq,
      lastHash: (leaves[leaves.length - 1] as { hash: string }).hash,
      merkleRoot: await context.pool(0).run<string>({
        kind: 'merkle',
        leaves: leaves.map((l) => l.hash),
      }),
      prevId: head.checkpointId,
      createdAt: context.now.toISOString(),
    },
    context.key,
  );
  await tx.query(
    `INSERT INTO ${tables.checkpoints} (id, chain, tenant_id, first_seq, last_seq, last_hash, merkle_root, prev_id, created_at, key_id, signature) ` +
      'VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)',
    [
      checkpoint.id,
      head.chain,
      checkpoint.tenantId,
      checkpoint.firstSeq,
      checkpoint.lastSeq,
      checkpoint.lastHash,
      checkpoint.merkleRoot,
      checkpoint.prevId,
      checkpoint.createdAt,
      checkpoint.keyId,
      checkpoint.signature,
    ],
  );
  head.checkpointSeq = lastSeq;
  head.checkpointId = checkpoint.id;
  head.checkpointAt = context.now;
  head.dirty = true;
  return checkpoint;
}

async function checkpointDue(
  tx: SqlExecutor,
  tables: IntegrityTables,
  options: BatchContext & { olderThanMs: number },
): Promise<Checkpoint[]> {
  const rows = (
    await tx.query<HeadRow>(
      `SELECT ${HEAD_SELECT} FROM ${tables.heads} WHERE last_seq > checkpoint_seq ` +
        'AND (checkpoint_at IS NULL OR checkpoint_at <= $1::timestamptz) ORDER BY chain',
      [new Date(options.now.getTime() - Math.max(0, options.olderThanMs)).toISOString()],
    )
  ).rows;
  const checkpoints: Checkpoint[] = [];
  const heads = rows.map((row) => rowToHead(row, options.now));
  for (const head of heads) {
    while (head.lastSeq > head.checkpointSeq) {
      const last = Math.min(head.lastSeq, head.checkpointSeq + options.every);
      checkpoints.push(await writeCheckpoint(tx, tables, head, last, options));
    }
  }
  await saveHeads(tx, tables, heads);
  return checkpoints;
}

/** Every checkpoint of one tenant, oldest first. */
export async function listCheckpoints(
  store: AuditStore | SqlAccess,
  tenantId: string | null,
): Promise<Checkpoint[]> {
  const access = sqlAccessOf(store);
  await ensureIntegritySchema(access);
  const rows = (
    await access.executor.query<CheckpointRow>(
      `SELECT ${CHECKPOINT_SELECT} FROM ${tablesOf(access).checkpoints} WHERE chain = $1 ORDER BY last_seq, id`,
      [chainKey(tenantId)],
    )
  ).rows;
  return rows.map(rowToCheckpoint);
}

export interface SealerOptions extends SealOptions {
  /** Time between two sealing runs (default 5000 ms). */
  intervalMs?: number;
  /** Receives sealing failures; the sealer keeps running. */
  onError?: (error: AuditkitError) => void;
}

/** A background sealer: `start()` seals every `intervalMs`, `stop()` waits for the run under way. */
export interface Sealer {
  start(): void;
  stop(): Promise<void>;
  /** Seals now (waiting for a run under way first). */
  sealNow(options?: Partial<SealOptions>): Promise<SealResult>;
  readonly running: boolean;
}

/** What `createSealer` accepts: a store, SQL access, or an auditor (its store and its error reporting). */
export type SealTarget =
  | AuditStore
  | SqlAccess
  | { store: AuditStore; reportError(error: unknown, code?: string): void };

/**
 * Seals in the background, inside the app: a timer (unref'd, so it never keeps the process alive) runs
 * {@link seal} every `intervalMs`, skipping a round when another sealer holds the lock. Failures go to
 * `onError` (or the auditor's `reportError`), never to the writers.
 *
 * @example
 * const sealer = createSealer(audit, { signingKey: process.env.AUDITKIT_SIGNING_KEY, intervalMs: 5000 });
 * sealer.start();
 * // on shutdown
 * await sealer.stop();
 */
export function createSealer(target: SealTarget, options: SealerOptions = {}): Sealer {
  const { intervalMs = 5000, onError, ...sealOptions } = options;
  if (!Number.isInteger(intervalMs) || intervalMs < 1) {
    throw new AuditkitError('invalid_config', 'intervalMs must be a positive whole number of milliseconds.');
  }
  const { workers } = parseOptions(sealOptionsSchema, sealOptions, 'sealer');
  const isAuditor = 'reportError' in target && 'store' in target && typeof target.reportError === 'function';
  const store = isAuditor ? (target as { store: AuditStore }).store : (target as AuditStore | SqlAccess);
  const report = (error: unknown) => {
    const wrapped = toAuditkitError(error, 'seal_failed', 'Sealing failed');
    if (onError) onError(wrapped);
    else if (isAuditor)
      (target as { reportError(e: unknown, c?: string): void }).reportError(wrapped, wrapped.code);
  };
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<SealResult> | undefined;
  let stopped = true;
  let controller = new AbortController();
  // Hash workers, once started, serve every run until the sealer stops.
  const pools = new SealerPool(workers);

  const run = (extra: Partial<SealOptions> = {}, background = false): Promise<SealResult> => {
    const previous = current ?? Promise.resolve(undefined);
    const next = previous
      .catch(() => undefined)
      .then(() =>
        sealWith(
          store,
          parseOptions(
            sealOptionsSchema,
            { ...sealOptions, ...(background ? { wait: false, signal: controller.signal } : {}), ...extra },
            'seal',
          ),
          pools,
        ),
      );
    current = next;
    return next.finally(() => {
      if (current === next) current = undefined;
    });
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      run({}, true).catch(report).finally(schedule);
    }, intervalMs);
    timer.unref();
  };
  return {
    start() {
      if (!stopped) return;
      stopped = false;
      controller = new AbortController();
      schedule();
    },
    /** Stops the timer; a background run under way ends after its current batch. */
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      controller.abort();
      await current?.catch(() => undefined);
      await pools.close();
    },
    sealNow: (extra = {}) => run(extra),
    get running() {
      return !stopped;
    },
  };
}
