import { z } from 'zod';
import type { Actor, AuditEvent, AuditEventInput } from '../core/event.js';
import { newEventId } from '../core/ids.js';
import { type CleanupOptions, type CleanupReport, cleanup } from '../retention/cleanup.js';
import { type EraseOptions, type EraseReport, erase } from '../retention/erase.js';
import type { RetentionPolicy } from '../retention/policy.js';
import type { AuditStore } from '../store/store.js';
import type { KeyInput } from './keys.js';
import { type EventProof, proof } from './proof.js';
import { createSealer, type Sealer, type SealOptions, type SealResult, seal } from './sealer.js';
import { type VerifyOptions, type VerifyReport, verify } from './verify.js';

/** The `integrity` option of an auditor: seal in the background of the app. */
export interface IntegrityOptions {
  /** Ed25519 private key (PEM, file path or KeyObject) that signs checkpoints; unsigned without it. */
  signingKey?: KeyInput;
  /** Time between two sealing runs (default 5000 ms). */
  intervalMs?: number;
  /** A checkpoint covers this many events of one tenant (default 1000). */
  checkpointEvery?: number;
  /** Also checkpoint a tenant whose last checkpoint is older than this (default 60 s). */
  checkpointIntervalMs?: number;
  /** Events sealed per transaction (default 2000). */
  batchSize?: number;
}

/** Tamper evidence and maintenance, as methods of the auditor (SQL stores only). */
export interface AuditorIntegrity {
  /** Seals unsealed events now (the background sealer does it every `intervalMs` when configured). */
  seal(options?: SealOptions): Promise<SealResult>;
  /**
   * Recomputes every chain and checkpoint; names the first event modified, deleted, inserted or reordered.
   * With `record: true` the result is also recorded as an `integrity.verified` event.
   */
  verify(options?: AuditorVerifyOptions): Promise<VerifyReport>;
  /** Merkle inclusion proof of one event against its checkpoint, verifiable offline with the public key. */
  proof(eventId: string): Promise<EventProof>;
  /** Removes events past the retention (the auditor's `retention` policy unless options say otherwise). */
  cleanup(options?: CleanupOptions): Promise<CleanupReport>;
  /** Erases a person's personal data (pseudonymise by default), keeping the chain verifiable. */
  erase(options: EraseOptions): Promise<EraseReport>;
}

/** Options of the auditor's `verify`: those of {@link verify}, and whether to record the result. */
export type AuditorVerifyOptions = VerifyOptions & {
  /**
   * Record a summary of the result as an `integrity.verified` event (default false: a verification run
   * often, by a monitor say, would add an event to the log each time). The admin UI and `auditkit verify`
   * record theirs, and the UI's integrity page shows the latest one.
   */
  record?: boolean;
  /** Who ran it, for the recorded event; default the actor of the running context. */
  actor?: Actor;
};

interface IntegrityHost {
  readonly store: AuditStore;
  record(input: AuditEventInput): Promise<AuditEvent>;
  reportError(error: unknown, code?: string): void;
}

/**
 * Builds the integrity half of an auditor: a background sealer when `integrity` is configured (its timer
 * is unref'd and writers never wait on it), and the maintenance methods bound to the auditor, so the
 * `retention.purged` / `privacy.erased` events are recorded through it.
 */
export function createAuditorIntegrity(
  host: IntegrityHost,
  integrity: IntegrityOptions | false,
  retention: RetentionPolicy | undefined,
): AuditorIntegrity & { start(): void; stop(): Promise<void> } {
  const signingKey = integrity ? integrity.signingKey : undefined;
  const sealer: Sealer | undefined = integrity ? createSealer(host, withoutUndefined(integrity)) : undefined;
  return {
    start: () => sealer?.start(),
    stop: async () => {
      await sealer?.stop();
    },
    seal: (options = {}) =>
      sealer ? sealer.sealNow(options) : seal(host.store, withoutUndefined({ signingKey, ...options })),
    verify: async (options = {}) => {
      const { record, actor, ...verifyOptions } = options;
      const startedAt = new Date();
      const report = await verify(host.store, verifyOptions);
      if (record) {
        // Recording is part of the audit trail, never a reason for the verification to fail.
        await recordVerification(host, report, verifyOptions, {
          startedAt,
          ...(actor ? { actor } : {}),
        }).catch((error: unknown) => host.reportError(error));
      }
      return report;
    },
    proof: (eventId) => proof(host.store, eventId),
    cleanup: (options = {}) => {
      const usesPolicy = options.policy === undefined && options.days === undefined;
      return cleanup(
        host,
        withoutUndefined({
          signingKey,
          ...options,
          // Without days or a policy, the auditor's `retention` option applies (cleanup names what is missing).
          ...(usesPolicy && retention ? { policy: retention } : {}),
        }),
      );
    },
    erase: (options) => erase(host, options),
  };
}

function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The action of the event a recorded verification leaves. */
export const VERIFIED_ACTION = 'integrity.verified';

/** Chains whose seq ranges a recorded verification lists; the count of all of them is kept beside. */
const MAX_RECORDED_RANGES = 100;

const problemSchema = z.object({
  kind: z.string(),
  tenantId: z.string().nullable(),
  seq: z.number().nullable(),
  eventId: z.string().nullable(),
  checkpointId: z.string().nullable(),
  message: z.string(),
});

