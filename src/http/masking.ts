import { REDACTED, type Redactor } from '../core/redact.js';

/** Masks the fields an HTTP adapter stores; uses the auditor's rules plus the adapter's extra names. */
export interface FieldMasker {
  isSensitive(key: string): boolean;
  /**
   * The value with the extra sensitive keys (and the defaults) masked at any depth, copied where
   * something was masked (never modified in place). Without extra keys it returns the value itself:
   * the redactor masks defaults.
   */
  maskValue(value: unknown): unknown;
  /** Masks the values of sensitive keys in JSON text, even when it is invalid or cut short. */
  maskJsonText(text: string): string;
}

const normaliseKey = (key: string) => key.toLowerCase().replace(/[-_.\s[\]]/g, '');
const MAX_DEPTH = 200;

/**
 * Creates a masker from the auditor's redactor (whose key rules it asks, so both agree) and extra key
 * fragments (matched like the defaults: case-insensitive, ignoring `-`, `_`, `.`, spaces and brackets,
 * anywhere in the key, so `ssn` also masks `user[ssn]` and `spouse_ssn`).
 */
export function createFieldMasker(redactor: Redactor, extraFragments: readonly string[]): FieldMasker {
  const extras = extraFragments.map(normaliseKey).filter(Boolean);
  const verdicts = new Map<string, boolean>();
  const isSensitive = (key: string): boolean => {
    let verdict = verdicts.get(key);
    if (verdict === undefined) {
      const normal = normaliseKey(key);
      verdict =
        extras.some((f) => normal.includes(f)) ||
        (redactor.redactValue({ [key]: 0 }) as Record<string, unknown>)[key] === REDACTED;
      if (verdicts.size < 10_000) verdicts.set(key, verdict);
    }
    return verdict;
  };

  /**
   * Copy-on-write: an object or array is copied only when something at or below it is masked, so a body
   * without extra sensitive keys costs one walk and no allocation (the redactor copies the event anyway).
   */
  const maskValue = (value: unknown, depth = 0): unknown => {
    if (typeof value !== 'object' || value === null) return value;
    if (depth >= MAX_DEPTH) return '[MaxDepth]';
    if (Array.isArray(value)) {
      let copy: unknown[] | undefined;
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        const masked = maskValue(item, depth + 1);
        if (masked !== item && copy === undefined) copy = value.slice(0, i);
        if (copy !== undefined) copy.push(masked);
      }
      return copy ?? value;
    }
    const keys = Object.keys(value);
    let out: Record<string, unknown> | undefined;
    for (let i = 0; i < keys.length; i++) {
      const key = keys[i] as string;
      const v = (value as Record<string, unknown>)[key];
      const masked = isSensitive(key) ? REDACTED : maskValue(v, depth + 1);
      if (masked !== v && out === undefined) {
        out = {};
        for (let j = 0; j < i; j++) {
          const k = keys[j] as string;
          setOwn(out, k, (value as Record<string, unknown>)[k]);
        }
      }
      if (out !== undefined) setOwn(out, key, masked);
    }
    return out ?? value;
  };

  return {
    isSensitive,
    // Without extra names the auditor's redactor masks every default key of the stored event anyway,
    // so the value goes through as is (a copy here would be pure cost on every request).
    maskValue: extras.length === 0 ? (v) => v : (v) => maskValue(v),
    maskJsonText: (t) => maskJsonText(t, isSensitive),
  };
}

/** Sets an own data property; `__proto__` stays a plain key instead of replacing the prototype. */
function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

/**
 * A tolerant pass over JSON-like text: every string followed by `:` is a key, and the value after a
 * sensitive key (string, number, literal, or a whole object/array) becomes `"[REDACTED]"`, up to the end
 * of the text when it was cut. Linear time; never throws.
 */
export function maskJsonText(text: string, isSensitive: (key: string) => boolean): string {
  let out = '';
  let i = 0;
  let copiedUpTo = 0;
  const n = text.length;
  while (i < n) {
    if (text.charCodeAt(i) !== 34 /* " */) {
      i += 1;
      continue;
    }
    const end = stringEnd(text, i);
    let j = end;
    while (j < n && isSpace(text.charCodeAt(j))) j += 1;
    if (j >= n || text[j] !== ':') {
      i = end;
      continue;
    }
    const key = decodeKey(text.slice(i, end));
    j += 1;
    if (!isSensitive(key)) {
      i = j;
      continue;
    }
    while (j < n && isSpace(text.charCodeAt(j))) j += 1;
    const valueEnd = skipValue(text, j);
    out += `${text.slice(copiedUpTo, j)}"${REDACTED}"`;
    copiedUpTo = valueEnd;
    i = valueEnd;
  }
  return copiedUpTo === 0 ? text : out + text.slice(copiedUpTo);
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

/** Index just past the string starting at `start` (a quote), or the text's end when unterminated. */
function stringEnd(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 92 /* \ */) i += 2;
    else if (c === 34) return i + 1;
    else i += 1;
  }
  return text.length;
}

function decodeKey(token: string): string {
  try {
    const parsed: unknown = JSON.parse(token);
    if (typeof parsed === 'string') return parsed;
  } catch {
    // unterminated or odd escapes: compare the raw text
  }
  return token.replace(/^"|"$/g, '');
}

/** Index just past the JSON value at `start`, tolerating truncation (then: the text's end). */
function skipValue(text: string, start: number): number {
  const n = text.length;
  if (start >= n) return n;
  const first = text[start];
  if (first === '"') return stringEnd(text, start);
  if (first === '{' || first === '[') {
    let depth = 0;
    let i = start;
    while (i < n) {
      const c = text[i];
      if (c === '"') {
        i = stringEnd(text, i);
        continue;
      }
      if (c === '{' || c === '[') depth += 1;
      else if (c === '}' || c === ']') {
        depth -= 1;
        if (depth === 0) return i + 1;
      }
      i += 1;
    }
    return n;
  }
  let i = start;
  while (i < n && !/[,}\]\s]/.test(text[i] as string)) i += 1;
  return i;
}
