/**
 * HTTP benchmark: requests/s and p99 latency of the same Fastify and Express apps without auditing,
 * with Auditkit (request and response bodies logged and masked, written to PostgreSQL through the async
 * writer), and, for Fastify, with its own pino request logging to a file. Servers and the load generator
 * (autocannon) each run in their own process; the variants are interleaved over several rounds and the
 * medians are reported. Hello-world handlers show the middleware's cost at its most visible; the
 * "realistic" pair runs one small PostgreSQL query per request (like a typical app) so the ratio reflects
 * what an app would see.
 *
 * Auditkit runs as users run it: compiled by tsc (tsconfig.build.json) into node_modules/.cache first.
 *
 *   npx tsx bench/http/http.bench.ts                  # starts its own PostgreSQL on a loopback port
 *   AUDITKIT_BENCH_PG_URL=postgres://... npx tsx bench/http/http.bench.ts
 *   BENCH_ROUNDS=5 BENCH_DURATION=10 BENCH_CONNECTIONS=50 npx tsx bench/http/http.bench.ts
 *   AUDITKIT_BENCH_DIST=src npx tsx bench/http/http.bench.ts   # from the TypeScript sources instead
 */
import { type ChildProcess, fork } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { startPostgres } from '../../test/helpers/postgres-server.js';
import { benchDist } from '../build-dist.js';
import { type BenchRow, median, printTable } from '../table.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 20);
const VARIANTS = (
  process.env.BENCH_VARIANTS ??
  'fastify-baseline,fastify-auditkit,fastify-pino,fastify-realistic-baseline,fastify-realistic-auditkit,' +
    'express-baseline,express-auditkit'
).split(',');

interface Sample {
  rps: number;
  p99: number;
  requests: number;
  errors: number;
  non2xx: number;
  written: number;
  lost: number;
  /** Server CPU (user + system) per request served, µs, warm-up included; for the audited variants it
   * includes the background writes to PostgreSQL (batching, serialisation, the driver), not PostgreSQL itself. */
  cpuPerRequest: number;
  /** CPU of every PostgreSQL process during the measured load, per request, µs (Linux /proc; 0 elsewhere). */
  pgCpuPerRequest: number;
  auditErrors: string[];
}

/** Clock ticks (user + system) of every process named `postgres`, by pid, from /proc (Linux only). */
function postgresTicks(): Map<number, number> {
  const ticks = new Map<number, number>();
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return ticks;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      if (!stat.slice(stat.indexOf('(') + 1, close).startsWith('postgres')) continue;
      const fields = stat.slice(close + 2).split(' ');
      // After the name: state is field 3 of stat(5), utime 14 and stime 15.
      ticks.set(Number(pid), Number(fields[11]) + Number(fields[12]));
    } catch {
      // the process ended meanwhile
    }
  }
  return ticks;
}

/** µs of PostgreSQL CPU between two snapshots (processes started meanwhile count from zero). */
function postgresMicros(before: Map<number, number>, after: Map<number, number>): number {
  let ticks = 0;
  for (const [pid, t] of after) ticks += t - (before.get(pid) ?? 0);
  return (ticks * 1_000_000) / 100; // USER_HZ is 100 on Linux
}

const here = (file: string) => fileURLToPath(new URL(file, import.meta.url));
const execArgv = ['--import', 'tsx'];

async function runOnce(variant: string, pgUrl: string, dist: string): Promise<Sample> {
  const auditErrors: string[] = [];
  const server: ChildProcess = fork(here('./server.ts'), [variant], {
    execArgv,
    env: { ...process.env, BENCH_PG_URL: pgUrl, AUDITKIT_BENCH_DIST: dist },
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
      Omit<Sample, 'written' | 'lost' | 'cpuPerRequest' | 'pgCpuPerRequest' | 'auditErrors'>,
    ];
    await once(child, 'exit');
    return result;
  };
  await load(1); // warm-up: JIT, connection pools, first partitions
  const pgBefore = postgresTicks();
  const measured = await load(DURATION);
  const pgMicros = postgresMicros(pgBefore, postgresTicks());
  server.send({ type: 'stop' });
  const stopped = await new Promise<{ written: number; lost: number; cpuPerRequest: number }>((resolve) => {
    const onMessage = (m: { type: string; written: number; lost: number; cpuPerRequest: number }) => {
      if (m.type === 'stopped') {
        server.off('message', onMessage);
        resolve(m);
      }
    };
    server.on('message', onMessage);
  });
  await once(server, 'exit');
  return {
    ...measured,
    written: stopped.written,
    lost: stopped.lost,
    cpuPerRequest: stopped.cpuPerRequest,
    pgCpuPerRequest: measured.requests > 0 ? pgMicros / measured.requests : 0,
    auditErrors,
  };
}

