/**
 * Tamper evidence: a per-tenant hash chain sealed in the background, Ed25519-signed checkpoints with
 * Merkle roots, verification that names the first event modified, deleted, inserted or reordered, and
 * per-event inclusion proofs verifiable offline. Published as `auditkit/integrity`.
 */

// Retention and erasure keep the chain verifiable, so they are published with it.
export * from '../retention/index.js';
export type { AuditorIntegrity, IntegrityOptions } from './auditor-integrity.js';
export { canonicalJson } from './canonical-json.js';
export { type Checkpoint, checkCheckpoint, checkpointPayload } from './checkpoint.js';
export { chainHash, GENESIS_HASH, personalDigest, recordText, splitEvent } from './event-hash.js';
export {
  generateSigningKeys,
  type KeyInput,
  keyIdOf,
  loadPublicKey,
  loadSigningKey,
  publicKeyPem,
  type SigningKeyPair,
} from './keys.js';
export { inclusionPath, merkleRoot, verifyInclusion } from './merkle.js';
export { APPEND_ONLY_SQLSTATE, ensureIntegritySchema, INTEGRITY_MIGRATIONS } from './migrations.js';
export { type EventProof, type ProofCheck, proof, verifyProof } from './proof.js';
export {
  createSealer,
  listCheckpoints,
  type Sealer,
  type SealerOptions,
  type SealOptions,
  type SealResult,
  type SealTarget,
  seal,
} from './sealer.js';
export { hasSqlAccess, type SqlAccess, sqlAccessOf, withMaintenance } from './sql-access.js';
export {
  type ChainVerification,
  type VerifyOptions,
  type VerifyProblem,
  type VerifyProblemKind,
  type VerifyProgress,
  type VerifyReport,
  verify,
} from './verify.js';
