import type { AuditEvent, Outcome, Target } from '../core/event.js';

/**
 * The actions of process events (category `process`): one event per state change, all carrying the
 * process id in `correlation.processId` (steps also their `correlation.stepId`).
 */
export const PROCESS_ACTIONS = {
  started: 'process.started',
  /** A step begun in one request and finished in another (`startStep`). */
  stepStarted: 'process.step.started',
  /** A step ended, with its start, end, duration, success flag and error. */
  stepFinished: 'process.step.finished',
  /** The process ended; carries the steps known to the finisher. */
  finished: 'process.finished',
} as const;

/** The `metadata.process.phase` of each process event. */
export const PROCESS_PHASES = ['started', 'step.started', 'step.finished', 'finished'] as const;
export type ProcessPhase = (typeof PROCESS_PHASES)[number];

/** An error as process events store it (the error log keeps stacks; this keeps what a timeline shows). */
export interface ProcessError {
  name: string;
  message: string;
}

/** A step as stored in `metadata.process.step` (and in `steps` of the finished event). */
export interface StoredStep {
  id: string;
  name: string;
  /** ISO 8601. */
  startedAt: string;
  endedAt?: string;
  durationMs?: number;
  success?: boolean;
  error?: ProcessError;
}

/** `metadata.process` of a process event. */
export interface StoredProcess {
  phase: ProcessPhase;
  /** The process name (`user.registration`); absent when the recorder did not know it. */
  name?: string;
  /** ISO 8601: when the process started (started and finished events). */
  startedAt?: string;
  endedAt?: string;
  durationMs?: number;
  step?: StoredStep;
  steps?: StoredStep[];
  error?: ProcessError;
}

/** One step of a {@link ProcessState}. */
export interface StepState {
  id: string;
  name: string;
  status: 'running' | 'succeeded' | 'failed';
  startedAt: Date;
  endedAt?: Date;
  durationMs?: number;
  error?: ProcessError;
}

/** A business process as its events describe it: what `audit.processes.get(id)` returns. */
export interface ProcessState {
  id: string;
  name?: string;
  status: 'running' | 'finished';
  /** How it ended, once finished. */
  outcome?: Outcome;
  tenantId?: string | null;
  /** What the process is about (the target of its events). */
  subject?: Target;
  startedAt?: Date;
  endedAt?: Date;
  durationMs?: number;
  error?: ProcessError;
  /** Steps in the order they started. */
  steps: StepState[];
}

/** The stored process part of an event, or undefined for any other event. */
export function storedProcessOf(event: AuditEvent): StoredProcess | undefined {
  if (event.category !== 'process') return undefined;
  const data = event.metadata?.process;
  if (typeof data !== 'object' || data === null) return undefined;
  const phase = (data as StoredProcess).phase;
  return (PROCESS_PHASES as readonly unknown[]).includes(phase) ? (data as StoredProcess) : undefined;
}

function toStep(stored: StoredStep): StepState {
  const step: StepState = {
    id: stored.id,
    name: stored.name,
    status:
      stored.endedAt === undefined && stored.success === undefined
        ? 'running'
        : stored.success === false
          ? 'failed'
          : 'succeeded',
    startedAt: new Date(stored.startedAt),
  };
  if (stored.endedAt !== undefined) step.endedAt = new Date(stored.endedAt);
  if (stored.durationMs !== undefined) step.durationMs = stored.durationMs;
  if (stored.error !== undefined) step.error = stored.error;
  return step;
}

/**
 * Folds the events of one process (any order, other events ignored) into its state, in time order:
 * the latest record of each step wins (a step started again after failing is running again), steps
 * listed only on the finished event are kept. Null when no event belongs to the process.
 *
 * @example
 * const { events } = await store.query({ processId: 'reg-42', category: 'process', limit: 1000 });
 * foldProcess('reg-42', events)?.steps.map((s) => s.status); // ['succeeded', 'running']
 */
export function foldProcess(processId: string, events: readonly AuditEvent[]): ProcessState | null {
  const mine = events
    .filter((e) => e.correlation?.processId === processId && storedProcessOf(e) !== undefined)
    .sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime() || (a.id < b.id ? -1 : 1));
  if (mine.length === 0) return null;
  const state: ProcessState = { id: processId, status: 'running', steps: [] };
  const steps = new Map<string, StepState>();
  for (const event of mine) {
    const stored = storedProcessOf(event) as StoredProcess;
    state.name ??= stored.name;
    if (state.tenantId === undefined) state.tenantId = event.tenantId ?? null;
    if (event.target && !state.subject) state.subject = event.target;
    if (stored.startedAt && !state.startedAt) state.startedAt = new Date(stored.startedAt);
    // The latest record of a step wins: a step started again after it failed (a retry) is running again.
    if (stored.step) steps.set(stored.step.id, toStep(stored.step));
    if (stored.phase === 'finished') {
      state.status = 'finished';
      state.outcome = event.outcome;
      state.endedAt = new Date(stored.endedAt ?? event.occurredAt);
      if (stored.durationMs !== undefined) state.durationMs = stored.durationMs;
      if (stored.error) state.error = stored.error;
      else delete state.error;
      for (const step of stored.steps ?? []) if (!steps.has(step.id)) steps.set(step.id, toStep(step));
    }
  }
  if (state.durationMs === undefined && state.startedAt && state.endedAt) {
    state.durationMs = state.endedAt.getTime() - state.startedAt.getTime();
  }
  state.steps = [...steps.values()].sort((a, b) => a.startedAt.getTime() - b.startedAt.getTime());
  return state;
}
