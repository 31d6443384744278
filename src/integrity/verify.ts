import type { KeyObject } from 'node:crypto';
import { availableParallelism } from 'node:os';
import { z } from 'zod';
import type { SqlExecutor } from '../store/sql/sql-executor.js';
import type { AuditStore } from '../store/store.js';
import {
  CHECKPOINT_SELECT,
  type Checkpoint,
  type CheckpointRow,
  checkCheckpoint,
  rowToCheckpoint,
} from './checkpoint.js';
import { canonicalPartsOfText, chainHash, digestOfText, GENESIS_HASH, recordText } from './event-hash.js';
import type { CheckRowsJob } from './hash-jobs.js';
import { createHashPool, type HashPool, workerCount } from './hash-pool.js';
import { type KeyInput, keyIdOf, loadPublicKey } from './keys.js';
import { ensureIntegritySchema } from './migrations.js';
import { parseIntegrityOptions } from './sealer.js';
import {
  chainKey,
  type IntegrityTables,
  occurredAtText,
  type SqlAccess,
  sqlAccessOf,
  tablesOf,
  tenantCondition,
  tenantOfChain,
} from './sql-access.js';

export const verifyOptionsSchema = z.strictObject({
  /** One tenant's chain (null: events without a tenant); default every chain. */
  tenantId: z.string().nullable().optional(),
  /** Verify the checkpoints covering events from this time (inclusive)... */
  from: z.date().optional(),
  /** ...to this time (exclusive). */
  to: z.date().optional(),
  /** The Ed25519 public key (PEM, file path or KeyObject) checkpoints must be signed with. */
  publicKey: z
    .custom<KeyInput>(
      (v) => typeof v === 'string' || Buffer.isBuffer(v) || (typeof v === 'object' && v !== null),
    )
    .optional(),
  /** Rows read per query (default 5000). */
  batchSize: z.number().int().min(10).max(100_000).default(5000),
  /** Stop listing problems after this many (default 100); `ok` is false either way. */
  maxProblems: z.number().int().min(1).default(100),
  /** Called after each batch with the events checked so far and the expected total. */
  onProgress: z.custom<(progress: VerifyProgress) => void>((v) => typeof v === 'function').optional(),
  /**
   * Worker threads that hash while the database reads and the chain is walked: `'auto'` (default) one
   * per core but one, at most 4, from a few thousand events on; 0 hashes on the calling thread.
   */
  workers: z.union([z.literal('auto'), z.number().int().min(0).max(64)]).default('auto'),
  /**
   * Chains (tenants) verified at once on PostgreSQL, each on its own pooled connection in one shared
   * snapshot: `'auto'` (default) one per core, at most 4. PGlite verifies one at a time.
   */
  concurrency: z.union([z.literal('auto'), z.number().int().min(1).max(32)]).default('auto'),
});

function laneCount(option: 'auto' | number): number {
  return option === 'auto' ? Math.min(4, Math.max(1, availableParallelism())) : option;
}

export type VerifyOptions = z.input<typeof verifyOptionsSchema>;

export interface VerifyProgress {
  checked: number;
  total: number;
}

/**
 * - `modified`: the event's content (or one of its columns, or its stored hash) is not what was sealed.
 * - `deleted`: events of these seqs are missing from the chain.
 * - `inserted`: an event that was never sealed in this place sits in the chain.
 * - `reordered`: an intact event sits at another place than the one it was sealed at.
 * - `checkpoint`: a checkpoint or anchor is forged, altered, missing, or does not match the events.
 */
export type VerifyProblemKind = 'modified' | 'deleted' | 'inserted' | 'reordered' | 'checkpoint';

export interface VerifyProblem {
  kind: VerifyProblemKind;
  tenantId: string | null;
  /** The seq where it was found (the first missing seq for `deleted`). */
  seq: number | null;
  /** The event concerned, when there is one. */
  eventId: string | null;
  checkpointId: string | null;
  message: string;
}

export interface ChainVerification {
  tenantId: string | null;
  ok: boolean;
  /** The chain is checked from this seq (1, the anchor left by retention + 1, or where `from` starts). */
  fromSeq: number;
  /** The last seq checked. */
  lastSeq: number;
  /** Events read and checked. */
  events: number;
  /** Removed events (retention, erasure) whose tombstone kept the chain linked. */
  removed: number;
  /** Checkpoints whose Merkle root was recomputed and matched (and signature checked). */
  checkpoints: number;
  lastCheckpointId: string | null;
  /** Events sealed after the last checkpoint: chained, not yet signed. */
  uncheckpointed: number;
  /** Where the chain starts after retention removed its beginning. */
  anchor: { seq: number; hash: string; checkpointId: string | null; cutBefore: string | null } | null;
}

export interface VerifyReport {
  /** True when no problem was found. */
  ok: boolean;
  checkedEvents: number;
  checkpointsVerified: number;
  /** Events not sealed yet (not covered by the chain). */
  unsealed: number;
  /** True when checkpoint signatures were checked against a public key. */
  signaturesChecked: boolean;
  /** The key the checkpoints were checked against. */
  keyId: string | null;
  chains: ChainVerification[];
  /** The first problem of each kind found, in chain order, event problems before checkpoint ones. */
  problems: VerifyProblem[];
  /** The first event that was modified, deleted, inserted or reordered (else the first checkpoint problem). */
  firstProblem: VerifyProblem | null;
  /** Things worth knowing that are not tampering (unsigned checkpoints, no public key). */
  warnings: string[];
}

/** One row of the chain as the verifier reads it. */
interface EventEntry {
  kind: 'event';
  seq: number;
  id: string;
  hash: string;
  at: string;
  tenantId: string | null;
  /** False when the event has neither a salt nor a kept digest: it was not sealed this way. */
  hasDigest: boolean;
  columnsOk: boolean;
  erasureRecorded: boolean;
  salted: boolean;
  /** The stored JSON and seal fields, until the content is canonicalised (only when a check needs it). */
  data: string | undefined;
  salt: string | null;
  storedDigest: string | null;
  /** Canonical JSON of the clear part, and the personal digest, once computed. */
  clear: string | undefined;
  digest: string | null | undefined;
  /** The record text at its own seq, once computed. */
  record: string | undefined;
  /** The last hash computed at its own seq, and from which previous hash (checks often repeat one). */
  memoPrev: string | undefined;
  memoHash: string | undefined;
}

