import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { AuditorOptions } from '../core/config.js';
import { REDACTED } from '../core/redact.js';
import { startWebhookServer, type WebhookTestServer } from '../notify/testing/servers.js';
import { webhookNotifier } from '../notify/webhook-notifier.js';
import type { HttpAuditOptions } from './config.js';
import { createHttpAudit, flushHttpAudit } from './http-audit.js';
import {
  closeServer,
  closeTestAuditors,
  closeTestDatabase,
  listen,
  storedEvents,
  testAuditor,
} from './testing/harness.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => unknown;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  await closeTestAuditors();
});
afterAll(closeTestDatabase);

/** The capture core used directly on a plain node:http server: what an adapter for another framework does. */
async function nodeApp(
  options: HttpAuditOptions<IncomingMessage> = {},
  handler: Handler = (_req, res) => res.end('ok'),
  auditorOptions: AuditorOptions = {},
  env: Record<string, string | undefined> = {},
) {
  const audit = await testAuditor(auditorOptions);
  const core = createHttpAudit<IncomingMessage>(audit, options, env);
  const fail = (res: ServerResponse) => (error: unknown) => {
    res.statusCode = 500;
    res.end(`app saw: ${(error as Error).message}`);
  };
  const server = createServer((req, res) => {
    const capture = core.begin(req, res, { req, route: () => undefined, user: () => undefined });
    const app = () =>
      Promise.resolve()
        .then(() => handler(req, res))
        .catch((error: unknown) => {
          capture?.error(error);
          fail(res)(error);
        });
    if (!capture) return void app();
    try {
      const started = capture.run(app);
      if (started instanceof Promise) started.catch(fail(res));
    } catch (error) {
      fail(res)(error);
    }
  });
  const url = await listen(server);
  cleanups.push(() => closeServer(server));
  return { audit, url, core };
}

