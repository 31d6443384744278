import { createServer } from 'node:http';
import express from 'express';
import { describe } from 'vitest';
import {
  type AdapterUnderTest,
  contractRoutes,
  runHttpAdapterContract,
} from '../testing/adapter-contract.js';
import { closeServer, listen } from '../testing/harness.js';
import { auditErrorHandler, auditMiddleware } from './index.js';

/** The contract app in plain Express 5 idiom. */
const expressAdapter: AdapterUnderTest = {
  name: 'Express',
  async start(audit, options) {
    const app = express();
    if (audit) app.use(auditMiddleware(audit, options));
    app.use((req, _res, next) => {
      (req as { user?: unknown }).user = contractRoutes.user(req.header('x-test-user'));
      next();
    });
    app.post('/json', express.json({ limit: '2mb' }), (req, res) => {
      res.json({ ok: true, received: req.body });
    });
    app.post('/form', express.urlencoded({ extended: false }), (_req, res) => {
      res.json({ ok: true });
    });
    app.post('/text', express.text(), (_req, res) => {
      res.send('ok');
    });
    app.post('/upload', async (req, res) => {
      let bytes = 0;
      for await (const chunk of req) bytes += (chunk as Buffer).length;
      res.status(201).json({ bytes });
    });
    app.post('/binary', express.raw({ type: 'application/octet-stream' }), (req, res) => {
      res.json({ bytes: (req.body as Buffer).length });
    });
    app.get('/stream', async (_req, res) => {
      res.type('text/plain');
      for (const chunk of contractRoutes.streamChunks) {
        res.write(chunk);
        await new Promise((resolve) => setImmediate(resolve));
      }
      res.end();
    });
    app.get('/gzip', (_req, res) => {
      res
        .set({ 'content-type': 'application/json', 'content-encoding': 'gzip' })
        .send(contractRoutes.gzipped());
    });
    app.get('/items/:id', (req, res) => {
      res.json({ id: req.params.id });
    });
    app.get('/context', async (_req, res) => {
      res.json(await contractRoutes.context(audit as never));
    });
    app.get('/me', (req, res) => {
      res.json({ user: (req as { user?: unknown }).user });
    });
    app.get('/extra', (req, res) => {
      req.audit?.extra({ plan: 'pro' });
      res.send('ok');
    });
    app.get('/skip', (req, res) => {
      req.audit?.skip();
      res.send('ok');
    });
    app.get('/boom', () => {
      throw new Error('boom');
    });
    app.get('/fail', (_req, res) => {
      res.status(500).send('failed');
    });
    app.post('/login', express.json(), (req, res) => {
      const status = contractRoutes.login(req.body, req.audit);
      res.status(status).json({ ok: status === 200 });
    });
    app.post('/logout', (_req, res) => {
      res.status(204).end();
    });
    app.get('/health', (_req, res) => {
      res.send('ok');
    });
    app.get('/assets/app.css', (_req, res) => {
      res.type('text/css').send('body{}');
    });
    if (audit) app.use(auditErrorHandler());
    // Quiet final handler (Express's default one prints the stack).
    app.use(
      (
        error: { status?: number },
        _req: express.Request,
        res: express.Response,
        _next: express.NextFunction,
      ) => {
        res.status(error.status ?? 500).send(error.status ? 'bad request' : 'internal error');
      },
    );
    const server = createServer(app);
    const url = await listen(server);
    return { url, server, close: () => closeServer(server) };
  },
};

describe('auditkit/express', () => {
  runHttpAdapterContract(expressAdapter);
});
