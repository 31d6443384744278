/**
 * CPU time of this process and of one local PostgreSQL server (its postmaster and every child: backends,
 * parallel workers, autovacuum, WAL writer...), from /proc. On a shared machine CPU time per event is
 * far steadier than wall time. Only processes of the server the bench talks to are counted, never other
 * PostgreSQL servers on the machine. Without /proc (or for a remote server) PostgreSQL reads as 0.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { SqlExecutor } from '../../src/store/sql/sql-executor.js';

const TICK_US = 1_000_000 / 100;

function stat(pid: number): { ppid: number; ticks: number } | null {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    // utime + stime, and cutime + cstime of children that ended (parallel workers, finished backends).
    const ticks = Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    return { ppid: Number(fields[1]), ticks };
  } catch {
    return null;
  }
}

/** µs of CPU of one PostgreSQL server so far (0 when it is not on this machine). */
function serverCpu(postmaster: number): number {
  if (postmaster <= 0) return 0;
  const own = stat(postmaster);
  if (!own) return 0;
  let total = own.ticks;
  let pids: string[] = [];
  try {
    pids = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
  } catch {
    return 0;
  }
  for (const name of pids) {
    const child = stat(Number(name));
    if (child && child.ppid === postmaster) total += child.ticks;
  }
  return total * TICK_US;
}

export interface CpuSample {
  /** µs of CPU of this process (every thread: GC and worker threads included). */
  node: number;
  /** µs of CPU of the PostgreSQL server. */
  postgres: number;
}

export interface CpuMeter {
  sample(): CpuSample;
  /** CPU per event between two samples, µs. */
  perEvent(from: CpuSample, to: CpuSample, events: number): CpuSample;
}

/** Finds the postmaster behind `executor` (the parent of its backend) when the server runs here. */
export async function cpuMeter(executor: SqlExecutor): Promise<CpuMeter> {
  let postmaster = 0;
  try {
    const pid = Number(
      (await executor.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0]?.pid,
    );
    const backend = stat(pid);
    // A backend's parent is the postmaster; a server elsewhere has no such process here.
    if (backend && stat(backend.ppid)) postmaster = backend.ppid;
  } catch {
    postmaster = 0;
  }
  return {
    sample: () => {
      const usage = process.cpuUsage();
      return { node: usage.user + usage.system, postgres: serverCpu(postmaster) };
    },
    perEvent: (from, to, events) => ({
      node: (to.node - from.node) / events,
      postgres: (to.postgres - from.postgres) / events,
    }),
  };
}

export { median } from '../table.js';
