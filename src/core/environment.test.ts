import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { parseBoolean, parseWithEnvironment } from './environment.js';

const schema = z.strictObject({
  size: z.number().int().positive().default(10),
  nested: z.strictObject({ flag: z.boolean().default(false) }).optional(),
});
const overrides = {
  APP_SIZE: { path: ['size'], parse: Number },
  APP_FLAG: { path: ['nested', 'flag'], parse: parseBoolean },
};

describe('parseWithEnvironment', () => {
  it('lets the environment win over code, creating nested objects as needed', () => {
    expect(
      parseWithEnvironment(schema, { size: 3 }, overrides, { APP_SIZE: '7', APP_FLAG: 'yes' }, 'T'),
    ).toEqual({
      size: 7,
      nested: { flag: true },
    });
  });

  it('ignores empty variables and keeps the defaults', () => {
    expect(parseWithEnvironment(schema, {}, overrides, { APP_SIZE: '' }, 'T')).toEqual({ size: 10 });
  });

  it('names the field and the variable a bad value came from', () => {
    expect(() =>
      parseWithEnvironment(schema, {}, overrides, { APP_FLAG: 'maybe' }, 'Invalid app options'),
    ).toThrow(/Invalid app options:\n {2}nested\.flag \(from APP_FLAG\):/);
  });

  it('skips an override the caller says does not apply', () => {
    const result = parseWithEnvironment(
      schema,
      {},
      overrides,
      { APP_FLAG: 'on' },
      'T',
      ({ path }, merged) => path[0] !== 'nested' || merged.nested !== undefined,
    );
    expect(result).toEqual({ size: 10 });
  });
});

describe('parseBoolean', () => {
  it('reads the usual words and leaves anything else for the schema', () => {
    expect(['1', 'TRUE', 'yes', 'on'].map(parseBoolean)).toEqual([true, true, true, true]);
    expect(['0', 'false', 'No', 'off'].map(parseBoolean)).toEqual([false, false, false, false]);
    expect(parseBoolean('perhaps')).toBe('perhaps');
  });
});
