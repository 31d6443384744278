/**
 * Disk full / spool unwritable: with the database unreachable and a spool that cannot be written, the app
 * keeps answering every request, and the auditor says so through onError (naming the spool directory)
 * and counts the events it could not keep.
 */
import { describe, expect, it } from 'vitest';
import { runUnwritableSpool } from './fixtures/http-scenarios.js';

describe('HTTP app whose spool cannot be written while the database is down', () => {
  it('keeps serving and reports spool_failed through onError', async () => {
    const report = await runUnwritableSpool({ loadS: 3 });
    console.log(
      `[http unwritable spool] ${report.framework}: 3 s of load, database unreachable, spool path under a regular file; ` +
        `answered ${report.answered}, statuses ${JSON.stringify(report.load.statuses)}, errors ${report.load.errors}; ` +
        `reported ${report.errorCodes.join(', ')}; lost (counted and reported) ${report.final?.lost}; ` +
        `message: ${report.spoolMessage}`,
    );
    expect(report.answered).toBeGreaterThan(0);
    expect(report.load.errors).toBe(0);
    expect(report.load.timeouts).toBe(0);
    expect(Object.keys(report.load.statuses)).toEqual(['200']);
    expect(report.errorCodes).toContain('spool_failed');
    expect(report.spoolMessage).toMatch(/spool/i);
    expect(report.spoolMessage).toContain('not-a-directory');
    expect(report.final?.lost).toBeGreaterThan(0);
  }, 60_000);
});
