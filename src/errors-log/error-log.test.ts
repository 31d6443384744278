import Fastify from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type Auditor, createAuditor } from '../core/auditor.js';
import type { AuditorOptions } from '../core/config.js';
import type { AuditEvent } from '../core/event.js';
import { REDACTED } from '../core/redact.js';
import { auditPlugin, flushHttpAudit } from '../http/fastify/index.js';
import { startWebhookServer, type WebhookTestServer } from '../notify/testing/servers.js';
import { webhookNotifier } from '../notify/webhook-notifier.js';
import { pgliteStore } from '../store/pglite/index.js';
import type { SqlAuditStore } from '../store/sql/sql-audit-store.js';
import type { AuditStore } from '../store/store.js';
import { capturesErrors } from './captures-errors.js';
import { CAPTURED_ERROR_ACTION } from './error-log.js';
import { NOTIFICATION_ACTIONS } from './notification-log.js';

let store: SqlAuditStore;
const open: Auditor[] = [];
beforeAll(async () => {
  // One embedded database for the file (each opens in seconds on a loaded machine); tests use tenants of their own.
  store = pgliteStore();
  await store.migrate();
});
afterAll(async () => {
  await store.close();
});
/** The shared store, borrowed: its close() leaves it open, so each test's auditor can close. */
const borrowed = (): AuditStore => ({
  name: store.name,
  migrate: () => store.migrate(),
  append: (events) => store.append(events),
  query: (query) => store.query(query),
  get: (id) => store.get(id),
  close: async () => {},
});
function auditor(options: AuditorOptions = {}): Auditor {
  const audit = createAuditor({ store: borrowed(), spool: false, ...options });
  open.push(audit);
  return audit;
}
afterEach(async () => {
  await Promise.all(open.splice(0).map((a) => a.close()));
});

const errorsOf = async (audit: Auditor, tenantId: string): Promise<AuditEvent[]> => {
  await audit.flush();
  return (await audit.query({ tenantId, category: 'error', limit: 1000 })).events;
};

