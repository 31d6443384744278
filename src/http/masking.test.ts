import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createRedactor, REDACTED } from '../core/redact.js';
import { createFieldMasker, maskJsonText } from './masking.js';

const masker = createFieldMasker(createRedactor({ keys: ['ssn'] }), ['iban']);

describe('createFieldMasker', () => {
  it("agrees with the auditor's redactor and adds its own fragments", () => {
    expect(masker.isSensitive('password')).toBe(true);
    expect(masker.isSensitive('X-Api-Key')).toBe(true);
    expect(masker.isSensitive('ssn')).toBe(true); // from the redactor's options
    expect(masker.isSensitive('payout[IBAN]')).toBe(true); // from the adapter's options
    expect(masker.isSensitive('name')).toBe(false);
  });

  it('leaves values to the redactor when it has no extra names', () => {
    const plain = createFieldMasker(createRedactor(), []);
    const value = { password: 'x' };
    expect(plain.maskValue(value)).toBe(value);
    expect(plain.maskJsonText('{"password":"x"}')).toBe(`{"password":"${REDACTED}"}`);
  });

  it('masks nested objects and arrays without touching the input', () => {
    const input = { user: { name: 'Ada', iban: 'DE00' }, list: [{ token: 't' }], __proto__x: 1 };
    expect(masker.maskValue(input)).toEqual({
      user: { name: 'Ada', iban: REDACTED },
      list: [{ token: REDACTED }],
      __proto__x: 1,
    });
    expect(input.user.iban).toBe('DE00');
  });

  it('copies only the branches where something was masked (the rest is shared, nothing is modified)', () => {
    const untouched = { a: { b: [1, { c: 'x' }] } };
    expect(masker.maskValue(untouched)).toBe(untouched);
    const input = { keep: { name: 'Ada' }, pay: { iban: 'DE00', bank: 'X' } };
    const masked = masker.maskValue(input) as typeof input;
    expect(masked).toEqual({ keep: { name: 'Ada' }, pay: { iban: REDACTED, bank: 'X' } });
    expect(masked.keep).toBe(input.keep);
    expect(input.pay.iban).toBe('DE00');
  });

  it('keeps a __proto__ key a plain key when the object around it is copied', () => {
    const input = JSON.parse('{"__proto__":{"polluted":true},"iban":"DE00"}') as Record<string, unknown>;
    const masked = masker.maskValue(input) as Record<string, unknown>;
    expect(Object.getPrototypeOf(masked)).toBe(Object.prototype);
    expect(Object.hasOwn(masked, '__proto__')).toBe(true);
    expect(masked.iban).toBe(REDACTED);
  });
});

describe('maskJsonText', () => {
  const mask = (text: string) => maskJsonText(text, (k) => /password|secret/i.test(k));

  it('masks string, number, object and array values of sensitive keys', () => {
    expect(mask('{"password":"x","n":1}')).toBe(`{"password":"${REDACTED}","n":1}`);
    expect(mask('{"password": 1234, "a": true}')).toBe(`{"password": "${REDACTED}", "a": true}`);
    expect(mask('{"secret":{"a":[1,"}"]},"b":2}')).toBe(`{"secret":"${REDACTED}","b":2}`);
    expect(mask('[{"x":{"password":["a","b"]}}]')).toBe(`[{"x":{"password":"${REDACTED}"}}]`);
  });

  it('masks up to the end when the text was cut inside the value', () => {
    expect(mask('{"a":1,"password":"hunt')).toBe(`{"a":1,"password":"${REDACTED}"`);
    expect(mask('{"secret":{"deep":"val')).toBe(`{"secret":"${REDACTED}"`);
  });

  it('reads escaped keys and ignores look-alikes inside string values', () => {
    expect(mask('{"pass\\u0077ord":"x"}')).toBe(`{"pass\\u0077ord":"${REDACTED}"}`);
    expect(mask('{"note":"\\"password\\": not a key"}')).toBe('{"note":"\\"password\\": not a key"}');
  });

  it('never leaks a sensitive value of valid JSON, cut anywhere (property)', () => {
    const secret = fc.stringMatching(/^[a-z0-9]{8,16}$/).map((s) => `Qx${s}`);
    fc.assert(
      fc.property(fc.json(), secret, fc.nat(), (json, value, cutAt) => {
        const text = JSON.stringify({ before: JSON.parse(json), password: value, after: 1 });
        const cut = text.slice(0, cutAt % (text.length + 1));
        expect(mask(cut)).not.toContain(value);
      }),
    );
  });
});
