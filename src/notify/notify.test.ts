import { createHmac } from 'node:crypto';
import nodemailer from 'nodemailer';
import { afterEach, describe, expect, it } from 'vitest';
import { AuditkitError } from '../core/errors.js';
import { createNotificationDispatcher } from './dispatcher.js';
import type { Notice, Notifier } from './notifier.js';
import { smtpNotifier } from './smtp-notifier.js';
import {
  type SmtpTestServer,
  startSmtpServer,
  startWebhookServer,
  type WebhookTestServer,
} from './testing/servers.js';
import { webhookNotifier } from './webhook-notifier.js';

const notice: Omit<Notice, 'suppressed'> = {
  subject: '[auditkit] GET /orders/:id failed: boom',
  text: 'GET /orders/:id failed with status 500.\nRequest id: req-1',
  event: { id: 'e-1', occurredAt: '2025-01-01T00:00:00.000Z', action: 'http.error', message: 'boom' },
};

/** A notifier kept in memory, failing its first `failures` calls. */
function memoryNotifier(failures = 0): Notifier & { sent: Notice[] } {
  let left = failures;
  const sent: Notice[] = [];
  return {
    name: 'memory',
    sent,
    async notify(n) {
      if (left > 0) {
        left -= 1;
        throw new Error('temporarily down');
      }
      sent.push(n);
    },
  };
}

describe('createNotificationDispatcher', () => {
  it('sends through every notifier and reports each delivery', async () => {
    const a = memoryNotifier();
    const b = memoryNotifier();
    const result = await createNotificationDispatcher({ notifiers: [a, b] }).dispatch(notice);
    expect(result).toEqual({
      sent: true,
      deliveries: [
        { notifier: 'memory', sent: true, attempts: 1 },
        { notifier: 'memory', sent: true, attempts: 1 },
      ],
    });
    expect(a.sent[0]).toMatchObject({ subject: notice.subject, suppressed: 0 });
  });

  it('retries a failing notifier, then gives up and says why', async () => {
    const flaky = memoryNotifier(2);
    const ok = await createNotificationDispatcher({
      notifiers: [flaky],
      retries: 2,
      retryDelayMs: 1,
    }).dispatch(notice);
    expect(ok.deliveries).toEqual([{ notifier: 'memory', sent: true, attempts: 3 }]);
    const down = memoryNotifier(10);
    const failed = await createNotificationDispatcher({
      notifiers: [down],
      retries: 1,
      retryDelayMs: 1,
    }).dispatch(notice);
    expect(failed).toEqual({
      sent: false,
      reason: 'failed',
      deliveries: [{ notifier: 'memory', sent: false, attempts: 2, error: 'temporarily down' }],
    });
  });

  it('rate-limits an error storm and tells the next notice how many were suppressed', async () => {
    let now = 0;
    const sink = memoryNotifier();
    const dispatcher = createNotificationDispatcher({
      notifiers: [sink],
      maxNotices: 2,
      windowMs: 1000,
      now: () => now,
    });
    const results = [];
    for (let i = 0; i < 10; i++) results.push(await dispatcher.dispatch(notice));
    expect(results.map((r) => r.sent)).toEqual([
      true,
      true,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
      false,
    ]);
    expect(results[2]).toEqual({ sent: false, reason: 'rate_limited', deliveries: [] });
    expect(dispatcher.suppressed()).toBe(8);
    now = 1000;
    await dispatcher.dispatch(notice);
    expect(sink.sent.map((n) => n.suppressed)).toEqual([0, 0, 8]);
    expect(dispatcher.suppressed()).toBe(0);
  });

  it('says so when there is nobody to notify', async () => {
    expect(await createNotificationDispatcher({ notifiers: [] }).dispatch(notice)).toEqual({
      sent: false,
      reason: 'no_notifiers',
      deliveries: [],
    });
  });
});

