import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { pgliteStore } from '../store/pglite/index.js';
import { type Auditor, createAuditor } from './auditor.js';
import type { AuditorOptions } from './config.js';
import { AuditkitError } from './errors.js';
import { REDACTED } from './redact.js';

const open: Auditor[] = [];
function auditor(options: AuditorOptions = {}): Auditor {
  const audit = createAuditor({ store: pgliteStore(), spool: false, ...options });
  open.push(audit);
  return audit;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
});

describe('createAuditor', () => {
  it('records an event with defaults filled in and reads it back', async () => {
    const audit = auditor({ mode: 'sync' });
    await audit.migrate();
    const recorded = await audit.record({
      category: 'custom',
      action: 'report.exported',
      target: { type: 'report', id: '42' },
    });
    expect(recorded).toMatchObject({ outcome: 'success', actor: { type: 'system' }, tenantId: null });
    expect(recorded.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(await audit.get(recorded.id)).toEqual(recorded);
  });

  it('throws invalid_event synchronously, naming every bad field, in both modes', () => {
    for (const mode of ['sync', 'async'] as const) {
      const audit = auditor({ mode });
      let thrown: unknown;
      try {
        void audit.record({ category: 'oops' as never, action: 'has space', outcome: 'meh' as never });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(AuditkitError);
      expect((thrown as AuditkitError).code).toBe('invalid_event');
      expect((thrown as AuditkitError).details?.fields).toEqual([
        expect.stringContaining('category'),
        expect.stringContaining('action'),
        expect.stringContaining('outcome'),
      ]);
    }
  });

  it('rejects unknown options', () => {
    expect(() => createAuditor({ store: pgliteStore(), batchsize: 5 } as never)).toThrowError(
      expect.objectContaining({ code: 'invalid_config' }),
    );
  });

  it('takes actor, tenant and request ids from the context, resolving the actor when the event is written', async () => {
    const audit = auditor({ mode: 'sync' });
    await audit.migrate();
    let user: { id: string; label: string } | undefined;
    const event = await audit.runWithContext(
      {
        actor: () => user,
        tenantId: 'org_1',
        requestId: 'req-1',
        ip: '198.51.100.1',
        request: { method: 'POST', path: '/login' },
      },
      async () => {
        user = { id: 'u1', label: 'Ada' }; // authentication happens after the context started
        return audit.record({ category: 'auth', action: 'user.login' });
      },
    );
    expect(event.actor).toEqual({ type: 'user', id: 'u1', label: 'Ada', ip: '198.51.100.1' });
    expect(event.tenantId).toBe('org_1');
    expect(event.correlation).toEqual({ requestId: 'req-1' });
    expect(event.request).toEqual({ id: 'req-1', method: 'POST', path: '/login' });
  });

  it('lets setActor change the actor inside a running context', async () => {
    const audit = auditor({ mode: 'sync' });
    await audit.migrate();
    const event = await audit.runWithContext({}, async () => {
      audit.setActor({ type: 'user', id: 'u9' });
      return audit.record({ category: 'custom', action: 'a' });
    });
    expect(event.actor).toEqual({ type: 'user', id: 'u9' });
  });

  it('records anonymous inside a context without actor, and a named service with as()', async () => {
    const audit = auditor({ mode: 'sync' });
    await audit.migrate();
    expect(
      (await audit.runWithContext({}, () => audit.record({ category: 'custom', action: 'a' }))).actor,
    ).toEqual({ type: 'anonymous' });
    const job = await audit.as({ type: 'service', id: 'nightly-sync' }, () =>
      audit.record({ category: 'custom', action: 'b' }),
    );
    expect(job.actor).toEqual({ type: 'service', id: 'nightly-sync' });
  });

  it('reports a failing actor resolver and still records the event as anonymous', async () => {
    const errors: AuditkitError[] = [];
    const audit = auditor({ mode: 'sync', onError: (e) => errors.push(e) });
    await audit.migrate();
    const event = await audit.runWithContext(
      { actor: () => Promise.reject(new Error('session store down')) },
      () => audit.record({ category: 'custom', action: 'a' }),
    );
    expect(event.actor.type).toBe('anonymous');
    expect(errors.map((e) => e.code)).toEqual(['actor_resolution_failed']);
  });

  it('masks secrets and truncates huge values before storing', async () => {
    const audit = auditor({ mode: 'sync' });
    await audit.migrate();
    const event = await audit.record({
      category: 'access',
      action: 'http.request',
      request: {
        headers: { Authorization: 'Bearer abc', cookie: 'sid=1' },
        body: { password: 'hunter2', note: 'x'.repeat(1_000_000) },
      },
      metadata: { apiKey: 'k', buffer: Buffer.alloc(10) },
    });
    const stored = await audit.get(event.id);
    expect(stored?.request?.headers).toEqual({ Authorization: REDACTED, cookie: REDACTED });
    const body = stored?.request?.body as { password: string; note: string };
    expect(body.password).toBe(REDACTED);
    expect(body.note).toHaveLength(8192 + '…[truncated, 1000000 chars]'.length);
    expect(stored?.metadata).toEqual({ apiKey: REDACTED, buffer: { $binary: true, bytes: 10 } });
    expect(JSON.stringify(stored)).not.toContain('hunter2');
  });

  it('accepts cyclic objects without throwing', async () => {
    const audit = auditor({ mode: 'sync' });
    await audit.migrate();
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic.self = cyclic;
    const event = await audit.record({ category: 'custom', action: 'a', metadata: { cyclic } });
    expect((await audit.get(event.id))?.metadata).toEqual({ cyclic: { a: 1, self: '[Circular]' } });
  });

  it('batches in async mode and flush() makes everything readable', async () => {
    const audit = auditor({ mode: 'async', batchSize: 100, flushIntervalMs: 10_000 });
    await audit.migrate();
    await Promise.all(
      Array.from({ length: 250 }, (_, i) =>
        audit.record({ category: 'custom', action: 'bulk', metadata: { i } }),
      ),
    );
    await audit.flush();
    const ids = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await audit.query({ action: 'bulk', limit: 100, cursor });
      for (const e of page.events) ids.add(e.id);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    expect(ids.size).toBe(250);
    expect(audit.stats()).toMatchObject({ accepted: 250, written: 250, lost: 0 });
  });

  it('spools while the store is unreachable and replays once it is back, without duplicates', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auditkit-auditor-'));
    try {
      const store = pgliteStore();
      const errors: string[] = [];
      const audit = createAuditor({
        store,
        spool: { dir },
        retry: { retries: 1, minDelayMs: 1, maxDelayMs: 5 },
        onError: (e) => errors.push(e.code),
      });
      // Not migrated yet: the table does not exist, so every write fails until migrate() runs.
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          audit.record({ category: 'custom', action: 'early', metadata: { i } }),
        ),
      );
      await audit.flush();
      expect(errors.length).toBeGreaterThan(0);
      expect(audit.stats().spooled).toBe(20);
      await store.migrate();
      await expect.poll(() => audit.stats().spooled, { timeout: 15_000 }).toBe(0);
      expect((await audit.query({ action: 'early', limit: 100 })).events).toHaveLength(20);
      await audit.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses records after close', async () => {
    const audit = createAuditor({ store: pgliteStore(), spool: false });
    await audit.migrate();
    await audit.close();
    expect(() => audit.record({ category: 'custom', action: 'late' })).toThrowError(
      expect.objectContaining({ code: 'closed' }),
    );
  });
});
