import { z } from 'zod';
import type { AuditContext, AuditContextInput } from '../core/context.js';
import { AuditkitError } from '../core/errors.js';
import {
  type AuditEvent,
  type AuditEventInput,
  describeIssues,
  type Outcome,
  outcomeSchema,
  type Target,
  targetSchema,
} from '../core/event.js';
import { newEventId } from '../core/ids.js';
import type { AuditPage, AuditQuery } from '../store/store.js';
import {
  foldProcess,
  PROCESS_ACTIONS,
  type ProcessError,
  type ProcessPhase,
  type ProcessState,
  type StoredProcess,
  type StoredStep,
} from './process-state.js';

/** How a process starts. */
export interface ProcessOptions {
  /** Your own id (an order number, a registration id); default a new UUIDv7. */
  id?: string;
  /** What the process is about: the target of all its events (`{ type: 'user', id: 'u1' }`). */
  subject?: Target;
  /** The organisation; default the context's. Later events of the process use the same one. */
  tenantId?: string | null;
  /** Stored on the `process.started` event. */
  metadata?: Record<string, unknown>;
}

/** How a step or a process ended when not inferred from a function. */
export interface StepResult {
  /** Default true, or false when `error` is given. */
  success?: boolean;
  error?: unknown;
  metadata?: Record<string, unknown>;
}

export interface ProcessResult {
  /** Default `success`, or `error` when `error` is given. */
  outcome?: Outcome;
  error?: unknown;
  /** Free text why (`payment declined`). */
  reason?: string;
  metadata?: Record<string, unknown>;
}

/** A running process: record its steps and finish it. */
export interface ProcessHandle {
  readonly id: string;
  readonly name: string | undefined;
  /** True once `finish()` was called through this handle. */
  readonly finished: boolean;
  /**
   * Runs `fn` as a step: events recorded inside carry the process and step ids; one
   * `process.step.finished` event records start, end, duration, success and error. A thrown error is
   * rethrown unchanged.
   */
  step<T>(name: string, fn: () => T | Promise<T>): Promise<Awaited<T>>;
  /** Starts a step that another request will finish; resolves with its id. */
  startStep(name: string, options?: { id?: string; metadata?: Record<string, unknown> }): Promise<string>;
  finishStep(stepId: string, result?: StepResult): Promise<AuditEvent>;
  finish(result?: Outcome | ProcessResult): Promise<AuditEvent>;
}

/**
 * `audit.processes`: business processes that span requests, addressed by id. Every state change is one
 * `process` event (the log is append-only); {@link Processes.get} folds them into the current state.
 *
 * @example
 * const { id } = await audit.processes.start('user.registration', { subject: { type: 'user', id: 'u1' } });
 * // ... a later request:
 * await audit.processes.step(id, 'email.verified', () => verifyEmail(token));
 * await audit.processes.finish(id, 'success');
 */
export interface Processes {
  start(name: string, options?: ProcessOptions): Promise<ProcessHandle>;
  step<T>(processId: string, name: string, fn: () => T | Promise<T>): Promise<Awaited<T>>;
  startStep(
    processId: string,
    name: string,
    options?: { id?: string; metadata?: Record<string, unknown> },
  ): Promise<string>;
  finishStep(processId: string, stepId: string, result?: StepResult): Promise<AuditEvent>;
  finish(processId: string, result?: Outcome | ProcessResult): Promise<AuditEvent>;
  /**
   * The state of a process from its stored events (after flushing this auditor), or null when none is
   * stored. `tenantId` scopes the lookup to one organisation.
   */
  get(processId: string, options?: { tenantId?: string }): Promise<ProcessState | null>;
}

/**
 * `audit.process(name, options?, fn)`: starts a process, runs `fn` with it (events inside carry its id),
 * and finishes it: `success` when `fn` returns, `error` (with the error) when it throws; the error is
 * rethrown unchanged. `fn` may also finish it itself with `process.finish(...)`.
 *
 * @example
 * await audit.process('user.registration', { subject: { type: 'user', id: 'u1' } }, async (p) => {
 *   await p.step('account.created', () => createAccount());
 *   await p.step('email.sent', () => sendWelcome());
 * });
 */
export interface RunProcess {
  <T>(
    name: string,
    options: ProcessOptions,
    fn: (process: ProcessHandle) => T | Promise<T>,
  ): Promise<Awaited<T>>;
  <T>(name: string, fn: (process: ProcessHandle) => T | Promise<T>): Promise<Awaited<T>>;
}

/** What processes need from the auditor. */
export interface ProcessDeps {
  record(input: AuditEventInput): Promise<AuditEvent>;
  reportError(error: unknown, code?: string): void;
  context(): AuditContext | undefined;
  runWithContext<T>(context: AuditContextInput, fn: () => T): T;
  query(query: AuditQuery): Promise<AuditPage>;
  flush(): Promise<void>;
}

