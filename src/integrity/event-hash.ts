import { hash, randomBytes } from 'node:crypto';
import { canonicalJson, quoteString, writeCanonical } from './canonical-json.js';

/** The `prevHash` of the first event of every chain: 32 zero bytes. */
export const GENESIS_HASH = '0'.repeat(64);

/** Version of the hashed record layout, part of every record. */
export const RECORD_VERSION = 1;

/**
 * The parts of an event that erasure never changes, hashed as they are. Everything else (actor id,
 * label, IP, user agent and session, target id and label, changes, request path, query, headers and
 * bodies, correlation, message, reason, metadata...) is hashed through a salted digest, so erasure can
 * replace it and keep the digest.
 */
const CLEAR_TOP = new Set(['id', 'occurredAt', 'category', 'action', 'outcome', 'tenantId']);
// A Map, not an object: a stored `__proto__` key must not find Object.prototype here.
const CLEAR_NESTED: ReadonlyMap<string, ReadonlySet<string>> = new Map([
  ['actor', new Set(['type'])],
  ['target', new Set(['type'])],
  ['request', new Set(['method', 'route', 'status'])],
]);
/** Kept in columns, not hashed as part of the event data (the record has them on its own). */
const COLUMNS_ONLY = new Set(['seq', 'hash']);

/** An event split into what is hashed in clear and what is hashed through its digest. */
export interface SplitEvent {
  clear: Record<string, unknown>;
  personal: Record<string, unknown>;
}

/** Sets an own property; a `__proto__` key from stored JSON stays data instead of replacing the prototype. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Splits the stored JSON of an event into its clear and personal parts. */
export function splitEvent(data: Record<string, unknown>): SplitEvent {
  const clear: Record<string, unknown> = {};
  const personal: Record<string, unknown> = {};
  for (const key of Object.keys(data)) {
    const value = data[key];
    if (COLUMNS_ONLY.has(key) || value === undefined) continue;
    if (CLEAR_TOP.has(key)) {
      clear[key] = value;
      continue;
    }
    const nested = CLEAR_NESTED.get(key);
    if (nested && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const inClear: Record<string, unknown> = {};
      const inPersonal: Record<string, unknown> = {};
      let personalKeys = 0;
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        if (v === undefined) continue;
        if (nested.has(k)) setOwn(inClear, k, v);
        else {
          setOwn(inPersonal, k, v);
          personalKeys += 1;
        }
      }
      clear[key] = inClear;
      if (personalKeys > 0) personal[key] = inPersonal;
      continue;
    }
    setOwn(personal, key, value);
  }
  return { clear, personal };
}

/**
 * `sha256(salt + canonicalJson(personal))`, hex: the salt as its 32 hex characters followed by the
 * canonical JSON, hashed as UTF-8. The salt makes the digest useless for guessing the personal data.
 */
export function personalDigest(personal: Record<string, unknown>, saltHex: string): string {
  return digestOfText(canonicalJson(personal), saltHex);
}

/** {@link personalDigest} of personal fields already in canonical JSON. */
export function digestOfText(personalCanonical: string, saltHex: string): string {
  return hash('sha256', saltHex + personalCanonical, 'hex');
}

/**
 * The canonical JSON of the clear part and of the personal part of an event in one pass, without
 * building the two objects: the same texts as `canonicalJson` of {@link splitEvent}'s halves.
 */
