import { ApolloServer } from '@apollo/server';
import { startStandaloneServer } from '@apollo/server/standalone';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { uniqueSchemaName } from '../../test/helpers/postgres-server.js';
import type { Auditor } from '../core/auditor.js';
import { createAuditor } from '../core/auditor.js';
import { postgresStore } from '../store/postgres/index.js';
import { auditApolloPlugin } from './apollo-plugin.js';
import type { GraphqlAuditOptions } from './operation-audit.js';
import { flushGraphqlAudit } from './operation-audit.js';
import { gql, runGraphqlPluginContract } from './testing/graphql-contract.js';
import { contextFromAuthorization, resolvers, type TestContext, typeDefs } from './testing/schema.js';

/** A real Apollo Server (standalone, node:http) on a free loopback port. */
async function startApollo(audit: Auditor, options: Omit<GraphqlAuditOptions<TestContext>, 'audit'>) {
  const server = new ApolloServer<TestContext>({
    typeDefs,
    resolvers: resolvers(audit),
    plugins: [auditApolloPlugin<TestContext>({ audit, ...options })],
  });
  const { url } = await startStandaloneServer(server, {
    listen: { port: 0, host: '127.0.0.1' },
    context: async ({ req }) =>
      ({ audit, ...contextFromAuthorization(req.headers.authorization) }) as TestContext,
  });
  return { url, close: () => server.stop() };
}

runGraphqlPluginContract({ name: 'Apollo Server', resolverContext: false, start: startApollo });

const url = inject('pgUrl');
const skipReason = inject('pgSkipReason');

describe.skipIf(!url)(`auditApolloPlugin on PostgreSQL${url ? '' : ` (skipped: ${skipReason})`}`, () => {
  const schema = uniqueSchemaName('graphql');
  const audit = createAuditor({
    store: postgresStore({ connectionString: url, schema }),
    mode: 'async',
    spool: false,
  });
  afterAll(async () => {
    await audit.close();
    const admin = new pg.Pool({ connectionString: url, max: 1 });
    await admin.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin.end();
  });

  it('stores the access and error events of a failed operation', async () => {
    await audit.migrate();
    const server = await startApollo(audit, { actor: (ctx) => ctx.user });
    try {
      const res = await gql(server.url, 'query Pg { boom }', undefined, { authorization: 'Bearer ada' });
      expect(res.status).toBe(200);
    } finally {
      await server.close();
    }
    await flushGraphqlAudit(audit);
    const { events } = await audit.query({ actorId: 'ada' });
    expect(events.map((e) => [e.category, e.action, e.outcome]).sort()).toEqual([
      ['access', 'graphql.query', 'failure'],
      ['error', 'graphql.error', 'error'],
    ]);
  });
});
