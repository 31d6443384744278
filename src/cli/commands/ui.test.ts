import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPassword } from '../../ui/auth/password.js';
import { CookieClient } from '../../ui/testing/fixtures.js';
import { runCli } from '../main.js';

const root = new URL('../../../', import.meta.url).pathname;
const PASSWORD = 'correct horse battery staple';
let dir = '';
let child: ChildProcess | undefined;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'auditkit-cli-ui-'));
});
afterAll(async () => {
  if (child && child.exitCode === null) {
    const exited = new Promise((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  }
  rmSync(dir, { recursive: true, force: true });
});

function capture() {
  let stdout = '';
  let stderr = '';
  return {
    io: { stdout: (t: string) => (stdout += t), stderr: (t: string) => (stderr += t), env: {} },
    out: () => stdout,
    err: () => stderr,
  };
}

describe('auditkit ui', () => {
  it('refuses to start when no one could log in', async () => {
    const { io, err } = capture();
    expect(await runCli(['ui', '--data-dir', join(dir, 'none'), '--port', '0'], io)).toBe(1);
    expect(err()).toContain('No one could log in');
  });

  it('serves the UI on its own server against a store, with users from a file, until SIGTERM', async () => {
    const passwordHash = await hashPassword(PASSWORD, { memoryCost: 4096, timeCost: 2 });
    const users = join(dir, 'users.json');
    writeFileSync(users, JSON.stringify([{ username: 'ops', passwordHash, role: 'auditor', name: 'Ops' }]));
    child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/bin.ts',
        'ui',
        '--data-dir',
        join(dir, 'data'),
        '--port',
        '0',
        '--base-path',
        '/audit',
        '--users',
        users,
      ],
      {
        cwd: root,
        env: { ...process.env, AUDITKIT_UI_SESSION_SECRET: 'a-session-secret-of-at-least-32-chars!' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`auditkit ui did not start:\n${output}`)), 45_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /Auditkit UI on (http:\/\/\S+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(match[1] as string);
        }
      };
      child?.stdout?.on('data', onData);
      child?.stderr?.on('data', onData);
      child?.once('exit', (code) => reject(new Error(`auditkit ui exited with ${code}:\n${output}`)));
    });
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/audit\/$/);
    const origin = new URL(url).origin;
    const browser = new CookieClient((request) => fetch(request), origin);
    expect((await browser.request('/audit/events')).status).toBe(401);
    expect((await browser.login('/audit', 'ops', PASSWORD)).status).toBe(303);
    const page = await (await browser.request('/audit/events')).text();
    expect(page).toContain('ui.login'); // its own login, recorded synchronously in the store it shows
    const exited = new Promise<number | null>((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
  }, 90_000);

  it('hashes a password read from standard input', async () => {
    const hashed = spawn(process.execPath, ['--import', 'tsx', 'src/cli/bin.ts', 'ui', 'hash-password'], {
      cwd: root,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    hashed.stdout.on('data', (c: Buffer) => (out += c.toString()));
    hashed.stdin.end(`${PASSWORD}\n`);
    const code = await new Promise((resolve) => hashed.once('exit', resolve));
    expect(code).toBe(0);
    expect(out.trim()).toMatch(/^\$argon2id\$/);
    const argon2 = (await import('argon2')).default;
    expect(await argon2.verify(out.trim(), PASSWORD)).toBe(true);
  });
});
