import type { AuditEvent } from './event.js';

/** Replaces secrets and cuts oversized values in an event before anything stores it. */
export interface Redactor {
  redactEvent(event: AuditEvent): AuditEvent;
  /** Cleans one arbitrary value (a body, headers, a diff) the same way. */
  redactValue(value: unknown): unknown;
}

export interface RedactionOptions {
  /** Extra key names to mask, matched like the defaults (case-insensitive, ignoring `-`, `_`, spaces). */
  keys?: string[];
  /** Extra key patterns to mask. */
  keyPatterns?: RegExp[];
  /** Patterns masked inside string values wherever they appear (JWTs are masked by default). */
  valuePatterns?: RegExp[];
  /** Longest string kept, in characters; longer ones are cut with a marker. Default 8192. */
  maxValueLength?: number;
  /** Deeper nesting is replaced by a marker. Default 32. */
  maxDepth?: number;
  /** Longest array kept; the rest is summarised. Default 1000. */
  maxArrayLength?: number;
  /** Most keys kept per object. Default 1000. */
  maxKeys?: number;
  /** Set false to turn off the default sensitive keys (not recommended). */
  defaultKeys?: boolean;
}

export const REDACTED = '[REDACTED]';

/**
 * Key fragments that mark a value as secret. A key is normalised (lower case, `-`, `_`, `.` and spaces
 * removed) and masked when it contains one of these, so `newPassword`, `X-Api-Key` and
 * `client_secret` are caught too: over-masking is the safe side of this trade.
 */
export const DEFAULT_SENSITIVE_KEYS = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'apikey',
  'authorization',
  'cookie',
  'creditcard',
  'cardnumber',
  'ccnumber',
  'ccnum',
  'cvv',
  'cvc',
  'csc',
  'privatekey',
  'sessionid',
] as const;

/** A JSON Web Token anywhere in a string. */
const JWT_PATTERN = /\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*/g;

const normaliseKey = (key: string) => key.toLowerCase().replace(/[-_.\s]/g, '');

/** Marker appended to a cut string: what was kept and how long the original was. */
export function truncationMarker(originalLength: number): string {
  return `…[truncated, ${originalLength} chars]`;
}

/** Replaces NUL and unpaired surrogates, which PostgreSQL text and jsonb reject, with U+FFFD. */
export function toStorableString(value: string): string {
  const wellFormed = value.isWellFormed() ? value : value.toWellFormed();
  return wellFormed.includes('\u0000') ? wellFormed.replaceAll('\u0000', '\uFFFD') : wellFormed;
}

/**
 * The default redactor: masks sensitive keys at any depth, masks secret-looking values, truncates long
 * strings, cuts deep or cyclic structures, summarises binary data, and makes every string storable.
 *
 * @example
 * const redactor = createRedactor({ keys: ['ssn'], maxValueLength: 2048 });
 */