/** A seal whose event is gone: removed by retention or erasure, or (`missing`) deleted otherwise. */
interface TombstoneEntry {
  kind: 'tombstone';
  seq: number;
  id: string | null;
  hash: string;
  missing: boolean;
}

type Entry = EventEntry | TombstoneEntry;

/** A seal of the chain and, when it is still there, its event. */
interface SealRowOut {
  seq: string | number;
  hash: string;
  seal_event: string;
  personal_digest: string | null;
  personal_salt: string | null;
  removed: string | null;
  id: string | null;
  at: string;
  tenant_id: string | null;
  data: string;
  columns_ok: boolean;
  erasure_recorded: boolean;
}

/** The clear part and personal digest of an event, computed once, on the verifying thread. */
function contentOf(entry: EventEntry): { clear: string; digest: string | null } {
  let clear = entry.clear;
  if (clear === undefined) {
    try {
      const parts = canonicalPartsOfText(entry.data as string);
      clear = parts.clear;
      entry.digest = entry.salt !== null ? digestOfText(parts.personal, entry.salt) : entry.storedDigest;
    } catch {
      // Content that cannot be canonicalised matches no hash.
      clear = '';
      entry.digest = null;
    }
    entry.clear = clear;
    entry.data = undefined;
  }
  return { clear, digest: entry.digest ?? null };
}

function hashWith(entry: Entry, prev: string, seq: number): string | null {
  if (entry.kind === 'tombstone' || !entry.hasDigest) return null;
  if (seq === entry.seq && entry.memoPrev === prev) return entry.memoHash as string;
  const { clear, digest } = contentOf(entry);
  if (digest === null) return null;
  const fields = { id: entry.id, at: entry.at, tenantId: entry.tenantId, seq, clear, digest };
  if (seq !== entry.seq) return chainHash(prev, recordText(fields));
  entry.record ??= recordText(fields);
  const hash = chainHash(prev, entry.record);
  entry.memoPrev = prev;
  entry.memoHash = hash;
  return hash;
}

function fits(entry: Entry, prev: string, seq: number): boolean {
  return entry.kind === 'event' && hashWith(entry, prev, seq) === entry.hash;
}

/**
 * A seal row as an entry. `prev`/`fitted`: the hash checked against (the stored hash of the row before)
 * and whether the content gave the stored hash with it; a fitted entry is never hashed again on this
 * thread unless another place in the chain is tried for it.
 */
function toEntry(row: SealRowOut, prev: string | null, fitted: boolean): Entry {
  const seq = Number(row.seq);
  if (row.id === null) {
    return {
      kind: 'tombstone',
      seq,
      hash: row.hash,
      id: row.seal_event === '' ? null : row.seal_event,
      missing: row.removed === null,
    };
  }
  return {
    kind: 'event',
    seq,
    id: row.id,
    hash: row.hash,
    at: row.at,
    tenantId: row.tenant_id,
    hasDigest: row.personal_salt !== null || row.personal_digest !== null,
    columnsOk: row.columns_ok === true,
    erasureRecorded: row.erasure_recorded === true,
    salted: row.personal_salt !== null,
    data: row.data,
    salt: row.personal_salt,
    storedDigest: row.personal_digest,
    clear: undefined,
    digest: undefined,
    record: undefined,
    memoPrev: fitted ? (prev as string) : undefined,
    memoHash: fitted ? row.hash : undefined,
  };
}

/** Seals sharing a seq (forged ones) in a fixed order, so a verification always reads them alike. */
function sortGroups(rows: SealRowOut[]): void {
  for (let i = 1; i < rows.length; i++) {
    if (Number(rows[i]?.seq) !== Number(rows[i - 1]?.seq)) continue;
    rows.sort(
      (a, b) =>
        Number(a.seq) - Number(b.seq) ||
        (a.seal_event < b.seal_event ? -1 : a.seal_event > b.seal_event ? 1 : 0) ||
        (a.hash < b.hash ? -1 : a.hash > b.hash ? 1 : 0),
    );
    return;
  }
}

/** The check job of one page: each row against the stored hash of the row before it, when that is known. */
function checkJob(
  rows: SealRowOut[],
  carry: { seq: number; hash: string },
): { job: CheckRowsJob; prevs: (string | null)[] } {
  const n = rows.length;
  const prevs = new Array<string | null>(n);
  const job: CheckRowsJob = {
    seqs: new Array(n),
    ids: new Array(n),
    ats: new Array(n),
    tenantIds: new Array(n),
    data: new Array(n),
    salts: new Array(n),
    digests: new Array(n),
    hashes: new Array(n),
    prevs,
  };
  let lastSeq = carry.seq;
  let lastHash: string | null = carry.hash;
  for (let i = 0; i < n; i++) {
    const row = rows[i] as SealRowOut;
    const seq = Number(row.seq);
    prevs[i] = seq === lastSeq + 1 ? lastHash : null;
    // Two seals of one seq: neither is checked here; the walker sorts them out.
    if (seq === lastSeq) {
      prevs[i] = null;
      if (i > 0) prevs[i - 1] = null;
    }
    job.seqs[i] = seq;
    job.ids[i] = row.id;
    job.ats[i] = row.at;
    job.tenantIds[i] = row.tenant_id;
    job.data[i] = row.id === null ? null : row.data;
    job.salts[i] = row.personal_salt;
    job.digests[i] = row.personal_digest;
    job.hashes[i] = row.hash;
    lastSeq = seq;
    lastHash = row.hash;
  }
  return { job, prevs };
}