/** Runs every variant over interleaved rounds and returns the table rows (medians). */
export async function runHttpBench(): Promise<BenchRow[]> {
  const dist = await benchDist();
  console.error(`[bench] http: Auditkit from ${dist}`);
  const pg = process.env.AUDITKIT_BENCH_PG_URL ? null : await startPostgres();
  const pgUrl = process.env.AUDITKIT_BENCH_PG_URL ?? pg!.url;
  const samples = new Map<string, Sample[]>(VARIANTS.map((v) => [v, []]));
  try {
    for (let round = 1; round <= ROUNDS; round++) {
      // Rotate the order each round so no variant always runs first (or right after another).
      const order = VARIANTS.map((_, i) => VARIANTS[(i + round - 1) % VARIANTS.length] as string);
      for (const variant of order) {
        const sample = await runOnce(variant, pgUrl, dist);
        samples.get(variant)?.push(sample);
        console.error(
          `round ${round} ${variant.padEnd(27)} ${Math.round(sample.rps)} req/s  p99 ${sample.p99} ms  cpu ${Math.round(sample.cpuPerRequest)} µs/req  postgres ${Math.round(sample.pgCpuPerRequest)} µs/req` +
            (variant.endsWith('auditkit')
              ? `  events ${sample.written} for ${sample.requests + 0} measured requests, lost ${sample.lost}`
              : '') +
            (sample.errors || sample.non2xx ? `  errors ${sample.errors} non2xx ${sample.non2xx}` : '') +
            (sample.auditErrors.length ? `  audit errors: ${sample.auditErrors.join(' | ')}` : ''),
        );
      }
    }
  } finally {
    await pg?.destroy();
  }
  const stat = (variant: string, key: 'rps' | 'p99' | 'cpuPerRequest' | 'pgCpuPerRequest') =>
    median((samples.get(variant) ?? []).map((s) => s[key]));
  const rows: BenchRow[] = [];
  const pinoRatio = samples.get('fastify-pino')?.length
    ? stat('fastify-pino', 'rps') / stat('fastify-baseline', 'rps')
    : undefined;
  const auditTarget = `≥ 0.90×${pinoRatio === undefined ? '' : ` and ≥ ${pinoRatio.toFixed(2)}× (pino, this run)`}`;
  for (const framework of ['fastify', 'fastify-realistic', 'express']) {
    const base = `${framework}-baseline`;
    if (!samples.get(base)?.length) continue;
    const name = framework === 'fastify-realistic' ? 'fastify, one PostgreSQL query per request' : framework;
    for (const [variant, label, target] of [
      [`${framework}-auditkit`, 'Auditkit, bodies logged + masked, PostgreSQL', auditTarget],
      [`${framework}-pino`, 'pino request log to a file (no Auditkit)', 'reference'],
    ] as const) {
      if (!samples.get(variant)?.length) continue;
      rows.push({
        metric: `${name}: ${label} (req/s)`,
        auditkit: stat(variant, 'rps'),
        baseline: stat(base, 'rps'),
        baselineName: `${name}, no audit`,
        target,
      });
      rows.push({
        metric: `${name}: ${label} (p99 ms)`,
        auditkit: stat(variant, 'p99'),
        baseline: stat(base, 'p99'),
        baselineName: `${name}, no audit`,
        target: 'ratio = baseline/variant',
        lowerIsBetter: true,
      });
      if (variant.endsWith('auditkit') || framework.endsWith('realistic')) {
        rows.push({
          metric: `${name}: ${label} (PostgreSQL CPU µs/request)`,
          auditkit: stat(variant, 'pgCpuPerRequest'),
          baseline: stat(base, 'pgCpuPerRequest'),
          baselineName: `${name}, no audit`,
          target: 'what each request costs the database',
          lowerIsBetter: true,
        });
      }
      rows.push({
        metric: `${name}: ${label} (server CPU µs/request)`,
        auditkit: stat(variant, 'cpuPerRequest'),
        baseline: stat(base, 'cpuPerRequest'),
        baselineName: `${name}, no audit`,
        target: 'ratio = baseline/variant',
        lowerIsBetter: true,
      });
    }
  }
  console.error(
    `\nHTTP benchmark: ${ROUNDS} interleaved rounds × ${DURATION} s, ${CONNECTIONS} connections, medians; ` +
      'GET /orders/42 and POST /orders (JSON with secrets) alternating.\n',
  );
  return rows;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  printTable(await runHttpBench());
}
