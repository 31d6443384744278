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
