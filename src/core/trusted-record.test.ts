import { afterEach, describe, expect, it } from 'vitest';
import { pgliteStore } from '../store/pglite/index.js';
import { type Auditor, createAuditor } from './auditor.js';
import type { AuditEventInput } from './event.js';
import { REDACTED } from './redact.js';
import { RECORD_TRUSTED, trustedRecorder } from './trusted-record.js';

const open: Auditor[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
});
function auditor(): Auditor {
  const audit = createAuditor({ store: pgliteStore(), spool: false, mode: 'sync' });
  open.push(audit);
  return audit;
}

describe('trustedRecorder', () => {
  it("is the auditor's path for adapter-built events: no input validation, redaction still applied", async () => {
    const audit = auditor();
    await audit.migrate();
    const record = trustedRecorder(audit);
    const event = await record({
      category: 'access',
      action: 'http.request',
      request: {
        method: 'POST',
        path: '/login',
        headers: { authorization: 'Bearer abc' },
        body: { user: 'ada', password: 'hunter2', note: 'eyJhbGciOi.eyJzdWIiOiIx.sig' },
      },
    });
    expect(event.request?.headers).toEqual({ authorization: REDACTED });
    expect(event.request?.body).toEqual({ user: 'ada', password: REDACTED, note: REDACTED });
    expect(await audit.get(event.id)).toEqual(event);
  });

  it('returns the stored event itself when the async writer takes it at once, and a promise in sync mode', async () => {
    const audit = createAuditor({ store: pgliteStore(), spool: false, mode: 'async' });
    open.push(audit);
    await audit.migrate();
    const taken = trustedRecorder(audit)({ category: 'custom', action: 'x.y', metadata: { token: 't' } });
    expect(taken).not.toBeInstanceOf(Promise);
    expect((taken as Awaited<typeof taken>).metadata).toEqual({ token: REDACTED });
    await audit.flush();
    expect(await audit.get((taken as Awaited<typeof taken>).id)).toEqual(taken);

    const sync = auditor();
    await sync.migrate();
    const written = trustedRecorder(sync)({ category: 'custom', action: 'x.y' });
    expect(written).toBeInstanceOf(Promise);
    expect(await sync.get((await written).id)).toEqual(await written);
  });

  it('is not part of the public auditor object (a non-enumerable symbol)', () => {
    const audit = auditor();
    expect(Object.keys(audit)).not.toContain(String(RECORD_TRUSTED));
    expect(Object.getOwnPropertySymbols({ ...audit })).not.toContain(RECORD_TRUSTED);
  });

  it('falls back to the validating record() of an auditor that has no trusted path (a wrapper)', async () => {
    const audit = auditor();
    await audit.migrate();
    const seen: AuditEventInput[] = [];
    const wrapper = {
      record: (input: AuditEventInput) => {
        seen.push(input);
        return audit.record(input);
      },
    };
    const event = await trustedRecorder(wrapper)({ category: 'custom', action: 'x.y' });
    expect(seen).toHaveLength(1);
    expect(event.action).toBe('x.y');
  });

  it('refuses events once the auditor is closed, like record()', async () => {
    const audit = auditor();
    await audit.close();
    expect(() => trustedRecorder(audit)({ category: 'custom', action: 'x.y' })).toThrow(/closed/);
  });
});