describe('audit.captureErrors()', () => {
  it('records an error event with message, class, stack, context and request, and rethrows the error unchanged', async () => {
    const audit = auditor();
    const failure = new RangeError('amount must be positive');
    const stackBefore = failure.stack;
    const thrown = await audit
      .runWithContext(
        {
          actor: { id: 'u1', label: 'Ada' },
          tenantId: 'org_capture',
          requestId: 'req-7',
          request: { method: 'POST', path: '/invoices/42/pay', route: '/invoices/:id/pay' },
        },
        () =>
          audit.captureErrors(
            async () => {
              await Promise.resolve();
              throw failure;
            },
            {
              action: 'invoice.payment_failed',
              target: { type: 'invoice', id: '42' },
              context: { amount: -5 },
            },
          ),
      )
      .catch((error: unknown) => error);
    expect(thrown).toBe(failure);
    expect((thrown as Error).stack).toBe(stackBefore);
    const [event] = await errorsOf(audit, 'org_capture');
    expect(event).toMatchObject({
      category: 'error',
      action: 'invoice.payment_failed',
      outcome: 'error',
      message: 'amount must be positive',
      reason: 'RangeError',
      actor: { type: 'user', id: 'u1', label: 'Ada' },
      target: { type: 'invoice', id: '42' },
      correlation: { requestId: 'req-7' },
      request: { id: 'req-7', method: 'POST', path: '/invoices/42/pay', route: '/invoices/:id/pay' },
      metadata: {
        context: { amount: -5 },
        error: { name: 'RangeError', message: 'amount must be positive', stack: stackBefore },
      },
    });
    // Nobody is to be notified (no `notify` option): the event carries no notice state.
    expect(event?.metadata?.notification).toBeUndefined();
  });

  it('keeps a synchronous function synchronous, returns results untouched and records nothing on success', async () => {
    const audit = auditor();
    expect(audit.captureErrors(() => 41 + 1)).toBe(42);
    await expect(audit.captureErrors(async () => 'ok')).resolves.toBe('ok');
    const failure = new Error('sync boom');
    expect(() =>
      audit.runWithContext({ tenantId: 'org_sync' }, () =>
        audit.captureErrors(() => {
          throw failure;
        }),
      ),
    ).toThrow(failure);
    const events = await errorsOf(audit, 'org_sync');
    expect(events.map((e) => [e.action, e.message, e.reason])).toEqual([
      [CAPTURED_ERROR_ACTION, 'sync boom', 'Error'],
    ]);
  });

  it('records an error once even when captures are nested, and describes thrown non-errors', async () => {
    const audit = auditor();
    const inner = new Error('deep failure', { cause: new TypeError('socket closed') });
    await audit
      .runWithContext({ tenantId: 'org_nested' }, () =>
        audit.captureErrors(() =>
          audit.captureErrors(async () => {
            throw inner;
          }),
        ),
      )
      .catch(() => undefined);
    await audit
      .runWithContext({ tenantId: 'org_nested' }, () =>
        audit.captureErrors(async () => {
          throw 'a plain string';
        }),
      )
      .catch(() => undefined);
    const events = await errorsOf(audit, 'org_nested');
    expect(events.map((e) => e.metadata?.error)).toEqual([
      { name: 'NonError', message: 'a plain string' },
      expect.objectContaining({ name: 'Error', cause: { name: 'TypeError', message: 'socket closed' } }),
    ]);
  });

  it('records an error thrown out of an audited route once: captureErrors has it, the HTTP adapter does not add another', async () => {
    const audit = auditor();
    const app = Fastify({ logger: false });
    await app.register(auditPlugin, { audit, tenant: () => 'org_route_once' });
    app.post('/invoices/:id/pay', async () =>
      audit.captureErrors(
        async () => {
          throw new RangeError('card declined');
        },
        { action: 'invoice.payment_failed' },
      ),
    );
    app.get('/boom', async () => {
      throw new Error('not captured');
    });
    const paid = await app.inject({ method: 'POST', url: '/invoices/42/pay', payload: {} });
    const boom = await app.inject({ method: 'GET', url: '/boom' });
    expect([paid.statusCode, boom.statusCode]).toEqual([500, 500]);
    await flushHttpAudit(audit);
    await app.close();
    const errors = await errorsOf(audit, 'org_route_once');
    expect(errors.map((e) => [e.action, e.message]).sort()).toEqual([
      ['http.error', 'not captured'],
      ['invoice.payment_failed', 'card declined'],
    ]);
    const payment = errors.find((e) => e.action === 'invoice.payment_failed');
    expect(payment?.correlation?.requestId).toBe(paid.headers['x-request-id']);
    const access = (await audit.query({ tenantId: 'org_route_once', category: 'access' })).events;
    // Both requests still show as failed in their access events.
    expect(access.map((e) => [e.outcome, e.request?.status])).toEqual([
      ['failure', 500],
      ['failure', 500],
    ]);
  });

  it('never stores a secret from the error or its context', async () => {
    const audit = auditor();
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ1MSIsIm4iOiJ4In0.c2lnbmF0dXJl';
    expect(() =>
      audit.runWithContext({ tenantId: 'org_secret' }, () =>
        audit.captureErrors(
          () => {
            throw new Error(`token rejected: ${jwt}`);
          },
          { context: { password: 'hunter2', user: 'u1' } },
        ),
      ),
    ).toThrow('token rejected');
    const [event] = await errorsOf(audit, 'org_secret');
    expect(JSON.stringify(event)).not.toContain(jwt);
    expect(JSON.stringify(event)).not.toContain('hunter2');
    expect(event?.metadata?.context).toEqual({ password: REDACTED, user: 'u1' });
  });

  it('rejects bad options at once with invalid_event', () => {
    const audit = auditor();
    expect(() => audit.captureErrors(() => 1, { action: 'has space' })).toThrowError(
      expect.objectContaining({ code: 'invalid_event' }),
    );
  });
});

