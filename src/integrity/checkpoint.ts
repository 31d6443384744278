import { createHash, type KeyObject } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { keyIdOf, signText, verifyText } from './keys.js';

/**
 * A signed statement about one range of a tenant's chain: "events `firstSeq`..`lastSeq` have these
 * chain hashes, whose Merkle root is `merkleRoot`; the last one is `lastHash`". Checkpoints of a chain
 * link to each other through `prevId`, so removing one shows.
 */
export interface Checkpoint {
  /** sha256 of the signed payload, hex: names the checkpoint in reports and proofs. */
  id: string;
  tenantId: string | null;
  firstSeq: number;
  lastSeq: number;
  lastHash: string;
  merkleRoot: string;
  /** The previous checkpoint of the same chain, null for the first. */
  prevId: string | null;
  createdAt: string;
  /** Fingerprint of the signing key; null when the checkpoint was written without a key. */
  keyId: string | null;
  /** Ed25519 signature of the payload, base64; null when unsigned. */
  signature: string | null;
}

/** The text that is signed and hashed into the id: canonical JSON of every field but id and signature. */
export function checkpointPayload(checkpoint: Omit<Checkpoint, 'id' | 'signature'>): string {
  return canonicalJson({
    type: 'auditkit.checkpoint',
    v: 1,
    tenantId: checkpoint.tenantId,
    firstSeq: checkpoint.firstSeq,
    lastSeq: checkpoint.lastSeq,
    lastHash: checkpoint.lastHash,
    merkleRoot: checkpoint.merkleRoot,
    prevId: checkpoint.prevId,
    createdAt: checkpoint.createdAt,
    keyId: checkpoint.keyId,
  });
}

/** Builds and signs (when a key is given) a checkpoint. */
export function makeCheckpoint(
  fields: Omit<Checkpoint, 'id' | 'signature' | 'keyId'>,
  signingKey: KeyObject | undefined,
): Checkpoint {
  const unsigned = { ...fields, keyId: signingKey ? keyIdOf(signingKey) : null };
  const payload = checkpointPayload(unsigned);
  return {
    ...unsigned,
    id: createHash('sha256').update(payload, 'utf8').digest('hex'),
    signature: signingKey ? signText(payload, signingKey) : null,
  };
}

/** What is wrong with a checkpoint on its own (id, key, signature), or null when nothing is. */
export function checkCheckpoint(checkpoint: Checkpoint, publicKey: KeyObject | undefined): string | null {
  const payload = checkpointPayload(checkpoint);
  if (createHash('sha256').update(payload, 'utf8').digest('hex') !== checkpoint.id) {
    return 'its content does not match its id (a field was changed)';
  }
  if (checkpoint.signature === null || checkpoint.keyId === null) {
    return publicKey ? 'it is not signed' : null;
  }
  if (!publicKey) return null;
  if (checkpoint.keyId !== keyIdOf(publicKey)) {
    return `it is signed by key ${checkpoint.keyId}, not by the given public key ${keyIdOf(publicKey)}`;
  }
  if (!verifyText(payload, checkpoint.signature, publicKey)) return 'its signature is not valid';
  return null;
}

/** A row of `auditkit_checkpoints`. */
export interface CheckpointRow {
  id: string;
  tenant_id: string | null;
  first_seq: string | number;
  last_seq: string | number;
  last_hash: string;
  merkle_root: string;
  prev_id: string | null;
  created_at: string | Date;
  key_id: string | null;
  signature: string | null;
}

/** The select list producing a {@link CheckpointRow}, with `created_at` as exact ISO text. */
export const CHECKPOINT_SELECT =
  'id, tenant_id, first_seq, last_seq, last_hash, merkle_root, prev_id, ' +
  `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at, key_id, signature`;

export function rowToCheckpoint(row: CheckpointRow): Checkpoint {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    firstSeq: Number(row.first_seq),
    lastSeq: Number(row.last_seq),
    lastHash: row.last_hash,
    merkleRoot: row.merkle_root,
    prevId: row.prev_id,
    createdAt: row.created_at instanceof Date ? row.created_at.toISOString() : row.created_at,
    keyId: row.key_id,
    signature: row.signature,
  };
}
