/**
 * Test helpers shared by the HTTP adapter tests: auditors on one in-memory PGlite (a schema per
 * auditor), reading events back, and raw-socket requests. Test-only; not part of the package API.
 */
import { once } from 'node:events';
import type { Server } from 'node:http';
import { connect } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { type Auditor, createAuditor } from '../../core/auditor.js';
import type { AuditorOptions } from '../../core/config.js';
import { AuditkitError } from '../../core/errors.js';
import type { AuditEvent } from '../../core/event.js';
import { pgliteStore } from '../../store/pglite/index.js';
import { flushHttpAudit } from '../http-audit.js';

let shared: Promise<PGlite> | undefined;
let schemas = 0;
const open: Auditor[] = [];

/** A sync-mode auditor in a fresh schema of the file's shared in-memory PGlite. */
export async function testAuditor(options: AuditorOptions = {}): Promise<Auditor> {
  shared ??= PGlite.create();
  const db = await shared;
  schemas += 1;
  const audit = createAuditor({
    store: pgliteStore({ db, schema: `http_test_${process.pid}_${schemas}` }),
    mode: 'sync',
    spool: false,
    ...options,
  });
  await audit.migrate();
  open.push(audit);
  return audit;
}

/** Closes every auditor made by `testAuditor` (call in afterEach). */
export async function closeTestAuditors(): Promise<void> {
  await Promise.all(open.splice(0).map((a) => a.close()));
}

/** Closes the shared PGlite (call in afterAll). */
export async function closeTestDatabase(): Promise<void> {
  const db = shared;
  shared = undefined;
  if (db) await (await db).close();
}

/** Every event stored so far, oldest first, once the HTTP adapters have handed everything over. */
export async function storedEvents(audit: Auditor): Promise<AuditEvent[]> {
  await flushHttpAudit(audit);
  const out: AuditEvent[] = [];
  let cursor: string | undefined;
  do {
    const page = await audit.query({ limit: 1000, cursor });
    out.push(...page.events);
    cursor = page.nextCursor ?? undefined;
  } while (cursor);
  return out.reverse();
}

/** The stored events of one category. */
export async function eventsOf(audit: Auditor, category: AuditEvent['category']): Promise<AuditEvent[]> {
  return (await storedEvents(audit)).filter((e) => e.category === category);
}

/** Listens on a free loopback port; returns the base URL. */
export async function listen(server: Server): Promise<string> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  return `http://127.0.0.1:${address.port}`;
}

/** Closes a server, dropping idle keep-alive connections. */
export async function closeServer(server: Server): Promise<void> {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * Sends the headers and the first part of a body that announces more, waits until the server has the
 * request, then drops the connection: a client that went away mid-upload.
 */
export async function abortedUpload(server: Server, url: string, path: string): Promise<void> {
  const { hostname, port } = new URL(url);
  const arrived = once(server, 'request');
  const socket = connect(Number(port), hostname);
  await once(socket, 'connect');
  socket.write(
    `POST ${path} HTTP/1.1\r\nHost: ${hostname}\r\nContent-Type: application/json\r\nContent-Length: 10000\r\n\r\n{"name":"partial`,
  );
  await arrived;
  socket.destroy();
  await once(socket, 'close');
}

/** Reads events until `done(events)` holds (the server may still be noticing a dropped client). */
export async function waitForEvents(
  audit: Auditor,
  done: (events: AuditEvent[]) => boolean,
  tries = 200,
): Promise<AuditEvent[]> {
  let events = await storedEvents(audit);
  for (let i = 0; i < tries && !done(events); i++) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    events = await storedEvents(audit);
  }
  return events;
}

/** Makes every later append of the auditor's store fail like a lost connection (reads keep working). */
export function breakStore(audit: Auditor): void {
  audit.store.append = async () => {
    throw new AuditkitError('store_unavailable', 'connection refused (injected)');
  };
}
