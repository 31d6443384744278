import { createServer } from 'node:http';
import express from 'express';
import { GraphQLError } from 'graphql';
import { createSchema, createYoga } from 'graphql-yoga';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Auditor } from '../core/auditor.js';
import { AuditkitError } from '../core/errors.js';
import { auditMiddleware } from '../http/express/index.js';
import {
  closeServer,
  closeTestAuditors,
  closeTestDatabase,
  listen,
  testAuditor,
} from '../http/testing/harness.js';
import { deferAuthError } from './deferred-auth.js';
import { useAuditLog } from './envelop-plugin.js';
import type { GraphqlAuditOptions } from './operation-audit.js';
import { gql, graphqlEvents, runGraphqlPluginContract } from './testing/graphql-contract.js';
import { contextFromAuthorization, resolvers, type TestContext, typeDefs } from './testing/schema.js';

/** A real GraphQL Yoga on node:http, the app authenticating in its context factory. */
function yogaFor(audit: Auditor, options: Omit<GraphqlAuditOptions<TestContext>, 'audit'>) {
  return createYoga<Record<string, unknown>, TestContext>({
    schema: createSchema<Record<string, unknown> & TestContext>({ typeDefs, resolvers: resolvers(audit) }),
    context: ({ request }) => ({ audit, ...contextFromAuthorization(request.headers.get('authorization')) }),
    plugins: [useAuditLog<TestContext>({ audit, ...options })],
    logging: false,
  });
}

runGraphqlPluginContract({
  name: 'GraphQL Yoga',
  resolverContext: true,
  async start(audit, options) {
    const server = createServer(yogaFor(audit, options));
    const url = await listen(server);
    return { url: `${url}/graphql`, close: () => closeServer(server) };
  },
});

describe('useAuditLog under the HTTP adapter (Yoga mounted in Express)', () => {
  afterEach(closeTestAuditors);
  afterAll(closeTestDatabase);

  it('shares the request id of the HTTP access event and names the GraphQL actor on it', async () => {
    const audit = await testAuditor();
    const app = express();
    app.use(auditMiddleware(audit));
    const yoga = yogaFor(audit, { actor: (ctx) => ctx.user });
    app.use(yoga.graphqlEndpoint, (req, res) => void yoga(req, res));
    const server = createServer(app);
    const url = await listen(server);
    try {
      await gql(`${url}/graphql`, 'mutation { createPost(title: "t") { id } }', undefined, {
        authorization: 'Bearer ada',
        'x-request-id': 'req-express-1',
      });
      await gql(`${url}/graphql`, '{ boom }', undefined, { 'x-request-id': 'req-express-2' });
    } finally {
      await closeServer(server);
    }
    const events = await graphqlEvents(audit);
    const first = events.filter((e) => e.correlation?.requestId === 'req-express-1');
    expect(first.map((e) => e.action).sort()).toEqual(['graphql.mutation', 'http.request', 'post.created']);
    for (const event of first) expect(event.actor).toMatchObject({ type: 'user', id: 'ada' });
    expect(first.find((e) => e.action === 'graphql.mutation')?.request).toMatchObject({
      id: 'req-express-1',
      method: 'POST',
      path: '/graphql',
    });
    // The HTTP status is 200, yet the failed GraphQL operation is visible.
    const second = events.filter((e) => e.correlation?.requestId === 'req-express-2');
    expect(second.find((e) => e.action === 'http.request')).toMatchObject({ request: { status: 200 } });
    expect(second.find((e) => e.action === 'graphql.query')?.outcome).toBe('failure');
    expect(second.find((e) => e.action === 'graphql.error')?.message).toBe('kaboom');
  });
});

describe('deferAuthError from an HTTP middleware', () => {
  afterEach(closeTestAuditors);
  afterAll(closeTestDatabase);

  // The app's token check runs before GraphQL and keeps its verdict on the request or the audit context.
  for (const where of ['request', 'audit context'] as const) {
    it(`keeps the error on the ${where} until a protected field resolves`, async () => {
      const audit = await testAuditor();
      const app = express();
      app.use(auditMiddleware(audit));
      app.use((req, _res, next) => {
        if (req.headers['x-token'] === 'expired') {
          const error = new GraphQLError('Token expired', { extensions: { code: 'UNAUTHENTICATED' } });
          if (where === 'request') deferAuthError(req, error, 'expired');
          else deferAuthError(undefined, error, 'expired');
        }
        next();
      });
      const yoga = yogaFor(audit, {});
      app.use(yoga.graphqlEndpoint, (req, res) => void yoga(req, res));
      const server = createServer(app);
      const url = await listen(server);
      const expired = { 'x-token': 'expired' };
      let denied: Awaited<ReturnType<typeof gql>>;
      try {
        expect(
          (await gql(`${url}/graphql`, '{ __typename }', undefined, expired)).body.errors,
        ).toBeUndefined();
        denied = await gql(`${url}/graphql`, '{ posts { id } }', undefined, expired);
      } finally {
        await closeServer(server);
      }
      expect(denied.body.errors?.[0]).toMatchObject({ message: 'Token expired' });
      const events = await graphqlEvents(audit);
      expect(events.filter((e) => e.category === 'auth')).toEqual([
        expect.objectContaining({
          action: 'graphql.auth_denied',
          reason: 'expired',
          target: { type: 'graphql.field', id: 'Query.posts' },
        }),
      ]);
    });
  }
});

describe('useAuditLog options', () => {
  it('refuses to start without an auditor or with a non-function actor', () => {
    expect(() => useAuditLog({} as never)).toThrow(AuditkitError);
    expect(() =>
      useAuditLog({ audit: { record() {}, runWithContext() {} } as never, actor: 'ada' as never }),
    ).toThrow(/actor/);
  });
});
