import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { type HashJob, runHashJob } from './hash-jobs.js';

/**
 * Worker threads for the hashing of sealing and verification, so it runs beside the database work and
 * off the application's event loop. `'auto'` uses one worker per core but one (at most 4) once there is
 * enough work to pay for starting them; a number forces that many; 0 keeps everything on the calling
 * thread.
 */
export type WorkersOption = 'auto' | number;

/** Below this many events, `'auto'` hashes on the calling thread: starting a worker costs more. */
export const AUTO_WORKERS_MIN_EVENTS = 4000;

/** How many workers `option` asks for, for about `events` events. */
export function workerCount(option: WorkersOption, events: number): number {
  if (option !== 'auto') return Math.max(0, Math.floor(option));
  if (events < AUTO_WORKERS_MIN_EVENTS) return 0;
  return Math.min(4, Math.max(0, availableParallelism() - 1));
}

/** Runs hashing jobs, in worker threads or on the calling thread; a job's result is the same either way. */
export interface HashPool {
  /** Worker threads started so far (0 while everything runs on the calling thread). */
  readonly size: number;
  run<T>(job: HashJob): Promise<T>;
  /** Stops the workers; later jobs run on the calling thread. */
  close(): Promise<void>;
}

/** A pool without workers: every job runs on the calling thread. */
export function inlinePool(): HashPool {
  return {
    size: 0,
    run: <T>(job: HashJob) => Promise.resolve(runHashJob(job) as T),
    close: () => Promise.resolve(),
  };
}

interface Pending {
  job: HashJob;
  resolve(value: unknown): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  inFlight: Map<number, Pending>;
}

/**
 * The worker's entry: `hash-worker.js` next to this file once built; from the TypeScript sources (tests,
 * `tsx`), a bootstrap that registers tsx in the worker first (a worker does not inherit the loader).
 */
function spawn(): Worker {
  const here = import.meta.url;
  if (here.endsWith('.ts')) {
    const entry = JSON.stringify(new URL('./hash-worker.ts', here).href);
    return new Worker(`import('tsx/esm/api').then((api) => { api.register(); return import(${entry}); })`, {
      eval: true,
    });
  }
  return new Worker(new URL('./hash-worker.js', here));
}

/**
 * A pool of `workers` threads, started on the first job. A worker that fails (it could not start, or it
 * crashed) is dropped and its jobs run on the calling thread instead: jobs are pure, so running one again
 * is safe, and sealing or verification never fails because of a worker.
 */
export function createHashPool(workers: number): HashPool {
  if (workers <= 0) return inlinePool();
  const slots: Slot[] = [];
  let started = false;
  let closed = false;
  let nextId = 0;

  const drop = (slot: Slot) => {
    const index = slots.indexOf(slot);
    if (index >= 0) slots.splice(index, 1);
    void slot.worker.terminate().catch(() => undefined);
    for (const pending of slot.inFlight.values()) {
      try {
        pending.resolve(runHashJob(pending.job));
      } catch (error) {
        pending.reject(error instanceof Error ? error : new Error(String(error)));
      }
    }
    slot.inFlight.clear();
  };

  const start = () => {
    started = true;
    for (let i = 0; i < workers; i++) {
      let worker: Worker;
      try {
        worker = spawn();
      } catch {
        continue;
      }
      const slot: Slot = { worker, inFlight: new Map() };
      worker.unref();
      worker.on('message', (message: { id: number; result?: unknown; error?: string }) => {
        const pending = slot.inFlight.get(message.id);
        if (!pending) return;
        slot.inFlight.delete(message.id);
        if (slot.inFlight.size === 0) worker.unref();
        if (message.error !== undefined) pending.reject(new Error(message.error));
        else pending.resolve(message.result);
      });
      worker.on('error', () => drop(slot));
      worker.on('exit', () => drop(slot));
      slots.push(slot);
    }
  };

  return {
    get size() {
      return slots.length;
    },
    run<T>(job: HashJob): Promise<T> {
      if (!started && !closed) start();
      // The least busy worker takes the job; with none left, the calling thread does.
      let slot: Slot | undefined;
      for (const candidate of slots) {
        if (!slot || candidate.inFlight.size < slot.inFlight.size) slot = candidate;
      }
      if (!slot) {
        try {
          return Promise.resolve(runHashJob(job) as T);
        } catch (error) {
          return Promise.reject(error);
        }
      }
      const target = slot;
      return new Promise<T>((resolve, reject) => {
        const id = nextId++;
        target.inFlight.set(id, { job, resolve: resolve as (value: unknown) => void, reject });
        target.worker.ref();
        target.worker.postMessage({ id, job });
      });
    },
    async close() {
      closed = true;
      const all = slots.splice(0);
      await Promise.all(
        all.map(async (slot) => {
          // Jobs still running finish first; nothing is lost.
          while (slot.inFlight.size > 0) await new Promise((resolve) => setTimeout(resolve, 1));
          slot.worker.removeAllListeners('exit');
          await slot.worker.terminate().catch(() => undefined);
        }),
      );
    },
  };
}
