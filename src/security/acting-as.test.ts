import { EventEmitter, once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Auditor, createAuditor } from '../core/auditor.js';
import { pgliteStore } from '../store/pglite/index.js';

describe('audit.as(): jobs, CLI commands and workers acting as a named actor', () => {
  let audit: Auditor;
  beforeAll(async () => {
    audit = createAuditor({ store: pgliteStore(), mode: 'sync', spool: false });
    await audit.migrate();
  });
  afterAll(() => audit.close());

  it('names the actor of every event a job records, across awaits and timers', async () => {
    const nightly = { type: 'service', id: 'nightly-sync', label: 'Nightly sync' } as const;
    const events = await audit.as(nightly, async () => {
      await sleep(5);
      const [deleted] = await audit.security.userDeleted({ user: 'u-stale', reason: 'inactive for 2 years' });
      await new Promise((resolve) => setTimeout(resolve, 5));
      const purged = await audit.record({ category: 'custom', action: 'sync.finished' });
      return [deleted, purged];
    });
    expect(events.map((e) => e?.actor)).toEqual([nightly, nightly]);
    const stored = await audit.query({ actorId: 'nightly-sync' });
    expect(stored.events.map((e) => e.action).sort()).toEqual(['sync.finished', 'user.deleted']);
  });

  it('keeps concurrent jobs apart: each event carries its own job’s actor', async () => {
    const job = (id: string, delays: number[]) =>
      audit.as({ type: 'service', id }, async () => {
        const actors: (string | undefined)[] = [];
        for (const delay of delays) {
          await sleep(delay);
          actors.push((await audit.record({ category: 'custom', action: `job.tick` })).actor.id);
        }
        return actors;
      });
    const [a, b] = await Promise.all([job('job-a', [3, 1, 4]), job('job-b', [1, 5, 2])]);
    expect(a).toEqual(['job-a', 'job-a', 'job-a']);
    expect(b).toEqual(['job-b', 'job-b', 'job-b']);
  });

  it('reaches work a job schedules itself; a listener runs as whoever emits, so a worker wraps its handler', async () => {
    const queued = await audit.as(
      'worker-7',
      () =>
        new Promise<string | undefined>((resolve) =>
          setImmediate(async () =>
            resolve((await audit.record({ category: 'custom', action: 'queued.work' })).actor.id),
          ),
        ),
    );
    expect(queued).toBe('worker-7');

    const queue = new EventEmitter();
    const handled = once(queue, 'handled');
    audit.as('worker-7', () => {
      queue.on('message', async (id: string, wrapped: boolean) => {
        const handle = () =>
          audit.record({ category: 'custom', action: 'message.handled', target: { type: 'message', id } });
        await (wrapped ? audit.as('worker-7', handle) : handle());
        queue.emit('handled');
      });
    });
    queue.emit('message', 'm-plain', false);
    await handled;
    const wrappedDone = once(queue, 'handled');
    queue.emit('message', 'm-wrapped', true);
    await wrappedDone;
    const actorOf = async (id: string) => (await audit.query({ targetId: id })).events[0]?.actor;
    // emit() runs listeners synchronously in the emitter's context (here: none), not the registrant's.
    expect(await actorOf('m-plain')).toEqual({ type: 'system' });
    expect(await actorOf('m-wrapped')).toEqual({ type: 'user', id: 'worker-7' });
  });

  it('inside a request replaces only the actor: tenant and request ids stay', async () => {
    const event = await audit.runWithContext({ actor: 'u1', tenantId: 'org_1', requestId: 'req-1' }, () =>
      audit.as({ type: 'service', id: 'billing' }, () =>
        audit.record({ category: 'custom', action: 'invoice.sent' }),
      ),
    );
    expect(event).toMatchObject({
      actor: { type: 'service', id: 'billing' },
      tenantId: 'org_1',
      correlation: { requestId: 'req-1' },
    });
    const outside = await audit.record({ category: 'custom', action: 'no.context' });
    expect(outside.actor).toEqual({ type: 'system' });
  });
});