describe('capturesErrors (method decorator)', () => {
  it('records failures of decorated methods with their class and method, keeping this, results and errors', async () => {
    const audit = auditor();
    class Billing {
      constructor(readonly currency: string) {}

      @capturesErrors(() => audit, { action: 'billing.charge_failed', context: { module: 'billing' } })
      async charge(amount: number): Promise<string> {
        if (amount <= 0) throw new RangeError(`cannot charge ${amount} ${this.currency}`);
        return `charged ${amount} ${this.currency}`;
      }

      @capturesErrors(audit)
      parse(input: string): number {
        const n = Number(input);
        if (Number.isNaN(n)) throw new SyntaxError(`not a number: ${input}`);
        return n;
      }
    }
    const billing = new Billing('EUR');
    await audit.runWithContext({ tenantId: 'org_decorated' }, async () => {
      await expect(billing.charge(5)).resolves.toBe('charged 5 EUR');
      await expect(billing.charge(0)).rejects.toThrow(new RangeError('cannot charge 0 EUR'));
      expect(billing.parse('12')).toBe(12);
      expect(() => billing.parse('x')).toThrow(SyntaxError);
    });
    const events = await errorsOf(audit, 'org_decorated');
    expect(events.map((e) => [e.action, e.reason, e.metadata?.context]).reverse()).toEqual([
      ['billing.charge_failed', 'RangeError', { class: 'Billing', method: 'charge', module: 'billing' }],
      [CAPTURED_ERROR_ACTION, 'SyntaxError', { class: 'Billing', method: 'parse' }],
    ]);
  });

  it('also works as a legacy (experimentalDecorators) decorator', async () => {
    const audit = auditor();
    class Jobs {
      run(): void {
        throw new Error('legacy failure');
      }
    }
    const descriptor = Object.getOwnPropertyDescriptor(Jobs.prototype, 'run') as PropertyDescriptor;
    Object.defineProperty(Jobs.prototype, 'run', capturesErrors(audit)(Jobs.prototype, 'run', descriptor));
    expect(() => audit.runWithContext({ tenantId: 'org_legacy' }, () => new Jobs().run())).toThrow(
      'legacy failure',
    );
    const [event] = await errorsOf(audit, 'org_legacy');
    expect(event?.metadata?.context).toEqual({ class: 'Jobs', method: 'run' });
  });
});

