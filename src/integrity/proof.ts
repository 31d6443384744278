import { AuditkitError } from '../core/errors.js';
import type { AuditStore } from '../store/store.js';
import {
  CHECKPOINT_SELECT,
  type Checkpoint,
  type CheckpointRow,
  checkCheckpoint,
  rowToCheckpoint,
} from './checkpoint.js';
import { canonicalParts, chainHash, dataObject, digestOfText, recordText } from './event-hash.js';
import { type KeyInput, loadPublicKey } from './keys.js';
import { inclusionPath, verifyInclusion } from './merkle.js';
import { ensureIntegritySchema } from './migrations.js';
import { chainLeaves } from './sealer.js';
import { chainKey, occurredAtText, type SqlAccess, sqlAccessOf, tablesOf } from './sql-access.js';

/**
 * A receipt for one event: everything needed to prove, offline and with the public key alone, that the
 * event is part of a signed checkpoint of its tenant's chain, unchanged. Plain JSON: store it, mail it,
 * check it with {@link verifyProof}.
 */
export interface EventProof {
  type: 'auditkit.proof';
  v: 1;
  /** The event as stored (its JSON), the fields the hash covers included. */
  event: Record<string, unknown>;
  /** The columns the hash covers besides the event data. */
  id: string;
  at: string;
  tenantId: string | null;
  seq: number;
  /** Salt of the personal digest; null after erasure (then `personalDigest` is taken as is). */
  salt: string | null;
  personalDigest: string;
  /** Hash of the event before in the chain, and this event's hash (the Merkle leaf). */
  prevHash: string;
  hash: string;
  /** Position of the leaf in the checkpoint's tree, the tree size and the audit path (RFC 9162). */
  leafIndex: number;
  treeSize: number;
  path: string[];
  checkpoint: Checkpoint;
}

interface ProofRow {
  id: string;
  at: string;
  tenant_id: string | null;
  seq: string | number | null;
  hash: string | null;
  data: unknown;
  personal_digest: string | null;
  personal_salt: string | null;
}

/**
 * The inclusion proof of one event against the checkpoint that covers it. Throws `not_found` for an
 * unknown id, `not_sealed` before the sealer reached the event, `not_checkpointed` before a checkpoint
 * covers it (seal with `checkpointNow: true` to get one at once).
 *
 * @example
 * const receipt = await proof(audit.store, eventId);
 * // later, anywhere: verifyProof(receipt, publicKeyPem).ok === true
 */
export async function proof(store: AuditStore | SqlAccess, eventId: string): Promise<EventProof> {
  const access = sqlAccessOf(store);
  await ensureIntegritySchema(access);
  const tables = tablesOf(access);
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(eventId)) {
    throw new AuditkitError('not_found', `No event has the id ${JSON.stringify(eventId)} (not a UUID).`);
  }
  const row = (
    await access.executor.query<ProofRow>(
      `SELECT e.id::text AS id, ${occurredAtText('e')} AS at, e.tenant_id, s.seq, s.hash, e.data, s.personal_digest, s.personal_salt ` +
        `FROM ${tables.events} e LEFT JOIN ${tables.seals} s ON s.event_id = e.id AND s.occurred_at = e.occurred_at ` +
        'WHERE e.id = $1::uuid ORDER BY e.occurred_at DESC, s.seq LIMIT 1',
      [eventId],
    )
  ).rows[0];
  if (!row) throw new AuditkitError('not_found', `No event has the id ${eventId}.`);
  if (row.seq === null || row.hash === null || row.personal_digest === null) {
    throw new AuditkitError(
      'not_sealed',
      `Event ${eventId} is not sealed yet: run the sealer (auditkit seal) and ask again.`,
    );
  }
  const seq = Number(row.seq);
  const checkpointRow = (
    await access.executor.query<CheckpointRow>(
      `SELECT ${CHECKPOINT_SELECT} FROM ${tables.checkpoints} WHERE chain = $1 AND first_seq <= $2 AND last_seq >= $2 ORDER BY last_seq LIMIT 1`,
      [chainKey(row.tenant_id), seq],
    )
  ).rows[0];
  if (!checkpointRow) {
    throw new AuditkitError(
      'not_checkpointed',
      `Event ${eventId} (seq ${seq}) is sealed but no checkpoint covers it yet: seal with a checkpoint ` +
        '(auditkit seal --checkpoint-now, or wait for the next one) and ask again.',
    );
  }
  const checkpoint = rowToCheckpoint(checkpointRow);
  const leaves = await chainLeaves(
    access.executor,
    tables,
    row.tenant_id,
    checkpoint.firstSeq,
    checkpoint.lastSeq,
  );
  const index = seq - checkpoint.firstSeq;
  const prev =
    index > 0
      ? leaves[index - 1]
      : checkpoint.prevId === null
        ? { seq: 0, hash: '0'.repeat(64) }
        : (
            await access.executor.query<CheckpointRow>(
              `SELECT ${CHECKPOINT_SELECT} FROM ${tables.checkpoints} WHERE id = $1`,
              [checkpoint.prevId],
            )
          ).rows.map((r) => ({ seq: Number(r.last_seq), hash: r.last_hash }))[0];
  if (
    leaves.length !== checkpoint.lastSeq - checkpoint.firstSeq + 1 ||
    leaves[index]?.hash !== row.hash ||
    !prev
  ) {
    throw new AuditkitError(
      'integrity_error',
      `The chain around event ${eventId} does not match checkpoint ${checkpoint.id.slice(0, 12)}: run \`auditkit verify\`.`,
    );
  }
  return {
    type: 'auditkit.proof',
    v: 1,
    event: dataObject(row.data),
    id: row.id,
    at: row.at,
    tenantId: row.tenant_id,
    seq,
    salt: row.personal_salt,
    personalDigest: row.personal_digest,
    prevHash: prev.hash,
    hash: row.hash,
    leafIndex: index,
    treeSize: leaves.length,
    path: inclusionPath(
      leaves.map((l) => l.hash),
      index,
    ),
    checkpoint,
  };
}

