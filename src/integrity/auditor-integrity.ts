import type { AuditEvent, AuditEventInput } from '../core/event.js';
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
  /** Recomputes every chain and checkpoint; names the first event modified, deleted, inserted or reordered. */
  verify(options?: VerifyOptions): Promise<VerifyReport>;
  /** Merkle inclusion proof of one event against its checkpoint, verifiable offline with the public key. */
  proof(eventId: string): Promise<EventProof>;
  /** Removes events past the retention (the auditor's `retention` policy unless options say otherwise). */
  cleanup(options?: CleanupOptions): Promise<CleanupReport>;
  /** Erases a person's personal data (pseudonymise by default), keeping the chain verifiable. */
  erase(options: EraseOptions): Promise<EraseReport>;
}

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
    verify: (options = {}) => verify(host.store, options),
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
