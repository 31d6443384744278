import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Auditor, createAuditor } from '../core/auditor.js';
import { auditPlugin } from '../http/fastify/index.js';
import { pgliteStore } from '../store/pglite/index.js';
import { PROCESS_ACTIONS } from './process-state.js';

/**
 * A sign-up that spans two HTTP requests on a real Fastify server with Auditkit's plugin: the first
 * request creates the account and starts the process, the second (the link in the e-mail) verifies it.
 */
describe('a business process spanning two HTTP requests (Fastify)', () => {
  let audit: Auditor;
  let app: FastifyInstance;
  let base: string;
  const failures: unknown[] = [];

  beforeAll(async () => {
    audit = createAuditor({ store: pgliteStore(), spool: false, onError: (e) => failures.push(e) });
    await audit.migrate();
    app = Fastify({ logger: false });
    await app.register(auditPlugin, {
      audit,
      tenant: (request) => request.headers['x-tenant'] as string | undefined,
      actor: (request) => (request.headers['x-user'] as string | undefined) ?? null,
    });
    app.post('/signup', async (request) => {
      const { email } = request.body as { email: string };
      const registration = await audit.processes.start('user.registration', {
        subject: { type: 'user', id: 'u-new', label: email },
      });
      await registration.step('account.created', () =>
        audit.record({ category: 'change', action: 'user.created', target: { type: 'user', id: 'u-new' } }),
      );
      await registration.startStep('email.verification', { id: `verify-${registration.id}` });
      return { registrationId: registration.id };
    });
    app.post('/verify', async (request, reply) => {
      const { registrationId, code } = request.body as { registrationId: string; code: string };
      const ok = code === '123456';
      await audit.processes.finishStep(registrationId, `verify-${registrationId}`, {
        success: ok,
        ...(ok ? {} : { error: new Error('wrong code') }),
      });
      if (!ok) return reply.code(400).send({ ok: false });
      await audit.processes.finish(registrationId, 'success');
      return { ok: true };
    });
    base = await app.listen({ port: 0, host: '127.0.0.1' });
  });
  afterAll(async () => {
    await app.close();
    await audit.close();
  });

  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const response = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-tenant': 'org_a', ...headers },
      body: JSON.stringify(body),
    });
    return {
      status: response.status,
      requestId: response.headers.get('x-request-id'),
      body: await response.json(),
    };
  };

  it('records each request’s part of the process under one process id, and the final state is queryable', async () => {
    const signup = await post('/signup', { email: 'new@example.com' });
    expect(signup.status).toBe(200);
    const { registrationId } = signup.body as { registrationId: string };
    const wrong = await post('/verify', { registrationId, code: '000000' }, { 'x-user': 'u-new' });
    expect(wrong.status).toBe(400);
    const retry = await audit.processes.startStep(registrationId, 'email.verification', {
      id: `verify-${registrationId}`,
    });
    expect(retry).toBe(`verify-${registrationId}`);
    const verify = await post('/verify', { registrationId, code: '123456' }, { 'x-user': 'u-new' });
    expect(verify.body).toEqual({ ok: true });

    await audit.flush();
    const events = [...(await audit.query({ processId: registrationId, limit: 100 })).events].reverse();
    expect(events.map((e) => e.action)).toEqual([
      PROCESS_ACTIONS.started,
      'user.created',
      PROCESS_ACTIONS.stepFinished,
      PROCESS_ACTIONS.stepStarted,
      PROCESS_ACTIONS.stepFinished,
      PROCESS_ACTIONS.stepStarted,
      PROCESS_ACTIONS.stepFinished,
      PROCESS_ACTIONS.finished,
    ]);
    // Every event belongs to the organisation of the requests and names the request it came from.
    expect(new Set(events.map((e) => e.tenantId))).toEqual(new Set(['org_a']));
    const requests = events.map((e) => e.correlation?.requestId);
    expect(requests.slice(0, 4)).toEqual(Array(4).fill(signup.requestId));
    expect(requests[4]).toBe(wrong.requestId);
    expect(requests[6]).toBe(verify.requestId);
    expect(events[6]?.actor).toMatchObject({ type: 'user', id: 'u-new' });
    // The access events of both requests are there too, with their ids.
    const access = await audit.query({ category: 'access', tenantId: 'org_a', limit: 100 });
    expect(access.events.map((e) => e.correlation?.requestId)).toEqual(
      expect.arrayContaining([signup.requestId, wrong.requestId, verify.requestId]),
    );

    const state = await audit.processes.get(registrationId, { tenantId: 'org_a' });
    expect(state).toMatchObject({
      name: 'user.registration',
      status: 'finished',
      outcome: 'success',
      tenantId: 'org_a',
      subject: { type: 'user', id: 'u-new', label: 'new@example.com' },
    });
    expect(state?.steps.map((s) => [s.name, s.status])).toEqual([
      ['account.created', 'succeeded'],
      ['email.verification', 'succeeded'],
    ]);
    expect(await audit.processes.get(registrationId, { tenantId: 'org_b' })).toBeNull();
    expect(failures).toEqual([]);
  });
});