/**
 * Reads one chain in seq order, a batch at a time: its seals, each with its event when the event is still
 * there (its JSON as text). Three stages overlap: the database reads the next page, the hash pool checks
 * pages (each row against the stored hash before it), and the walker consumes checked pages.
 */
async function* readChain(
  executor: SqlExecutor,
  tables: IntegrityTables,
  tenantId: string | null,
  from: { seq: number; prev: string },
  toSeq: number | null,
  batchSize: number,
  pool: HashPool,
  depth: number,
): AsyncGenerator<Entry[]> {
  const upper = toSeq === null ? '' : ` AND s.seq <= ${Number(toSeq)}`;
  const select =
    "SELECT s.seq, s.hash, coalesce(s.event_id::text, '') AS seal_event, s.personal_digest, s.personal_salt, s.removed, " +
    `e.id::text AS id, ${occurredAtText('e')} AS at, e.tenant_id, e.data::text AS data, ` +
    `(e.category = e.data->>'category' AND e.action = e.data->>'action' AND e.outcome = e.data->>'outcome' ` +
    `AND e.actor_type IS NOT DISTINCT FROM e.data->'actor'->>'type' AND e.actor_id IS NOT DISTINCT FROM e.data->'actor'->>'id' ` +
    `AND e.actor_label IS NOT DISTINCT FROM e.data->'actor'->>'label' ` +
    `AND e.target_type IS NOT DISTINCT FROM e.data->'target'->>'type' AND e.target_id IS NOT DISTINCT FROM e.data->'target'->>'id' ` +
    `AND e.target_label IS NOT DISTINCT FROM e.data->'target'->>'label' ` +
    `AND e.message IS NOT DISTINCT FROM e.data->>'message') AS columns_ok, ` +
    `(s.personal_salt IS NOT NULL OR EXISTS (SELECT 1 FROM ${tables.erasedEvents} x WHERE x.event_id = s.event_id)) AS erasure_recorded ` +
    `FROM ${tables.seals} s LEFT JOIN ${tables.events} e ON e.id = s.event_id AND e.occurred_at = s.occurred_at ` +
    'WHERE s.chain = $1 ';
  // A page in primary key order, so the database stops after `batchSize` seals; the seals sharing the
  // page's last seq (only ever several when forged) are then read whole, for the walker to tell apart.
  const pageSql = `${select}AND s.seq > $2${upper} ORDER BY s.seq LIMIT $3`;
  const groupSql = `${select}AND s.seq = $2`;
  const chain = chainKey(tenantId);
  const fetch = async (afterSeq: number): Promise<SealRowOut[]> => {
    const rows = (await executor.query<SealRowOut>(pageSql, [chain, afterSeq, batchSize])).rows;
    if (rows.length === batchSize) {
      const lastSeq = Number(rows[rows.length - 1]?.seq);
      const group = (await executor.query<SealRowOut>(groupSql, [chain, lastSeq])).rows;
      if (group.length > 1) {
        while (rows.length > 0 && Number(rows[rows.length - 1]?.seq) === lastSeq) rows.pop();
        rows.push(...group);
      }
    }
    sortGroups(rows);
    return rows;
  };
  const prefetch = (afterSeq: number) => {
    const query = fetch(afterSeq);
    // Awaited below; this only keeps a prefetch abandoned by an early stop from being unhandled.
    query.catch(() => undefined);
    return query;
  };
  interface Page {
    rows: SealRowOut[];
    prevs: (string | null)[];
    checked: Promise<Uint8Array>;
  }
  const inCheck: Page[] = [];
  const entriesOf = async (page: Page) => {
    const fitted = await page.checked;
    const entries = new Array<Entry>(page.rows.length);
    for (let i = 0; i < page.rows.length; i++) {
      entries[i] = toEntry(page.rows[i] as SealRowOut, page.prevs[i] ?? null, fitted[i] === 1);
    }
    return entries;
  };
  let carry = { seq: from.seq - 1, hash: from.prev };
  let pending = prefetch(from.seq - 1);
  try {
    for (;;) {
      const rows = await pending;
      const done = rows.length < batchSize;
      const last = rows[rows.length - 1];
      // The next page is read while this one is checked.
      if (!done && last) pending = prefetch(Number(last.seq));
      if (rows.length > 0) {
        const { job, prevs } = checkJob(rows, carry);
        const checked = pool.run<Uint8Array>({ kind: 'check', job });
        checked.catch(() => undefined);
        inCheck.push({ rows, prevs, checked });
        carry = { seq: Number(last?.seq), hash: last?.hash as string };
      }
      while (inCheck.length > (done ? 0 : depth)) yield await entriesOf(inCheck.shift() as Page);
      if (done) return;
    }
  } finally {
    inCheck.length = 0;
  }
}

interface Accepted {
  entry: Entry;
  /** The seq it is checked at (its stored seq, corrected for renumbering found so far). */
  seq: number;
  prevHash: string;
  problem?: VerifyProblem;
  reordered?: boolean;
}

const WINDOW = 8;

/**
 * Walks one chain group by group (a group: the rows sharing a seq) and names what does not fit. The
 * checks are local (each event against the stored hash of the one before), so one tampered event gives
 * one problem, not a cascade; renumbering after an insertion or deletion is detected and followed.
 */
class ChainWalker {
  readonly problems: VerifyProblem[] = [];
  prev: string;
  expected: number;
  offset = 0;
  events = 0;
  removed = 0;
  lastStoredSeq: number;
  lastHash: string;
  readonly #window: Accepted[] = [];
  readonly #belongsAt = new Map<number, string>();

  constructor(
    readonly tenantId: string | null,
    startSeq: number,
    startPrev: string,
    readonly maxProblems: number,
    readonly onLeaf: (seq: number, hash: string) => void,
  ) {
    this.prev = startPrev;
    this.expected = startSeq;
    this.lastStoredSeq = startSeq - 1;
    this.lastHash = startPrev;
  }

  report(kind: VerifyProblemKind, seq: number | null, entry: Entry | null, message: string): VerifyProblem {
    const problem: VerifyProblem = {
      kind,
      tenantId: this.tenantId,
      seq,
      eventId: entry?.id ?? null,
      checkpointId: null,
      message,
    };
    if (this.problems.length < this.maxProblems) this.problems.push(problem);
    return problem;
  }

