import { chmodSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeEvent } from '../../test/contract/store-contract.js';
import { jsonlFileSink } from './jsonl-file-sink.js';

const dir = mkdtempSync(join(tmpdir(), 'auditkit-jsonl-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const lines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { id: string; occurredAt: string });

describe('jsonlFileSink', () => {
  it('appends one JSON object per event and line, creating the directory', async () => {
    const path = join(dir, 'nested', 'a', 'audit.jsonl');
    const sink = jsonlFileSink({ path });
    const first = [makeEvent(), makeEvent()];
    const second = [makeEvent({ message: 'line\nbreak "quoted"' })];
    await sink.send(first);
    await sink.send(second);
    const written = lines(path);
    expect(written.map((e) => e.id)).toEqual([...first, ...second].map((e) => e.id));
    expect(written[2]).toEqual(JSON.parse(JSON.stringify(second[0])));
    expect(sink.name).toBe('jsonl-file');
  });

  it('follows a rotated file: after a rename, the next batch starts a new file', async () => {
    const path = join(dir, 'rotate.jsonl');
    const sink = jsonlFileSink({ path, fsync: false, name: 'rotating' });
    await sink.send([makeEvent()]);
    renameSync(path, `${path}.1`);
    const after = makeEvent();
    await sink.send([after]);
    expect(lines(path).map((e) => e.id)).toEqual([after.id]);
    expect(lines(`${path}.1`)).toHaveLength(1);
  });

  it.skipIf(process.getuid?.() === 0)('fails with sink_failed when the file cannot be written', async () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    chmodSync(locked, 0o500);
    await expect(jsonlFileSink({ path: join(locked, 'x.jsonl') }).send([makeEvent()])).rejects.toMatchObject({
      code: 'sink_failed',
    });
  });

  it('fails with sink_failed when the path is a directory', async () => {
    const path = join(dir, 'is-a-dir');
    mkdirSync(path);
    await expect(jsonlFileSink({ path }).send([makeEvent()])).rejects.toMatchObject({
      code: 'sink_failed',
      message: expect.stringContaining(path),
    });
  });
});
