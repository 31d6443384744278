import { Readable } from 'node:stream';
import Fastify from 'fastify';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { REDACTED } from '../../core/redact.js';
import {
  type AdapterUnderTest,
  contractRoutes,
  runHttpAdapterContract,
} from '../testing/adapter-contract.js';
import { closeTestAuditors, closeTestDatabase, storedEvents, testAuditor } from '../testing/harness.js';
import { auditPlugin } from './index.js';

/** The contract app in plain Fastify 5 idiom. */
const fastifyAdapter: AdapterUnderTest = {
  name: 'Fastify',
  async start(audit, options) {
    const app = Fastify({ logger: false, bodyLimit: 2 * 1024 * 1024 });
    if (audit) await app.register(auditPlugin, { audit, ...options });
    app.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string' },
      (_req, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(body as string)));
      },
    );
    app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_req, body, done) => {
      done(null, body);
    });
    app.addContentTypeParser('multipart/form-data', (_req, payload, done) => {
      let bytes = 0;
      payload.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
      });
      payload.on('end', () => done(null, { bytes }));
      payload.on('error', done);
    });
    app.addHook('preHandler', async (request) => {
      (request as { user?: unknown }).user = contractRoutes.user(request.headers['x-test-user'] as string);
    });
    app.post('/json', async (request) => ({ ok: true, received: request.body }));
    app.post('/form', async () => ({ ok: true }));
    app.post('/text', async () => 'ok');
    app.post('/upload', async (request, reply) => reply.code(201).send(request.body));
    app.post('/binary', async (request) => ({ bytes: (request.body as Buffer).length }));
    app.get('/stream', async (_request, reply) => {
      reply.type('text/plain');
      return reply.send(Readable.from(contractRoutes.streamChunks));
    });
    app.get('/gzip', async (_request, reply) => {
      reply.header('content-encoding', 'gzip').type('application/json');
      return reply.send(contractRoutes.gzipped());
    });
    app.get('/items/:id', async (request) => ({ id: (request.params as { id: string }).id }));
    app.get('/context', async () => contractRoutes.context(audit as never));
    app.get('/me', async (request) => ({ user: (request as { user?: unknown }).user }));
    app.get('/extra', async (request) => {
      request.audit?.extra({ plan: 'pro' });
      return 'ok';
    });
    app.get('/skip', async (request) => {
      request.audit?.skip();
      return 'ok';
    });
    app.get('/boom', async () => {
      throw new Error('boom');
    });
    app.get('/fail', async (_request, reply) => reply.code(500).send('failed'));
    app.post('/login', async (request, reply) => {
      const status = contractRoutes.login(request.body, request.audit ?? undefined);
      return reply.code(status).send({ ok: status === 200 });
    });
    app.post('/logout', async (_request, reply) => reply.code(204).send());
    app.get('/health', async () => 'ok');
    app.get('/assets/app.css', async (_request, reply) => reply.type('text/css').send('body{}'));
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : 0;
    return {
      url: `http://127.0.0.1:${port}`,
      server: app.server,
      close: async () => {
        app.server.closeAllConnections();
        await app.close();
      },
    };
  },
};

describe('auditkit/fastify', () => {
  runHttpAdapterContract(fastifyAdapter);
});

describe('auditkit/fastify under app.inject()', () => {
  afterEach(closeTestAuditors);
  afterAll(closeTestDatabase);

  it('stores the response body once, although light-my-request ends a response by writing it again', async () => {
    const audit = await testAuditor();
    const app = Fastify({ logger: false });
    await app.register(auditPlugin, { audit, logResponseBody: true });
    app.post('/orders', async (request, reply) =>
      reply.code(201).send({ created: true, received: request.body }),
    );
    const response = await app.inject({
      method: 'POST',
      url: '/orders',
      payload: { item: 'book', password: 'hunter2' },
    });
    expect(response.statusCode).toBe(201);
    const [event] = await storedEvents(audit);
    expect(event?.request?.body).toEqual({ item: 'book', password: REDACTED });
    expect(event?.request?.responseBody).toEqual({
      created: true,
      received: { item: 'book', password: REDACTED },
    });
    await app.close();
  });
});

describe('auditkit/fastify: requests Fastify answers before any hook', () => {
  afterEach(closeTestAuditors);
  afterAll(closeTestDatabase);

  const listen = async (app: ReturnType<typeof Fastify>) => {
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  };

  it('records a URL whose percent-encoding does not decode (400 FST_ERR_BAD_URL), without asking the callables', async () => {
    const audit = await testAuditor();
    const asked: string[] = [];
    const app = Fastify({ logger: false });
    await app.register(auditPlugin, {
      audit,
      actor: () => {
        asked.push('actor');
        return { type: 'user', id: 'u1' };
      },
      tenant: () => {
        asked.push('tenant');
        return 'acme';
      },
      extra: () => {
        asked.push('extra');
        return {};
      },
    });
    app.get('/items/:id', async () => 'ok');
    const url = await listen(app);
    const response = await fetch(`${url}/items/%E0%A4%A`, {
      headers: { 'x-request-id': 'bad-url-1', authorization: 'Bearer secret-token-value' },
    });
    expect(response.status).toBe(400);
    expect(await response.text()).toContain('FST_ERR_BAD_URL');
    await app.close();
    const events = await storedEvents(audit);
    expect(events).toHaveLength(1);
    const [event] = events;
    expect(event?.category).toBe('access');
    expect(event?.outcome).toBe('failure');
    expect(event?.correlation?.requestId).toBe('bad-url-1');
    expect(event?.request).toMatchObject({ method: 'GET', path: '/items/%E0%A4%A', status: 400 });
    expect(event?.actor.type).toBe('anonymous');
    expect(JSON.stringify(event)).not.toContain('secret-token-value');
    expect(asked).toEqual([]);
  });

  it('records an ordinary request once, through its hooks', async () => {
    const audit = await testAuditor();
    const app = Fastify({ logger: false });
    await app.register(auditPlugin, { audit, tenant: () => 'acme' });
    app.get('/items/:id', async () => 'ok');
    const url = await listen(app);
    expect((await fetch(`${url}/items/7`)).status).toBe(200);
    expect((await fetch(`${url}/missing`)).status).toBe(404);
    await app.close();
    const events = await storedEvents(audit);
    expect(events.map((e) => [e.request?.path, e.request?.route, e.tenantId]).sort()).toEqual([
      ['/items/7', '/items/:id', 'acme'],
      ['/missing', undefined, 'acme'],
    ]);
  });

  it('registered inside an encapsulated context, records that context only', async () => {
    const audit = await testAuditor();
    const app = Fastify({ logger: false });
    await app.register(
      async (admin) => {
        await admin.register(auditPlugin, { audit });
        admin.get('/users', async () => 'ok');
      },
      { prefix: '/admin' },
    );
    app.get('/public/:id', async () => 'ok');
    const url = await listen(app);
    expect((await fetch(`${url}/admin/users`)).status).toBe(200);
    expect((await fetch(`${url}/public/1`)).status).toBe(200);
    expect((await fetch(`${url}/public/%E0%A4%A`)).status).toBe(400);
    await app.close();
    const events = await storedEvents(audit);
    expect(events.map((e) => e.request?.path)).toEqual(['/admin/users']);
  });
});
