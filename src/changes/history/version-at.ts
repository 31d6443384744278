import { AuditkitError } from '../../core/errors.js';
import type { RowImage } from '../diff.js';
import { CHANGE_ACTIONS, RELATION_ACTIONS } from '../diff.js';
import { type HistoryEntry, type HistoryOptions, type HistoryTarget, iterateHistory } from './history.js';

/** A record as it was at one moment, rebuilt from its change events. */
export interface RecordVersion {
  type: string;
  id: string;
  /** The moment asked for. */
  at: Date;
  /** Column values as recorded (masked ones stay `"[REDACTED]"`, excluded ones are absent). */
  values: RowImage;
  /** Related ids per relation name, from `relation.added` / `relation.removed` events. */
  relations: Record<string, string[]>;
  /**
   * True when every recorded column is known: the record's creation is in the history (or a later
   * deletion, which records the whole row). False for a record created before auditing began: `values`
   * holds only what its updates tell.
   */
  complete: boolean;
  /** The last change at or before `at`; null when the record is known only from later events. */
  lastEventId: string | null;
  lastChangedAt: Date | null;
}

type VersionStore = Parameters<typeof iterateHistory>[0];

const CREATED = CHANGE_ACTIONS.insert;
const UPDATED = CHANGE_ACTIONS.update;
const DELETED = CHANGE_ACTIONS.delete;

/** The `[before, after]` pairs of an entry's changes (anything else stored there is skipped). */
function pairs(entry: HistoryEntry): [string, unknown, unknown][] {
  const out: [string, unknown, unknown][] = [];
  for (const [column, change] of Object.entries(entry.changes)) {
    if (Array.isArray(change) && change.length === 2) out.push([column, change[0], change[1]]);
  }
  return out;
}

/**
 * Rebuilds a record as it was at `at` by replaying its change events (oldest first): a creation sets
 * every column, an update the columns it changed, a deletion ends the record. Returns null when the
 * record did not exist then (not created yet, or deleted) or nothing is known of it. A record whose
 * history starts with an update (created before auditing began) is rebuilt from what is known and
 * says so with `complete: false`; the value a column had before its first recorded update is taken
 * from that update's "before" side. Works for trigger-written events too (same shape).
 *
 * @example
 * const order = await versionAt(audit.store, { type: 'orders', id: '42' }, new Date('2026-01-31T23:59:59Z'));
 * order?.values.status; // 'paid'
 */
export async function versionAt(
  store: VersionStore,
  target: HistoryTarget,
  at: Date | string,
  options: Pick<HistoryOptions, 'pageSize'> = {},
): Promise<RecordVersion | null> {
  const moment = at instanceof Date ? at : new Date(at);
  if (Number.isNaN(moment.getTime())) {
    throw new AuditkitError('invalid_query', `versionAt needs a valid time, got ${String(at)}.`);
  }
  // Stored times have millisecond precision here: everything up to the end of that millisecond counts.
  const until = new Date(moment.getTime() + 1);

  let exists: boolean | undefined;
  let complete = false;
  let values = new Map<string, unknown>();
  let relations = new Map<string, Set<string>>();
  /** Links whose state at `at` is settled (seen at or before it, or first seen after it). */
  let settled = new Set<string>();
  let last: HistoryEntry | null = null;

  for await (const entry of iterateHistory(store, target, { ...options, to: until })) {
    const { action } = entry;
    if (action === CREATED || action === DELETED) {
      values = new Map();
      relations = new Map();
      settled = new Set();
    }
    if (action === CREATED || action === UPDATED) {
      exists = true;
      if (action === CREATED) complete = true;
      for (const [column, , after] of pairs(entry)) values.set(column, after);
    } else if (action === DELETED) {
      exists = false;
      complete = false;
    } else if (action === RELATION_ACTIONS.added || action === RELATION_ACTIONS.removed) {
      for (const [name, before, after] of pairs(entry)) {
        const related = String(action === RELATION_ACTIONS.added ? after : before);
        const set = relations.get(name) ?? new Set<string>();
        if (action === RELATION_ACTIONS.added) set.add(related);
        else set.delete(related);
        relations.set(name, set);
        settled.add(`${name}\u0000${related}`);
      }
    } else {
      continue;
    }
    last = entry;
  }
  if (exists === false) return null;

  if (!complete) {
    // What later events tell of the moment: the "before" side of each column's next change.
    const filled = new Set(values.keys());
    for await (const entry of iterateHistory(store, target, { ...options, from: until })) {
      const { action } = entry;
      if (action === CREATED) {
        // A creation after the moment: the record did not exist then (or a new one starts here).
        if (exists === undefined) return null;
        break;
      }
      if (action === UPDATED || action === DELETED) {
        exists = true;
        for (const [column, before] of pairs(entry)) {
          if (filled.has(column)) continue;
          filled.add(column);
          values.set(column, before);
        }
        if (action === DELETED) {
          complete = true;
          break;
        }
      } else if (action === RELATION_ACTIONS.added || action === RELATION_ACTIONS.removed) {
        for (const [name, before, after] of pairs(entry)) {
          const related = String(action === RELATION_ACTIONS.added ? after : before);
          const key = `${name}\u0000${related}`;
          if (settled.has(key)) continue;
          settled.add(key);
          // Removed later without being added in between: it was there at the moment.
          if (action === RELATION_ACTIONS.removed) {
            const set = relations.get(name) ?? new Set<string>();
            set.add(related);
            relations.set(name, set);
          }
        }
      }
    }
  }
  if (exists === undefined && relations.size === 0) return null;

  return {
    type: target.type,
    id: target.id,
    at: moment,
    values: Object.fromEntries(values),
    relations: Object.fromEntries([...relations].map(([name, set]) => [name, [...set].sort()])),
    complete,
    lastEventId: last?.eventId ?? null,
    lastChangedAt: last?.at ?? null,
  };
}
