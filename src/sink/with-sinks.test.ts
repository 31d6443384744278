import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeEvent, queryAll } from '../../test/contract/store-contract.js';
import {
  startWebhookReceiver,
  type WebhookReceiver,
} from '../../test/reliability/fixtures/http-webhook-receiver.js';
import { createAuditor } from '../core/auditor.js';
import { pgliteStore } from '../store/pglite/index.js';
import { jsonlFileSink } from './jsonl-file-sink.js';
import { webhookSink } from './webhook-sink.js';
import { withSinks } from './with-sinks.js';

const root = mkdtempSync(join(tmpdir(), 'auditkit-with-sinks-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const freshDir = () => join(root, `w${++n}`);
const secret = 'with-sinks-test-secret-0123456789';
const quick = { minDelayMs: 20, maxDelayMs: 200 };

describe('withSinks', () => {
  let receiver: WebhookReceiver;
  beforeAll(async () => {
    receiver = await startWebhookReceiver({ secret });
  });
  afterAll(() => receiver.close());

  it('forwards every event the store confirmed to a signed webhook and a JSON-lines file', async () => {
    const dir = freshDir();
    const file = join(dir, 'audit.jsonl');
    const store = withSinks(pgliteStore(), {
      sinks: [webhookSink({ url: receiver.url, secret }), jsonlFileSink({ path: file })],
      dir: join(dir, 'outbox'),
    });
    const audit = createAuditor({ store, spool: false, batchSize: 50 });
    await audit.migrate();
    const before = receiver.deliveries.length;
    const recorded: string[] = [];
    for (let i = 0; i < 120; i++)
      recorded.push((await audit.record({ category: 'custom', action: 'sink.tick' })).id);
    await audit.flush();
    expect(await store.sinks.flush(10_000)).toBe(true);

    const deliveries = receiver.deliveries.slice(before);
    const viaWebhook = deliveries.flatMap((d) => d.body.events.map((e) => e.id));
    expect(viaWebhook.sort()).toEqual([...recorded].sort());
    expect(deliveries.every((d) => d.signed)).toBe(true);
    const inFile = readFileSync(file, 'utf8')
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as { id: string }).id);
    expect(inFile.sort()).toEqual([...recorded].sort());
    // Forwarded only once stored: every forwarded event can be read back from the store.
    expect((await queryAll(store, { limit: 1000 })).map((e) => e.id).sort()).toEqual([...recorded].sort());
    console.log(
      `[sinks] ${recorded.length} events recorded; webhook got ${viaWebhook.length} in ${deliveries.length} signed deliveries; file got ${inFile.length} lines`,
    );
    await audit.close();
  });

  it('a webhook that hangs never slows ingestion; its events arrive once it answers again', async () => {
    const store = withSinks(pgliteStore(), {
      sinks: [webhookSink({ url: receiver.url, secret, timeoutMs: 300 })],
      dir: freshDir(),
      retry: quick,
    });
    const audit = createAuditor({ store, spool: false, batchSize: 200 });
    await audit.migrate();
    receiver.setMode('hang');
    const before = receiver.deliveries.length;
    const recorded: string[] = [];
    try {
      for (let i = 0; i < 2000; i++)
        recorded.push((await audit.record({ category: 'custom', action: 'hang.tick' })).id);
      await audit.flush();
      // Every event is stored while the webhook has taken none.
      expect(audit.stats()).toMatchObject({ written: 2000, lost: 0 });
      expect(store.sinks.stats()[0]).toMatchObject({ delivered: 0, pending: 2000 });
    } finally {
      receiver.setMode('ok');
    }
    expect(await store.sinks.flush(20_000)).toBe(true);
    const got = receiver.deliveries.slice(before).flatMap((d) => d.body.events.map((e) => e.id));
    expect(new Set(got)).toEqual(new Set(recorded));
    console.log(
      `[sinks] webhook hanging while 2000 events were recorded and stored; afterwards it got ${new Set(got).size} distinct (${got.length - new Set(got).size} repeats), ${store.sinks.stats()[0]?.failures} failed attempts`,
    );
    await audit.close();
  });

  it('keeps undelivered events in the outbox across a restart and delivers them then (at-least-once)', async () => {
    const dir = freshDir();
    const other = await startWebhookReceiver({ secret });
    await other.stop(); // connections refused
    const options = { dir, retry: quick, closeTimeoutMs: 0 };
    const first = createAuditor({
      store: withSinks(pgliteStore(), { sinks: [webhookSink({ url: other.url, secret })], ...options }),
      spool: false,
    });
    await first.migrate();
    const recorded: string[] = [];
    for (let i = 0; i < 30; i++)
      recorded.push((await first.record({ category: 'custom', action: 'later' })).id);
    await first.close();

    await other.start();
    const second = withSinks(pgliteStore(), { sinks: [webhookSink({ url: other.url, secret })], ...options });
    expect(await second.sinks.flush(10_000)).toBe(true);
    expect(other.eventIds().sort()).toEqual([...recorded].sort());
    await second.close();
    await other.close();
  });

  it('forwards a replayed batch again (its first attempt may have been lost after the store had it)', async () => {
    const forwarded: string[] = [];
    const store = withSinks(pgliteStore(), {
      sinks: [{ name: 'memory', send: async (events) => void forwarded.push(...events.map((e) => e.id)) }],
    });
    await store.migrate();
    const batch = [makeEvent(), makeEvent()];
    await store.append(batch);
    expect(await store.append(batch)).toEqual({ inserted: 0, duplicates: 2 });
    expect(await store.sinks.flush(5000)).toBe(true);
    expect(forwarded).toEqual([...batch, ...batch].map((e) => e.id));
    expect(await queryAll(store)).toHaveLength(2);
    await store.close();
  });

  it('forwards nothing the store refused', async () => {
    const forwarded: string[] = [];
    const store = withSinks(pgliteStore(), {
      sinks: [{ name: 'memory', send: async (events) => void forwarded.push(...events.map((e) => e.id)) }],
    });
    await store.migrate();
    await expect(store.append([makeEvent({ metadata: { big: 1n } })])).rejects.toMatchObject({
      code: 'invalid_event',
    });
    expect(await store.sinks.flush(1000)).toBe(true);
    expect(forwarded).toEqual([]);
    await store.close();
  });
});
