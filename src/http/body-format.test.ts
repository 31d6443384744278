import { describe, expect, it } from 'vitest';
import { createRedactor, REDACTED } from '../core/redact.js';
import { describeBody, mediaType, parseForm } from './body-format.js';
import type { BodyTap } from './body-tap.js';
import { createFieldMasker } from './masking.js';

// With an extra name the masker masks the defaults too; without one it leaves them to the auditor's redactor.
const masker = createFieldMasker(createRedactor(), ['iban']);
function tapOf(text: string | Buffer, limit = Number.POSITIVE_INFINITY): BodyTap {
  const bytes = typeof text === 'string' ? Buffer.from(text) : text;
  const kept = bytes.subarray(0, Math.min(limit, bytes.length));
  return { chunks: [kept], captured: kept.length, total: bytes.length, writes: 1, complete: true };
}
const describe_ = (
  text: string | Buffer,
  contentType?: string,
  extra: { limit?: number; encoding?: string } = {},
) => describeBody({ tap: tapOf(text, extra.limit), contentType, contentEncoding: extra.encoding, masker });

describe('describeBody', () => {
  it('parses and masks JSON, including +json types', () => {
    expect(describe_('{"a":1,"password":"x"}', 'application/json; charset=utf-8')).toEqual({
      a: 1,
      password: REDACTED,
    });
    expect(describe_('[1,2]', 'application/problem+json')).toEqual([1, 2]);
  });

  it('parses form bodies into fields, repeated ones as arrays', () => {
    expect(describe_('a=1&a=2&token=t', 'application/x-www-form-urlencoded')).toEqual({
      a: ['1', '2'],
      token: REDACTED,
    });
  });

  it('keeps text as text and cuts it at the limit with the original length', () => {
    expect(describe_('hello', 'text/plain')).toBe('hello');
    expect(describe_('abcdefghij', 'text/plain', { limit: 4 })).toBe('abcd…[truncated, 10 bytes]');
  });

  it('never splits a multi-byte character at the cut', () => {
    expect(describe_('ééé', 'text/plain', { limit: 3 })).toBe('é…[truncated, 6 bytes]');
  });

  it('summarises binary, multipart, compressed and event-stream bodies', () => {
    expect(describe_(Buffer.from([0, 1, 2, 255]), 'image/png')).toEqual({
      $summary: 'binary',
      type: 'image/png',
      size: 4,
    });
    expect(describe_('--b\r\n', 'multipart/form-data; boundary=b')).toEqual({
      $summary: 'multipart',
      type: 'multipart/form-data',
      size: 5,
    });
    expect(describe_('{"a":1}', 'application/json', { encoding: 'gzip' })).toMatchObject({
      $summary: 'compressed',
    });
    expect(describe_('data: x\n\n', 'text/event-stream')).toMatchObject({ $summary: 'streamed' });
  });

  it('sniffs a body without a content type: JSON-looking text is JSON, other bytes are binary', () => {
    expect(describe_('{"password":"x"}')).toEqual({ password: REDACTED });
    expect(describe_(Buffer.from([0xff, 0xfe, 0x00]))).toEqual({
      $summary: 'binary',
      type: 'application/octet-stream',
      size: 3,
    });
  });

  it('reads a body written as strings like the same bytes, without decoding it again', () => {
    const written = (...chunks: string[]): BodyTap => {
      const total = chunks.reduce((n, c) => n + Buffer.byteLength(c), 0);
      return { chunks, captured: total, total, writes: chunks.length, complete: true };
    };
    const read = (tap: BodyTap, contentType: string) =>
      describeBody({ tap, contentType, contentEncoding: undefined, masker });
    expect(read(written('{"a":"é",', '"token":"t"}'), 'application/json')).toEqual({
      a: 'é',
      token: REDACTED,
    });
    // A byte order mark is dropped as the UTF-8 decoder drops it; a NUL still means binary.
    expect(read(written('\uFEFF{"a":1}'), 'application/json')).toEqual(
      describe_('\uFEFF{"a":1}', 'application/json'),
    );
    expect(read(written('\uFEFF{"a":1}'), 'application/json')).toEqual({ a: 1 });
    expect(read(written('a\u0000b'), 'text/plain')).toEqual({
      $summary: 'binary',
      type: 'text/plain',
      size: 3,
    });
  });

  it('stores nothing for an empty body', () => {
    expect(describe_('', 'application/json')).toBeUndefined();
  });
});

describe('mediaType / parseForm', () => {
  it('strips parameters and keeps __proto__ a plain key', () => {
    expect(mediaType('Text/HTML; charset=utf-8')).toBe('text/html');
    const form = parseForm('__proto__=x&a=1');
    expect(Object.getPrototypeOf(form)).toBe(Object.prototype);
    expect(form).toEqual(JSON.parse('{"__proto__":"x","a":"1"}'));
  });
});