/** What a process is known to be in this auditor (started here, or read back from the store). */
interface OpenProcess {
  id: string;
  name?: string;
  tenantId?: string | null;
  subject?: Target;
  startedAt?: Date;
  steps: Map<string, StoredStep>;
  finished: boolean;
}

/** Processes kept in memory at most; the oldest are read back from the store when needed again. */
const MAX_OPEN_PROCESSES = 10_000;

const nameSchema = z
  .string()
  .min(1, 'must not be empty')
  .max(180, 'must be at most 180 characters')
  .regex(/^[^\s\u0000-\u001f]+$/, 'must not contain spaces or control characters');
const idSchema = z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters');
const optionsSchema = z.strictObject({
  id: idSchema.optional(),
  subject: targetSchema.optional(),
  tenantId: z.string().nullable().optional(),
  metadata: z.record(z.string(), z.unknown()).optional(),
});
const resultSchema = z.union([
  outcomeSchema,
  z.strictObject({
    outcome: outcomeSchema.optional(),
    error: z.unknown().optional(),
    reason: z.string().max(1000).optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  }),
]);

function check<T>(schema: z.ZodType<T>, value: unknown, what: string): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const fields = describeIssues(parsed.error).map(
    (f) => `${what}${f.startsWith('(event)') ? f.slice(7) : `.${f}`}`,
  );
  throw new AuditkitError('invalid_event', `Invalid process input: ${fields.join('; ')}`, {
    details: { fields },
  });
}

/** Name and message of an error, for a step or process (the stack belongs in the error log). */
export function processError(error: unknown): ProcessError {
  if (error instanceof Error) return { name: error.name, message: error.message };
  return { name: 'NonError', message: typeof error === 'string' ? error : String(error) };
}

