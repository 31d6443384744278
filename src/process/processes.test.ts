import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Auditor, createAuditor } from '../core/auditor.js';
import type { AuditkitError } from '../core/errors.js';
import type { AuditEvent } from '../core/event.js';
import { pgliteStore } from '../store/pglite/index.js';
import type { SqlAuditStore } from '../store/sql/sql-audit-store.js';
import { foldProcess, PROCESS_ACTIONS, type StoredProcess } from './process-state.js';

let store: SqlAuditStore;
let audit: Auditor;
beforeAll(async () => {
  // One embedded database for the file; processes are told apart by their ids.
  store = pgliteStore();
  audit = createAuditor({ store, spool: false });
  await audit.migrate();
});
afterAll(() => audit.close());

const eventsOf = async (processId: string): Promise<AuditEvent[]> => {
  await audit.flush();
  return [...(await audit.query({ processId, limit: 1000 })).events].reverse();
};
const processData = (event: AuditEvent | undefined) => event?.metadata?.process as StoredProcess;
const user = { type: 'user', id: 'u1', label: 'Ada' };

describe('audit.process(): a business process and its steps', () => {
  it('records the start, each step and the end, and events inside carry the process and step ids', async () => {
    let processId = '';
    const result = await audit.runWithContext({ tenantId: 'org_a', actor: 'u1' }, () =>
      audit.process('user.registration', { subject: user, metadata: { plan: 'pro' } }, async (p) => {
        processId = p.id;
        const account = await p.step('account.created', async () => {
          await audit.record({ category: 'change', action: 'user.created', target: user });
          return { id: 'u1' };
        });
        await p.step('email.sent', () => 'queued');
        return account.id;
      }),
    );
    expect(result).toBe('u1');
    const events = await eventsOf(processId);
    expect(events.map((e) => e.action)).toEqual([
      PROCESS_ACTIONS.started,
      'user.created',
      PROCESS_ACTIONS.stepFinished,
      PROCESS_ACTIONS.stepFinished,
      PROCESS_ACTIONS.finished,
    ]);
    const [started, inner, firstStep, secondStep, finished] = events;
    expect(started).toMatchObject({
      category: 'process',
      tenantId: 'org_a',
      target: user,
      actor: { id: 'u1' },
      message: 'Process user.registration started',
      metadata: { plan: 'pro', process: { phase: 'started', name: 'user.registration' } },
    });
    expect(inner?.correlation).toEqual({ processId, stepId: processData(firstStep).step?.id });
    expect(processData(firstStep).step).toMatchObject({ name: 'account.created', success: true });
    expect(firstStep?.message).toMatch(/^Step account\.created of user\.registration succeeded in \d/);
    expect(processData(secondStep).step?.name).toBe('email.sent');
    expect(finished).toMatchObject({ outcome: 'success', target: user, tenantId: 'org_a' });
    expect(finished?.message).toMatch(/^Process user\.registration finished \(2 steps, /);
    // The finished event alone tells the whole story: every step with start, end, duration, success.
    const steps = processData(finished).steps ?? [];
    expect(steps.map((s) => [s.name, s.success])).toEqual([
      ['account.created', true],
      ['email.sent', true],
    ]);
    for (const step of steps) {
      expect(Date.parse(step.endedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(step.startedAt));
      expect(step.durationMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('rethrows a failing step’s error unchanged and records the step and the process as failed', async () => {
    const failure = new TypeError('mail server refused');
    let processId = '';
    const thrown = await audit
      .process('user.registration', { subject: user }, async (p) => {
        processId = p.id;
        await p.step('account.created', () => undefined);
        await p.step('email.sent', async () => {
          throw failure;
        });
      })
      .catch((error: unknown) => error);
    expect(thrown).toBe(failure);
    const state = await audit.processes.get(processId);
    expect(state).toMatchObject({
      id: processId,
      name: 'user.registration',
      status: 'finished',
      outcome: 'error',
      error: { name: 'TypeError', message: 'mail server refused' },
      subject: user,
    });
    expect(state?.steps.map((s) => [s.name, s.status, s.error?.message])).toEqual([
      ['account.created', 'succeeded', undefined],
      ['email.sent', 'failed', 'mail server refused'],
    ]);
    const failedStep = (await eventsOf(processId)).find((e) => processData(e).step?.name === 'email.sent');
    expect(failedStep?.outcome).toBe('error');
  });

  it('lets the process finish itself (a business failure) and then records no second end', async () => {
    let processId = '';
    await audit.process('order.checkout', async (p) => {
      processId = p.id;
      await p.finish({ outcome: 'failure', reason: 'payment declined' });
      expect(p.finished).toBe(true);
    });
    const ends = (await eventsOf(processId)).filter((e) => e.action === PROCESS_ACTIONS.finished);
    expect(ends.map((e) => [e.outcome, e.reason])).toEqual([['failure', 'payment declined']]);
  });
});

describe('audit.processes: a process across requests, by id', () => {
  it('starts in one request, runs steps in others, and finishes in the last; the state is read by id', async () => {
    const { id } = await audit.runWithContext({ tenantId: 'org_a', requestId: 'req-1' }, () =>
      audit.processes.start('user.registration', { id: 'reg-42', subject: user }),
    );
    expect(id).toBe('reg-42');
    const stepId = await audit.runWithContext({ tenantId: 'org_a', requestId: 'req-2' }, () =>
      audit.processes.startStep('reg-42', 'email.verification'),
    );
    expect((await audit.processes.get('reg-42'))?.steps).toMatchObject([
      { id: stepId, name: 'email.verification', status: 'running' },
    ]);
    // A job without any tenant finishes it: the events still go to the process's organisation.
    await audit.processes.finishStep('reg-42', stepId, { success: true });
    await audit.processes.step('reg-42', 'profile.completed', () => undefined);
    await audit.processes.finish('reg-42', 'success');

    const events = await eventsOf('reg-42');
    expect(events.every((e) => e.tenantId === 'org_a')).toBe(true);
    expect(events.map((e) => e.correlation?.requestId)).toEqual([
      'req-1',
      'req-2',
      undefined,
      undefined,
      undefined,
    ]);
    const state = await audit.processes.get('reg-42');
    expect(state).toMatchObject({ status: 'finished', outcome: 'success', tenantId: 'org_a', subject: user });
    expect(state?.steps.map((s) => [s.name, s.status])).toEqual([
      ['email.verification', 'succeeded'],
      ['profile.completed', 'succeeded'],
    ]);
    expect(state?.durationMs).toBeGreaterThanOrEqual(0);
    // The final state is one query away too: the newest process.finished event of the process.
    const [last] = (await audit.query({ processId: 'reg-42', action: PROCESS_ACTIONS.finished, limit: 1 }))
      .events;
    expect(processData(last).steps?.map((s) => s.name)).toEqual(['email.verification', 'profile.completed']);
  });

  it('continues a process another instance started: name, subject and tenant come from the store', async () => {
    await audit.runWithContext({ tenantId: 'org_b' }, () =>
      audit.processes.start('invoice.approval', { id: 'appr-7', subject: { type: 'invoice', id: 'INV-7' } }),
    );
    await audit.processes.startStep('appr-7', 'manager.review', { id: 'review-1' });
    await audit.flush();
    // A second auditor on the same database: another process of the app, knowing nothing in memory.
    const other = createAuditor({ store, spool: false, mode: 'sync' });
    await other.processes.finishStep('appr-7', 'review-1', { error: new Error('rejected by manager') });
    await other.processes.finish('appr-7', { outcome: 'failure', reason: 'rejected' });
    const events = await eventsOf('appr-7');
    expect(events.every((e) => e.tenantId === 'org_b' && e.target?.id === 'INV-7')).toBe(true);
    const end = events.at(-1);
    expect(end?.message).toMatch(/^Process invoice\.approval ended with failure \(1 step, /);
    expect(processData(end).steps).toMatchObject([
      { id: 'review-1', name: 'manager.review', success: false, error: { message: 'rejected by manager' } },
    ]);
    expect(await audit.processes.get('appr-7')).toMatchObject({ status: 'finished', outcome: 'failure' });
  });

  it('scopes the lookup to an organisation: another tenant sees no process', async () => {
    await audit.runWithContext({ tenantId: 'org_c' }, () =>
      audit.processes.start('data.export', { id: 'exp-1' }),
    );
    expect(await audit.processes.get('exp-1', { tenantId: 'org_c' })).toMatchObject({ name: 'data.export' });
    expect(await audit.processes.get('exp-1', { tenantId: 'org_a' })).toBeNull();
    expect(await audit.processes.get('never-started')).toBeNull();
  });

  it('rejects bad names, ids and outcomes at once with invalid_event', () => {
    const code = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        return (error as AuditkitError).code;
      }
      return 'no error';
    };
    expect(code(() => audit.processes.start('has space'))).toBe('invalid_event');
    expect(code(() => audit.processes.start('ok', { id: '' }))).toBe('invalid_event');
    expect(code(() => audit.processes.step('', 'step', () => 1))).toBe('invalid_event');
    expect(code(() => audit.processes.finish('reg-1', 'meh' as never))).toBe('invalid_event');
    expect(code(() => audit.process('x', { subject: { type: '' } }, () => 1))).toBe('invalid_event');
    expect(code(() => audit.process('x', {} as never))).toBe('invalid_event');
  });
});

describe('foldProcess', () => {
  it('ignores other processes and events, and takes the latest record of a step (a retry runs again)', () => {
    const base = {
      category: 'process' as const,
      outcome: 'success' as const,
      actor: { type: 'system' as const },
    };
    const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
    const step = { id: 's1', name: 'pay', startedAt: at(1).toISOString() };
    const events: AuditEvent[] = [
      {
        ...base,
        id: '00000000-0000-7000-8000-000000000003',
        occurredAt: at(3),
        action: 'process.step.started',
        correlation: { processId: 'p' },
        metadata: { process: { phase: 'step.started', step } },
      },
      {
        ...base,
        id: '00000000-0000-7000-8000-000000000002',
        occurredAt: at(2),
        action: 'process.step.finished',
        correlation: { processId: 'p' },
        metadata: {
          process: { phase: 'step.finished', step: { ...step, endedAt: at(2).toISOString(), success: true } },
        },
      },
      {
        ...base,
        id: '00000000-0000-7000-8000-000000000001',
        occurredAt: at(0),
        action: 'process.started',
        correlation: { processId: 'other' },
        metadata: { process: { phase: 'started', name: 'x' } },
      },
      {
        ...base,
        id: '00000000-0000-7000-8000-000000000004',
        occurredAt: at(4),
        category: 'custom',
        action: 'unrelated',
        correlation: { processId: 'p' },
      },
    ];
    const state = foldProcess('p', events);
    expect(state?.status).toBe('running');
    expect(state?.name).toBeUndefined();
    expect(state?.steps.map((s) => s.status)).toEqual(['running']);
    expect(foldProcess('p', events.slice(1))?.steps.map((s) => s.status)).toEqual(['succeeded']);
    expect(foldProcess('nothing', events)).toBeNull();
  });
});
