import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditEvent } from '../core/event.js';
import { generateSigningKeys } from '../integrity/keys.js';
import { seal } from '../integrity/sealer.js';
import { verify } from '../integrity/verify.js';
import { pgliteStore } from '../store/pglite/index.js';
import type { SqlAuditStore } from '../store/sql/sql-audit-store.js';
import type { AuditQuery, AuditStore } from '../store/store.js';
import { csvField } from './csv-report.js';
import { streamEvents } from './event-stream.js';
import { exportEvents } from './export.js';

const dir = mkdtempSync(join(tmpdir(), 'auditkit-report-'));
const keys = generateSigningKeys();
const BASE = Date.parse('2026-09-01T08:00:00.000Z');
let store: SqlAuditStore;
const events: AuditEvent[] = [];

function has(command: string): boolean {
  try {
    execFileSync(command, ['-v'], { stdio: 'pipe' });
    return true;
  } catch (error) {
    return (error as { code?: string }).code !== 'ENOENT';
  }
}

/** A writable that keeps everything it gets, slowly, with a tiny buffer: writers must wait for drain. */
function slowSink(): { sink: Writable; text: () => string; maxBuffered: () => number } {
  const chunks: Buffer[] = [];
  let maxBuffered = 0;
  const sink = new Writable({
    highWaterMark: 1024,
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(Buffer.from(chunk));
      setImmediate(callback);
    },
  });
  const write = sink.write.bind(sink);
  sink.write = ((chunk: unknown, ...rest: unknown[]) => {
    maxBuffered = Math.max(maxBuffered, sink.writableLength);
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof sink.write;
  return { sink, text: () => Buffer.concat(chunks).toString('utf8'), maxBuffered: () => maxBuffered };
}

/** Splits RFC 4180 CSV into rows of fields. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

beforeAll(async () => {
  store = pgliteStore();
  await store.migrate();
  const categories = ['change', 'auth', 'access', 'change', 'error'] as const;
  for (let i = 0; i < 25; i++) {
    events.push({
      id: randomUUID(),
      occurredAt: new Date(BASE + i * 60_000),
      category: categories[i % 5] as AuditEvent['category'],
      action: i === 3 ? 'invoice.exported' : `action.${i % 5}`,
      outcome: i % 4 === 0 ? 'failure' : 'success',
      tenantId: i < 20 ? 'org_1' : 'org_2',
      actor: { type: 'user', id: `u${i % 3}`, label: i % 3 === 0 ? 'Zoë "Z" Müller, CFO' : `User ${i % 3}` },
      target: { type: 'invoice', id: `INV-${i}` },
      message: i === 5 ? '=HYPERLINK("http://evil.example")' : `line one\nline two ${i}`,
      changes: { total: [i, i + 1] },
    });
  }
  await store.append(events);
  await seal(store, { signingKey: keys.privateKeyPem, checkpointEvery: 10, checkpointNow: true });
});

afterAll(async () => {
  await store.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('streamEvents', () => {
  it('reads every matching event page by page, newest first', async () => {
    const limits: number[] = [];
    const counting: AuditStore = {
      ...store,
      name: store.name,
      migrate: () => store.migrate(),
      append: (e) => store.append(e),
      get: (id) => store.get(id),
      close: async () => {},
      query: (q?: AuditQuery) => {
        limits.push(q?.limit ?? 0);
        return store.query(q);
      },
    };
    const seen: AuditEvent[] = [];
    for await (const e of streamEvents(counting, { tenantId: 'org_1' }, 7)) seen.push(e);
    expect(seen).toHaveLength(20);
    expect(seen[0]?.occurredAt.getTime()).toBeGreaterThan(seen[19]?.occurredAt.getTime() as number);
    expect(limits).toEqual([7, 7, 7]);
  });
});

describe('CSV export', () => {
  it('writes a header and one row per event, quoting what needs it and defusing formulas', async () => {
    const { sink, text, maxBuffered } = slowSink();
    const progress: number[] = [];
    const result = await exportEvents(store, {
      format: 'csv',
      out: sink,
      pageSize: 4,
      onProgress: (n) => progress.push(n),
    });
    expect(result.events).toBe(25);
    expect(progress.at(-1)).toBe(25);
    const rows = parseCsv(text());
    expect(rows[0]?.slice(0, 6)).toEqual(['id', 'occurred_at', 'tenant_id', 'category', 'action', 'outcome']);
    expect(rows).toHaveLength(26);
    const header = rows[0] as string[];
    const byId = new Map(
      rows.slice(1).map((r) => [r[0], Object.fromEntries(header.map((h, i) => [h, r[i]]))]),
    );
    expect(byId.get(events[0]?.id)).toMatchObject({
      actor_label: 'Zoë "Z" Müller, CFO',
      message: 'line one\nline two 0',
      changes: '{"total":[0,1]}',
      seq: '1',
    });
    expect(byId.get(events[5]?.id)?.message).toBe(`'=HYPERLINK("http://evil.example")`);
    // The exporter waited for the slow sink instead of piling data up in memory.
    expect(maxBuffered()).toBeLessThan(4096);
    expect(csvField(-3)).toBe('-3');
    expect(csvField('-3')).toBe("'-3");
  });
});

describe('JSONL export', () => {
  it('writes each event as one JSON line, filtered like a query', async () => {
    const out = new PassThrough();
    const chunks: Buffer[] = [];
    out.on('data', (c: Buffer) => chunks.push(c));
    const result = await exportEvents(store, { format: 'jsonl', out, query: { tenantId: 'org_2' } });
    expect(result.events).toBe(5);
    const lines = Buffer.concat(chunks).toString('utf8').trimEnd().split('\n');
    const parsed = lines.map((l) => JSON.parse(l) as { id: string; tenantId: string });
    expect(parsed.map((p) => p.id).sort()).toEqual(
      events
        .slice(20)
        .map((e) => e.id)
        .sort(),
    );
    expect(parsed.every((p) => p.tenantId === 'org_2')).toBe(true);
  });
});

describe('PDF export', () => {
  const render = async (name: string, options: Partial<Parameters<typeof exportEvents>[1]> = {}) => {
    const chunks: Buffer[] = [];
    const out = new Writable({
      write(chunk: Buffer, _e, cb) {
        chunks.push(Buffer.from(chunk));
        cb();
      },
    });
    const verification = await verify(store, { publicKey: keys.publicKeyPem });
    await exportEvents(store, {
      format: 'pdf',
      out,
      title: 'Quarterly access review',
      query: { tenantId: 'org_1', from: new Date(BASE) },
      verification,
      now: () => new Date('2026-10-01T00:00:00.000Z'),
      ...options,
    });
    const file = join(dir, name);
    writeFileSync(file, Buffer.concat(chunks));
    return { file, verification };
  };

  it('is a real PDF: it renders, and holds the title, filters, summary, verification and page numbers', async () => {
    const { file, verification } = await render('report.pdf');
    const bytes = readFileSync(file);
    expect(bytes.subarray(0, 5).toString()).toBe('%PDF-');
    expect(bytes.subarray(-6).toString()).toContain('%%EOF');
    if (!has('pdftoppm') || !has('pdftotext')) {
      console.warn(
        'pdftoppm/pdftotext not installed (apt-get install poppler-utils): only structural checks ran',
      );
      return;
    }
    execFileSync('pdftoppm', ['-png', '-r', '40', '-f', '1', '-l', '1', file, join(dir, 'page')]);
    const png = readFileSync(join(dir, 'page-1.png'));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.length).toBeGreaterThan(1000);
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    expect(text).toContain('Quarterly access review');
    expect(text).toContain('tenantId: org_1');
    expect(text).toContain('Events: 20');
    expect(text).toContain('change: 8');
    expect(text).toContain('failure: 5');
    expect(verification.checkpointsVerified).toBe(3);
    expect(text).toContain('OK: the chain is intact. 25 events checked, 3 checkpoints verified.');
    expect(text).toContain(`public key ${keys.keyId}`);
    const chain = verification.chains.find((c) => c.tenantId === 'org_1');
    expect(text).toContain(`last checkpoint ${chain?.lastCheckpointId?.slice(0, 16)}`);
    expect(text).toContain('invoice.exported');
    expect(text).toContain('page 1');
  });

  it('spans pages with numbers, and caps the table with a note while still counting every event', async () => {
    const { file } = await render('capped.pdf', { query: {}, pdf: { maxRows: 3 } });
    if (!has('pdftotext')) return;
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    expect(text).toContain('Events: 25');
    expect(text).toContain('22 more event(s) not listed');
    const many = await store.query({ limit: 1 });
    expect(many.events).toHaveLength(1);
  });

  it('says when nothing matches, and rejects unknown options', async () => {
    const { file } = await render('empty.pdf', { query: { tenantId: 'nobody' } });
    if (has('pdftotext')) {
      expect(execFileSync('pdftotext', [file, '-'], { encoding: 'utf8' })).toContain(
        'No events match the filters.',
      );
    }
    await expect(
      exportEvents(store, { format: 'pdf', out: new PassThrough(), colour: 'red' } as never),
    ).rejects.toMatchObject({ code: 'invalid_config' });
  });
});