function duration(ms: number): string {
  return ms < 1000 ? `${Math.round(ms)} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Builds `audit.processes` and `audit.process()` over an auditor's record path.
 */
export function createProcesses(deps: ProcessDeps): Processes & { run: RunProcess } {
  const open = new Map<string, OpenProcess>();
  const remember = (process: OpenProcess) => {
    open.delete(process.id);
    open.set(process.id, process);
    if (open.size > MAX_OPEN_PROCESSES) open.delete(open.keys().next().value as string);
  };

  const readState = async (processId: string, tenantId: string | undefined): Promise<ProcessState | null> => {
    const events: AuditEvent[] = [];
    let cursor: string | undefined;
    do {
      const page = await deps.query({ processId, category: 'process', tenantId, limit: 1000, cursor });
      events.push(...page.events);
      cursor = page.nextCursor ?? undefined;
    } while (cursor);
    return foldProcess(processId, events);
  };

  /** The process as this auditor knows it, else as the store has it, else only its id. */
  const load = async (processId: string): Promise<OpenProcess> => {
    const known = open.get(processId);
    if (known) return known;
    const process: OpenProcess = { id: processId, steps: new Map(), finished: false };
    const tenant = deps.context()?.tenantId;
    let state: ProcessState | null = null;
    try {
      state = await readState(processId, typeof tenant === 'string' ? tenant : undefined);
    } catch (error) {
      deps.reportError(error, 'process_lookup_failed');
    }
    if (state) {
      process.name = state.name;
      process.tenantId = state.tenantId;
      process.subject = state.subject;
      process.startedAt = state.startedAt;
      process.finished = state.status === 'finished';
      for (const step of state.steps) {
        process.steps.set(step.id, {
          id: step.id,
          name: step.name,
          startedAt: step.startedAt.toISOString(),
          ...(step.endedAt ? { endedAt: step.endedAt.toISOString() } : {}),
          ...(step.durationMs !== undefined ? { durationMs: step.durationMs } : {}),
          ...(step.status !== 'running' ? { success: step.status === 'succeeded' } : {}),
          ...(step.error ? { error: step.error } : {}),
        });
      }
    }
    if (!process.finished) remember(process);
    return process;
  };

  const write = (
    process: OpenProcess,
    phase: ProcessPhase,
    stored: Omit<StoredProcess, 'phase' | 'name'>,
    fields: {
      outcome?: Outcome;
      message: string;
      stepId?: string;
      reason?: string;
      metadata?: Record<string, unknown>;
    },
  ): Promise<AuditEvent> => {
    const action =
      phase === 'started'
        ? PROCESS_ACTIONS.started
        : phase === 'step.started'
          ? PROCESS_ACTIONS.stepStarted
          : phase === 'step.finished'
            ? PROCESS_ACTIONS.stepFinished
            : PROCESS_ACTIONS.finished;
    const processData: StoredProcess = { phase, ...(process.name ? { name: process.name } : {}), ...stored };
    const input: AuditEventInput = {
      category: 'process',
      action,
      outcome: fields.outcome ?? 'success',
      message: fields.message,
      // An explicit undefined stepId drops the step of an enclosing context from process-level events.
      correlation: { processId: process.id, stepId: fields.stepId },
      metadata: { ...fields.metadata, process: processData },
    };
    if (process.subject) input.target = process.subject;
    if (process.tenantId !== undefined) input.tenantId = process.tenantId;
    if (fields.reason !== undefined) input.reason = fields.reason;
    return deps.record(input);
  };

  /** Records without ever throwing: used where the caller's own error must come through unchanged. */
  const writeQuietly = (...args: Parameters<typeof write>): Promise<AuditEvent | undefined> => {
    try {
      return write(...args).catch((error: unknown) => {
        deps.reportError(error, 'process_write_failed');
        return undefined;
      });
    } catch (error) {
      deps.reportError(error, 'process_write_failed');
      return Promise.resolve(undefined);
    }
  };

  const label = (process: OpenProcess) => process.name ?? `process ${process.id}`;

  const start = async (name: string, options: ProcessOptions): Promise<ProcessHandle> => {
    const id = options.id ?? newEventId();
    const startedAt = new Date();
    const process: OpenProcess = {
      id,
      name,
      subject: options.subject,
      startedAt,
      steps: new Map(),
      finished: false,
    };
    if (options.tenantId !== undefined) process.tenantId = options.tenantId;
    remember(process);
    const event = await write(
      process,
      'started',
      { startedAt: startedAt.toISOString() },
      { message: `Process ${name} started`, metadata: options.metadata },
    );
    process.tenantId = event.tenantId ?? null;
    return handle(process);
  };

  /** The context a step's function runs in: its ids, and the process's tenant when the context has none. */
  const stepContext = (process: OpenProcess, stepId: string): AuditContextInput => {
    const context: AuditContextInput = { processId: process.id, stepId };
    if (deps.context()?.tenantId === undefined && process.tenantId !== undefined) {
      context.tenantId = process.tenantId;
    }
    return context;
  };

  const finishedStep = (process: OpenProcess, step: StoredStep, metadata?: Record<string, unknown>) => {
    process.steps.set(step.id, step);
    const how = step.success
      ? `succeeded in ${duration(step.durationMs ?? 0)}`
      : `failed${step.error ? `: ${step.error.message}` : ''}`;
    return {
      outcome: (step.success ? 'success' : step.error ? 'error' : 'failure') as Outcome,
      message: `Step ${step.name} of ${label(process)} ${how}`,
      stepId: step.id,
      metadata,
    };
  };

  const runStep = async <T>(
    process: OpenProcess,
    name: string,
    fn: () => T | Promise<T>,
  ): Promise<Awaited<T>> => {
    const stepId = newEventId();
    const startedAt = new Date();
    const began = performance.now();
    const ended = (success: boolean, error?: unknown) => {
      const step: StoredStep = {
        id: stepId,
        name,
        startedAt: startedAt.toISOString(),
        endedAt: new Date().toISOString(),
        durationMs: Math.round((performance.now() - began) * 1000) / 1000,
        success,
        ...(error === undefined ? {} : { error: processError(error) }),
      };
      return [process, 'step.finished', { step }, finishedStep(process, step)] as const;
    };
    let result: Awaited<T>;
    try {
      result = await deps.runWithContext(stepContext(process, stepId), fn);
    } catch (error) {
      await writeQuietly(...ended(false, error));
      throw error;
    }
    await write(...ended(true));
    return result;
  };

  const startStep = async (
    process: OpenProcess,
    name: string,
    options: { id?: string; metadata?: Record<string, unknown> },
  ): Promise<string> => {
    const step: StoredStep = { id: options.id ?? newEventId(), name, startedAt: new Date().toISOString() };
    process.steps.set(step.id, step);
    await write(
      process,
      'step.started',
      { step },
      {
        message: `Step ${name} of ${label(process)} started`,
        stepId: step.id,
        metadata: options.metadata,
      },
    );
    return step.id;
  };

  const finishStep = (process: OpenProcess, stepId: string, result: StepResult): Promise<AuditEvent> => {
    const known = process.steps.get(stepId);
    const endedAt = new Date();
    const startedAt = known ? new Date(known.startedAt) : endedAt;
    const success = result.success ?? result.error === undefined;
    const step: StoredStep = {
      id: stepId,
      name: known?.name ?? stepId,
      startedAt: startedAt.toISOString(),
      endedAt: endedAt.toISOString(),
      durationMs: endedAt.getTime() - startedAt.getTime(),
      success,
      ...(result.error === undefined ? {} : { error: processError(result.error) }),
    };
    return write(process, 'step.finished', { step }, finishedStep(process, step, result.metadata));
  };

  const finish = (process: OpenProcess, given: Outcome | ProcessResult | undefined): Promise<AuditEvent> => {
    const result: ProcessResult = typeof given === 'string' ? { outcome: given } : (given ?? {});
    const outcome = result.outcome ?? (result.error === undefined ? 'success' : 'error');
    const endedAt = new Date();
    const durationMs = process.startedAt ? endedAt.getTime() - process.startedAt.getTime() : undefined;
    const steps = [...process.steps.values()];
    const error = result.error === undefined ? undefined : processError(result.error);
    process.finished = true;
    open.delete(process.id);
    const how =
      outcome === 'success' ? 'finished' : `ended with ${outcome}${error ? `: ${error.message}` : ''}`;
    const counted = `${steps.length} step${steps.length === 1 ? '' : 's'}`;
    return write(
      process,
      'finished',
      {
        ...(process.startedAt ? { startedAt: process.startedAt.toISOString() } : {}),
        endedAt: endedAt.toISOString(),
        ...(durationMs !== undefined ? { durationMs } : {}),
        steps,
        ...(error ? { error } : {}),
      },
      {
        outcome,
        message: `Process ${label(process)} ${how} (${counted}${durationMs !== undefined ? `, ${duration(durationMs)}` : ''})`,
        reason: result.reason,
        metadata: result.metadata,
      },
    );
  };

  const handle = (process: OpenProcess): ProcessHandle => ({
    id: process.id,
    get name() {
      return process.name;
    },
    get finished() {
      return process.finished;
    },
    step: (name, fn) => {
      check(nameSchema, name, 'step name');
      return runStep(process, name, fn);
    },
    startStep: (name, options = {}) => {
      check(nameSchema, name, 'step name');
      if (options.id !== undefined) check(idSchema, options.id, 'step id');
      return startStep(process, name, options);
    },
    finishStep: (stepId, result = {}) => {
      check(idSchema, stepId, 'step id');
      return finishStep(process, stepId, result);
    },
    finish: (result) => {
      check(resultSchema, result ?? {}, 'result');
      return finish(process, result);
    },
  });

  const byId =
    <A extends unknown[], R>(fn: (process: OpenProcess, ...args: A) => Promise<R>) =>
    (processId: string, ...args: A): Promise<R> => {
      check(idSchema, processId, 'process id');
      return load(processId).then((process) => fn(process, ...args));
    };

  return {
    start: (name, options = {}) => {
      check(nameSchema, name, 'process name');
      return start(name, check(optionsSchema, options, 'options') as ProcessOptions);
    },
    step: (processId, name, fn) => {
      check(nameSchema, name, 'step name');
      return byId((process) => runStep(process, name, fn))(processId);
    },
    startStep: (processId, name, options = {}) => {
      check(nameSchema, name, 'step name');
      if (options.id !== undefined) check(idSchema, options.id, 'step id');
      return byId((process) => startStep(process, name, options))(processId);
    },
    finishStep: (processId, stepId, result = {}) => {
      check(idSchema, stepId, 'step id');
      return byId((process) => finishStep(process, stepId, result))(processId);
    },
    finish: (processId, result) => {
      check(resultSchema, result ?? {}, 'result');
      return byId((process) => finish(process, result))(processId);
    },
    get: async (processId, options = {}) => {
      check(idSchema, processId, 'process id');
      await deps.flush();
      return readState(processId, options.tenantId);
    },
    run: (<T>(
      name: string,
      optionsOrFn: ProcessOptions | ((process: ProcessHandle) => T | Promise<T>),
      maybeFn?: (process: ProcessHandle) => T | Promise<T>,
    ): Promise<Awaited<T>> => {
      const [options, fn] = typeof optionsOrFn === 'function' ? [{}, optionsOrFn] : [optionsOrFn, maybeFn];
      check(nameSchema, name, 'process name');
      const parsed = check(optionsSchema, options, 'options') as ProcessOptions;
      if (typeof fn !== 'function') {
        throw new AuditkitError(
          'invalid_event',
          'audit.process(name, options, fn) needs the function to run.',
        );
      }
      return (async (): Promise<Awaited<T>> => {
        const process = await start(name, parsed);
        try {
          const result: Awaited<T> = await deps.runWithContext({ processId: process.id }, () => fn(process));
          if (!process.finished) await process.finish('success');
          return result;
        } catch (error) {
          if (!process.finished) {
            try {
              await process.finish({ outcome: 'error', error });
            } catch (failure) {
              deps.reportError(failure, 'process_write_failed');
            }
          }
          throw error;
        }
      })();
    }) as RunProcess,
  };
}
