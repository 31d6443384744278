import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { serve } from '@hono/node-server';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AuditUi, auditUi } from '../audit-ui.js';
import { serveAuditUi } from '../serve.js';
import { CookieClient, makeAuditFixture, SECRET, testUsers, type UiFixture } from '../testing/fixtures.js';
import { auditUiExpress } from './express.js';
import { auditUiFastify } from './fastify.js';
import { auditUiHono } from './hono.js';
import { auditUiNode } from './node.js';

let fixture: UiFixture;
let ui: AuditUi;

beforeAll(async () => {
  fixture = await makeAuditFixture();
  ui = auditUi({ audit: fixture.audit, basePath: '/audit', users: await testUsers(), sessionSecret: SECRET });
});
afterAll(async () => {
  await ui?.close();
  await fixture?.close();
});

function origin(server: Server): string {
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/** What every mount must do: 401 first, log in, list, open an event, export, log out, leave the app alone. */
async function exerciseMount(base: string, appRoute: string, expectedAppText: string) {
  const browser = new CookieClient((request) => fetch(request), base);
  const denied = await browser.request('/audit/events');
  expect(denied.status).toBe(401);
  expect(await denied.text()).not.toContain('Ada Lovelace');

  expect((await browser.login('/audit', 'root')).status).toBe(303);
  const list = await browser.request('/audit/events?category=change');
  expect(list.status).toBe(200);
  expect(list.headers.get('content-security-policy')).toContain("default-src 'self'");
  const page = await list.text();
  expect(page).toContain('record.updated');
  const detail = await browser.request('/audit/events/0192f000-0000-7000-8000-000000000005');
  expect(await detail.text()).toContain('1090');
  const csv = await browser.request('/audit/export?format=csv&category=change');
  expect(csv.headers.get('content-disposition')).toContain('attachment');
  expect((await csv.text()).trim().split('\n')).toHaveLength(5);
  expect((await browser.request('/audit/assets/app.js')).status).toBe(200);

  const csrf = await browser.csrf('/audit/events');
  expect((await browser.post('/audit/logout', { _csrf: csrf })).status).toBe(303);
  expect((await browser.request('/audit/events')).status).toBe(401);

  const app = await fetch(`${base}${appRoute}`);
  expect(app.status).toBe(200);
  expect(await app.text()).toContain(expectedAppText);
}

describe('auditUiExpress', () => {
  it('serves the UI under app.use("/audit"), with or without a body parser before it', async () => {
    const app = express();
    app.use(express.urlencoded({ extended: false }));
    app.use('/audit', auditUiExpress(ui));
    app.get('/hello', (_req, res) => {
      res.send('hello from express');
    });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      await exerciseMount(origin(server), '/hello', 'hello from express');
    } finally {
      await closeServer(server);
    }
  });
});

describe('auditUiFastify', () => {
  it('serves the UI in its own encapsulated context; the app keeps its JSON parsing', async () => {
    const app = Fastify();
    await app.register(auditUiFastify(ui));
    app.post('/echo', async (request) => request.body);
    app.get('/hello', async () => 'hello from fastify');
    await app.listen({ port: 0, host: '127.0.0.1' });
    try {
      await exerciseMount(origin(app.server), '/hello', 'hello from fastify');
      const echo = await fetch(`${origin(app.server)}/echo`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ a: 1 }),
      });
      expect(await echo.json()).toEqual({ a: 1 });
    } finally {
      await app.close();
    }
  });
});

describe('auditUiHono', () => {
  it('serves the UI from app.all on the base path, on @hono/node-server', async () => {
    const app = new Hono();
    const handler = auditUiHono(ui);
    app.all('/audit', handler);
    app.all('/audit/*', handler);
    app.get('/hello', (c) => c.text('hello from hono'));
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server;
    await once(server, 'listening');
    try {
      await exerciseMount(origin(server), '/hello', 'hello from hono');
    } finally {
      await closeServer(server);
    }
  });
});

describe('auditUiNode and serveAuditUi', () => {
  it('serves the UI from a plain node:http server', async () => {
    const handler = auditUiNode(ui);
    const server = createServer((req, res) => {
      if (req.url?.startsWith('/audit')) void handler(req, res);
      else res.end('hello from node');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      await exerciseMount(origin(server), '/hello', 'hello from node');
    } finally {
      await closeServer(server);
    }
  });

  it('runs standalone on 127.0.0.1 by default and closes cleanly', async () => {
    const root = auditUi({ audit: fixture.audit, users: await testUsers(), sessionSecret: SECRET });
    const served = await serveAuditUi(root, { port: 0 });
    try {
      expect(served.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
      const response = await fetch(`${served.url}events`, { headers: { accept: 'text/html' } });
      expect(response.status).toBe(401);
      expect(await response.text()).toContain('Log in');
    } finally {
      await served.close();
    }
  });
});
