import { randomBytes, randomUUID } from 'node:crypto';
import { availableParallelism } from 'node:os';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { GENESIS_HASH } from './event-hash.js';
import { type CheckRowsJob, runHashJob, type SealChainJob, type SealChainResult } from './hash-jobs.js';
import { AUTO_WORKERS_MIN_EVENTS, createHashPool, inlinePool, workerCount } from './hash-pool.js';

/** Stored event JSON of one chain, with the odd corners canonical JSON has to get right. */
function chainJob(texts: string[]): SealChainJob {
  return {
    prevHash: GENESIS_HASH,
    firstSeq: 1,
    tenantId: 'org_w',
    ids: texts.map(() => randomUUID()),
    ats: texts.map((_, i) => `2026-03-10T12:00:0${i % 10}.123456Z`),
    data: texts,
    salts: texts.map(() => randomBytes(16).toString('hex')),
  };
}

const texts = [
  JSON.stringify({ id: 'a', category: 'auth', actor: { type: 'user', id: 'u1', label: 'Zoë 👩‍👩‍👧' } }),
  '{"b": 1.0, "a": [1e21, 0.000001, -0, "x\\ny"], "10": true, "9": null, "__proto__": {"x": 1}}',
  JSON.stringify({
    request: { method: 'GET', status: 200, body: { nested: [{ z: 1, y: 2 }] } },
    message: '"quoted"',
  }),
];

describe('hash pool', () => {
  const pool = createHashPool(1);
  afterAll(() => pool.close());

  it("'auto' hashes on the calling thread for small runs, and uses the spare cores for large ones", () => {
    expect(workerCount('auto', AUTO_WORKERS_MIN_EVENTS - 1)).toBe(0);
    expect(workerCount('auto', 1_000_000)).toBe(Math.min(4, Math.max(0, availableParallelism() - 1)));
    expect(workerCount(2, 1)).toBe(2);
    expect(workerCount(0, 1_000_000)).toBe(0);
  });

  it('a worker gives exactly what the calling thread gives: seals, row checks and Merkle roots', async () => {
    const job = chainJob(texts);
    const inThread = runHashJob({ kind: 'seal', jobs: [job] }) as SealChainResult[];
    expect(await pool.run<SealChainResult[]>({ kind: 'seal', jobs: [job] })).toEqual(inThread);
    expect(pool.size).toBe(1);
    const sealed = inThread[0] as SealChainResult;
    // Each row checked against the stored hash before it; a changed row and a row after a gap do not fit.
    const check: CheckRowsJob = {
      seqs: [1, 2, 4],
      ids: job.ids,
      ats: job.ats,
      tenantIds: ['org_w', 'org_w', 'org_w'],
      data: [texts[0] as string, (texts[1] as string).replace('1.0', '2'), texts[2] as string],
      salts: job.salts,
      digests: sealed.digests,
      hashes: sealed.hashes,
      prevs: [GENESIS_HASH, sealed.hashes[0] as string, null],
    };
    expect([...(await pool.run<Uint8Array>({ kind: 'check', job: check }))]).toEqual([1, 0, 0]);
    expect(await pool.run<string>({ kind: 'merkle', leaves: sealed.hashes })).toBe(
      runHashJob({ kind: 'merkle', leaves: sealed.hashes }),
    );
  });

  it('agrees with the calling thread on any JSON an event can hold', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.dictionary(fc.string(), fc.jsonValue()), { minLength: 1, maxLength: 5 }),
        async (values) => {
          const job = chainJob(values.map((v) => JSON.stringify(v)));
          expect(await pool.run({ kind: 'seal', jobs: [job] })).toEqual(
            runHashJob({ kind: 'seal', jobs: [job] }),
          );
        },
      ),
      { numRuns: 30 },
    );
  });

  it('runs jobs on the calling thread once closed, and without workers at all', async () => {
    const closed = createHashPool(1);
    await closed.run({ kind: 'merkle', leaves: [GENESIS_HASH] });
    await closed.close();
    expect(closed.size).toBe(0);
    expect(await closed.run({ kind: 'merkle', leaves: [GENESIS_HASH] })).toBe(
      runHashJob({ kind: 'merkle', leaves: [GENESIS_HASH] }),
    );
    expect(inlinePool().size).toBe(0);
    expect(createHashPool(0).size).toBe(0);
  });
});
