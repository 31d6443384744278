import { AuditkitError } from '../core/errors.js';

/**
 * Canonical JSON (RFC 8785, JCS): object keys sorted by UTF-16 code units, no whitespace, strings and
 * numbers serialised the way ECMAScript's JSON.stringify does. Two equal JSON values always give the same
 * text, whatever order their keys were written in, so the text can be hashed and signed.
 *
 * Like JSON, `undefined` and functions are left out of objects and become `null` in arrays; a value
 * with `toJSON` (a Date) is serialised through it. Non-finite numbers and bigints cannot be canonical
 * JSON and throw `invalid_event`.
 *
 * @example
 * canonicalJson({ b: 1, a: [true, null, 'x'] }) // '{"a":[true,null,"x"],"b":1}'
 */
export function canonicalJson(value: unknown): string {
  const text = write(value);
  if (text === undefined) {
    throw new AuditkitError(
      'invalid_event',
      `A ${typeof value} value has no JSON form and cannot be hashed.`,
    );
  }
  return text;
}

/** Characters JSON.stringify escapes: without them a string is written as is, between quotes. */
const NEEDS_ESCAPE = /["\\\u0000-\u001f\ud800-\udfff]/;

/** A JSON string literal, exactly as JSON.stringify writes it. */
export function quoteString(value: string): string {
  return NEEDS_ESCAPE.test(value) ? JSON.stringify(value) : `"${value}"`;
}

/** The canonical text of `value`, or undefined for what JSON leaves out (undefined, functions). */
export function writeCanonical(value: unknown): string | undefined {
  return write(value);
}

function write(value: unknown): string | undefined {
  switch (typeof value) {
    case 'string':
      return quoteString(value);
    case 'number':
      if (!Number.isFinite(value)) {
        throw new AuditkitError(
          'invalid_event',
          `The number ${value} has no JSON form and cannot be hashed.`,
        );
      }
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          out += write(value[i]) ?? 'null';
        }
        return `${out}]`;
      }
      const withToJson = value as { toJSON?: () => unknown };
      if (typeof withToJson.toJSON === 'function') return write(withToJson.toJSON());
      const record = value as Record<string, unknown>;
      // Default sort compares UTF-16 code units, which is exactly what RFC 8785 asks for.
      const keys = Object.keys(record);
      if (keys.length > 1) keys.sort();
      let out = '{';
      let first = true;
      for (const key of keys) {
        const inner = write(record[key]);
        if (inner === undefined) continue;
        if (!first) out += ',';
        first = false;
        out += `${quoteString(key)}:${inner}`;
      }
      return `${out}}`;
    }
    case 'bigint':
      throw new AuditkitError('invalid_event', 'A bigint has no JSON form and cannot be hashed.');
    default:
      return undefined;
  }
}