/** The metadata of an `integrity.verified` event: what was verified, and what was found. */
export const verificationSummarySchema = z.object({
  ok: z.boolean(),
  checkedEvents: z.number(),
  checkpointsVerified: z.number(),
  /** How many problems were found (the report lists at most `maxProblems` of them). */
  problems: z.number(),
  firstProblem: problemSchema.nullable(),
  /** What was asked for: one organisation's chain (absent: every chain) and a time range of checkpoints. */
  scope: z.object({
    tenantId: z.string().nullable().optional(),
    from: z.string().nullable(),
    to: z.string().nullable(),
  }),
  /** Per chain, the seqs verified: at most 100 chains, `chainCount` says how many there were. */
  ranges: z.array(
    z.object({
      tenantId: z.string().nullable(),
      fromSeq: z.number(),
      lastSeq: z.number(),
      events: z.number(),
      ok: z.boolean(),
    }),
  ),
  chainCount: z.number(),
  unsealed: z.number(),
  signaturesChecked: z.boolean(),
  keyId: z.string().nullable(),
  startedAt: z.string(),
  finishedAt: z.string(),
});

export type VerificationSummary = z.infer<typeof verificationSummarySchema>;

/** A verification read back from the log: its summary, when it finished, who ran it, for which organisation. */
export interface RecordedVerification {
  eventId: string;
  at: Date;
  actor: Actor;
  tenantId: string | null;
  summary: VerificationSummary;
}

/** The summary {@link recordVerification} stores for a report. */
export function verificationSummary(
  report: VerifyReport,
  options: VerifyOptions,
  startedAt: Date,
  finishedAt: Date = new Date(),
): VerificationSummary {
  const first = report.firstProblem;
  return {
    ok: report.ok,
    checkedEvents: report.checkedEvents,
    checkpointsVerified: report.checkpointsVerified,
    problems: report.problems.length,
    firstProblem: first
      ? {
          kind: first.kind,
          tenantId: first.tenantId,
          seq: first.seq,
          eventId: first.eventId,
          checkpointId: first.checkpointId,
          message: first.message,
        }
      : null,
    scope: {
      ...(options.tenantId === undefined ? {} : { tenantId: options.tenantId }),
      from: options.from?.toISOString() ?? null,
      to: options.to?.toISOString() ?? null,
    },
    ranges: report.chains.slice(0, MAX_RECORDED_RANGES).map((chain) => ({
      tenantId: chain.tenantId,
      fromSeq: chain.fromSeq,
      lastSeq: chain.lastSeq,
      events: chain.events,
      ok: chain.ok,
    })),
    chainCount: report.chains.length,
    unsealed: report.unsealed,
    signaturesChecked: report.signaturesChecked,
    keyId: report.keyId,
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
  };
}

/** Somewhere to record: an auditor (redacted, written like any event) or a bare store (appended as is). */
export type VerificationRecorder =
  | { record(input: AuditEventInput): Promise<AuditEvent> }
  | Pick<AuditStore, 'append'>;

/**
 * Records a verification as an `integrity.verified` event (outcome `failure` when it found problems),
 * in the organisation it verified (none when it verified every chain, so only users who may see every
 * organisation see it). Returns the event.
 *
 * @example
 * const report = await verify(store);
 * await recordVerification(store, report, {}, { startedAt, actor: { type: 'service', id: 'nightly-verify' } });
 */
export async function recordVerification(
  target: VerificationRecorder,
  report: VerifyReport,
  options: VerifyOptions,
  run: { startedAt: Date; actor?: Actor },
): Promise<AuditEvent> {
  const summary = verificationSummary(report, options, run.startedAt);
  const tenantId = typeof options.tenantId === 'string' ? options.tenantId : null;
  const where = `${summary.checkedEvents} event(s) in ${summary.chainCount} chain(s), ${summary.checkpointsVerified} checkpoint(s)`;
  const input: AuditEventInput = {
    category: 'custom',
    action: VERIFIED_ACTION,
    outcome: report.ok ? 'success' : 'failure',
    tenantId,
    target: { type: 'audit_log', ...(tenantId === null ? {} : { id: tenantId }) },
    message: report.ok
      ? `Verified ${where}: intact.`
      : `Verification found ${summary.problems} problem(s) in ${where}: ${summary.firstProblem?.message ?? ''}`.slice(
          0,
          2000,
        ),
    metadata: summary,
    ...(run.actor ? { actor: run.actor } : {}),
  };
  if ('record' in target && typeof target.record === 'function') return target.record(input);
  const event: AuditEvent = {
    ...input,
    id: newEventId(),
    occurredAt: new Date(),
    outcome: input.outcome ?? 'success',
    actor: run.actor ?? { type: 'system', id: 'auditkit-verify', label: 'Auditkit verification' },
  } as AuditEvent;
  await (target as Pick<AuditStore, 'append'>).append([event]);
  return event;
}

/**
 * The verification an `integrity.verified` event records, or null when the event is not one (or its
 * metadata does not have the shape {@link recordVerification} writes: events are input, never trusted).
 */
export function readVerification(event: AuditEvent): RecordedVerification | null {
  if (event.action !== VERIFIED_ACTION) return null;
  const parsed = verificationSummarySchema.safeParse(event.metadata);
  if (!parsed.success) return null;
  return {
    eventId: event.id,
    at: event.occurredAt,
    actor: event.actor,
    tenantId: event.tenantId ?? null,
    summary: parsed.data,
  };
}
