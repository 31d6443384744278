/**
 * Memory with the database down: the harness app is loaded for 10 minutes while its PostgreSQL is
 * unreachable. The writer keeps at most `maxQueueSize` events in memory and the spool takes the rest, so
 * resident memory must level off under the bound instead of growing with the backlog.
 *
 *   npx tsx bench/soak/memory.soak.ts
 *
 * AUDITKIT_SOAK_MINUTES (default 10), AUDITKIT_SOAK_RATE (requests/s over all connections, default 300, which
 * bounds the spool's disk use), AUDITKIT_SOAK_MAX_QUEUE (default 10,000), AUDITKIT_SOAK_RSS_LIMIT_MB
 * (default 300): the bound resident memory must stay under.
 */
import { pathToFileURL } from 'node:url';
import { runMemoryUnderOutage } from '../../test/reliability/fixtures/http-scenarios.js';
import type { SoakResult } from './outage.soak.js';

export async function runMemorySoak(): Promise<SoakResult> {
  const minutes = Number(process.env.AUDITKIT_SOAK_MINUTES ?? 10);
  const rate = Number(process.env.AUDITKIT_SOAK_RATE ?? 300);
  const maxQueueSize = Number(process.env.AUDITKIT_SOAK_MAX_QUEUE ?? 10_000);
  const limitMb = Number(process.env.AUDITKIT_SOAK_RSS_LIMIT_MB ?? 300);
  const report = await runMemoryUnderOutage({
    minutes,
    maxQueueSize,
    rate,
    sampleS: 5,
    onSample: (s) => {
      if (s.atS % 60 < 5) {
        console.log(
          `[soak memory] t=${s.atS}s rss ${s.rssMb} MB, heap ${s.heapUsedMb} MB, queued ${s.queued}, spooled ${s.spooled}`,
        );
      }
    },
  });
  const samples = report.samples;
  // Level, not growth: the last quarter of the run against the second quarter.
  const quarter = Math.max(1, Math.floor(samples.length / 4));
  const avg = (list: typeof samples) => list.reduce((sum, s) => sum + s.rssMb, 0) / Math.max(1, list.length);
  const secondQuarter = avg(samples.slice(quarter, 2 * quarter));
  const lastQuarter = avg(samples.slice(-quarter));
  const growthMb = Math.round(lastQuarter - secondQuarter);
  const passed = report.peakRssMb <= limitMb && report.peakQueued <= maxQueueSize && report.load.errors === 0;
  const summary =
    `${minutes} min at ${rate} req/s with the database unreachable, maxQueueSize ${maxQueueSize}: ` +
    `${report.answered} requests answered (${report.load.errors} errors, statuses ${JSON.stringify(report.load.statuses)}); ` +
    `resident memory peak ${report.peakRssMb} MB (bound ${limitMb} MB), start ${samples[0]?.rssMb} MB, ` +
    `second-quarter average ${Math.round(secondQuarter)} MB, last-quarter average ${Math.round(lastQuarter)} MB (change ${growthMb} MB); ` +
    `peak queued ${report.peakQueued}; spooled at the end ${report.finalSpooled}; reported ${report.errorCodes.join(', ') || 'nothing'}`;
  return { name: 'memory with the database down', passed, summary };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const result = await runMemorySoak();
  console.log(`[soak ${result.name}] ${result.passed ? 'PASS' : 'FAIL'}: ${result.summary}`);
  process.exitCode = result.passed ? 0 : 1;
}