describe('createHttpAudit on a plain node:http server', () => {
  it('records access events without any framework', async () => {
    const { audit, url } = await nodeApp({}, (_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    });
    await (await fetch(`${url}/plain?x=1`)).text();
    const [event] = await storedEvents(audit);
    expect(event).toMatchObject({
      category: 'access',
      request: { method: 'GET', path: '/plain', query: { x: '1' }, status: 200 },
    });
    expect(event?.request?.route).toBeUndefined();
  });

  it('does nothing when disabled, also from AUDITKIT_HTTP_ENABLED', async () => {
    const { audit, url } = await nodeApp({}, undefined, {}, { AUDITKIT_HTTP_ENABLED: 'false' });
    const response = await fetch(url);
    expect(response.headers.get('x-request-id')).toBeNull();
    expect(await storedEvents(audit)).toEqual([]);
  });

  it('validates its options', async () => {
    const audit = await testAuditor();
    expect(() => createHttpAudit(audit, { trustProxy: ['nonsense'] })).toThrow(/trustProxy/);
    expect(() => createHttpAudit(undefined as never, {})).toThrow(/needs an auditor/);
  });

  it('reads response headers given to writeHead, when nothing else was set', async () => {
    const { audit, url } = await nodeApp({ echoRequestId: false, logResponseBody: true }, (_req, res) => {
      res.writeHead(201, { 'content-type': 'application/json', 'set-cookie': 'sid=abc' });
      res.end('{"created":true}');
    });
    const response = await fetch(url);
    expect(response.headers.get('x-request-id')).toBeNull();
    const [event] = await storedEvents(audit);
    expect(event?.request).toMatchObject({
      status: 201,
      responseHeaders: { 'content-type': 'application/json', 'set-cookie': REDACTED },
      responseBody: { created: true },
    });
  });

  it('believes X-Forwarded-For only from trusted proxies', async () => {
    const trusting = await nodeApp({ trustProxy: ['loopback'] });
    await (await fetch(trusting.url, { headers: { 'x-forwarded-for': '203.0.113.9' } })).text();
    expect((await storedEvents(trusting.audit))[0]?.actor.ip).toBe('203.0.113.9');
    const plain = await nodeApp();
    await (await fetch(plain.url, { headers: { 'x-forwarded-for': '203.0.113.9' } })).text();
    expect((await storedEvents(plain.audit))[0]?.actor.ip).toBe('127.0.0.1');
  });

  it('waits for an async tenant callable before the app runs, so every event carries the tenant', async () => {
    const { audit, url } = await nodeApp(
      { tenant: async (req) => String(req.headers['x-org']) },
      async (_req, res) => {
        await audit.record({ category: 'custom', action: 'inside' });
        res.end('ok');
      },
    );
    await (await fetch(url, { headers: { 'x-org': 'org_9' } })).text();
    expect((await storedEvents(audit)).map((e) => e.tenantId)).toEqual(['org_9', 'org_9']);
  });

  it('reports a failing tenant callable and serves the request anyway', async () => {
    const codes: string[] = [];
    const { audit, url } = await nodeApp(
      {
        tenant: () => {
          throw new Error('no tenant here');
        },
      },
      undefined,
      { onError: (e) => codes.push(e.code) },
    );
    expect(await (await fetch(url)).text()).toBe('ok');
    await flushHttpAudit(audit);
    expect(codes).toContain('tenant_resolution_failed');
  });

  it('hands the failure to the app instead, with raiseOnError', async () => {
    const { url } = await nodeApp(
      {
        tenant: async () => {
          throw new Error('no tenant here');
        },
      },
      undefined,
      { raiseOnError: true },
    );
    const response = await fetch(url);
    expect(response.status).toBe(500);
    expect(await response.text()).toMatch(/app saw: The tenant callable failed: no tenant here/);
  });

  it('appends access events to rotating JSON-lines files', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'auditkit-http-log-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const { audit, url } = await nodeApp({
      accessLog: { dir },
      sampling: { rules: [{ statuses: [204], rate: 0 }] },
    });
    for (const path of ['/a', '/b'])
      await (await fetch(url + path, { headers: { authorization: 'Bearer x' } })).text();
    await flushHttpAudit(audit);
    const lines = readFileSync(join(dir, 'access.log'), 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l));
    const stored = await storedEvents(audit);
    expect(lines.map((l) => l.request.path)).toEqual(['/a', '/b']);
    expect(lines.map((l) => l.id)).toEqual(stored.map((e) => e.id));
    expect(lines[0].request.headers.authorization).toBe(REDACTED);
  });

  describe('error notices', () => {
    let hook: WebhookTestServer;
    afterEach(async () => hook?.close());
    const boom: Handler = () => {
      throw new Error('database on fire');
    };

    it('sends a notice for an error event and records on the event that it was sent', async () => {
      hook = await startWebhookServer();
      const { audit, url } = await nodeApp(
        { notify: { notifiers: [webhookNotifier({ url: hook.url })] } },
        boom,
      );
      await (await fetch(`${url}/orders?token=abc`, { headers: { 'x-request-id': 'req-fire' } })).text();
      const error = (await storedEvents(audit)).find((e) => e.category === 'error');
      expect(error?.metadata?.notification).toEqual({
        sent: true,
        deliveries: [{ notifier: 'webhook', sent: true, attempts: 1 }],
      });
      const notice = JSON.parse(hook.received[0]?.body ?? '{}');
      expect(notice).toMatchObject({
        subject: '[auditkit] GET /orders failed: database on fire',
        suppressed: 0,
        event: { id: error?.id, requestId: 'req-fire', message: 'database on fire' },
      });
      expect(notice.text).toContain('Request id: req-fire');
      expect(notice.text).toContain('Error: database on fire');
    });

    it('sends few notices in an error storm, and records which were suppressed', async () => {
      hook = await startWebhookServer();
      const { audit, url } = await nodeApp(
        { notify: { notifiers: [webhookNotifier({ url: hook.url })], maxNotices: 2 } },
        boom,
      );
      for (let i = 0; i < 6; i++) await (await fetch(url)).text();
      const errors = (await storedEvents(audit)).filter((e) => e.category === 'error');
      expect(hook.received).toHaveLength(2);
      expect(errors.map((e) => (e.metadata?.notification as { sent?: boolean } | undefined)?.sent)).toEqual([
        true,
        true,
        false,
        false,
        false,
        false,
      ]);
      expect(errors[5]?.metadata?.notification).toMatchObject({ reason: 'rate_limited' });
    });

    it('records a notice that could not be delivered as not sent', async () => {
      hook = await startWebhookServer();
      hook.answers.push(500, 500);
      const { audit, url } = await nodeApp(
        { notify: { notifiers: [webhookNotifier({ url: hook.url })], retries: 1, retryDelayMs: 1 } },
        boom,
      );
      await (await fetch(url)).text();
      const error = (await storedEvents(audit)).find((e) => e.category === 'error');
      expect(error?.metadata?.notification).toMatchObject({
        sent: false,
        reason: 'failed',
        deliveries: [{ notifier: 'webhook', sent: false, attempts: 2 }],
      });
    });
  });

  it('flushHttpAudit inside a handler waits for the other requests, not for its own', async () => {
    const { audit, url } = await nodeApp({}, async (req, res) => {
      if (req.url === '/flush') {
        await flushHttpAudit(audit);
        res.end(String((await audit.query()).events.length));
      } else res.end('ok');
    });
    await (await fetch(`${url}/first`)).text();
    expect(await (await fetch(`${url}/flush`)).text()).toBe('1');
    expect(await storedEvents(audit)).toHaveLength(2);
  });

  it("hands a plain request's access event to the writer as its response closes, without waiting on anything", async () => {
    let acceptedAtClose = -1;
    const { audit, url } = await nodeApp(
      {},
      (_req, res) => {
        // Registered after the adapter's own 'close' listener, so it runs right after it.
        res.on('close', () => {
          acceptedAtClose = audit.stats().accepted;
        });
        res.end('ok');
      },
      { mode: 'async' },
    );
    expect(await (await fetch(url)).text()).toBe('ok');
    expect(await storedEvents(audit)).toHaveLength(1);
    expect(acceptedAtClose).toBe(1);
  });

  it('flushHttpAudit in a context nested inside the handler still does not wait for its own request', async () => {
    const { audit, url } = await nodeApp({}, async (_req, res) => {
      await audit.runWithContext({ tenantId: 'org_1' }, () => flushHttpAudit(audit));
      res.end('flushed');
    });
    expect(await (await fetch(url)).text()).toBe('flushed');
    expect(await storedEvents(audit)).toHaveLength(1);
  });

  it('flushHttpAudit waits for requests still in flight', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    let arrived: () => void = () => {};
    const inHandler = new Promise<void>((resolve) => {
      arrived = resolve;
    });
    const { audit, url } = await nodeApp({}, async (_req, res) => {
      arrived();
      await gate;
      res.end('late');
    });
    const response = fetch(url).then((r) => r.text());
    await inHandler;
    let flushed = false;
    const flushing = flushHttpAudit(audit).then(() => {
      flushed = true;
    });
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toBe(false);
    release();
    await flushing;
    expect(await response).toBe('late');
    expect((await audit.query()).events).toHaveLength(1);
  });
});