describe('webhookNotifier', () => {
  let hook: WebhookTestServer;
  afterEach(async () => hook?.close());

  it('POSTs the notice as JSON, signed with the shared secret', async () => {
    hook = await startWebhookServer();
    await webhookNotifier({ url: hook.url, secret: 's3cret', headers: { 'x-api-key': 'k' } }).notify({
      ...notice,
      suppressed: 0,
    });
    const [call] = hook.received;
    expect(JSON.parse(call?.body ?? '')).toMatchObject({ subject: notice.subject, event: { id: 'e-1' } });
    expect(call?.headers['content-type']).toBe('application/json');
    expect(call?.headers['x-api-key']).toBe('k');
    const expected = createHmac('sha256', 's3cret')
      .update(call?.body ?? '')
      .digest('hex');
    expect(call?.headers['x-auditkit-signature']).toBe(`sha256=${expected}`);
  });

  it('shapes the body for chat-style webhooks', async () => {
    hook = await startWebhookServer();
    await webhookNotifier({ url: hook.url, body: (n) => ({ text: n.subject }) }).notify({
      ...notice,
      suppressed: 0,
    });
    expect(JSON.parse(hook.received[0]?.body ?? '')).toEqual({ text: notice.subject });
  });

  it('fails an attempt on a non-2xx answer, and the dispatcher retries it', async () => {
    hook = await startWebhookServer();
    hook.answers.push(503);
    const notifier = webhookNotifier({ url: hook.url });
    await expect(notifier.notify({ ...notice, suppressed: 0 })).rejects.toMatchObject({
      code: 'notify_failed',
      details: { status: 503 },
    });
    hook.answers.push(500);
    const result = await createNotificationDispatcher({ notifiers: [notifier], retryDelayMs: 1 }).dispatch(
      notice,
    );
    expect(result.deliveries).toEqual([{ notifier: 'webhook', sent: true, attempts: 2 }]);
    expect(hook.received).toHaveLength(3);
  });

  it('refuses a URL that is not http(s)', () => {
    expect(() => webhookNotifier({ url: 'file:///etc/passwd' })).toThrow(AuditkitError);
  });
});

describe('smtpNotifier', () => {
  let smtp: SmtpTestServer;
  afterEach(async () => smtp?.close());
  const options = () => ({
    smtp: { host: '127.0.0.1', port: smtp.port, secure: false, ignoreTLS: true },
    from: 'audit@example.com',
    to: ['oncall@example.com', 'security@example.com'],
  });

  it('mails the notice through a real SMTP conversation', async () => {
    smtp = await startSmtpServer();
    await smtpNotifier(options()).notify({ ...notice, suppressed: 0 });
    expect(smtp.messages).toHaveLength(1);
    const [mail] = smtp.messages;
    expect(mail?.from).toBe('audit@example.com');
    expect(mail?.to).toEqual(['oncall@example.com', 'security@example.com']);
    expect(mail?.data).toContain(`Subject: ${notice.subject}`);
    expect(mail?.data).toContain('Request id: req-1');
  });

  it('is retried by the dispatcher when the server defers', async () => {
    smtp = await startSmtpServer();
    smtp.failNextRecipients(1);
    const notifier = smtpNotifier({ ...options(), to: 'oncall@example.com' });
    const result = await createNotificationDispatcher({ notifiers: [notifier], retryDelayMs: 1 }).dispatch(
      notice,
    );
    expect(result.deliveries).toEqual([{ notifier: 'smtp', sent: true, attempts: 2 }]);
    expect(smtp.messages).toHaveLength(1);
  });

  it('uses a transporter the app already has', async () => {
    smtp = await startSmtpServer();
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: smtp.port,
      secure: false,
      ignoreTLS: true,
    });
    await smtpNotifier({ transport, from: 'a@example.com', to: 'b@example.com' }).notify({
      ...notice,
      suppressed: 0,
    });
    transport.close();
    expect(smtp.messages[0]?.to).toEqual(['b@example.com']);
  });

  it('needs exactly one of smtp or transport', () => {
    expect(() => smtpNotifier({ from: 'a@example.com', to: 'b@example.com' })).toThrow(/exactly one/);
  });
});
