import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import {
  canonicalParts,
  chainHash,
  digestOfText,
  newSalts,
  personalDigest,
  recordText,
  splitEvent,
} from './event-hash.js';

const sha256 = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

describe('event hashing', () => {
  it('chains with sha256(prevHash + record) and digests with sha256(salt + canonical personal part)', () => {
    const prev = 'ab'.repeat(32);
    expect(chainHash(prev, '{"x":1}')).toBe(sha256(`${prev}{"x":1}`));
    const salt = 'cd'.repeat(16);
    expect(personalDigest({ b: 2, a: 'é' }, salt)).toBe(sha256(`${salt}{"a":"é","b":2}`));
    expect(digestOfText('{"a":1}', salt)).toBe(sha256(`${salt}{"a":1}`));
  });

  it('writes the record as the canonical JSON of its fields', () => {
    const fields = {
      id: '01a2109d-b7cf-7582-8dc8-f11de9525ac7',
      at: '2026-03-10T12:00:00.123000Z',
      tenantId: 'org "1"',
      seq: 42,
      clear: { category: 'auth', action: 'user.login' },
      digest: 'ef'.repeat(32),
    };
    expect(recordText(fields)).toBe(
      canonicalJson({
        v: 1,
        id: fields.id,
        at: fields.at,
        tenantId: fields.tenantId,
        seq: 42,
        event: fields.clear,
        personal: fields.digest,
      }),
    );
    expect(recordText({ ...fields, tenantId: null, clear: canonicalJson(fields.clear) })).toContain(
      '"tenantId":null',
    );
  });

  it('splits in one pass exactly as splitEvent + canonicalJson do', () => {
    const eventLike = fc.record(
      {
        id: fc.string(),
        category: fc.string(),
        tenantId: fc.option(fc.string()),
        actor: fc.oneof(
          fc.dictionary(fc.constantFrom('type', 'id', 'label', 'ip', 'x'), fc.jsonValue()),
          fc.jsonValue(),
        ),
        target: fc.dictionary(fc.constantFrom('type', 'id', 'label'), fc.string()),
        request: fc.dictionary(fc.constantFrom('method', 'route', 'status', 'path', 'body'), fc.jsonValue()),
        changes: fc.dictionary(fc.string(), fc.jsonValue()),
        message: fc.string(),
        seq: fc.nat(),
        hash: fc.string(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(eventLike, (data) => {
        const value = JSON.parse(JSON.stringify(data)) as Record<string, unknown>;
        const split = splitEvent(value);
        expect(canonicalParts(value)).toEqual({
          clear: canonicalJson(split.clear),
          personal: canonicalJson(split.personal),
        });
      }),
      { numRuns: 300 },
    );
  });

  it('draws a fresh 16-byte salt per event', () => {
    const salts = newSalts(50);
    expect(new Set(salts).size).toBe(50);
    expect(salts.every((s) => /^[0-9a-f]{32}$/.test(s))).toBe(true);
  });
});

describe('event hashing with hostile keys', () => {
  it('keeps a __proto__ key in a nested object as data in both split paths (found by fast-check)', () => {
    const value = JSON.parse('{"actor":{"__proto__":false}}') as Record<string, unknown>;
    const split = splitEvent(value);
    expect(canonicalParts(value)).toEqual({
      clear: canonicalJson(split.clear),
      personal: canonicalJson(split.personal),
    });
  });
});
