/**
 * One server of the GraphQL benchmark, run in its own process (forked by graphql.bench.ts):
 *   yoga-baseline   GraphQL Yoga on node:http, nothing audited
 *   yoga-auditkit   the same with useAuditLog (variables masked, PostgreSQL through the async writer)
 * It answers `ready` with its port over IPC, and on `stop` closes and reports what it audited.
 */
import { createServer } from 'node:http';
import { createSchema, createYoga } from 'graphql-yoga';
import { type Auditor, createAuditor } from '../../src/core/auditor.js';
import { flushGraphqlAudit, useAuditLog } from '../../src/graphql/index.js';
import { postgresStore } from '../../src/store/postgres/index.js';

const variant = process.argv[2] ?? 'yoga-baseline';
const pgUrl = process.env.BENCH_PG_URL ?? '';

const typeDefs = /* GraphQL */ `
  type Item { sku: String!, qty: Int!, price: Float! }
  type Order { id: ID!, status: String!, total: Float!, items: [Item!]! }
  input Credentials { email: String!, password: String! }
  type Query { order(id: ID!): Order, health: String }
  type Mutation { placeOrder(sku: String!, qty: Int!, credentials: Credentials): Order! }
`;
const order = (id: string) => ({
  id,
  status: 'paid',
  total: 129.9,
  items: [
    { sku: 'BK-1', qty: 1, price: 99.9 },
    { sku: 'PN-4', qty: 3, price: 10 },
  ],
});
const schema = createSchema({
  typeDefs,
  resolvers: {
    Query: { order: (_: unknown, { id }: { id: string }) => order(id), health: () => 'ok' },
    Mutation: { placeOrder: () => order('1001') },
  },
});

let audit: Auditor | undefined;
if (variant.endsWith('auditkit')) {
  audit = createAuditor({
    store: postgresStore({ connectionString: pgUrl, schema: `bench_graphql_${process.pid}` }),
    mode: 'async',
    spool: false,
    batchSize: 1000,
    flushIntervalMs: 100,
    maxQueueSize: 100_000,
    onError: (error) => process.send?.({ type: 'error', message: `${error.code}: ${error.message}` }),
  });
  await audit.migrate();
}

const yoga = createYoga({
  schema,
  logging: false,
  context: ({ request }) => {
    const token = request.headers.get('authorization');
    return token ? { user: { id: token.slice(-6) } } : {};
  },
  plugins: audit ? [useAuditLog({ audit, sensitiveFields: ['iban'] })] : [],
});
const server = createServer(yoga);
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.send?.({ type: 'ready', port: typeof address === 'object' && address ? address.port : 0 });
});

const cpuStart = process.cpuUsage();
let served = 0;
server.on('request', () => {
  served += 1;
});
process.on('message', async (m: { type: string }) => {
  if (m.type !== 'stop') return;
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  let written = 0;
  if (audit) {
    await flushGraphqlAudit(audit);
    const stats = audit.stats();
    written = stats.written;
    await audit.close();
  }
  const cpu = process.cpuUsage(cpuStart);
  process.send?.(
    { type: 'stopped', written, served, cpuPerRequest: served > 0 ? (cpu.user + cpu.system) / served : 0 },
    () => process.exit(0),
  );
});