  get saturated(): boolean {
    return this.problems.length >= this.maxProblems;
  }

  step(group: Entry[], next: Entry | undefined): void {
    const stored = (group[0] as Entry).seq;
    let s = stored - this.offset;
    let gap = false;
    if (s > this.expected) {
      const range =
        s - this.expected === 1
          ? `event of seq ${this.expected} is`
          : `events of seq ${this.expected}-${s - 1} are`;
      this.report('deleted', this.expected, null, `The ${range} missing from the chain.`);
      gap = true;
    } else if (s < this.expected) {
      for (const e of group) {
        this.report(
          'inserted',
          stored,
          e,
          `Event ${e.id ?? '(tombstone)'} repeats seq ${stored}, which the chain already has.`,
        );
      }
      return;
    }
    let e = group[0] as Entry;
    if (group.length > 1) {
      const valid = group.filter((g) => g.kind === 'tombstone' || fits(g, this.prev, s));
      const links = (g: Entry) =>
        next !== undefined &&
        next.seq === stored + 1 &&
        (next.kind === 'tombstone' || fits(next, g.hash, s + 1));
      e = (valid.length === 1 ? valid[0] : (valid.find(links) ?? valid[0])) ?? e;
      for (const g of group) {
        if (g !== e) {
          this.report(
            'inserted',
            stored,
            g,
            `Event ${g.id ?? '(tombstone)'} shares seq ${stored} with event ${e.id ?? '(tombstone)'} and was not sealed there.`,
          );
        }
      }
    }
    const accepted: Accepted = { entry: e, seq: s, prevHash: this.prev };
    let nextPrev = e.hash;
    if (e.kind === 'tombstone') {
      if (e.missing) {
        accepted.problem = this.report(
          'deleted',
          stored,
          e,
          `Event ${e.id ?? '(unknown)'} (seq ${stored}) was deleted: its seal is there, the event is not, and no retention or erasure removed it.`,
        );
      } else this.removed += 1;
    } else {
      this.events += 1;
      if (!e.hasDigest) {
        accepted.problem = this.report(
          'modified',
          stored,
          e,
          `Event ${e.id} (seq ${stored}) has no personal digest: it was not sealed this way.`,
        );
      } else if (!gap && !fits(e, this.prev, s) && !this.saturated) {
        const outcome = this.classify(e, s, next, accepted);
        s = accepted.seq;
        if (outcome) nextPrev = outcome;
      }
      if (accepted.problem) {
        // One problem per event is enough.
      } else if (!e.columnsOk) {
        this.report(
          'modified',
          stored,
          e,
          `A column of event ${e.id} (actor, target, category, action, outcome or message) differs from its sealed data.`,
        );
      } else if (!e.erasureRecorded) {
        this.report(
          'modified',
          stored,
          e,
          `The personal data of event ${e.id} was replaced without a recorded erasure (its salt was removed).`,
        );
      }
    }
    this.onLeaf(e.seq, e.hash);
    this.prev = this.#belongsAt.get(s) ?? nextPrev;
    this.expected = s + 1;
    this.lastStoredSeq = Math.max(this.lastStoredSeq, stored);
    this.lastHash = e.hash;
    this.#window.push(accepted);
    if (this.#window.length > WINDOW) this.#window.shift();
  }

  /** Names what happened to an event that does not fit; returns the hash to chain the next event to. */
  classify(e: EventEntry, s: number, next: Entry | undefined, accepted: Accepted): string | undefined {
    const nextSeq = next ? next.seq - this.offset : undefined;
    // Only the stored hash was changed: the next event chains to the recomputed one.
    const computed = hashWith(e, this.prev, s) as string;
    if (next && nextSeq === s + 1 && fits(next, computed, s + 1) && !fits(next, e.hash, s + 1)) {
      accepted.problem = this.report(
        'modified',
        e.seq,
        e,
        `The stored hash of event ${e.id} (seq ${e.seq}) was changed.`,
      );
      return computed;
    }
    const last = this.#window.at(-1);
    // Renumbered down: an event before was deleted and the later seqs shifted to hide the gap.
    if (fits(e, this.prev, s + 1)) {
      const message = `An event before seq ${s + 1} was deleted and the later events renumbered to hide it.`;
      if (last?.problem && last.problem.kind === 'modified') {
        Object.assign(last.problem, { kind: 'deleted', seq: last.seq, eventId: null, message });
      } else this.report('deleted', s, null, message);
      this.offset -= 1;
      accepted.seq = s + 1;
      return undefined;
    }
    // Renumbered up: the event before was inserted and the later seqs shifted to make room.
    if (last && !last.reordered && last.entry.kind === 'event' && fits(e, last.prevHash, s - 1)) {
      const message = `Event ${last.entry.id} at seq ${last.seq} was inserted: it was never sealed in this chain.`;
      if (last.problem)
        Object.assign(last.problem, { kind: 'inserted', seq: last.seq, eventId: last.entry.id, message });
      else last.problem = this.report('inserted', last.seq, last.entry, message);
      this.offset += 1;
      accepted.seq = s - 1;
      accepted.prevHash = last.prevHash;
      return undefined;
    }
    // Reordered: the intact event was sealed at another seq, or after another event.
    const prevs = new Set<string>([this.prev, e.hash]);
    if (next) prevs.add(next.hash);
    for (const w of this.#window) {
      prevs.add(w.entry.hash);
      prevs.add(w.prevHash);
    }
    for (const p of prevs) {
      for (let t = Math.max(1, s - WINDOW); t <= s + WINDOW; t++) {
        if ((p === this.prev && t === s) || !fits(e, p, t)) continue;
        this.#belongsAt.set(t, e.hash);
        accepted.reordered = true;
        accepted.problem = this.report(
          'reordered',
          e.seq,
          e,
          `Event ${e.id} was sealed at seq ${t} and is now at seq ${e.seq}: events were reordered.`,
        );
        return undefined;
      }
    }
    const places: { seq: number; prev: string; hash: string }[] = this.#window
      .filter((w) => w.entry.kind === 'event')
      .map((w) => ({ seq: w.seq, prev: w.prevHash, hash: w.entry.hash }));
    if (next && nextSeq !== undefined) places.push({ seq: nextSeq, prev: e.hash, hash: next.hash });
    for (const place of places) {
      if (hashWith(e, place.prev, place.seq) !== place.hash) continue;
      accepted.reordered = true;
      accepted.problem = this.report(
        'reordered',
        e.seq,
        e,
        `Event ${e.id} was sealed at seq ${place.seq} and is now at seq ${e.seq}: events were reordered.`,
      );
      return undefined;
    }
    accepted.problem = this.report(
      'modified',
      e.seq,
      e,
      `Event ${e.id} (seq ${e.seq}) does not match its hash: its content was changed after sealing.`,
    );
    return undefined;
  }
}

interface HeadRow {
  chain: string;
  tenant_id: string | null;
  last_seq: string | number;
  last_hash: string;
}

interface AnchorRow {
  chain: string;
  tenant_id: string | null;
  seq: string | number;
  hash: string;
  checkpoint_id: string | null;
  cut_before: string | null;
}

/**
 * Recomputes every chain (or one tenant's, or the checkpoints covering a time range) and checks every
 * checkpoint: Merkle root, last hash, link to the previous checkpoint, signature. Reports OK, or the
 * first event that was modified, deleted, inserted or reordered, and any checkpoint that fails.
 *
 * @example
 * const report = await verify(audit.store, { publicKey: './keys/auditkit-signing.pub' });
 * if (!report.ok) console.error(report.firstProblem?.message);
 */
export async function verify(
  store: AuditStore | SqlAccess,
  options: VerifyOptions = {},
): Promise<VerifyReport> {
  const config = parseIntegrityOptions(verifyOptionsSchema, options, 'verify');
  const access = sqlAccessOf(store);
  await ensureIntegritySchema(access);
  const tables = tablesOf(access);
  const publicKey = config.publicKey === undefined ? undefined : loadPublicKey(config.publicKey);
  const transaction = access.executor.transaction?.bind(access.executor);
  if (access.partitioned && transaction) {
    // PostgreSQL: one consistent snapshot for the whole check (rows, heads and checkpoints agree even while
    // the sealer runs), and room to sort a page in memory. PGlite has a single connection: a long
    // transaction there would hold up the app's writes, so it reads page by page instead.
    // Pages are read in primary key order and stop after `batchSize`; without these the planner, misled by
    // statistics older than the last bulk seal, may fetch and sort the rest of a chain for every page.
    const plan = async (on: SqlExecutor) => {
      await on.query('SET LOCAL enable_bitmapscan = off');
      await on.query('SET LOCAL enable_sort = off');
      // The switches add "disable cost" to estimates, which passes jit_above_cost: no JIT for index scans.
      await on.query('SET LOCAL jit = off');
    };
    return transaction(async (tx) => {
      await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
      await tx.query("SET LOCAL work_mem = '64MB'");
      await plan(tx);
      // Further connections verify other chains at once, in the very same snapshot.
      const snapshot = (await tx.query<{ id: string }>('SELECT pg_export_snapshot() AS id')).rows[0]?.id;
      const lane: Lane | undefined = snapshot
        ? (fn) =>
            transaction(async (other) => {
              await other.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
              await other.query(`SET TRANSACTION SNAPSHOT '${snapshot.replace(/'/g, "''")}'`);
              await plan(other);
              return fn(other);
            })
        : undefined;
      return verifyWith(tx, tables, config, publicKey, lane);
    });
  }
  return verifyWith(access.executor, tables, config, publicKey, undefined);
}

/** Runs `fn` on another connection that sees the same snapshot (PostgreSQL). */
type Lane = <T>(fn: (executor: SqlExecutor) => Promise<T>) => Promise<T>;

async function verifyWith(
  executor: SqlExecutor,
  tables: IntegrityTables,
  config: z.output<typeof verifyOptionsSchema>,
  publicKey: KeyObject | undefined,
  lane: Lane | undefined,
): Promise<VerifyReport> {
  const only = config.tenantId === undefined ? undefined : chainKey(config.tenantId);
  const heads = new Map<string, HeadRow>();
  for (const row of (
    await executor.query<HeadRow>(`SELECT chain, tenant_id, last_seq, last_hash FROM ${tables.heads}`)
  ).rows) {
    heads.set(row.chain, row);
  }
  const anchors = new Map<string, AnchorRow>();
  for (const row of (
    await executor.query<AnchorRow>(
      `SELECT chain, tenant_id, seq, hash, checkpoint_id, to_char(cut_before AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS cut_before FROM ${tables.anchors}`,
    )
  ).rows) {
    anchors.set(row.chain, row);
  }
  const checkpoints = new Map<string, Checkpoint[]>();
  for (const row of (
    await executor.query<CheckpointRow & { chain: string }>(
      `SELECT chain, ${CHECKPOINT_SELECT} FROM ${tables.checkpoints} ORDER BY chain, last_seq, id`,
    )
  ).rows) {
    const list = checkpoints.get(row.chain) ?? [];
    list.push(rowToCheckpoint(row));
    checkpoints.set(row.chain, list);
  }
  const tenants = new Map<string, string | null>();
  for (const row of heads.values()) tenants.set(row.chain, row.tenant_id);
  for (const [chain, list] of checkpoints) tenants.set(chain, list[0]?.tenantId ?? null);
  for (const row of anchors.values()) tenants.set(row.chain, row.tenant_id);
  // Every chain that has seals (found one key at a time through the primary key, not by a full scan).
  for (const row of (
    await executor.query<{ chain: string }>(
      `WITH RECURSIVE c(chain) AS (SELECT min(chain) FROM ${tables.seals} ` +
        `UNION ALL SELECT (SELECT min(s.chain) FROM ${tables.seals} s WHERE s.chain > c.chain) FROM c WHERE c.chain IS NOT NULL) ` +
        'SELECT chain FROM c WHERE chain IS NOT NULL',
    )
  ).rows) {
    if (!tenants.has(row.chain)) tenants.set(row.chain, tenantOfChain(row.chain));
  }

  const chainKeys = [...tenants.keys()].filter((k) => only === undefined || k === only).sort();
  let total = 0;
  for (const key of chainKeys) {
    total += Math.max(0, Number(heads.get(key)?.last_seq ?? 0) - Number(anchors.get(key)?.seq ?? 0));
  }
  const report: VerifyReport = {
    ok: true,
    checkedEvents: 0,
    checkpointsVerified: 0,
    unsealed: 0,
    signaturesChecked: publicKey !== undefined,
    keyId: publicKey ? keyIdOf(publicKey) : null,
    chains: [],
    problems: [],
    firstProblem: null,
    warnings: [],
  };
  if (!publicKey) {
    report.warnings.push(
      'No public key given: checkpoint signatures were not checked (pass publicKey / --public-key).',
    );
  }
  const progress = { checked: 0, total };
  const workers = workerCount(config.workers, total);
  const pool = createHashPool(workers);
  // Chains are independent: with PostgreSQL, several are verified at once, each on its own connection in
  // the same snapshot, while the first connection counts the events not sealed yet.
  const lanes = lane ? Math.max(1, Math.min(chainKeys.length, laneCount(config.concurrency))) : 1;
  const results = new Array<Awaited<ReturnType<typeof verifyChain>>>(chainKeys.length);
  const warnings: string[][] = chainKeys.map(() => []);
  let nextChain = 0;
  const work = async (on: SqlExecutor) => {
    for (let i = nextChain++; i < chainKeys.length; i = nextChain++) {
      const key = chainKeys[i] as string;
      results[i] = await verifyChain({
        executor: on,
        tables,
        tenantId: tenants.get(key) ?? null,
        head: heads.get(key),
        anchor: anchors.get(key),
        checkpoints: checkpoints.get(key) ?? [],
        publicKey,
        from: config.from,
        to: config.to,
        batchSize: config.batchSize,
        maxProblems: config.maxProblems,
        onBatch: (n) => {
          progress.checked += n;
          config.onProgress?.({ ...progress });
        },
        warnings: warnings[i] as string[],
        pool,
        depth: Math.max(1, workers),
      });
    }
  };
  let sealedState: Awaited<ReturnType<typeof unsealedEvents>>;
  try {
    const extra = lane && lanes > 1 ? await startLanes(lane, lanes - 1, work) : [];
    await work(executor);
    await Promise.all(extra);
    sealedState = await unsealedEvents(executor, tables, config.tenantId, config.maxProblems);
  } finally {
    await pool.close();
  }
  for (let i = 0; i < chainKeys.length; i++) {
    const chain = results[i] as Awaited<ReturnType<typeof verifyChain>>;
    report.warnings.push(...(warnings[i] as string[]));
    report.chains.push(chain.summary);
    report.checkedEvents += chain.summary.events;
    report.checkpointsVerified += chain.summary.checkpoints;
    report.problems.push(...chain.problems);
  }
  report.unsealed = sealedState.waiting;
  report.problems.push(...sealedState.problems);
  const rank = (p: VerifyProblem) => (p.kind === 'checkpoint' ? 1 : 0);
  const eventFirst = [...report.problems].sort((a, b) => rank(a) - rank(b));
  report.problems = report.problems.slice(0, config.maxProblems);
  report.firstProblem = eventFirst[0] ?? null;
  report.ok = report.problems.length === 0;
  return report;
}

/** How long an extra connection may take to start before the verification goes on without it. */
const LANE_START_MS = 1000;

/**
 * Starts up to `count` extra connections running `work`, and resolves with the work of those that
 * started in time. A connection the pool cannot give soon (a small pool) is given up, never waited for:
 * the first connection does the work without it, and when it starts later it does nothing.
 */
async function startLanes(
  lane: Lane,
  count: number,
  work: (executor: SqlExecutor) => Promise<void>,
): Promise<Promise<void>[]> {
  let givenUp = false;
  const runs: Promise<void>[] = [];
  const running: boolean[] = [];
  const begun: Promise<void>[] = [];
  for (let i = 0; i < count; i++) {
    running.push(false);
    let began!: () => void;
    begun.push(
      new Promise<void>((resolve) => {
        began = resolve;
      }),
    );
    const run = lane(async (executor) => {
      if (givenUp) return;
      running[i] = true;
      began();
      await work(executor);
    });
    run.then(began, began);
    // An error counts from a connection that did work; one that could not start is simply not needed.
    runs.push(
      run.catch((error: unknown) => {
        if (running[i]) throw error;
      }),
    );
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(begun),
    new Promise((resolve) => {
      timer = setTimeout(resolve, LANE_START_MS);
    }),
  ]);
  clearTimeout(timer);
  givenUp = true;
  for (const run of runs) run.catch(() => undefined);
  return runs.filter((_, i) => running[i]);
}

