import { describe, expect, it } from 'vitest';
import { resolveAuditorOptions } from './config.js';
import { AuditkitError } from './errors.js';

describe('resolveAuditorOptions', () => {
  it('fills defaults', () => {
    const options = resolveAuditorOptions({}, {});
    expect(options).toMatchObject({
      mode: 'async',
      batchSize: 500,
      flushIntervalMs: 200,
      raiseOnError: false,
      journal: false,
    });
    expect(options.spool).toEqual({ dir: '.auditkit/spool' });
  });

  it('rejects unknown keys, naming them', () => {
    try {
      resolveAuditorOptions({ batchsize: 10 } as never, {});
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(AuditkitError);
      expect((error as AuditkitError).code).toBe('invalid_config');
      expect((error as AuditkitError).message).toMatch(/batchsize/);
    }
  });

  it('rejects bad values with the field name', () => {
    expect(() => resolveAuditorOptions({ batchSize: -1 }, {})).toThrow(/batchSize/);
    expect(() => resolveAuditorOptions({ store: {} as never }, {})).toThrow(/store must be an AuditStore/);
  });

  it('lets AUDITKIT_* variables override the config object', () => {
    const options = resolveAuditorOptions(
      { batchSize: 10, mode: 'async' },
      {
        AUDITKIT_BATCH_SIZE: '250',
        AUDITKIT_MODE: 'sync',
        AUDITKIT_SPOOL_DIR: 'off',
        AUDITKIT_RAISE_ON_ERROR: 'true',
        AUDITKIT_MAX_VALUE_LENGTH: '64',
      },
    );
    expect(options).toMatchObject({
      batchSize: 250,
      mode: 'sync',
      spool: false,
      raiseOnError: true,
      redact: { maxValueLength: 64 },
    });
  });

  it('refuses a journal without a spool to keep it in', () => {
    expect(() => resolveAuditorOptions({ journal: true, spool: false }, {})).toThrow(
      /journal: true needs a spool/,
    );
  });

  it('names the environment variable when its value is wrong', () => {
    expect(() => resolveAuditorOptions({}, { AUDITKIT_BATCH_SIZE: 'lots' })).toThrow(/AUDITKIT_BATCH_SIZE/);
    expect(() => resolveAuditorOptions({}, { AUDITKIT_JOURNAL: 'maybe' })).toThrow(/AUDITKIT_JOURNAL/);
  });
});
