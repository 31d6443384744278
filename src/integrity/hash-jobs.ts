import { canonicalPartsOfText, chainHash, digestOfText, recordText } from './event-hash.js';
import { merkleRoot } from './merkle.js';

/**
 * The CPU-heavy parts of sealing and verification as plain functions of plain data, so they run the same
 * on the caller's thread or in a worker thread (`hash-worker.ts`): parsing each event's JSON,
 * canonicalising it, its personal digest, its record and chain hash, and Merkle roots.
 */

/** The events of one chain to seal, in order, from `firstSeq` on, after `prevHash`. */
export interface SealChainJob {
  prevHash: string;
  firstSeq: number;
  tenantId: string | null;
  ids: string[];
  /** `occurred_at` as hashed (UTC, microseconds). */
  ats: string[];
  /** The stored event JSON, as text. */
  data: string[];
  salts: string[];
}

export interface SealChainResult {
  digests: string[];
  hashes: string[];
}

/** Digest and chain hash of each event of a chain, in order (each hash covers the one before). */
export function sealChain(job: SealChainJob): SealChainResult {
  const n = job.ids.length;
  const digests = new Array<string>(n);
  const hashes = new Array<string>(n);
  let prev = job.prevHash;
  for (let i = 0; i < n; i++) {
    const parts = canonicalPartsOfText(job.data[i] as string);
    const digest = digestOfText(parts.personal, job.salts[i] as string);
    prev = chainHash(
      prev,
      recordText({
        id: job.ids[i] as string,
        at: job.ats[i] as string,
        tenantId: job.tenantId,
        seq: job.firstSeq + i,
        clear: parts.clear,
        digest,
      }),
    );
    digests[i] = digest;
    hashes[i] = prev;
  }
  return { digests, hashes };
}

/**
 * Rows of a chain to check, in seq order: for each, its content and stored seal, and the stored hash it
 * must chain to (`prevs[i]`, null when unknown, e.g. after a gap).
 */
export interface CheckRowsJob {
  seqs: number[];
  ids: (string | null)[];
  ats: (string | null)[];
  tenantIds: (string | null)[];
  /** The event JSON as text; null for a seal whose event is gone. */
  data: (string | null)[];
  salts: (string | null)[];
  digests: (string | null)[];
  hashes: string[];
  prevs: (string | null)[];
}

/**
 * 1 for each row whose content, at its stored seq and after `prevs[i]`, gives its stored hash; 0 for
 * every other row (which the verifier then looks at closely).
 */
export function checkRows(job: CheckRowsJob): Uint8Array {
  const n = job.seqs.length;
  const ok = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const data = job.data[i];
    const prev = job.prevs[i];
    if (data === null || data === undefined || prev === null || prev === undefined) continue;
    try {
      const parts = canonicalPartsOfText(data);
      const salt = job.salts[i];
      const digest = salt ? digestOfText(parts.personal, salt) : job.digests[i];
      if (!digest) continue;
      const record = recordText({
        id: job.ids[i] as string,
        at: job.ats[i] as string,
        tenantId: job.tenantIds[i] ?? null,
        seq: job.seqs[i] as number,
        clear: parts.clear,
        digest,
      });
      if (chainHash(prev, record) === job.hashes[i]) ok[i] = 1;
    } catch {
      // Content that cannot be canonicalised cannot match: the verifier names it.
    }
  }
  return ok;
}

/** What a hashing worker is asked to do. */
export type HashJob =
  | { kind: 'seal'; jobs: SealChainJob[] }
  | { kind: 'check'; job: CheckRowsJob }
  | { kind: 'merkle'; leaves: string[] };

/** Runs one job (in whichever thread calls it). */
export function runHashJob(job: HashJob): SealChainResult[] | Uint8Array | string {
  switch (job.kind) {
    case 'seal':
      return job.jobs.map(sealChain);
    case 'check':
      return checkRows(job.job);
    case 'merkle':
      return merkleRoot(job.leaves);
  }
}