/**
 * Events without a seal: `waiting` for the sealer (their transaction is at or past its cursor), and the
 * others, which the sealer went past: an event inserted afterwards (or whose seal was deleted) is a problem.
 */
async function unsealedEvents(
  executor: SqlExecutor,
  tables: IntegrityTables,
  tenantId: string | null | undefined,
  maxProblems: number,
): Promise<{ waiting: number; problems: VerifyProblem[] }> {
  const tenant = tenantId === undefined ? { sql: 'true', params: [] } : tenantCondition(tenantId, 1);
  const from =
    `FROM ${tables.events} e LEFT JOIN ${tables.sealCursor} c ON c.id = 1 WHERE ${tenant.sql.replace('tenant_id', 'e.tenant_id')} ` +
    `AND NOT EXISTS (SELECT 1 FROM ${tables.seals} s WHERE s.event_id = e.id AND s.occurred_at = e.occurred_at)`;
  const waiting = '(c.lo IS NULL OR e.recorded_xid >= c.lo OR e.recorded_xid = ANY(c.pending))';
  const counts = (
    await executor.query<{ waiting: string | number; passed: string | number }>(
      `SELECT count(*) FILTER (WHERE ${waiting}) AS waiting, count(*) FILTER (WHERE NOT ${waiting}) AS passed ${from}`,
      tenant.params,
    )
  ).rows[0];
  const problems: VerifyProblem[] = [];
  if (Number(counts?.passed ?? 0) > 0) {
    const rows = (
      await executor.query<{ id: string; tenant_id: string | null }>(
        `SELECT e.id::text AS id, e.tenant_id ${from} AND NOT ${waiting} ORDER BY e.recorded_xid, e.id LIMIT ${Number(maxProblems)}`,
        tenant.params,
      )
    ).rows;
    for (const row of rows) {
      problems.push({
        kind: 'inserted',
        tenantId: row.tenant_id,
        seq: null,
        eventId: row.id,
        checkpointId: null,
        message: `Event ${row.id} has no seal although the sealer went past it: it was inserted afterwards, or its seal was deleted.`,
      });
    }
  }
  return { waiting: Number(counts?.waiting ?? 0), problems };
}

