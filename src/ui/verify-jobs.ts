import type { Actor } from '../core/event.js';
import type { VerifyOptions, VerifyReport } from '../integrity/verify.js';
import { randomId } from './auth/session.js';

/** One "verify now" run started from the UI; the page polls it for progress. */
export interface VerifyJob {
  id: string;
  state: 'running' | 'done' | 'failed';
  checked: number;
  total: number;
  startedAt: string;
  finishedAt: string | null;
  startedBy: string;
  /** Who started it, as the actor of the `integrity.verified` events the run records. */
  actor: Actor;
  report: VerifyReport | null;
  error: string | null;
  /** Which organisations it covers: `*` for all, else their sorted list; a user sees only jobs of theirs. */
  scope: string;
}

/** Runs one verification for a job (the UI's records its result, as the job's actor). */
export type RunVerify = (options: VerifyOptions, job: VerifyJob) => Promise<VerifyReport>;

/** The scope key of a tenant restriction (undefined: every organisation). */
export function scopeKey(tenants: readonly string[] | undefined): string {
  return tenants === undefined ? '*' : [...tenants].sort().join('\u0000');
}

/** Runs verifications in the background, one at a time per scope, keeping the latest of each scope. */
export class VerifyJobs {
  readonly #run: RunVerify;
  readonly #publicKey: VerifyOptions['publicKey'];
  readonly #jobs = new Map<string, VerifyJob>();
  readonly #latest = new Map<string, string>();
  readonly #running = new Set<Promise<void>>();

  constructor(run: RunVerify, publicKey?: VerifyOptions['publicKey']) {
    this.#run = run;
    this.#publicKey = publicKey;
  }

  /** Starts a verification of these organisations (all when undefined), or returns the one already running. */
  start(
    startedBy: string,
    tenants: readonly string[] | undefined,
    actor: Actor = { type: 'user', id: startedBy },
  ): VerifyJob {
    const scope = scopeKey(tenants);
    const current = this.latest(scope);
    if (current?.state === 'running') return current;
    const job: VerifyJob = {
      id: randomId(12),
      state: 'running',
      checked: 0,
      total: 0,
      startedAt: new Date().toISOString(),
      finishedAt: null,
      startedBy,
      actor,
      report: null,
      error: null,
      scope,
    };
    const previous = this.#latest.get(scope);
    if (previous) this.#jobs.delete(previous);
    this.#jobs.set(job.id, job);
    this.#latest.set(scope, job.id);
    const running = this.#execute(job, tenants).finally(() => this.#running.delete(running));
    this.#running.add(running);
    return job;
  }

  get(id: string, scope: string): VerifyJob | null {
    const job = this.#jobs.get(id);
    return job && job.scope === scope ? job : null;
  }

  latest(scope: string): VerifyJob | null {
    const id = this.#latest.get(scope);
    return id ? (this.#jobs.get(id) ?? null) : null;
  }

  /** Resolves when every running verification has finished. */
  async idle(): Promise<void> {
    await Promise.all([...this.#running]);
  }

  async #execute(job: VerifyJob, tenants: readonly string[] | undefined): Promise<void> {
    try {
      const base = this.#publicKey === undefined ? {} : { publicKey: this.#publicKey };
      if (tenants === undefined) {
        job.report = await this.#run(
          {
            ...base,
            onProgress: (p) => {
              job.checked = p.checked;
              job.total = p.total;
            },
          },
          job,
        );
      } else {
        // A restricted user verifies their own chains only, one after the other, so no count of another
        // organisation ever reaches them.
        const reports: VerifyReport[] = [];
        let done = 0;
        for (const tenantId of tenants) {
          reports.push(
            await this.#run(
              {
                ...base,
                tenantId,
                onProgress: (p) => {
                  job.checked = done + p.checked;
                  job.total = done + p.total;
                },
              },
              job,
            ),
          );
          done = job.checked;
        }
        job.report = mergeReports(reports);
      }
      job.checked = Math.max(job.checked, job.report.checkedEvents);
      job.total = Math.max(job.total, job.checked);
      job.state = 'done';
    } catch (error) {
      job.state = 'failed';
      job.error = error instanceof Error ? error.message : String(error);
    } finally {
      job.finishedAt = new Date().toISOString();
    }
  }
}

/** One report from the reports of several chains. */
export function mergeReports(reports: VerifyReport[]): VerifyReport {
  const problems = reports.flatMap((r) => r.problems);
  return {
    ok: reports.every((r) => r.ok),
    checkedEvents: reports.reduce((n, r) => n + r.checkedEvents, 0),
    checkpointsVerified: reports.reduce((n, r) => n + r.checkpointsVerified, 0),
    unsealed: reports.reduce((n, r) => n + r.unsealed, 0),
    signaturesChecked: reports.length > 0 && reports.every((r) => r.signaturesChecked),
    keyId: reports.find((r) => r.keyId)?.keyId ?? null,
    chains: reports.flatMap((r) => r.chains),
    problems,
    firstProblem: reports.find((r) => r.firstProblem)?.firstProblem ?? null,
    warnings: [...new Set(reports.flatMap((r) => r.warnings))],
  };
}
