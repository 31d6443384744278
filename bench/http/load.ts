/**
 * The load generator of the HTTP benchmark, in its own process so it does not share an event loop
 * with the server: runs autocannon once against the URL it is sent and reports over IPC.
 */
import autocannon from 'autocannon';

interface LoadRequest {
  url: string;
  durationSeconds: number;
  connections: number;
}

process.once('message', async ({ url, durationSeconds, connections }: LoadRequest) => {
  const body = JSON.stringify({
    customer: { id: 'c-77', email: 'ada@example.com', password: 'hunter2-but-longer' },
    items: [
      { sku: 'BK-1', qty: 1 },
      { sku: 'PN-4', qty: 3 },
    ],
    payment: { method: 'card', cardNumber: '4111111111111111', iban: 'DE89370400440532013000' },
    note: 'leave at the door',
  });
  const result = await autocannon({
    url,
    connections,
    duration: durationSeconds,
    requests: [
      { method: 'GET', path: '/orders/42', headers: { authorization: 'Bearer abc.def.ghi' } },
      { method: 'POST', path: '/orders', headers: { 'content-type': 'application/json' }, body },
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
