import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeEvent } from '../../test/contract/store-contract.js';
import { AuditkitError } from '../core/errors.js';
import type { AuditEvent } from '../core/event.js';
import type { Sink } from './sink.js';
import { createSinkForwarder } from './sink-forwarder.js';

const root = mkdtempSync(join(tmpdir(), 'auditkit-forwarder-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `f${++n}`);
const events = (count: number) => Array.from({ length: count }, (_, i) => makeEvent({ metadata: { i } }));
const quick = { minDelayMs: 5, maxDelayMs: 20 };

/** A sink that keeps what it receives in memory and can be switched to failing, or to never answering. */
function recordingSink(name = 'recording') {
  const received: AuditEvent[][] = [];
  let state: 'up' | 'down' | 'stuck' = 'up';
  const sink: Sink & {
    received: AuditEvent[][];
    ids(): string[];
    set(s: typeof state): void;
    calls: number;
  } = {
    name,
    received,
    calls: 0,
    ids: () => received.flat().map((e) => e.id),
    set: (s) => {
      state = s;
    },
    send(batch, options) {
      sink.calls += 1;
      if (state === 'down') return Promise.reject(new AuditkitError('sink_failed', `${name} is down`));
      if (state === 'stuck') {
        return new Promise<void>((_, reject) =>
          options?.signal?.addEventListener('abort', () => reject(new Error('aborted'))),
        );
      }
      received.push([...batch]);
      return Promise.resolve();
    },
  };
  return sink;
}

describe('createSinkForwarder', () => {
  it('delivers every pushed event to every sink, in batches of at most batchSize', async () => {
    const a = recordingSink('a');
    const b = recordingSink('b');
    const forwarder = createSinkForwarder({ sinks: [a, b], batchSize: 4 });
    const pushed = events(10);
    await forwarder.push(pushed.slice(0, 6));
    await forwarder.push(pushed.slice(6));
    expect(await forwarder.flush(5000)).toBe(true);
    expect(a.ids()).toEqual(pushed.map((e) => e.id));
    expect(b.ids()).toEqual(pushed.map((e) => e.id));
    expect(Math.max(...a.received.map((batch) => batch.length))).toBeLessThanOrEqual(4);
    expect(forwarder.stats()).toEqual([
      { name: 'a', delivered: 10, pending: 0, failures: 0, dropped: 0, down: false, lastError: null },
      { name: 'b', delivered: 10, pending: 0, failures: 0, dropped: 0, down: false, lastError: null },
    ]);
    await forwarder.close();
  });

  it('a sink that fails gets the same events again until it takes them; the other sink is not held up', async () => {
    const flaky = recordingSink('flaky');
    const steady = recordingSink('steady');
    const errors: AuditkitError[] = [];
    const forwarder = createSinkForwarder({
      sinks: [flaky, steady],
      retry: quick,
      onError: (e) => errors.push(e),
    });
    flaky.set('down');
    const pushed = events(5);
    await forwarder.push(pushed);
    await expect.poll(() => steady.ids().length, { timeout: 5000 }).toBe(5);
    await expect.poll(() => flaky.calls, { timeout: 5000 }).toBeGreaterThan(2);
    expect(forwarder.stats()[0]).toMatchObject({ name: 'flaky', down: true, pending: 5, delivered: 0 });
    // One report per outage, not one per attempt.
    expect(errors.filter((e) => e.code === 'sink_failed')).toHaveLength(1);
    flaky.set('up');
    expect(await forwarder.flush(5000)).toBe(true);
    expect(flaky.ids()).toEqual(pushed.map((e) => e.id));
    expect(forwarder.stats()[0]).toMatchObject({ down: false, delivered: 5, lastError: 'flaky is down' });
    await forwarder.close();
  });

  it('push() resolves while a sink hangs: a stuck sink never slows the producer', async () => {
    const stuck = recordingSink('stuck');
    stuck.set('stuck');
    const forwarder = createSinkForwarder({ sinks: [stuck], closeTimeoutMs: 0, dir: freshDir() });
    for (let i = 0; i < 50; i++) await forwarder.push(events(20));
    expect(forwarder.stats()[0]).toMatchObject({ delivered: 0, pending: 1000 });
    expect(await forwarder.flush(50)).toBe(false);
    await forwarder.close(); // aborts the hanging send
  });

  it('with dir, what a sink did not confirm before close is delivered after the next start (stored cursor)', async () => {
    const dir = freshDir();
    const sink = recordingSink('siem');
    const first = createSinkForwarder({ sinks: [sink], dir, closeTimeoutMs: 0, retry: quick });
    const delivered = events(3);
    await first.push(delivered);
    expect(await first.flush(5000)).toBe(true);
    sink.set('down');
    const waiting = events(4);
    await first.push(waiting);
    await first.close();

    const again = recordingSink('siem');
    const second = createSinkForwarder({ sinks: [again], dir, retry: quick });
    expect(second.stats()[0]?.pending).toBe(4);
    expect(await second.flush(5000)).toBe(true);
    expect(again.ids()).toEqual(waiting.map((e) => e.id));
    await second.close();
  });

  it('without dir, reports events still undelivered at close as sink_undelivered', async () => {
    const sink = recordingSink();
    sink.set('down');
    const errors: AuditkitError[] = [];
    const forwarder = createSinkForwarder({
      sinks: [sink],
      closeTimeoutMs: 0,
      retry: quick,
      onError: (e) => errors.push(e),
    });
    await forwarder.push(events(3));
    await forwarder.close();
    expect(errors.at(-1)).toMatchObject({ code: 'sink_undelivered', details: { undelivered: 3 } });
    await expect(forwarder.push(events(1))).rejects.toMatchObject({ code: 'closed' });
  });

  it('past maxOutboxEvents drops the oldest events of a sink that is down, counting and reporting them', async () => {
    const sink = recordingSink();
    sink.set('down');
    const errors: AuditkitError[] = [];
    const forwarder = createSinkForwarder({
      sinks: [sink],
      maxOutboxEvents: 10,
      retry: quick,
      onError: (e) => errors.push(e),
    });
    const pushed = events(25);
    await forwarder.push(pushed);
    sink.set('up');
    expect(await forwarder.flush(5000)).toBe(true);
    expect(sink.ids()).toEqual(pushed.slice(15).map((e) => e.id));
    expect(forwarder.stats()[0]).toMatchObject({ dropped: 15, delivered: 10 });
    expect(errors.map((e) => e.code)).toContain('sink_overflow');
    await forwarder.close();
  });

  it('rejects no sinks, duplicate names and unknown options with invalid_config', () => {
    expect(() => createSinkForwarder({ sinks: [] })).toThrow(
      expect.objectContaining({ code: 'invalid_config' }),
    );
    expect(() => createSinkForwarder({ sinks: [recordingSink('x'), recordingSink('x')] })).toThrow(/unique/);
    expect(() => createSinkForwarder({ sinks: [recordingSink()], batchsize: 5 } as never)).toThrow(
      /batchsize/,
    );
    expect(() => createSinkForwarder({ sinks: [{ name: 'x' } as never] })).toThrow(/must be a Sink/);
  });
});
