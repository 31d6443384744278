import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';

describe('canonicalJson (RFC 8785)', () => {
  it('sorts keys by UTF-16 code units and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x', null], c: true } })).toBe(
      '{"a":{"c":true,"d":[1,"x",null]},"b":1}',
    );
    // RFC 8785 section 3.2.3: code-unit order, so "\u20ac" (U+20AC) sorts before "\ud83d\ude00" (U+1F600).
    expect(canonicalJson({ '\ud83d\ude00': 1, '\u20ac': 2, '\r': 3, '1': 4 })).toBe(
      '{"\\r":3,"1":4,"€":2,"😀":1}',
    );
  });

  it('writes numbers the ECMAScript way, as RFC 8785 requires', () => {
    expect(canonicalJson([1e21, 1e-7, -0, 0.1 + 0.2, 333333333.3333333, 4.5])).toBe(
      '[1e+21,1e-7,0,0.30000000000000004,333333333.3333333,4.5]',
    );
  });

  it('drops undefined members like JSON, writes dates through toJSON', () => {
    expect(canonicalJson({ a: undefined, b: [undefined], c: new Date('2026-01-02T03:04:05.006Z') })).toBe(
      '{"b":[null],"c":"2026-01-02T03:04:05.006Z"}',
    );
  });

  it('refuses values JSON cannot carry', () => {
    expect(() => canonicalJson(Number.NaN)).toThrowError(expect.objectContaining({ code: 'invalid_event' }));
    expect(() => canonicalJson({ n: 1n })).toThrowError(expect.objectContaining({ code: 'invalid_event' }));
    expect(() => canonicalJson(undefined)).toThrowError(expect.objectContaining({ code: 'invalid_event' }));
  });

  it('gives the same text whatever the key order, and parses back to the same value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        const reversed = JSON.parse(JSON.stringify(value), (_key, v) =>
          v && typeof v === 'object' && !Array.isArray(v)
            ? Object.fromEntries(Object.entries(v as Record<string, unknown>).reverse())
            : v,
        );
        expect(canonicalJson(reversed)).toBe(text);
      }),
      { numRuns: 300 },
    );
  });
});
