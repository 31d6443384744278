/**
 * GraphQL benchmark: requests/s, p99 latency and server CPU per request of the same GraphQL Yoga app
 * without auditing and with `useAuditLog` (one access event per operation, variables masked, written to
 * PostgreSQL through the async writer). Server and load generator (autocannon) run in their own
 * processes; the two variants alternate over several rounds and the medians are reported.
 *
 *   npx tsx bench/graphql/graphql.bench.ts            # starts its own PostgreSQL on a loopback port
 *   AUDITKIT_BENCH_PG_URL=postgres://... BENCH_ROUNDS=5 npx tsx bench/graphql/graphql.bench.ts
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startPostgres } from '../../test/helpers/postgres-server.js';
import { type BenchRow, median, printTable } from '../table.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const VARIANTS = ['yoga-baseline', 'yoga-auditkit'] as const;

interface Sample {
  rps: number;
  p99: number;
  requests: number;
  errors: number;
  non2xx: number;
  written: number;
  served: number;
  cpuPerRequest: number;
  auditErrors: string[];
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const execArgv = ['--import', 'tsx'];

async function runOnce(variant: string, pgUrl: string): Promise<Sample> {
  const auditErrors: string[] = [];
  const server: ChildProcess = fork(here('./server.ts'), [variant], {
    execArgv,
    env: { ...process.env, BENCH_PG_URL: pgUrl },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  server.on('message', (m: { type: string; message?: string }) => {
    if (m.type === 'error' && auditErrors.length < 5) auditErrors.push(m.message ?? '');
  });
  const [ready] = (await once(server, 'message')) as [{ type: string; port: number }];
  const url = `http://127.0.0.1:${ready.port}`;
  const load = async (durationSeconds: number) => {
    const child = fork(here('./load.ts'), [], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    child.send({ url, durationSeconds, connections: CONNECTIONS });
    const [result] = (await once(child, 'message')) as [
      Pick<Sample, 'rps' | 'p99' | 'requests' | 'errors' | 'non2xx'>,
    ];
    await once(child, 'exit');
    return result;
  };
  await load(1); // warm-up: JIT, caches, the first partition
  const measured = await load(DURATION);
  server.send({ type: 'stop' });
  const stopped = await new Promise<{ written: number; served: number; cpuPerRequest: number }>((resolve) => {
    server.on('message', (m: { type: string; written: number; served: number; cpuPerRequest: number }) => {
      if (m.type === 'stopped') resolve(m);
    });
  });
  await once(server, 'exit');
  return { ...measured, ...stopped, auditErrors };
}

/** Runs both variants over alternating rounds and returns the table rows (medians). */
export async function runGraphqlBench(): Promise<BenchRow[]> {
  const pg = process.env.AUDITKIT_BENCH_PG_URL ? null : await startPostgres();
  const pgUrl = process.env.AUDITKIT_BENCH_PG_URL ?? (pg?.url as string);
  const samples = new Map<string, Sample[]>(VARIANTS.map((v) => [v, []]));
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      const order = round % 2 ? VARIANTS : [...VARIANTS].reverse();
      for (const variant of order) {
        const sample = await runOnce(variant, pgUrl);
        samples.get(variant)?.push(sample);
        console.error(
          `round ${round} ${variant.padEnd(14)} ${Math.round(sample.rps)} req/s  p99 ${sample.p99} ms  cpu ${Math.round(sample.cpuPerRequest)} µs/req` +
            (variant.endsWith('auditkit') ? `  events ${sample.written} for ${sample.served} served` : '') +
            (sample.errors + sample.non2xx > 0 ? `  errors ${sample.errors} non2xx ${sample.non2xx}` : '') +
            (sample.auditErrors.length > 0 ? `  audit errors: ${sample.auditErrors.join('; ')}` : ''),
        );
      }
    }
  } finally {
    await pg?.stop();
  }
  const of = (variant: string, pick: (s: Sample) => number) => median((samples.get(variant) ?? []).map(pick));
  const baselineName = 'Yoga without the plugin';
  return [
    {
      metric: 'GraphQL Yoga requests/s with useAuditLog',
      auditkit: of('yoga-auditkit', (s) => s.rps),
      baseline: of('yoga-baseline', (s) => s.rps),
      baselineName,
      target: '≥ 0.85× of the bare server',
    },
    {
      metric: 'GraphQL Yoga p99 latency (ms) with useAuditLog',
      auditkit: of('yoga-auditkit', (s) => s.p99),
      baseline: of('yoga-baseline', (s) => s.p99),
      baselineName,
      target: 'within 1.25× of the bare server',
      lowerIsBetter: true,
    },
    {
      metric: 'GraphQL Yoga server CPU per request (µs) with useAuditLog',
      auditkit: of('yoga-auditkit', (s) => s.cpuPerRequest),
      baseline: of('yoga-baseline', (s) => s.cpuPerRequest),
      baselineName,
      target: 'report',
      lowerIsBetter: true,
    },
  ];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) printTable(await runGraphqlBench());
