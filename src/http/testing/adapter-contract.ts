/**
 * The behaviour every HTTP adapter must show, written once and run against a real server of each
 * framework (`runHttpAdapterContract({ name, start })`). Test-only; not part of the package API.
 *
 * The app an adapter test starts serves these routes, in its framework's own idiom:
 *
 * | route | behaviour |
 * |---|---|
 * | POST /json | JSON body (limit 2 MB) -> 200 `{ ok: true, received }`; invalid JSON -> the framework's 400 |
 * | POST /form | urlencoded body -> 200 `{ ok: true }` |
 * | POST /text | text/plain body -> 200 `ok` |
 * | POST /upload | multipart body read as a stream -> 201 `{ bytes }` |
 * | POST /binary | application/octet-stream body -> 200 `{ bytes }` |
 * | GET /stream | `chunk-1\n`, `chunk-2\n`, `chunk-3\n` written as a stream (text/plain, no length) |
 * | GET /gzip | gzip-compressed JSON with `content-encoding: gzip` |
 * | GET /items/:id | 200 `{ id }` |
 * | GET /context | records `custom`/`handler.saw_context` with audit.record, -> 200 `{ requestId, traceId, actorId }` from audit.context() |
 * | GET /me | 200 `{ user }`: the framework's user object, set by the app's auth step from `x-test-user: ada` as `{ id: 'ada', name: 'Ada' }` |
 * | GET /extra | per-request API: `extra({ plan: 'pro' })` -> 200 |
 * | GET /skip | per-request API: `skip()` -> 200 |
 * | GET /boom | throws `new Error('boom')` |
 * | GET /fail | 500 `failed`, nothing thrown |
 * | POST /login | JSON `{ username, password }`: `right` -> per-request `actor({ id: username, label: 'Ada' })`, 200; else `reason('bad_password')`, 401 |
 * | POST /logout | 204 |
 * | GET /health, GET /assets/app.css | 200 |
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { SignJWT } from 'jose';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Auditor } from '../../core/auditor.js';
import { resolveActor, tryGetContext } from '../../core/context.js';
import type { AuditEvent } from '../../core/event.js';
import { REDACTED } from '../../core/redact.js';
import type { HttpAuditOptions } from '../config.js';
import { flushHttpAudit } from '../http-audit.js';
import type { RequestAudit } from '../request-audit.js';
import {
  abortedUpload,
  breakStore,
  closeTestAuditors,
  closeTestDatabase,
  storedEvents,
  testAuditor,
  waitForEvents,
} from './harness.js';

export interface RunningApp {
  url: string;
  server: import('node:http').Server;
  close(): Promise<void>;
}

export interface AdapterUnderTest {
  name: string;
  /** Starts the framework on 127.0.0.1 with the routes above; without the adapter when `audit` is null. */
  start(audit: Auditor | null, options: HttpAuditOptions<unknown>): Promise<RunningApp>;
}

/** Shared route logic the framework apps call, so every adapter is tested on the same behaviour. */
export const contractRoutes = {
  /** GET /context: what a handler sees of its audit context, after recording an event from inside. */
  async context(audit: Auditor) {
    await audit.record({ category: 'custom', action: 'handler.saw_context' });
    const context = tryGetContext();
    const actor = context ? await resolveActor(context.actor) : undefined;
    return { requestId: context?.requestId, traceId: context?.traceId, actorId: actor?.id };
  },
  /** POST /login: decides and tells the per-request API; returns the status to send. */
  login(body: unknown, handle: RequestAudit | undefined): number {
    const { username, password } = (body ?? {}) as { username?: string; password?: string };
    if (password === 'right' && username) {
      handle?.actor({ id: username, label: 'Ada' });
      return 200;
    }
    handle?.reason('bad_password');
    return 401;
  },
  gzipped: () => gzipSync(JSON.stringify({ compressed: true })),
  /** The user object the app's auth step derives from `x-test-user`. */
  user(header: string | undefined) {
    return header ? { id: header, name: header[0]?.toUpperCase() + header.slice(1) } : undefined;
  },
  streamChunks: ['chunk-1\n', 'chunk-2\n', 'chunk-3\n'],
};

const JWT_SECRET = 'contract-test-secret-with-enough-length';

