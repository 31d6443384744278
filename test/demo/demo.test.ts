/**
 * `npm start` runs examples/demo/main.ts: this starts it as a child process (its own data directory, a
 * free port) and checks that a newcomer sees audit events at once, with secrets masked.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pgliteStore } from '../../src/store/pglite/index.js';

const root = new URL('../../', import.meta.url).pathname;
let child: ChildProcess;
let base = '';
let dataDir = '';

beforeAll(async () => {
  dataDir = mkdtempSync(join(tmpdir(), 'auditkit-demo-'));
  child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo/main.ts'], {
    cwd: root,
    env: { ...process.env, PORT: '0', DEMO_DATA_DIR: dataDir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  base = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`demo did not start:\n${output}`)), 45_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Auditkit demo on (http:\/\/\S+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1] as string);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.once('exit', (code) => reject(new Error(`demo exited with ${code}:\n${output}`)));
  });
}, 60_000);

afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dataDir, { recursive: true, force: true });
});

describe('the demo app (npm start)', () => {
  it('shows the events of its first-run tour: logins, changes, an upload, an error, a 401', async () => {
    const page = await (await fetch(`${base}/`)).text();
    for (const text of ['user.login', 'record.created', 'record.updated', 'record.deleted', 'http.error']) {
      expect(page).toContain(text);
    }
    expect(page).toContain('POST /api/uploads 201');
    expect(page).toContain('GET /api/invoices 401');
  });

  it('audits a login made by hand, and serves the API with the token', async () => {
    const login = await fetch(`${base}/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'grace', password: 'hopper' }),
    });
    expect(login.status).toBe(200);
    const { token } = (await login.json()) as { token: string };
    const list = await fetch(`${base}/api/invoices`, { headers: { authorization: `Bearer ${token}` } });
    expect(list.status).toBe(200);
    expect(await (await fetch(`${base}/`)).text()).toContain('Grace Hopper');
  });

  it('never stores the passwords, tokens or IBAN the tour sent', async () => {
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
    const store = pgliteStore({ dataDir: join(dataDir, 'audit') });
    const { events } = await store.query({ limit: 500 });
    await store.close();
    expect(events.length).toBeGreaterThan(15);
    const everything = JSON.stringify(events);
    expect(everything).not.toContain('lovelace');
    expect(everything).not.toContain('hopper');
    expect(everything).not.toContain('GB82WEST12345698765432');
    expect(everything).not.toMatch(/eyJ[\w-]+\.[\w-]+\.[\w-]+/);
  });
});
