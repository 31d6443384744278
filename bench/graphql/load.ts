/**
 * The load generator of the GraphQL benchmark, in its own process so it does not share an event loop
 * with the server: runs autocannon once (a query and a mutation with a password in its variables).
 */
import autocannon from 'autocannon';

interface LoadRequest {
  url: string;
  durationSeconds: number;
  connections: number;
}

const post = (query: string, variables: Record<string, unknown>) => ({
  method: 'POST' as const,
  path: '/graphql',
  headers: { 'content-type': 'application/json', authorization: 'Bearer user-abc123' },
  body: JSON.stringify({ query, variables }),
});

process.once('message', async ({ url, durationSeconds, connections }: LoadRequest) => {
  const result = await autocannon({
    url,
    connections,
    duration: durationSeconds,
    requests: [
      post('query Order($id: ID!) { order(id: $id) { id status total items { sku qty price } } }', {
        id: '42',
      }),
      post(
        'mutation Place($sku: String!, $qty: Int!, $c: Credentials) { placeOrder(sku: $sku, qty: $qty, credentials: $c) { id total } }',
        { sku: 'BK-1', qty: 2, c: { email: 'ada@example.com', password: 'hunter2-but-longer' } },
      ),
    ],
  });
  process.send?.(
    {
      requests: result.requests.total,
      rps: result.requests.total / durationSeconds,
      p99: result.latency.p99,
      errors: result.errors + result.timeouts,
      non2xx: result.non2xx,
    },
    () => process.exit(0),
  );
});