export function runHttpAdapterContract(adapter: AdapterUnderTest): void {
  describe(`${adapter.name} adapter`, () => {
    const running: RunningApp[] = [];
    afterEach(async () => {
      await Promise.all(running.splice(0).map((app) => app.close()));
      await closeTestAuditors();
    });
    afterAll(closeTestDatabase);

    async function start(options: HttpAuditOptions<unknown> = {}) {
      const audit = await testAuditor();
      const app = await adapter.start(audit, options);
      running.push(app);
      return { audit, app, url: app.url };
    }
    const accessEvents = async (audit: Auditor) =>
      (await storedEvents(audit)).filter((e) => e.category === 'access');
    const only = async (audit: Auditor) => {
      const events = await storedEvents(audit);
      expect(events, JSON.stringify(events, null, 1)).toHaveLength(1);
      return events[0] as AuditEvent;
    };
    const postJson = (url: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });

    it('records one access event for a JSON request, with the request id echoed and the secrets masked', async () => {
      const { audit, url } = await start({ logResponseBody: true });
      const response = await postJson(
        `${url}/json?page=2`,
        { name: 'Ada', profile: { password: 'hunter2', city: 'London' } },
        { 'x-request-id': 'req-json-1', 'user-agent': 'contract/1.0', authorization: 'Bearer abc' },
      );
      expect(response.status).toBe(200);
      expect(response.headers.get('x-request-id')).toBe('req-json-1');
      const event = await only(audit);
      expect(event).toMatchObject({
        category: 'access',
        action: 'http.request',
        outcome: 'success',
        actor: { type: 'anonymous', ip: '127.0.0.1', userAgent: 'contract/1.0' },
        target: { type: 'route', id: 'POST /json' },
        correlation: { requestId: 'req-json-1' },
        request: {
          id: 'req-json-1',
          method: 'POST',
          path: '/json',
          route: '/json',
          status: 200,
          query: { page: '2' },
          body: { name: 'Ada', profile: { password: REDACTED, city: 'London' } },
          responseBody: { ok: true, received: { name: 'Ada', profile: { password: REDACTED } } },
        },
      });
      expect(event.request?.headers).toMatchObject({
        'content-type': 'application/json',
        authorization: REDACTED,
      });
      expect(event.request?.responseHeaders).toMatchObject({ 'x-request-id': 'req-json-1' });
      expect(event.request?.durationMs).toBeGreaterThanOrEqual(0);
      expect(JSON.stringify(event)).not.toContain('hunter2');
    });

    it('generates a request id when the incoming one is missing or unusable', async () => {
      const { audit, url } = await start();
      const response = await fetch(`${url}/items/7`, { headers: { 'x-request-id': 'has spaces in it' } });
      const id = response.headers.get('x-request-id');
      expect(id).toMatch(/^[0-9a-f-]{36}$/);
      const event = await only(audit);
      expect(event.request).toMatchObject({ id, route: '/items/:id', path: '/items/7' });
      expect(await response.json()).toEqual({ id: '7' });
    });

    it('parses form bodies into fields and masks the sensitive ones', async () => {
      const { audit, url } = await start();
      const response = await fetch(`${url}/form`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'user=ada&password=hunter2&tag=a&tag=b',
      });
      expect(response.status).toBe(200);
      const event = await only(audit);
      expect(event.request?.body).toEqual({ user: 'ada', password: REDACTED, tag: ['a', 'b'] });
    });

    it('summarises a multipart upload by type and size', async () => {
      const { audit, url } = await start();
      const form = new FormData();
      form.append('note', 'hello');
      form.append('file', new Blob([new Uint8Array(5000).fill(7)]), 'photo.bin');
      const request = new Request(`${url}/upload`, { method: 'POST', body: form });
      const size = (await request.clone().arrayBuffer()).byteLength;
      const response = await fetch(request);
      expect(response.status).toBe(201);
      expect(await response.json()).toEqual({ bytes: size });
      const event = await only(audit);
      expect(event.request?.body).toEqual({ $summary: 'multipart', type: 'multipart/form-data', size });
    });

    it('summarises a binary body by type and size', async () => {
      const { audit, url } = await start();
      const bytes = new Uint8Array(3000).map((_, i) => i % 256);
      const response = await fetch(`${url}/binary`, {
        method: 'POST',
        headers: { 'content-type': 'application/octet-stream' },
        body: bytes,
      });
      expect(await response.json()).toEqual({ bytes: 3000 });
      const event = await only(audit);
      expect(event.request?.body).toEqual({
        $summary: 'binary',
        type: 'application/octet-stream',
        size: 3000,
      });
    });

    it('summarises a streamed response and lets every chunk through unchanged', async () => {
      const { audit, url } = await start({ logResponseBody: true });
      const response = await fetch(`${url}/stream`);
      expect(await response.text()).toBe(contractRoutes.streamChunks.join(''));
      const event = await only(audit);
      expect(event.request?.responseBody).toEqual({
        $summary: 'streamed',
        type: 'text/plain',
        size: contractRoutes.streamChunks.join('').length,
      });
    });

    it('summarises a compressed response', async () => {
      const { audit, url } = await start({ logResponseBody: true });
      const response = await fetch(`${url}/gzip`);
      expect(await response.json()).toEqual({ compressed: true });
      const event = await only(audit);
      expect(event.request?.responseBody).toEqual({
        $summary: 'compressed',
        type: 'application/json',
        size: contractRoutes.gzipped().length,
      });
    });

    it('keeps only the first maxBodyLength bytes of a 1 MB body, masked, and says how long it was', async () => {
      const { audit, url } = await start({ maxBodyLength: 1024 });
      const body = JSON.stringify({ password: 'hunter2', data: 'x'.repeat(1024 * 1024) });
      const response = await fetch(`${url}/json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      expect(response.status).toBe(200);
      const received = (await response.json()) as { received: { data: string } };
      expect(received.received.data).toHaveLength(1024 * 1024);
      const event = await only(audit);
      const stored = event.request?.body as string;
      expect(typeof stored).toBe('string');
      expect(stored).toContain(`"password":"${REDACTED}"`);
      expect(stored).toContain(`[truncated, ${Buffer.byteLength(body)} bytes]`);
      expect(stored.length).toBeLessThan(1200);
      expect(stored).not.toContain('hunter2');
    });

    it('stores invalid JSON as masked text next to the framework answer, with no error event', async () => {
      const { audit, url } = await start();
      const response = await fetch(`${url}/json`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{"password":"hunter2", "name": ',
      });
      expect(response.status).toBe(400);
      const event = await only(audit);
      expect(event).toMatchObject({ category: 'access', outcome: 'failure', request: { status: 400 } });
      expect(event.request?.body).toBe(`{"password":"${REDACTED}", "name": `);
    });

    it('records an aborted upload once, as a failure', async () => {
      const { audit, url, app } = await start();
      await abortedUpload(app.server, url, '/json');
      const events = await waitForEvents(audit, (e) => e.length > 0);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        category: 'access',
        outcome: 'failure',
        reason: 'client_aborted',
        metadata: { aborted: true },
        request: { method: 'POST', path: '/json' },
      });
      expect(await storedEvents(audit)).toHaveLength(1);
    });

    it('never lets a generated secret reach the store, wherever it is placed (property)', async () => {
      const { audit, url } = await start({
        logResponseBody: true,
        sensitiveFields: ['ssn', 'pin_code'],
        sensitiveHeaders: ['x-tenant-signature'],
      });
      const fieldKeys = [
        'password',
        'newPassword',
        'api_key',
        'client-secret',
        'accessToken',
        'ssn',
        'PIN_CODE',
      ];
      const headerKeys = ['authorization', 'cookie', 'x-api-key', 'x-auth-token', 'x-tenant-signature'];
      const plainKey = fc.constantFrom('data', 'profile', 'items', 'meta', 'user');
      const secret = fc.stringMatching(/^[A-Za-z0-9]{10,20}$/).map((s) => `Zq${s}`);
      const placement = fc.oneof(
        fc.record({
          where: fc.constant('json' as const),
          path: fc.array(fc.oneof(plainKey, fc.constant(0)), { maxLength: 4 }),
          key: fc.constantFrom(...fieldKeys),
        }),
        fc.record({
          where: fc.constant('form' as const),
          prefix: fc.option(plainKey),
          key: fc.constantFrom(...fieldKeys),
        }),
        fc.record({
          where: fc.constant('query' as const),
          prefix: fc.option(plainKey),
          key: fc.constantFrom(...fieldKeys),
        }),
        fc.record({ where: fc.constant('header' as const), key: fc.constantFrom(...headerKeys) }),
      );
      let n = 0;
      await fc.assert(
        fc.asyncProperty(secret, placement, async (value, place) => {
          n += 1;
          const requestId = `prop-${n}`;
          const headers: Record<string, string> = { 'x-request-id': requestId };
          let response: Response;
          if (place.where === 'json') {
            let body: unknown = { [place.key]: value, visible: 'yes' };
            for (const step of [...place.path].reverse()) body = step === 0 ? [body] : { [step]: body };
            response = await postJson(`${url}/json`, body, headers);
          } else if (place.where === 'form' || place.where === 'query') {
            const key = place.prefix ? `${place.prefix}[${place.key}]` : place.key;
            const encoded = `${encodeURIComponent(key)}=${value}&visible=yes`;
            response =
              place.where === 'form'
                ? await fetch(`${url}/form`, {
                    method: 'POST',
                    headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
                    body: encoded,
                  })
                : await fetch(`${url}/items/1?${encoded}`, { headers });
          } else {
            headers[place.key] = place.key === 'cookie' ? `sid=${value}` : value;
            response = await fetch(`${url}/items/1`, { headers });
          }
          await response.arrayBuffer();
          const events = await storedEvents(audit);
          expect(events.some((e) => e.request?.id === requestId)).toBe(true);
          expect(JSON.stringify(events)).not.toContain(value);
        }),
        { numRuns: 40 },
      );
    });

    it('skips excluded paths, extensions and everything outside includePaths', async () => {
      const { audit, url } = await start({ excludePaths: ['/health', /^\/items\/9\d*$/] });
      for (const path of ['/health', '/assets/app.css', '/items/99', '/items/1'])
        await (await fetch(url + path)).text();
      const events = await accessEvents(audit);
      expect(events.map((e) => e.request?.path)).toEqual(['/items/1']);

      const only = await start({ includePaths: ['/items/*'] });
      for (const path of ['/health', '/items/1', '/extra']) await (await fetch(only.url + path)).text();
      expect((await accessEvents(only.audit)).map((e) => e.request?.path)).toEqual(['/items/1']);
    });

    it('samples after the response: dropped GET 2xx, kept writes and failures', async () => {
      const { audit, url } = await start({
        sampling: { rules: [{ methods: ['GET'], statuses: ['2xx'], rate: 0 }] },
      });
      await (await fetch(`${url}/items/1`)).text();
      await (await fetch(`${url}/nowhere`)).text();
      await (await fetch(`${url}/fail`)).text();
      await (await fetch(`${url}/logout`, { method: 'POST' })).text();
      await (await postJson(`${url}/json`, { a: 1 })).text();
      const kept = (await accessEvents(audit)).map(
        (e) => `${e.request?.method} ${e.request?.path} ${e.request?.status}`,
      );
      expect(kept.sort()).toEqual([
        'GET /fail 500',
        'GET /nowhere 404',
        'POST /json 200',
        'POST /logout 204',
      ]);
    });

    it('samples by request id, so the same id always gets the same decision', async () => {
      const { audit, url } = await start({ sampling: { rate: 0.5 } });
      const ids = Array.from({ length: 40 }, (_, i) => `sample-${i}`);
      for (const id of [...ids, ...ids])
        await (await fetch(`${url}/items/1`, { headers: { 'x-request-id': id } })).text();
      const kept = (await accessEvents(audit)).map((e) => e.request?.id as string);
      const distinct = new Set(kept);
      expect(kept).toHaveLength(distinct.size * 2);
      expect(distinct.size).toBeGreaterThan(5);
      expect(distinct.size).toBeLessThan(35);
    });

    it('never stores bodies of skipBodyFor paths', async () => {
      const { audit, url } = await start({ skipBodyFor: ['/json'], logResponseBody: true });
      await (await postJson(`${url}/json`, { note: 'private' })).text();
      await (
        await fetch(`${url}/form`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: 'note=public',
        })
      ).text();
      const [json, form] = await accessEvents(audit);
      expect(json?.request?.body).toBeUndefined();
      expect(json?.request?.responseBody).toBeUndefined();
      expect(JSON.stringify(json)).not.toContain('private');
      expect(form?.request?.body).toEqual({ note: 'public' });
    });

    it('turns a successful login into a user.login auth event for the user who logged in', async () => {
      const { audit, url } = await start({ loginPaths: ['/login'] });
      const response = await postJson(`${url}/login`, { username: 'ada', password: 'right' });
      expect(response.status).toBe(200);
      const events = await storedEvents(audit);
      expect(events.map((e) => e.category).sort()).toEqual(['access', 'auth']);
      const auth = events.find((e) => e.category === 'auth');
      expect(auth).toMatchObject({
        action: 'user.login',
        outcome: 'success',
        actor: { type: 'user', id: 'ada', label: 'Ada', ip: '127.0.0.1' },
        target: { type: 'user', id: 'ada' },
        request: { path: '/login', status: 200 },
      });
      expect(events.find((e) => e.category === 'access')?.actor).toMatchObject({ id: 'ada' });
    });

    it('turns a failed login into a failure with its reason and the attempted user name', async () => {
      const { audit, url } = await start({ loginPaths: ['/login'] });
      const response = await postJson(`${url}/login`, { username: 'mallory', password: 'guess' });
      expect(response.status).toBe(401);
      const events = await storedEvents(audit);
      expect(events.find((e) => e.category === 'auth')).toMatchObject({
        action: 'user.login',
        outcome: 'failure',
        reason: 'bad_password',
        actor: { type: 'anonymous', label: 'mallory' },
      });
      expect(events.find((e) => e.category === 'access')).toMatchObject({
        outcome: 'denied',
        reason: 'bad_password',
      });
      expect(JSON.stringify(events)).not.toContain('guess');
    });

    it('records logouts', async () => {
      const { audit, url } = await start({ logoutPaths: ['/logout'] });
      await (await fetch(`${url}/logout`, { method: 'POST', headers: { 'x-test-user': 'ada' } })).text();
      const auth = (await storedEvents(audit)).find((e) => e.category === 'auth');
      expect(auth).toMatchObject({ action: 'user.logout', outcome: 'success', actor: { id: 'ada' } });
    });

    it('records a thrown error as an error event with message, stack and request id', async () => {
      const { audit, url } = await start();
      const response = await fetch(`${url}/boom`, { headers: { 'x-request-id': 'req-boom' } });
      expect(response.status).toBe(500);
      const events = await storedEvents(audit);
      expect(events.map((e) => e.category).sort()).toEqual(['access', 'error']);
      const error = events.find((e) => e.category === 'error');
      expect(error).toMatchObject({
        action: 'http.error',
        outcome: 'error',
        message: 'boom',
        correlation: { requestId: 'req-boom' },
        request: { id: 'req-boom', method: 'GET', path: '/boom', status: 500 },
        metadata: { error: { name: 'Error', message: 'boom' } },
      });
      expect((error?.metadata?.error as { stack?: string } | undefined)?.stack).toMatch(
        /^Error: boom\n\s+at /,
      );
      expect(events.find((e) => e.category === 'access')).toMatchObject({
        outcome: 'error',
        request: { status: 500 },
      });
    });

    it('records a 5xx answered without a throw as an error event too', async () => {
      const { audit, url } = await start();
      expect((await fetch(`${url}/fail`)).status).toBe(500);
      const error = (await storedEvents(audit)).find((e) => e.category === 'error');
      expect(error).toMatchObject({ message: 'HTTP 500', request: { status: 500 } });
    });

    it('runs handlers inside the request context: same request id, trace id and actor', async () => {
      const { audit, url } = await start();
      const response = await fetch(`${url}/context`, {
        headers: {
          'x-request-id': 'req-ctx',
          'x-test-user': 'grace',
          traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
        },
      });
      expect(await response.json()).toEqual({
        requestId: 'req-ctx',
        traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
        actorId: 'grace',
      });
      const events = await storedEvents(audit);
      const inner = events.find((e) => e.action === 'handler.saw_context');
      const access = events.find((e) => e.category === 'access');
      for (const event of [inner, access]) {
        expect(event).toMatchObject({
          actor: { type: 'user', id: 'grace', label: 'Grace' },
          correlation: { requestId: 'req-ctx', traceId: '4bf92f3577b34da6a3ce929d0e0e4736' },
        });
      }
      expect(inner?.request).toMatchObject({ id: 'req-ctx', method: 'GET', path: '/context' });
    });

    it('takes the actor from a verified JWT bearer, and audits a rejected one', async () => {
      const { audit, url } = await start({ jwt: { secret: JWT_SECRET, issuer: 'contract' } });
      const key = new TextEncoder().encode(JWT_SECRET);
      const good = await new SignJWT({ name: 'Ada Lovelace', sid: 's-1' })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('u-ada')
        .setIssuer('contract')
        .setExpirationTime('5m')
        .sign(key);
      const expired = await new SignJWT({})
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject('u-old')
        .setIssuer('contract')
        .setExpirationTime(Math.floor(Date.now() / 1000) - 3600)
        .sign(key);
      await (
        await fetch(`${url}/items/1`, {
          headers: { authorization: `Bearer ${good}`, 'x-request-id': 'good' },
        })
      ).text();
      await (
        await fetch(`${url}/items/2`, {
          headers: { authorization: `Bearer ${expired}`, 'x-request-id': 'bad' },
        })
      ).text();
      const events = await storedEvents(audit);
      expect(events.find((e) => e.request?.id === 'good' && e.category === 'access')?.actor).toMatchObject({
        type: 'user',
        id: 'u-ada',
        label: 'Ada Lovelace',
        sessionId: 's-1',
      });
      expect(events.find((e) => e.request?.id === 'bad' && e.category === 'access')?.actor).toMatchObject({
        type: 'anonymous',
      });
      expect(events.find((e) => e.category === 'auth')).toMatchObject({
        action: 'token.rejected',
        outcome: 'failure',
        reason: 'token_expired',
        request: { id: 'bad' },
      });
      expect(events.filter((e) => e.category === 'auth')).toHaveLength(1);
      expect(JSON.stringify(events)).not.toContain(good.split('.')[2]);
    });

    it('takes the actor from the framework user object', async () => {
      const { audit, url } = await start();
      await (await fetch(`${url}/me`, { headers: { 'x-test-user': 'linus' } })).text();
      expect((await only(audit)).actor).toMatchObject({ type: 'user', id: 'linus', label: 'Linus' });
    });

    it('adds extra data from the per-request API and from the extra callable', async () => {
      const { audit, url } = await start({ extra: () => ({ region: 'eu' }) });
      await (await fetch(`${url}/extra`)).text();
      expect((await only(audit)).metadata).toEqual({ plan: 'pro', region: 'eu' });
    });

    it('lets a handler skip the access event of its request', async () => {
      const { audit, url } = await start();
      await (await fetch(`${url}/skip`)).text();
      await (await fetch(`${url}/items/3`)).text();
      expect((await accessEvents(audit)).map((e) => e.request?.path)).toEqual(['/items/3']);
    });

    it('takes the tenant from the tenant callable', async () => {
      const { audit, url } = await start({ tenant: () => 'org_contract' });
      await (await fetch(`${url}/context`)).text();
      const events = await storedEvents(audit);
      expect(events.map((e) => e.tenantId)).toEqual(['org_contract', 'org_contract']);
    });

    it('does not change the response: same status, headers and bytes as without the adapter', async () => {
      const audited = await start({ logResponseBody: true });
      const plain = await adapter.start(null, {});
      running.push(plain);
      const requests: Array<[string, RequestInit?]> = [
        ['/items/5'],
        ['/stream'],
        ['/gzip'],
        ['/nowhere'],
        ['/json', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":[1,2,3]}' }],
      ];
      for (const [path, init] of requests) {
        const [a, b] = await Promise.all([fetch(audited.url + path, init), fetch(plain.url + path, init)]);
        expect(a.status).toBe(b.status);
        expect(Buffer.from(await a.arrayBuffer())).toEqual(Buffer.from(await b.arrayBuffer()));
        const headersOf = (r: Response) =>
          [...r.headers].filter(([k]) => k !== 'date' && k !== 'x-request-id' && k !== 'keep-alive');
        expect(headersOf(a)).toEqual(headersOf(b));
      }
    });

    it('keeps serving when the store fails, reporting instead of throwing', async () => {
      const errors: string[] = [];
      const audit = await testAuditor({
        onError: (e) => errors.push(e.code),
        retry: { retries: 0, minDelayMs: 0, maxDelayMs: 0 },
      });
      const app = await adapter.start(audit, {});
      running.push(app);
      breakStore(audit);
      const response = await fetch(`${app.url}/items/4`);
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ id: '4' });
      expect((await fetch(`${app.url}/boom`)).status).toBe(500);
      await flushHttpAudit(audit);
      // access /items/4, access /boom, error /boom: each one lost and reported, none thrown into the app
      expect(errors.filter((code) => code === 'write_failed').length).toBeGreaterThanOrEqual(3);
    });
  });
}
