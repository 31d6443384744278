import { describe, expect, it } from 'vitest';
import { createAuditor } from '../core/auditor.js';
import type { AuditEvent } from '../core/event.js';
import { pgliteStore } from '../store/pglite/index.js';
import { errorDetails } from './error-details.js';
import { foldNotifications, NOTIFICATION_ACTIONS, notificationRecordOf } from './notification-log.js';

const at = (s: number) => new Date(Date.UTC(2026, 0, 1, 0, 0, s));
let n = 0;
const event = (overrides: Partial<AuditEvent>): AuditEvent => ({
  id: `00000000-0000-7000-8000-${String(++n).padStart(12, '0')}`,
  occurredAt: at(n),
  category: 'error',
  action: 'action.failed',
  outcome: 'error',
  actor: { type: 'system' },
  ...overrides,
});
const followUp = (
  of: AuditEvent,
  state: 'sent' | 'failed' | 'suppressed',
  attempts: number,
  seconds: number,
) =>
  event({
    occurredAt: at(seconds),
    action: NOTIFICATION_ACTIONS[state],
    outcome: state === 'sent' ? 'success' : 'failure',
    target: { type: 'audit_event', id: of.id },
    metadata: {
      notification: {
        state,
        attempts,
        notifiers: ['webhook'],
        ...(state === 'failed' ? { error: 'HTTP 500' } : {}),
      },
    },
  });

describe('foldNotifications', () => {
  it('starts from the state the error was written with and applies its follow-ups in time order', () => {
    const pending = event({ metadata: { notification: { state: 'pending' } } });
    const retried = event({ metadata: { notification: { state: 'pending' } } });
    const untracked = event({});
    const fromHttp = event({
      action: 'http.error',
      metadata: {
        notification: {
          sent: false,
          reason: 'failed',
          deliveries: [{ notifier: 'smtp', sent: false, attempts: 3, error: 'EAUTH' }],
        },
      },
    });
    const nobodyToTell = event({
      metadata: { notification: { sent: false, reason: 'no_notifiers', deliveries: [] } },
    });
    const states = foldNotifications(
      [pending, retried, untracked, fromHttp, nobodyToTell],
      // Given out of order: the fold sorts them by time.
      [
        followUp(retried, 'sent', 1, 100),
        followUp(retried, 'failed', 3, 50),
        followUp(retried, 'sent', 1, 200),
      ],
    );
    expect(states.map((s) => [s.event.id, s.state, s.attempts, s.tries, s.lastError])).toEqual([
      [fromHttp.id, 'failed', 3, 1, 'EAUTH'],
      [retried.id, 'sent', 4, 2, 'HTTP 500'],
      [pending.id, 'pending', 0, 0, undefined],
    ]);
    expect(states[1]?.lastAttemptAt).toEqual(at(100));
  });
});

describe('notificationRecordOf', () => {
  it('turns a dispatch result into the follow-up’s record', () => {
    expect(
      notificationRecordOf({
        sent: true,
        deliveries: [
          { notifier: 'webhook', sent: true, attempts: 2 },
          { notifier: 'smtp', sent: false, attempts: 3, error: 'down' },
        ],
      }),
    ).toEqual({ state: 'sent', attempts: 3, notifiers: ['webhook', 'smtp'] });
    expect(notificationRecordOf({ sent: false, reason: 'rate_limited', deliveries: [] })).toEqual({
      state: 'suppressed',
      attempts: 0,
      notifiers: [],
    });
    expect(
      notificationRecordOf({
        sent: false,
        reason: 'failed',
        deliveries: [{ notifier: 'x', sent: false, attempts: 1, error: 'e' }],
      }),
    ).toEqual({ state: 'failed', attempts: 1, notifiers: ['x'], error: 'e' });
  });
});

describe('errorDetails', () => {
  it('names the class, keeps the stack and code, summarises the cause and anything thrown that is not an Error', () => {
    class PaymentDeclined extends Error {}
    const declined = Object.assign(new PaymentDeclined('declined', { cause: 'issuer said no' }), {
      code: 'E_DECLINED',
    });
    expect(errorDetails(declined)).toEqual({
      name: 'PaymentDeclined',
      message: 'declined',
      stack: declined.stack,
      code: 'E_DECLINED',
      cause: { name: 'NonError', message: 'issuer said no' },
    });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    expect(errorDetails(cyclic)).toEqual({ name: 'NonError', message: '[object Object]' });
    expect(errorDetails(42)).toEqual({ name: 'NonError', message: '42' });
    expect(errorDetails(undefined)).toEqual({ name: 'NonError', message: 'undefined' });
    const hostile = new Error('x');
    Object.defineProperty(hostile, 'message', {
      get() {
        throw new Error('gotcha');
      },
    });
    expect(errorDetails(hostile)).toEqual({ name: 'Error', message: '(the error could not be read)' });
  });
});

describe('auditor options of the error log and fan-out', () => {
  it('refuses a notify without notifiers and a tenantsOf that is not a function, naming the option', () => {
    expect(() => createAuditor({ store: pgliteStore(), notify: { notifiers: [] } })).toThrowError(
      expect.objectContaining({
        code: 'invalid_config',
        message: expect.stringContaining('notify.notifiers'),
      }),
    );
    expect(() => createAuditor({ store: pgliteStore(), tenantsOf: ['org_a'] as never })).toThrowError(
      expect.objectContaining({
        code: 'invalid_config',
        message: expect.stringContaining('tenantsOf must be a function'),
      }),
    );
  });
});