export interface ProofCheck {
  ok: boolean;
  /** What failed, when something did. */
  reason: string | null;
  eventId: string | null;
  checkpointId: string | null;
}

/**
 * Checks a receipt offline: the event's fields give its hash, the hash and the audit path give the
 * checkpoint's Merkle root, and the checkpoint is signed by `publicKey`. Needs nothing but the proof and
 * the public key.
 *
 * @example
 * const { ok, reason } = verifyProof(JSON.parse(receiptJson), readFileSync('auditkit-signing.pub', 'utf8'));
 */
export function verifyProof(proofValue: EventProof, publicKey: KeyInput): ProofCheck {
  const fail = (reason: string): ProofCheck => ({
    ok: false,
    reason,
    eventId: typeof proofValue?.id === 'string' ? proofValue.id : null,
    checkpointId: typeof proofValue?.checkpoint?.id === 'string' ? proofValue.checkpoint.id : null,
  });
  try {
    if (proofValue?.type !== 'auditkit.proof' || proofValue.v !== 1)
      return fail('this is not an Auditkit proof');
    const key = loadPublicKey(publicKey);
    const parts = canonicalParts(proofValue.event);
    if (proofValue.event.id !== proofValue.id) return fail('the event id does not match the proof');
    const digest =
      proofValue.salt === null ? proofValue.personalDigest : digestOfText(parts.personal, proofValue.salt);
    if (digest !== proofValue.personalDigest) return fail('the personal fields of the event were changed');
    const record = recordText({
      id: proofValue.id,
      at: proofValue.at,
      tenantId: proofValue.tenantId,
      seq: proofValue.seq,
      clear: parts.clear,
      digest,
    });
    if (chainHash(proofValue.prevHash, record) !== proofValue.hash)
      return fail('the event does not match its hash');
    const cp = proofValue.checkpoint;
    if (cp.tenantId !== proofValue.tenantId) return fail('the checkpoint belongs to another tenant');
    if (
      proofValue.seq - cp.firstSeq !== proofValue.leafIndex ||
      cp.lastSeq - cp.firstSeq + 1 !== proofValue.treeSize
    ) {
      return fail('the position of the event does not match the checkpoint');
    }
    if (
      !verifyInclusion(
        proofValue.hash,
        proofValue.leafIndex,
        proofValue.treeSize,
        proofValue.path,
        cp.merkleRoot,
      )
    ) {
      return fail("the audit path does not lead to the checkpoint's Merkle root");
    }
    const wrong = checkCheckpoint(cp, key);
    if (wrong) return fail(`the checkpoint is not valid: ${wrong}`);
    if (cp.signature === null) return fail('the checkpoint is not signed');
    return { ok: true, reason: null, eventId: proofValue.id, checkpointId: cp.id };
  } catch (error) {
    return fail(error instanceof Error ? error.message : String(error));
  }
}
