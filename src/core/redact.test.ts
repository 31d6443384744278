import { describe, expect, it } from 'vitest';
import { createRedactor, REDACTED, toStorableString, truncationMarker } from './redact.js';

const redactor = createRedactor();
const clean = (value: unknown) => redactor.redactValue(value) as Record<string, unknown>;

describe('createRedactor', () => {
  it('masks the default sensitive keys at any depth, whatever their case or separators', () => {
    const out = clean({
      Password: 'p',
      user: { passwd: 'p', profile: { newPassword: 'p', api_key: 'k', 'X-Api-Key': 'k' } },
      headers: { Authorization: 'Bearer abc', cookie: 'sid=1', 'set-cookie': ['a=1'] },
      oauth: { access_token: 't', refresh_token: 't', client_secret: 's' },
      payment: { credit_card: '4111111111111111', cardNumber: '4111', cvv: '123', CVC: '123' },
      name: 'Ada',
    });
    expect(out).toEqual({
      Password: REDACTED,
      user: {
        passwd: REDACTED,
        profile: { newPassword: REDACTED, api_key: REDACTED, 'X-Api-Key': REDACTED },
      },
      headers: { Authorization: REDACTED, cookie: REDACTED, 'set-cookie': REDACTED },
      oauth: { access_token: REDACTED, refresh_token: REDACTED, client_secret: REDACTED },
      payment: { credit_card: REDACTED, cardNumber: REDACTED, cvv: REDACTED, CVC: REDACTED },
      name: 'Ada',
    });
  });

  it('masks secrets inside arrays of objects', () => {
    expect(clean({ users: [{ id: 1, password: 'x' }] })).toEqual({ users: [{ id: 1, password: REDACTED }] });
  });

  it('adds user keys and key patterns to the defaults', () => {
    const custom = createRedactor({ keys: ['ssn'], keyPatterns: [/^internal_/i] });
    expect(custom.redactValue({ SSN: '1', internal_note: 'x', password: 'p', ok: 1 })).toEqual({
      SSN: REDACTED,
      internal_note: REDACTED,
      password: REDACTED,
      ok: 1,
    });
  });

  it('masks JSON Web Tokens found inside any string, and user value patterns', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abcDEF123_-';
    const custom = createRedactor({ valuePatterns: [/\b\d{3}-\d{2}-\d{4}\b/] });
    expect(custom.redactValue(`token is ${jwt} and ssn 123-45-6789`)).toBe(
      `token is ${REDACTED} and ssn ${REDACTED}`,
    );
  });

  it('truncates long strings with a marker giving the original length', () => {
    const big = 'x'.repeat(1_000_000);
    const out = createRedactor({ maxValueLength: 100 }).redactValue({ body: big }) as { body: string };
    expect(out.body).toBe('x'.repeat(100) + truncationMarker(1_000_000));
  });

  it('defaults to 8192 characters per value', () => {
    const out = redactor.redactValue('y'.repeat(10_000)) as string;
    expect(out.startsWith('y'.repeat(8192) + '…[truncated, 10000 chars]')).toBe(true);
  });

  it('cuts cycles and deep nesting safely instead of overflowing the stack', () => {
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.self = cyclic;
    expect(clean(cyclic)).toEqual({ name: 'a', self: '[Circular]' });

    let deep: Record<string, unknown> = {};
    const root = deep;
    for (let i = 0; i < 100_000; i++) {
      const next = {};
      deep.next = next;
      deep = next;
    }
    const out = JSON.stringify(createRedactor({ maxDepth: 5 }).redactValue(root));
    expect(out).toBe('{"next":{"next":{"next":{"next":{"next":"[MaxDepth]"}}}}}');
  });

  it('keeps a shared (non-cyclic) object twice', () => {
    const shared = { a: 1 };
    expect(clean({ x: shared, y: shared })).toEqual({ x: { a: 1 }, y: { a: 1 } });
  });

  it('summarises binary data instead of storing it', () => {
    expect(clean({ file: Buffer.alloc(2048), view: new Uint8Array(3), raw: new ArrayBuffer(5) })).toEqual({
      file: { $binary: true, bytes: 2048 },
      view: { $binary: true, bytes: 3 },
      raw: { $binary: true, bytes: 5 },
    });
  });

  it('turns values JSON cannot hold into storable ones', () => {
    const out = clean({
      when: new Date('2026-01-02T03:04:05.000Z'),
      big: 10n,
      nan: Number.NaN,
      fn: () => 1,
      err: new TypeError('boom'),
      map: new Map([['k', 1]]),
      set: new Set([1, 2]),
      undef: undefined,
    });
    expect(out.when).toBe('2026-01-02T03:04:05.000Z');
    expect(out.big).toBe('10');
    expect(out.nan).toBe('NaN');
    expect('fn' in out).toBe(false);
    expect(out.err).toMatchObject({ name: 'TypeError', message: 'boom' });
    expect(out.map).toEqual({ k: 1 });
    expect(out.set).toEqual([1, 2]);
    expect('undef' in out).toBe(false);
  });

  it('keeps __proto__ and constructor keys as plain data, never polluting prototypes', () => {
    const hostile = JSON.parse('{"__proto__": {"polluted": true}, "constructor": {"prototype": {"x": 1}}}');
    const out = clean(hostile);
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(['__proto__', 'constructor']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(JSON.parse(JSON.stringify(out))).toEqual(hostile);
  });

  it('replaces NUL bytes and lone surrogates, which PostgreSQL rejects', () => {
    expect(toStorableString('a\u0000b')).toBe('a\uFFFDb');
    expect(toStorableString('x\uD800y')).toBe('x\uFFFDy');
    expect(clean({ 'k\u0000': 'v\u0000' })).toEqual({ 'k\uFFFD': 'v\uFFFD' });
  });

  it('caps long arrays and objects with many keys', () => {
    const custom = createRedactor({ maxArrayLength: 2, maxKeys: 2 });
    expect(custom.redactValue([1, 2, 3, 4])).toEqual([1, 2, '…[2 more items]']);
    expect(custom.redactValue({ a: 1, b: 2, c: 3 })).toEqual({ a: 1, b: 2, '…': '[1 more keys]' });
  });

  describe('redactEvent', () => {
    const base = {
      id: '0190f5d2-7a3b-7c4d-8e5f-0123456789ab',
      occurredAt: new Date(),
      category: 'change' as const,
      action: 'user.updated',
      outcome: 'success' as const,
      actor: { type: 'user' as const, id: 'u1', sessionId: 'abc' },
    };

    it('keeps the shape of a masked change so the diff still shows the field changed', () => {
      const out = redactor.redactEvent({ ...base, changes: { password: ['old', 'new'], name: ['a', 'b'] } });
      expect(out.changes).toEqual({ password: [REDACTED, REDACTED], name: ['a', 'b'] });
    });

    it('masks request headers, query and bodies but never identity fields', () => {
      const out = redactor.redactEvent({
        ...base,
        request: { headers: { authorization: 'Bearer x' }, query: { token: 't' }, body: { password: 'p' } },
        metadata: { apiKey: 'k', note: 'n' },
      });
      expect(out.request).toEqual({
        headers: { authorization: REDACTED },
        query: { token: REDACTED },
        body: { password: REDACTED },
      });
      expect(out.metadata).toEqual({ apiKey: REDACTED, note: 'n' });
      expect(out.actor).toEqual(base.actor);
    });
  });
});
