import { isUtf8 } from 'node:buffer';
import type { BodyTap } from './body-tap.js';
import { tapBytes, tapText } from './body-tap.js';
import type { FieldMasker } from './masking.js';

/** Why a body was summarised instead of stored. */
export type BodySummaryKind = 'binary' | 'multipart' | 'compressed' | 'streamed';

/** What is stored instead of a body that is binary, multipart, compressed or streamed. */
export interface BodySummary {
  $summary: BodySummaryKind;
  /** The media type, without parameters. */
  type: string;
  /** Bytes that went by. */
  size: number;
}

export interface DescribeBodyInput {
  tap: BodyTap;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  /** The response was written in several pieces without a length, or is an event stream. */
  streamed?: boolean;
  masker: FieldMasker;
}

/**
 * Turns what a tap saw into what the event stores: parsed JSON or form fields (masked), text, or a
 * summary. Cut bodies keep their first bytes (still masked) and say how long the original was.
 * Never throws, whatever the bytes.
 */
export function describeBody({
  tap,
  contentType,
  contentEncoding,
  streamed = false,
  masker,
}: DescribeBodyInput): unknown {
  if (tap.total === 0) return undefined;
  const type = mediaType(contentType);
  if (contentEncoding && contentEncoding.toLowerCase() !== 'identity')
    return summary('compressed', type, tap);
  if (type.startsWith('multipart/')) return summary('multipart', type, tap);
  if (streamed || type === 'text/event-stream') return summary('streamed', type, tap);
  const kind = textKind(type);
  if (kind === 'binary') return summary('binary', type, tap);
  const truncated = tap.captured < tap.total;
  // A response written as one UTF-8 string is text already: no encode and decode round trip.
  const text = truncated ? undefined : tapText(tap);
  const body = text !== undefined ? textOrBinary(withoutBom(text)) : decodeUtf8(tapBytes(tap), truncated);
  if (body === undefined) return summary('binary', type, tap);
  if (kind === 'json' || (kind === 'unknown' && looksLikeJson(body))) {
    if (!truncated) {
      try {
        return masker.maskValue(JSON.parse(body));
      } catch {
        // invalid JSON: stored as text, masked as far as it can be read
      }
    }
    return cut(masker.maskJsonText(body), truncated, tap);
  }
  if (kind === 'form') {
    const fields = masker.maskValue(parseForm(body)) as Record<string, unknown>;
    if (truncated) fields['…'] = `[truncated, ${tap.total} bytes]`;
    return fields;
  }
  return cut(body, truncated, tap);
}

function summary(kind: BodySummaryKind, type: string, tap: BodyTap): BodySummary {
  return { $summary: kind, type: type || 'application/octet-stream', size: tap.total };
}

function cut(value: string, truncated: boolean, tap: BodyTap): string {
  return truncated ? `${value}…[truncated, ${tap.total} bytes]` : value;
}

/** `application/json; charset=utf-8` -> `application/json`. */
export function mediaType(contentType: string | undefined): string {
  if (!contentType) return '';
  const semi = contentType.indexOf(';');
  return (semi === -1 ? contentType : contentType.slice(0, semi)).trim().toLowerCase();
}

function textKind(type: string): 'json' | 'form' | 'text' | 'binary' | 'unknown' {
  if (type === '') return 'unknown';
  if (type === 'application/json' || type.endsWith('+json') || type === 'application/x-ndjson') return 'json';
  if (type === 'application/x-www-form-urlencoded') return 'form';
  if (
    type.startsWith('text/') ||
    type.endsWith('+xml') ||
    type === 'application/xml' ||
    type === 'application/javascript' ||
    type === 'application/graphql' ||
    type === 'application/x-yaml' ||
    type === 'application/yaml'
  ) {
    return 'text';
  }
  return 'binary';
}

function looksLikeJson(text: string): boolean {
  const first = text.trimStart()[0];
  return first === '{' || first === '[';
}

/** Strict UTF-8 (a cut multi-byte character at the end is dropped); undefined for binary bytes. */
function decodeUtf8(bytes: Buffer, truncated: boolean): string | undefined {
  let end = bytes.length;
  if (truncated) {
    // Step back over a multi-byte sequence that the cut left incomplete.
    let back = 0;
    while (back < 3 && end - back - 1 >= 0 && ((bytes[end - back - 1] as number) & 0xc0) === 0x80) back += 1;
    const lead = bytes[end - back - 1];
    if (lead !== undefined && lead >= 0xc0) {
      const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
      if (back + 1 < need) end = end - back - 1;
    }
  }
  const kept = end === bytes.length ? bytes : bytes.subarray(0, end);
  if (!isUtf8(kept)) return undefined;
  return textOrBinary(withoutBom(kept.toString('utf8')));
}

/** Control characters other than whitespace mean it is not text a person wrote. */
function textOrBinary(text: string): string | undefined {
  return /[\u0000-\u0008\u000e-\u001f]/.test(text) ? undefined : text;
}

/** A leading byte order mark is dropped, as the WHATWG UTF-8 decoder does. */
function withoutBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** `a=1&a=2&b=x` -> `{ a: ['1', '2'], b: 'x' }`. */
export function parseForm(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of new URLSearchParams(text)) appendField(out, key, value);
  return out;
}

/** Adds a repeated field as an array, keeping `__proto__` a plain key. */
export function appendField(out: Record<string, unknown>, key: string, value: string): void {
  const existing = Object.hasOwn(out, key) ? out[key] : undefined;
  if (Array.isArray(existing)) {
    existing.push(value);
    return;
  }
  const next = existing === undefined ? value : [existing, value];
  if (key === '__proto__') {
    Object.defineProperty(out, key, { value: next, enumerable: true, writable: true, configurable: true });
  } else out[key] = next;
}