interface ChainInput {
  executor: SqlExecutor;
  tables: IntegrityTables;
  tenantId: string | null;
  head: HeadRow | undefined;
  anchor: AnchorRow | undefined;
  checkpoints: Checkpoint[];
  publicKey: KeyObject | undefined;
  from: Date | undefined;
  to: Date | undefined;
  batchSize: number;
  maxProblems: number;
  onBatch: (events: number) => void;
  warnings: string[];
  pool: HashPool;
  /** Pages checked ahead of the walk. */
  depth: number;
}

async function seqAt(input: ChainInput, edge: 'min' | 'max', time: Date): Promise<number | null> {
  const op = edge === 'min' ? '>=' : '<';
  const rows = (
    await input.executor.query<{ seq: string | number | null }>(
      `SELECT ${edge}(seq) AS seq FROM ${input.tables.seals} WHERE chain = $2 AND occurred_at ${op} $1::timestamptz`,
      [time.toISOString(), chainKey(input.tenantId)],
    )
  ).rows;
  const value = rows[0]?.seq;
  return value === null || value === undefined ? null : Number(value);
}

async function verifyChain(
  input: ChainInput,
): Promise<{ summary: ChainVerification; problems: VerifyProblem[] }> {
  const { tenantId, checkpoints, publicKey } = input;
  const problems: VerifyProblem[] = [];
  const checkpointProblem = (checkpoint: Checkpoint | null, seq: number | null, message: string) => {
    problems.push({
      kind: 'checkpoint',
      tenantId,
      seq,
      eventId: null,
      checkpointId: checkpoint?.id ?? null,
      message,
    });
  };
  // Each checkpoint on its own, and the links between them.
  let unsigned = 0;
  checkpoints.forEach((cp, i) => {
    const wrong = checkCheckpoint(cp, publicKey);
    if (wrong)
      checkpointProblem(
        cp,
        cp.firstSeq,
        `Checkpoint ${cp.id.slice(0, 12)} (seq ${cp.firstSeq}-${cp.lastSeq}): ${wrong}.`,
      );
    if (cp.signature === null) unsigned += 1;
    const before = checkpoints[i - 1];
    const linked = before
      ? cp.prevId === before.id && cp.firstSeq === before.lastSeq + 1
      : cp.prevId === null && cp.firstSeq === 1;
    if (!linked) {
      checkpointProblem(
        cp,
        cp.firstSeq,
        `Checkpoint ${cp.id.slice(0, 12)} (seq ${cp.firstSeq}-${cp.lastSeq}) does not follow ${before ? `checkpoint ${before.id.slice(0, 12)}` : 'the start of the chain'}: a checkpoint was removed or replaced.`,
      );
    }
  });
  if (unsigned > 0 && !publicKey) {
    input.warnings.push(
      `${unsigned} checkpoint(s) of tenant ${tenantId ?? '(none)'} are not signed (no signing key when sealing).`,
    );
  }
  // Where the chain starts: the retention anchor (a checkpoint's end), else the genesis.
  let startSeq = 1;
  let startPrev = GENESIS_HASH;
  let anchor: ChainVerification['anchor'] = null;
  if (input.anchor) {
    anchor = {
      seq: Number(input.anchor.seq),
      hash: input.anchor.hash,
      checkpointId: input.anchor.checkpoint_id,
      cutBefore: input.anchor.cut_before,
    };
    const cp = checkpoints.find((c) => c.id === anchor?.checkpointId);
    if (!cp || cp.lastSeq !== anchor.seq || cp.lastHash !== anchor.hash) {
      checkpointProblem(
        cp ?? null,
        anchor.seq,
        `The retention anchor at seq ${anchor.seq} does not match a checkpoint: events before it may have been removed without retention.`,
      );
    }
    startSeq = anchor.seq + 1;
    startPrev = anchor.hash;
  }
  let endSeq: number | null = null;
  const bounded = input.from !== undefined || input.to !== undefined;
  if (input.from) {
    const first = await seqAt(input, 'min', input.from);
    const cp = first === null ? undefined : checkpoints.find((c) => c.lastSeq >= first);
    const before = cp ? checkpoints[checkpoints.indexOf(cp) - 1] : checkpoints.at(-1);
    if (before && before.lastSeq + 1 > startSeq) {
      startSeq = before.lastSeq + 1;
      startPrev = before.lastHash;
    }
  }
  if (input.to) {
    const last = await seqAt(input, 'max', input.to);
    const cp = last === null ? undefined : checkpoints.find((c) => c.lastSeq >= last);
    if (last === null) endSeq = startSeq - 1;
    else if (cp) endSeq = cp.lastSeq;
  }
  // Merkle roots of the checkpoints inside the walked range, from the stored hashes.
  const inRange = checkpoints.filter(
    (c) => c.firstSeq >= startSeq && (endSeq === null || c.lastSeq <= endSeq || !bounded),
  );
  let ci = 0;
  // The stored hashes of the checkpoint being walked, and whether they came without a gap.
  let leaves: string[] = [];
  let leavesInOrder = true;
  const checked: Promise<string | null>[] = [];
  const finish = (cp: Checkpoint) => {
    const size = cp.lastSeq - cp.firstSeq + 1;
    const these = leaves;
    leaves = [];
    if (!leavesInOrder || these.length !== size) {
      const count = these.length;
      checked.push(
        Promise.resolve(
          `Checkpoint ${cp.id.slice(0, 12)} covers seq ${cp.firstSeq}-${cp.lastSeq}, but ${count} of those events are there.`,
        ),
      );
      leavesInOrder = true;
      return;
    }
    // The Merkle root is computed by the hash pool while the walk goes on.
    const root = input.pool.run<string>({ kind: 'merkle', leaves: these });
    checked.push(
      root.then((value) => {
        if (value !== cp.merkleRoot) {
          return `The events of seq ${cp.firstSeq}-${cp.lastSeq} do not match the Merkle root of checkpoint ${cp.id.slice(0, 12)}.`;
        }
        if (these.at(-1) !== cp.lastHash) {
          return `The last hash of checkpoint ${cp.id.slice(0, 12)} is not the hash of seq ${cp.lastSeq}.`;
        }
        return null;
      }),
    );
  };
  const outcomes: Checkpoint[] = [];
  const finishing = (cp: Checkpoint) => {
    outcomes.push(cp);
    finish(cp);
  };
  const onLeaf = (seq: number, hash: string) => {
    let cp = inRange[ci];
    while (cp && seq > cp.lastSeq) {
      finishing(cp);
      cp = inRange[++ci];
    }
    if (cp && seq >= cp.firstSeq) {
      if (seq !== cp.firstSeq + leaves.length) leavesInOrder = false;
      leaves.push(hash);
      if (seq === cp.lastSeq) {
        finishing(cp);
        ci += 1;
      }
    }
  };
  const walker = new ChainWalker(tenantId, startSeq, startPrev, input.maxProblems, onLeaf);
  let queue: Entry[] = [];
  const single: Entry[] = [];
  const drain = (final: boolean) => {
    let i = 0;
    while (i < queue.length) {
      let end = i + 1;
      while (end < queue.length && (queue[end] as Entry).seq === (queue[i] as Entry).seq) end++;
      if (end >= queue.length && !final) break;
      if (end === i + 1) {
        single[0] = queue[i] as Entry;
        walker.step(single, queue[end]);
      } else walker.step(queue.slice(i, end), queue[end]);
      i = end;
    }
    queue = i === 0 ? queue : queue.slice(i);
  };
  if (endSeq === null || endSeq >= startSeq) {
    for await (const batch of readChain(
      input.executor,
      input.tables,
      tenantId,
      { seq: startSeq, prev: startPrev },
      endSeq,
      input.batchSize,
      input.pool,
      input.depth,
    )) {
      if (queue.length === 0) queue = batch;
      else for (const entry of batch) queue.push(entry);
      drain(false);
      input.onBatch(batch.length);
    }
    drain(true);
  }
  // Checkpoints whose range was not (fully) seen.
  for (; ci < inRange.length; ci++) {
    const cp = inRange[ci] as Checkpoint;
    if (cp.lastSeq <= walker.lastStoredSeq || !bounded) finishing(cp);
  }
  let verified = 0;
  for (let i = 0; i < checked.length; i++) {
    const cp = outcomes[i] as Checkpoint;
    const wrong = await (checked[i] as Promise<string | null>);
    if (wrong) checkpointProblem(cp, cp.lastSeq, wrong);
    else verified += 1;
  }
  // The end of the chain: compared with the head read before the walk, then with the head after it
  // (the sealer may have sealed more meanwhile).
  if (input.head && input.to === undefined) {
    const headSeq = Number(input.head.last_seq);
    if (walker.expected <= headSeq) {
      walker.report(
        'deleted',
        walker.expected,
        null,
        `The event(s) of seq ${walker.expected}-${headSeq} are missing: the end of the chain was deleted.`.replace(
          `${walker.expected}-${walker.expected} are`,
          `${walker.expected} is`,
        ),
      );
    }
  }
  if (input.to === undefined && walker.expected > 1) {
    const headNow = Number(
      (
        await input.executor.query<{ seq: string | number | null }>(
          `SELECT max(last_seq) AS seq FROM ${input.tables.heads} WHERE chain = $1`,
          [chainKey(tenantId)],
        )
      ).rows[0]?.seq ?? 0,
    );
    if (walker.expected - 1 > headNow) {
      const first = (
        await input.executor.query<{ id: string }>(
          `SELECT event_id::text AS id FROM ${input.tables.seals} WHERE chain = $2 AND seq = $1 AND event_id IS NOT NULL LIMIT 1`,
          [headNow + 1 + walker.offset, chainKey(tenantId)],
        )
      ).rows[0];
      walker.report(
        'inserted',
        headNow + 1,
        null,
        `${first ? `Event ${first.id}` : 'An event'} has seq ${headNow + 1}, after the last seq the sealer gave (${headNow}): it was not sealed.`,
      );
      const last = walker.problems.at(-1);
      if (last && first) last.eventId = first.id;
    }
  }
  const lastCp = checkpoints.at(-1);
  const summary: ChainVerification = {
    tenantId,
    ok: walker.problems.length === 0 && problems.length === 0,
    fromSeq: startSeq,
    lastSeq: walker.lastStoredSeq,
    events: walker.events,
    removed: walker.removed,
    checkpoints: verified,
    lastCheckpointId: lastCp?.id ?? null,
    uncheckpointed: Math.max(0, walker.lastStoredSeq - (lastCp?.lastSeq ?? 0)),
    anchor,
  };
  return { summary, problems: [...walker.problems, ...problems] };
}
