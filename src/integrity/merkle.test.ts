import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { inclusionPath, merkleRoot, verifyInclusion } from './merkle.js';

const sha = (...parts: Buffer[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** RFC 9162 section 2.1.1, written as the RFC states it. */
function referenceRoot(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha();
  if (leaves.length === 1) return sha(Buffer.from([0]), leaves[0] as Buffer);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha(Buffer.from([1]), referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

const leaf = (i: number) => sha(Buffer.from(`event ${i}`)).toString('hex');

describe('Merkle trees (RFC 9162)', () => {
  it('computes the same root as the recursive definition of the RFC', () => {
    for (let n = 0; n <= 40; n++) {
      const leaves = Array.from({ length: n }, (_, i) => leaf(i));
      expect(merkleRoot(leaves)).toBe(
        referenceRoot(leaves.map((l) => Buffer.from(l, 'hex'))).toString('hex'),
      );
    }
  });

  it('gives every leaf an audit path that leads to the root', () => {
    for (let n = 1; n <= 33; n++) {
      const leaves = Array.from({ length: n }, (_, i) => leaf(i));
      const root = merkleRoot(leaves);
      for (let i = 0; i < n; i++) {
        const path = inclusionPath(leaves, i);
        expect(path.length).toBeLessThanOrEqual(Math.ceil(Math.log2(n)));
        expect(verifyInclusion(leaves[i] as string, i, n, path, root)).toBe(true);
      }
    }
  });

  it('rejects a path for another leaf, position or root', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 200 }), fc.nat(), (n, pick) => {
        const leaves = Array.from({ length: n }, (_, i) => leaf(i));
        const i = pick % n;
        const other = (i + 1) % n;
        const root = merkleRoot(leaves);
        const path = inclusionPath(leaves, i);
        expect(verifyInclusion(leaves[other] as string, i, n, path, root)).toBe(false);
        expect(verifyInclusion(leaves[i] as string, other, n, path, root)).toBe(false);
        expect(verifyInclusion(leaves[i] as string, i, n, path, merkleRoot(leaves.slice(1)))).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('refuses a leaf outside the tree', () => {
    expect(() => inclusionPath([leaf(0)], 1)).toThrowError(
      expect.objectContaining({ code: 'invalid_query' }),
    );
    expect(verifyInclusion(leaf(0), 0, 0, [], merkleRoot([]))).toBe(false);
  });
});