export function createRedactor(options: RedactionOptions = {}): Redactor {
  const {
    keys = [],
    keyPatterns = [],
    valuePatterns = [],
    maxValueLength = 8192,
    maxDepth = 32,
    maxArrayLength = 1000,
    maxKeys = 1000,
    defaultKeys = true,
  } = options;
  const fragments = [...(defaultKeys ? DEFAULT_SENSITIVE_KEYS : []), ...keys.map(normaliseKey)];
  const patterns = valuePatterns.map(
    (p) => new RegExp(p.source, p.flags.includes('g') ? p.flags : `${p.flags}g`),
  );
  const maskJwts = defaultKeys;

  // Apps use the same few hundred keys over and over: remember each verdict (bounded, so hostile input
  // with endless distinct keys cannot grow it without limit).
  const verdicts = new Map<string, boolean>();
  const isSensitiveKey = (key: string): boolean => {
    let verdict = verdicts.get(key);
    if (verdict === undefined) {
      verdict = computeSensitive(key);
      if (verdicts.size < 10_000) verdicts.set(key, verdict);
    }
    return verdict;
  };
  const computeSensitive = (key: string): boolean => {
    const normalised = normaliseKey(key);
    return (
      fragments.some((f) => normalised.includes(f)) ||
      keyPatterns.some((p) => {
        p.lastIndex = 0;
        return p.test(key);
      })
    );
  };

  const cleanString = (input: string): string => {
    let value = input;
    // Cheap test first: almost no string holds a JWT, and the regex is the costly part.
    if (maskJwts && value.includes('eyJ')) value = value.replace(JWT_PATTERN, REDACTED);
    for (const pattern of patterns) value = value.replace(pattern, REDACTED);
    if (value.length > maxValueLength)
      value = value.slice(0, maxValueLength) + truncationMarker(value.length);
    return toStorableString(value);
  };

  // Keys repeat even more than values: clean each once (bounded like the verdicts).
  const cleanKeys = new Map<string, string>();
  const cleanKey = (key: string): string => {
    let cleaned = cleanKeys.get(key);
    if (cleaned === undefined) {
      cleaned = cleanString(key);
      if (cleanKeys.size < 10_000 && key.length <= 256) cleanKeys.set(key, cleaned);
    }
    return cleaned;
  };

  /**
   * `ancestors` holds the objects being cleaned above this one (a cycle is one of them): a small array
   * searched linearly is cheaper than a WeakSet here, and leaves the garbage collector nothing to do.
   */
  const clean = (value: unknown, depth: number, ancestors: object[]): unknown => {
    if (value === null || value === undefined) return value;
    switch (typeof value) {
      case 'string':
        return cleanString(value);
      case 'number':
        return Number.isFinite(value) ? value : String(value);
      case 'boolean':
        return value;
      case 'bigint':
        return value.toString();
      case 'symbol':
        return value.toString();
      case 'function':
        return '[Function]';
    }
    const object = value as object;
    const prototype = Object.getPrototypeOf(object);
    // Plain objects and arrays (parsed JSON, headers) are nearly everything: skip the class checks for them.
    const plain = prototype === Object.prototype || prototype === null;
    if (!plain && !Array.isArray(object)) {
      if (object instanceof Date) return Number.isNaN(object.getTime()) ? null : object.toISOString();
      if (
        ArrayBuffer.isView(object) ||
        object instanceof ArrayBuffer ||
        object instanceof SharedArrayBuffer
      ) {
        return { $binary: true, bytes: (object as ArrayBufferLike | ArrayBufferView).byteLength };
      }
    }
    if (ancestors.includes(object)) return '[Circular]';
    if (depth >= maxDepth) return '[MaxDepth]';
    ancestors.push(object);
    try {
      if (!plain) {
        if (Array.isArray(object)) {
          const n = Math.min(object.length, maxArrayLength);
          const kept: unknown[] = new Array(n);
          for (let i = 0; i < n; i++) kept[i] = clean(object[i], depth + 1, ancestors);
          if (object.length > maxArrayLength) kept.push(`…[${object.length - maxArrayLength} more items]`);
          return kept;
        }
        if (object instanceof Error) {
          return clean(
            { name: object.name, message: object.message, stack: object.stack },
            depth + 1,
            ancestors,
          );
        }
        if (object instanceof Map) return clean(Object.fromEntries(object), depth, ancestors);
        if (object instanceof Set) return clean([...object], depth, ancestors);
      }
      const toJSON = (object as { toJSON?: unknown }).toJSON;
      if (typeof toJSON === 'function') return clean(toJSON.call(object), depth + 1, ancestors);
      return cleanObject(object as Record<string, unknown>, depth, ancestors);
    } finally {
      ancestors.pop();
    }
  };

  const cleanObject = (object: Record<string, unknown>, depth: number, ancestors: object[]) => {
    const out: Record<string, unknown> = {};
    const entries = Object.keys(object);
    const n = Math.min(entries.length, maxKeys);
    for (let i = 0; i < n; i++) {
      const key = entries[i] as string;
      const raw = object[key];
      if (raw === undefined || typeof raw === 'function') continue;
      const cleaned = isSensitiveKey(key) ? REDACTED : clean(raw, depth + 1, ancestors);
      setOwn(out, cleanKey(key), cleaned);
    }
    if (entries.length > maxKeys) out['…'] = `[${entries.length - maxKeys} more keys]`;
    return out;
  };

  /** Changes keep their `[before, after]` shape when masked, so a diff still shows that the field changed. */
  const cleanChanges = (changes: Record<string, unknown>, ancestors: object[]): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [field, change] of Object.entries(changes)) {
      const value = isSensitiveKey(field)
        ? Array.isArray(change) && change.length === 2
          ? [REDACTED, REDACTED]
          : REDACTED
        : clean(change, 1, ancestors);
      setOwn(out, cleanString(field), value);
    }
    return out;
  };

  return {
    redactValue: (value) => clean(value, 0, []),
    redactEvent(event) {
      const out: Record<string, unknown> = {};
      // One cycle guard for the whole event: `clean` pops each object again once it is done with it.
      const ancestors: object[] = [];
      for (const field of Object.keys(event)) {
        const value = (event as Record<string, unknown>)[field];
        if (value === undefined) continue;
        switch (field) {
          case 'id':
          case 'occurredAt':
          case 'category':
          case 'action':
          case 'outcome':
          case 'seq':
          case 'hash':
            // Identifiers and fixed vocabulary: cleaned, never masked.
            out[field] = typeof value === 'string' ? toStorableString(value) : value;
            break;
          case 'changes':
            out[field] = cleanChanges(value as Record<string, unknown>, ancestors);
            break;
          case 'actor':
          case 'target':
          case 'correlation':
            // Identity fields are never masked (an actor id is not a secret), only made storable and cut.
            out[field] = cleanIdentity(value as Record<string, unknown>);
            break;
          default:
            out[field] = clean(value, 0, ancestors);
        }
      }
      return out as AuditEvent;
    },
  };

  /**
   * A flat object of identifiers with its strings cleaned and undefined fields dropped. Returned as is
   * when nothing needs either (the usual case), since the events handed to the redactor are fresh objects.
   */
  function cleanIdentity(value: Record<string, unknown>): Record<string, unknown> {
    let out: Record<string, unknown> | undefined;
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      const v = value[key];
      const cleaned = typeof v === 'string' ? cleanString(v) : v;
      if (out === undefined && (cleaned !== v || v === undefined)) {
        out = {};
        for (const earlier in value) {
          if (earlier === key) break;
          if (Object.hasOwn(value, earlier) && value[earlier] !== undefined) out[earlier] = value[earlier];
        }
      }
      if (out !== undefined && cleaned !== undefined) out[key] = cleaned;
    }
    return out ?? value;
  }
}

/** Sets an own data property; `__proto__` stays a plain key instead of replacing the prototype. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
