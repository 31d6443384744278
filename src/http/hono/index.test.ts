import { once } from 'node:events';
import type { Server } from 'node:http';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AdapterUnderTest,
  contractRoutes,
  runHttpAdapterContract,
} from '../testing/adapter-contract.js';
import { closeServer, closeTestAuditors, storedEvents, testAuditor } from '../testing/harness.js';
import { type AuditVariables, auditMiddleware } from './index.js';

type Env = { Variables: AuditVariables & { user?: { id: string; name: string } } };

/** The contract app in plain Hono idiom, served by @hono/node-server. */
const honoAdapter: AdapterUnderTest = {
  name: 'Hono',
  async start(audit, options) {
    const app = new Hono<Env>();
    if (audit) app.use(auditMiddleware(audit, options));
    app.use(async (c, next) => {
      const user = contractRoutes.user(c.req.header('x-test-user'));
      if (user) c.set('user', user);
      await next();
    });
    app.post('/json', async (c) => {
      let received: unknown;
      try {
        received = await c.req.json();
      } catch {
        return c.json({ error: 'invalid JSON' }, 400);
      }
      return c.json({ ok: true, received });
    });
    app.post('/form', async (c) => {
      await c.req.parseBody();
      return c.json({ ok: true });
    });
    app.post('/text', async (c) => c.text(await c.req.text()));
    app.post('/upload', async (c) => {
      let bytes = 0;
      const reader = c.req.raw.body?.getReader();
      while (reader) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
      }
      return c.json({ bytes }, 201);
    });
    app.post('/binary', async (c) => c.json({ bytes: (await c.req.arrayBuffer()).byteLength }));
    app.get('/stream', (c) => {
      const chunks = [...contractRoutes.streamChunks];
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          const next = chunks.shift();
          if (next === undefined) controller.close();
          else {
            await new Promise((resolve) => setImmediate(resolve));
            controller.enqueue(new TextEncoder().encode(next));
          }
        },
      });
      return c.body(body, 200, { 'content-type': 'text/plain' });
    });
    app.get('/gzip', (c) =>
      c.body(new Uint8Array(contractRoutes.gzipped()), 200, {
        'content-type': 'application/json',
        'content-encoding': 'gzip',
      }),
    );
    app.get('/items/:id', (c) => c.json({ id: c.req.param('id') }));
    app.get('/context', async (c) => c.json(await contractRoutes.context(audit as never)));
    app.get('/me', (c) => c.json({ user: c.get('user') }));
    app.get('/extra', (c) => {
      c.get('audit')?.extra({ plan: 'pro' });
      return c.text('ok');
    });
    app.get('/skip', (c) => {
      c.get('audit')?.skip();
      return c.text('ok');
    });
    app.get('/boom', () => {
      throw new Error('boom');
    });
    app.get('/fail', (c) => c.text('failed', 500));
    app.post('/login', async (c) => {
      const status = contractRoutes.login(await c.req.json(), c.get('audit'));
      return c.json({ ok: status === 200 }, status as 200 | 401);
    });
    app.post('/logout', (c) => c.body(null, 204));
    app.get('/health', (c) => c.text('ok'));
    app.get('/assets/app.css', (c) => c.text('body{}', 200, { 'content-type': 'text/css' }));
    // Quiet error handler (Hono's default one prints the error).
    app.onError((_error, c) => c.text('internal error', 500));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    if (!server.listening) await once(server, 'listening');
    const address = server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return { url: `http://127.0.0.1:${port}`, server, close: () => closeServer(server) };
  },
};

describe('auditkit/hono', () => {
  runHttpAdapterContract(honoAdapter);

  describe('outside @hono/node-server', () => {
    afterEach(closeTestAuditors);

    it('reports unsupported_runtime once and leaves the app working', async () => {
      const codes: string[] = [];
      const audit = await testAuditor({ onError: (e) => codes.push(e.code) });
      const app = new Hono();
      app.use(auditMiddleware(audit));
      app.get('/x', (c) => c.text('ok'));
      for (let i = 0; i < 2; i++) expect(await (await app.request('/x')).text()).toBe('ok');
      expect(codes).toEqual(['unsupported_runtime']);
      expect(await storedEvents(audit)).toEqual([]);
    });
  });
});
