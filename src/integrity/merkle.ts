import { createHash, hash } from 'node:crypto';
import { AuditkitError } from '../core/errors.js';

/**
 * Merkle trees as in RFC 9162 (Certificate Transparency v2): leaf hash `sha256(0x00 || leaf)`, node hash
 * `sha256(0x01 || left || right)`, the tree of `n` leaves split at the largest power of two below `n`.
 * Leaves here are the 32-byte chain hashes of events; everything is hex on the outside.
 */

const LEAF = Buffer.from([0]);
const NODE = Buffer.from([1]);

export function leafHash(leaf: Buffer): Buffer {
  return createHash('sha256').update(LEAF).update(leaf).digest();
}

function nodeHash(left: Buffer, right: Buffer): Buffer {
  return createHash('sha256').update(NODE).update(left).update(right).digest();
}

function toBuffers(leavesHex: readonly string[]): Buffer[] {
  return leavesHex.map((hex) => Buffer.from(hex, 'hex'));
}

/**
 * The root of the tree over these leaves (hex). Built level by level: a node without a sibling moves up
 * unchanged, which gives the same tree as RFC 9162's recursive definition. Verification computes one per
 * checkpoint, two hashes per event, so it hashes through one scratch buffer with the one-shot
 * `crypto.hash` (about half the cost of a `createHash` object per node).
 */
export function merkleRoot(leavesHex: readonly string[]): string {
  if (leavesHex.length === 0) return createHash('sha256').digest('hex');
  const scratch = Buffer.allocUnsafe(65);
  let level = new Array<Buffer>(leavesHex.length);
  scratch[0] = 0;
  for (let i = 0; i < leavesHex.length; i++) {
    scratch.write(leavesHex[i] as string, 1, 32, 'hex');
    level[i] = hash('sha256', scratch.subarray(0, 33), 'buffer') as unknown as Buffer;
  }
  scratch[0] = 1;
  while (level.length > 1) {
    const next = new Array<Buffer>(Math.ceil(level.length / 2));
    for (let i = 0; i < level.length; i += 2) {
      const left = level[i] as Buffer;
      const right = level[i + 1];
      if (right) {
        left.copy(scratch, 1);
        right.copy(scratch, 33);
        next[i / 2] = hash('sha256', scratch, 'buffer') as unknown as Buffer;
      } else next[i / 2] = left;
    }
    level = next;
  }
  return (level[0] as Buffer).toString('hex');
}

/** The audit path of leaf `index` (hex hashes, bottom up), as RFC 9162 section 2.1.3.1 defines it. */
export function inclusionPath(leavesHex: readonly string[], index: number): string[] {
  if (!Number.isInteger(index) || index < 0 || index >= leavesHex.length) {
    throw new AuditkitError(
      'invalid_query',
      `Leaf ${index} is outside a tree of ${leavesHex.length} leaves.`,
    );
  }
  const path: string[] = [];
  let level = toBuffers(leavesHex).map(leafHash);
  let i = index;
  while (level.length > 1) {
    const sibling = i % 2 === 1 ? level[i - 1] : level[i + 1];
    if (sibling) path.push(sibling.toString('hex'));
    const next: Buffer[] = [];
    for (let j = 0; j < level.length; j += 2) {
      const left = level[j] as Buffer;
      const right = level[j + 1];
      next.push(right ? nodeHash(left, right) : left);
    }
    level = next;
    i = Math.floor(i / 2);
  }
  return path;
}

/**
 * Checks an audit path (RFC 9162 section 2.1.3.2): true when `leafHex` at `index` in a tree of `size`
 * leaves, combined with `path`, gives `rootHex`.
 */
export function verifyInclusion(
  leafHex: string,
  index: number,
  size: number,
  path: readonly string[],
  rootHex: string,
): boolean {
  if (!Number.isInteger(index) || !Number.isInteger(size) || index < 0 || index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash(Buffer.from(leafHex, 'hex'));
  for (const hex of path) {
    if (sn === 0) return false;
    const p = Buffer.from(hex, 'hex');
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.toString('hex') === rootHex;
}
