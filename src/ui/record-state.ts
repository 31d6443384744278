import type { AuditEvent } from '../core/event.js';
import { fieldChanges } from './pages/render.js';

/** A record as its change events describe it at one instant. */
export interface RecordState {
  /** Field values after the last change at or before `at`; null when no change came before it. */
  fields: Record<string, unknown> | null;
  /** True when the last change before `at` deleted the record. */
  deleted: boolean;
  /** Change events applied. */
  applied: number;
  /** The last event applied. */
  lastEventId: string | null;
}

/**
 * Replays a record's change events (in any order) up to `at` (inclusive): each `{ field: [before, after] }`
 * sets the field to `after`; a `*.deleted` action (or a change whose every `after` is null) deletes it.
 *
 * @example
 * recordStateAt(await historyOf('invoice', 'INV-1'), new Date('2026-01-01')).fields // { total: 990, ... }
 */
export function recordStateAt(events: readonly AuditEvent[], at: Date): RecordState {
  const ordered = events
    .filter((e) => e.category === 'change' && e.occurredAt.getTime() <= at.getTime())
    .sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || (a.id < b.id ? -1 : 1));
  let fields: Record<string, unknown> | null = null;
  let deleted = false;
  let applied = 0;
  let lastEventId: string | null = null;
  for (const event of ordered) {
    const pairs = fieldChanges(event.changes);
    const isDelete =
      /(^|\.)(deleted|delete|removed)$/.test(event.action) ||
      (pairs !== null && pairs.length > 0 && pairs.every(([, , after]) => after === null));
    if (isDelete) {
      fields = fields ?? {};
      deleted = true;
    } else {
      if (deleted) fields = {};
      deleted = false;
      fields = { ...(fields ?? {}) };
      if (pairs) for (const [field, , after] of pairs) fields[field] = after;
      else if (event.changes) Object.assign(fields, event.changes);
    }
    applied += 1;
    lastEventId = event.id;
  }
  return { fields, deleted, applied, lastEventId };
}