describe('notices of captured errors', () => {
  let hook: WebhookTestServer;
  beforeAll(async () => {
    hook = await startWebhookServer();
  });
  afterAll(() => hook.close());
  const notifyVia = (options: { retries?: number; maxNotices?: number } = {}): AuditorOptions['notify'] => ({
    notifiers: [webhookNotifier({ url: hook.url })],
    retryDelayMs: 1,
    ...options,
  });
  const fail = (audit: Auditor, tenantId: string, message: string) =>
    audit
      .runWithContext({ tenantId }, () =>
        audit.captureErrors(async () => {
          throw new Error(message);
        }),
      )
      .catch(() => undefined);

  it('writes the error with its notice pending, sends the notice, and records that it was sent', async () => {
    const audit = auditor({ notify: notifyVia() });
    hook.received.length = 0;
    await fail(audit, 'org_sent', 'disk full');
    await audit.flush(); // waits for the notice in flight too
    expect(hook.received).toHaveLength(1);
    const notice = JSON.parse(hook.received[0]?.body ?? '{}');
    const [error] = await audit.query({ tenantId: 'org_sent', outcome: 'error' }).then((p) => p.events);
    expect(error?.metadata?.notification).toEqual({ state: 'pending' });
    expect(notice).toMatchObject({
      subject: `[auditkit] ${CAPTURED_ERROR_ACTION} failed: disk full`,
      event: { id: error?.id, tenantId: 'org_sent', error: { name: 'Error', message: 'disk full' } },
    });
    const [followUp] = (await audit.query({ tenantId: 'org_sent', action: 'notification.*' })).events;
    expect(followUp).toMatchObject({
      category: 'error',
      action: NOTIFICATION_ACTIONS.sent,
      outcome: 'success',
      tenantId: 'org_sent',
      target: { type: 'audit_event', id: error?.id },
      actor: { type: 'system', id: 'auditkit' },
      metadata: { notification: { state: 'sent', attempts: 1, notifiers: ['webhook'] } },
    });
    expect(await audit.errors.list({ tenantId: 'org_sent' })).toMatchObject([{ state: 'sent', attempts: 1 }]);
    expect(await audit.errors.list({ tenantId: 'org_sent', unsent: true })).toEqual([]);
  });

  it('records a failed notice with its attempts, and retries it with backoff until it is sent', async () => {
    const audit = auditor({ notify: notifyVia({ retries: 2 }) });
    hook.answers.push(500, 502, 503);
    await fail(audit, 'org_retry', 'payment provider down');
    await audit.flush();
    const [failed] = await audit.errors.list({ tenantId: 'org_retry', unsent: true });
    expect(failed).toMatchObject({
      state: 'failed',
      attempts: 3,
      tries: 1,
      lastError: 'Webhook answered 503 Service Unavailable.',
    });

    const soon = () => new Date(Date.now() + 30_000);
    expect(await audit.errors.retryUnsent({ tenantId: 'org_retry', now: soon })).toEqual({
      tried: 0,
      sent: 0,
      failed: 0,
      skipped: 1,
    });
    hook.answers.push(500, 500, 500);
    const later = () => new Date(Date.now() + 61_000);
    expect(await audit.errors.retryUnsent({ tenantId: 'org_retry', now: later })).toMatchObject({
      tried: 1,
      failed: 1,
    });
    // The second failure doubles the wait: 61 s after it is not enough, 121 s is.
    expect(await audit.errors.retryUnsent({ tenantId: 'org_retry', now: later })).toMatchObject({
      skipped: 1,
    });
    const evenLater = () => new Date(Date.now() + 121_000);
    expect(await audit.errors.retryUnsent({ tenantId: 'org_retry', now: evenLater })).toMatchObject({
      tried: 1,
      sent: 1,
    });
    expect(await audit.errors.list({ tenantId: 'org_retry' })).toMatchObject([
      { state: 'sent', attempts: 7, tries: 3 },
    ]);
    expect(await audit.errors.list({ tenantId: 'org_retry', unsent: true })).toEqual([]);
    const followUps = (await audit.query({ tenantId: 'org_retry', action: 'notification.*' })).events;
    expect(followUps.map((e) => e.action)).toEqual([
      NOTIFICATION_ACTIONS.sent,
      NOTIFICATION_ACTIONS.failed,
      NOTIFICATION_ACTIONS.failed,
    ]);
  });

  it('records notices the rate limit dropped as suppressed, and leaves them out of retries unless asked', async () => {
    const audit = auditor({ notify: notifyVia({ maxNotices: 1 }) });
    await fail(audit, 'org_storm', 'first');
    await audit.flush();
    await fail(audit, 'org_storm', 'second');
    await audit.flush();
    const states = await audit.errors.list({ tenantId: 'org_storm' });
    expect(states.map((s) => [s.event.message, s.state])).toEqual([
      ['second', 'suppressed'],
      ['first', 'sent'],
    ]);
    const now = () => new Date(Date.now() + 3_600_000);
    expect(await audit.errors.retryUnsent({ tenantId: 'org_storm', now })).toMatchObject({
      tried: 0,
      skipped: 1,
    });
  });

  it('lists the error events of the HTTP adapters too, from the notice result they carry', async () => {
    const audit = auditor();
    const app = Fastify({ logger: false });
    await app.register(auditPlugin, {
      audit,
      tenant: () => 'org_http',
      notify: { notifiers: [webhookNotifier({ url: hook.url })], retries: 0, retryDelayMs: 1 },
    });
    app.get('/boom', async () => {
      throw new Error('handler exploded');
    });
    const base = await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      hook.answers.push(500);
      expect((await fetch(`${base}/boom`)).status).toBe(500);
      // The adapter sends the notice before it writes its error event: wait for both.
      await flushHttpAudit(audit);
      expect(await audit.errors.list({ tenantId: 'org_http', unsent: true })).toMatchObject([
        { event: { action: 'http.error', message: 'handler exploded' }, state: 'failed', attempts: 1 },
      ]);
    } finally {
      await app.close();
    }
  });
});
