import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeEvent } from '../../test/contract/store-contract.js';
import type { AuditkitError } from '../core/errors.js';
import type { AuditEvent } from '../core/event.js';
import { createFileOutbox } from './file-outbox.js';
import { createMemoryOutbox } from './memory-outbox.js';
import type { Outbox } from './outbox.js';

const root = mkdtempSync(join(tmpdir(), 'auditkit-outbox-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `o${++n}`);
const events = (count: number) => Array.from({ length: count }, (_, i) => makeEvent({ metadata: { i } }));
const ids = (list: AuditEvent[]) => list.map((e) => e.id);

/** Reads everything the reader has not committed yet, committing as it goes. */
async function drain(outbox: Outbox, reader: string, max = 1000): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for (;;) {
    const read = await outbox.read(reader, max);
    if (read.events.length === 0) return out;
    out.push(...read.events);
    await outbox.commit(reader, read.next);
  }
}

describe.each([
  ['file outbox', (readers: string[]) => createFileOutbox({ dir: freshDir(), readers, fsync: false })],
  ['memory outbox', (readers: string[]) => createMemoryOutbox({ readers, maxEvents: 10_000 })],
] as const)('%s', (_name, make) => {
  it('gives each reader every event once, in order, with dates revived', async () => {
    const outbox = make(['a', 'b']);
    const first = events(3);
    const second = events(2);
    await outbox.append(first);
    await outbox.append(second);
    expect(outbox.pending('a')).toBe(5);
    const readA = await drain(outbox, 'a');
    expect(ids(readA)).toEqual(ids([...first, ...second]));
    expect(readA[0]?.occurredAt).toBeInstanceOf(Date);
    expect(outbox.pending('a')).toBe(0);
    expect(outbox.pending('b')).toBe(5);
    expect(ids(await drain(outbox, 'b', 2))).toEqual(ids([...first, ...second]));
    await outbox.close();
  });

  it('returns the same events again until they are committed (at-least-once)', async () => {
    const outbox = make(['a']);
    await outbox.append(events(4));
    const once = await outbox.read('a', 10);
    const twice = await outbox.read('a', 10);
    expect(ids(twice.events)).toEqual(ids(once.events));
    await outbox.commit('a', once.next);
    expect((await outbox.read('a', 10)).events).toEqual([]);
    await outbox.close();
  });

  it('splits a large appended batch over several reads of `max` events', async () => {
    const outbox = make(['a']);
    const batch = events(10);
    await outbox.append(batch);
    const sizes: number[] = [];
    const seen: AuditEvent[] = [];
    for (;;) {
      const read = await outbox.read('a', 3);
      if (read.events.length === 0) break;
      sizes.push(read.events.length);
      seen.push(...read.events);
      await outbox.commit('a', read.next);
    }
    expect(sizes).toEqual([3, 3, 3, 1]);
    expect(ids(seen)).toEqual(ids(batch));
    await outbox.close();
  });
});

describe('createMemoryOutbox', () => {
  it('past maxEvents discards the oldest, and the reader is told how many it missed', async () => {
    const outbox = createMemoryOutbox({ readers: ['slow'], maxEvents: 5 });
    const all = events(8);
    await outbox.append(all.slice(0, 4));
    await outbox.append(all.slice(4));
    const read = await outbox.read('slow', 100);
    expect(read.skipped).toBe(3);
    expect(ids(read.events)).toEqual(ids(all.slice(3)));
  });
});

describe('createFileOutbox', () => {
  it('keeps undelivered events and each cursor across close and reopen', async () => {
    const dir = freshDir();
    const first = createFileOutbox({ dir, readers: ['a', 'b'] });
    const batch = events(6);
    await first.append(batch.slice(0, 3));
    await first.append(batch.slice(3));
    const read = await first.read('a', 4);
    await first.commit('a', read.next);
    await first.close();

    const second = createFileOutbox({ dir, readers: ['a', 'b'] });
    expect(second.pending('a')).toBe(2);
    expect(second.pending('b')).toBe(6);
    expect(ids(await drain(second, 'a'))).toEqual(ids(batch.slice(4)));
    expect(ids(await drain(second, 'b'))).toEqual(ids(batch));
    // New events after a restart continue the sequence.
    const later = events(2);
    await second.append(later);
    expect(ids(await drain(second, 'a'))).toEqual(ids(later));
    await second.close();
  });

  it('deletes segments every reader has passed, and keeps those a reader still needs', async () => {
    const dir = freshDir();
    const outbox = createFileOutbox({ dir, readers: ['fast', 'slow'], maxSegmentBytes: 1, fsync: false });
    for (let i = 0; i < 5; i++) await outbox.append(events(2)); // one segment per append
    const segments = () => readdirSync(join(dir, 'log')).length;
    expect(segments()).toBe(5);
    await drain(outbox, 'fast');
    expect(segments()).toBe(5);
    const slow = await outbox.read('slow', 6);
    await outbox.commit('slow', slow.next);
    expect(segments()).toBeLessThanOrEqual(3);
    await drain(outbox, 'slow');
    expect(segments()).toBeLessThanOrEqual(1);
    await outbox.close();
  });

  it('past maxBytes deletes the oldest segments; a lagging reader skips them and is told how many', async () => {
    const dir = freshDir();
    const outbox = createFileOutbox({
      dir,
      readers: ['lagging'],
      maxSegmentBytes: 1,
      maxBytes: 3000,
      fsync: false,
    });
    const all: AuditEvent[] = [];
    for (let i = 0; i < 20; i++) {
      const batch = events(2);
      all.push(...batch);
      await outbox.append(batch);
    }
    const read = await outbox.read('lagging', 1000);
    expect(read.skipped).toBeGreaterThan(0);
    expect(read.skipped + read.events.length).toBe(40);
    expect(ids(read.events)).toEqual(ids(all.slice(read.skipped)));
    await outbox.close();
  });

  it('skips a torn last line left by a crash mid-write and reports an unreadable line', async () => {
    const dir = freshDir();
    const errors: AuditkitError[] = [];
    const first = createFileOutbox({ dir, readers: ['a'], onError: (e) => errors.push(e) });
    const before = events(2);
    await first.append(before);
    await first.close();
    const [segment] = readdirSync(join(dir, 'log'));
    appendFileSync(join(dir, 'log', segment as string), '{"v":1,"seq":2,"events":[{"id":"tor'); // the crash

    const second = createFileOutbox({ dir, readers: ['a'], onError: (e) => errors.push(e) });
    const after = events(1);
    await second.append(after);
    expect(ids(await drain(second, 'a'))).toEqual(ids([...before, ...after]));
    await second.close();

    // A line that is complete but not JSON is skipped and reported.
    const third = createFileOutbox({ dir, readers: ['a', 'late'], onError: (e) => errors.push(e) });
    const [last] = readdirSync(join(dir, 'log')).sort().slice(-1);
    writeFileSync(
      join(dir, 'log', last as string),
      `not json\n${JSON.stringify({ v: 1, seq: 2, events: after })}\n`,
    );
    await third.close();
    const fourth = createFileOutbox({ dir, readers: ['a', 'late'], onError: (e) => errors.push(e) });
    expect(ids(await drain(fourth, 'late'))).toEqual(ids(after));
    expect(errors.map((e) => e.code)).toContain('sink_outbox_corrupt');
    await fourth.close();
  });

  it('refuses a directory another live process is using', () => {
    const dir = freshDir();
    createFileOutbox({ dir, readers: ['a'] });
    writeFileSync(join(dir, 'lock'), String(process.ppid));
    expect(() => createFileOutbox({ dir, readers: ['a'] })).toThrow(
      expect.objectContaining({
        code: 'sink_outbox_failed',
        message: expect.stringMatching(/in use by process/),
      }),
    );
  });
});