export function canonicalParts(data: Record<string, unknown>): { clear: string; personal: string } {
  const keys = Object.keys(data).sort();
  let clear = '';
  let personal = '';
  for (const key of keys) {
    const value = data[key];
    if (COLUMNS_ONLY.has(key)) continue;
    if (CLEAR_TOP.has(key)) {
      const text = writeCanonical(value);
      if (text !== undefined) clear += `${clear ? ',' : ''}${quoteString(key)}:${text}`;
      continue;
    }
    const nested = CLEAR_NESTED.get(key);
    if (nested && value !== null && typeof value === 'object' && !Array.isArray(value)) {
      const record = value as Record<string, unknown>;
      const inner = Object.keys(record).sort();
      let c = '';
      let p = '';
      for (const k of inner) {
        const text = writeCanonical(record[k]);
        if (text === undefined) continue;
        if (nested.has(k)) c += `${c ? ',' : ''}${quoteString(k)}:${text}`;
        else p += `${p ? ',' : ''}${quoteString(k)}:${text}`;
      }
      clear += `${clear ? ',' : ''}${quoteString(key)}:{${c}}`;
      if (p) personal += `${personal ? ',' : ''}${quoteString(key)}:{${p}}`;
      continue;
    }
    const text = writeCanonical(value);
    if (text !== undefined) personal += `${personal ? ',' : ''}${quoteString(key)}:${text}`;
  }
  return { clear: `{${clear}}`, personal: `{${personal}}` };
}

/** {@link canonicalParts} of an event given as its stored JSON text. */
export function canonicalPartsOfText(text: string): { clear: string; personal: string } {
  return canonicalParts(dataObject(text));
}

/** A fresh random salt per event, hex (16 bytes). */
export function newSalts(count: number): string[] {
  const bytes = randomBytes(16 * count).toString('hex');
  const salts = new Array<string>(count);
  for (let i = 0; i < count; i++) salts[i] = bytes.slice(i * 32, i * 32 + 32);
  return salts;
}

/** What one chain hash covers, besides the previous hash. */
export interface RecordFields {
  /** Event id (the `id` column). */
  id: string;
  /** `occurred_at` column, UTC with microseconds: `2026-03-10T12:00:00.123000Z`. */
  at: string;
  /** `tenant_id` column. */
  tenantId: string | null;
  seq: number;
  /** The clear part of the event ({@link splitEvent}), or its canonical JSON. */
  clear: Record<string, unknown> | string;
  /** The digest of its personal part ({@link personalDigest}). */
  digest: string;
}

/**
 * The canonical JSON text that is hashed for one event:
 * `{"at":…,"event":<clear part>,"id":…,"personal":<digest>,"seq":…,"tenantId":…,"v":1}`.
 */
export function recordText(fields: RecordFields): string {
  const clear = typeof fields.clear === 'string' ? fields.clear : canonicalJson(fields.clear);
  // Keys in RFC 8785 order, written directly: this runs once per event when sealing and verifying.
  return (
    `{"at":${quoteString(fields.at)},"event":${clear},"id":${quoteString(fields.id)},` +
    `"personal":${quoteString(fields.digest)},"seq":${canonicalJson(fields.seq)},` +
    `"tenantId":${fields.tenantId === null ? 'null' : quoteString(fields.tenantId)},"v":${RECORD_VERSION}}`
  );
}

/** `sha256(prevHash + record)`, hex: the previous hash as 64 hex characters, then the record, as UTF-8. */
export function chainHash(prevHex: string, record: string): string {
  return hash('sha256', prevHex + record, 'hex');
}

/** An event row as the integrity code reads it. */
export interface SealedRow {
  id: string;
  at: string;
  tenantId: string | null;
  data: Record<string, unknown>;
  /** Null once erasure replaced the personal fields; the stored digest is then used as is. */
  salt: string | null;
  digest: string | null;
}

/**
 * The digest the hash of this row must cover: recomputed from the personal fields when the row has its
 * salt (so any change to them shows), the stored one after erasure (when the salt is gone).
 */
export function effectiveDigest(row: SealedRow, personalCanonical?: string): string | null {
  if (row.salt !== null) {
    return digestOfText(personalCanonical ?? canonicalParts(row.data).personal, row.salt);
  }
  return row.digest;
}

/** Parses a `data` value from a driver (jsonb arrives parsed, or as text from some drivers). */
export function dataObject(data: unknown): Record<string, unknown> {
  const value = typeof data === 'string' ? (JSON.parse(data) as unknown) : data;
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}
