/**
 * A throwaway PostgreSQL server for tests and benchmarks: `initdb` into a temporary directory (trust
 * auth, loopback only, fsync off), started on a free port, stopped and started again at will so fault
 * tests can take the database away mid-run. As root it runs the server as an unprivileged user
 * (`postgres` if it exists, else `nobody`), since PostgreSQL refuses to run as root.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { accessSync, chmodSync, chownSync, constants, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import pg from 'pg';

export interface PostgresBinaries {
  initdb: string;
  postgres: string;
  bindir: string;
}

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres` */
  url: string;
  port: number;
  /** The cluster's data directory. */
  dataDir: string;
  /** Fast shutdown (SIGINT): connections are closed, the data stays for `start()`. */
  stop(): Promise<void>;
  /** Starts the server again on the same port and data; resolves once it accepts connections. */
  start(): Promise<void>;
  restart(): Promise<void>;
  /** Stops the server and deletes its directory. */
  destroy(): Promise<void>;
  /** The last lines the server logged, for diagnosing a failure. */
  log(): string;
}

/** True when `path` is a file this process may execute. */
export function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function binariesIn(bindir: string): PostgresBinaries | null {
  const initdb = join(bindir, 'initdb');
  const postgres = join(bindir, 'postgres');
  return isExecutable(initdb) && isExecutable(postgres) ? { initdb, postgres, bindir } : null;
}

/**
 * Finds `initdb` and `postgres`: `$AUDITKIT_PG_BINDIR`, then `pg_config --bindir`, then `PATH`, then the
 * newest `/usr/lib/postgresql/<version>/bin`. Null when there are none.
 */
export function findPostgresBinaries(): PostgresBinaries | null {
  const candidates: string[] = [];
  if (process.env.AUDITKIT_PG_BINDIR) candidates.push(process.env.AUDITKIT_PG_BINDIR);
  try {
    candidates.push(execFileSync('pg_config', ['--bindir'], { encoding: 'utf8', stdio: 'pipe' }).trim());
  } catch {
    // no pg_config on PATH
  }
  candidates.push(...(process.env.PATH ?? '').split(delimiter).filter(Boolean));
  try {
    const versions = readdirSync('/usr/lib/postgresql')
      .filter((v) => /^\d+$/.test(v))
      .sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => `/usr/lib/postgresql/${v}/bin`));
  } catch {
    // not a Debian-style layout
  }
  for (const dir of candidates) {
    const found = binariesIn(dir);
    if (found) return found;
  }
  return null;
}

interface RunAs {
  uid: number;
  gid: number;
  name: string;
}

/** As root: the unprivileged user to run PostgreSQL as. Otherwise null (run as ourselves). */
function unprivilegedUser(): RunAs | null {
  if (typeof process.getuid !== 'function' || process.getuid() !== 0) return null;
  for (const name of ['postgres', 'nobody']) {
    try {
      const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: 'pipe' }).trim());
      const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: 'pipe' }).trim());
      if (Number.isInteger(uid) && Number.isInteger(gid)) return { uid, gid, name };
    } catch {
      // no such user
    }
  }
  throw new Error(
    'Running as root, but there is neither a "postgres" nor a "nobody" user to run PostgreSQL as.',
  );
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

const running = new Set<ChildProcess>();
const directories = new Set<string>();
let exitHookInstalled = false;

/** If the process exits without stopping its servers, kill them (immediate shutdown) and remove their files. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.kill('SIGQUIT');
    for (const dir of directories) {
      try {
        rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
      } catch {
        // best effort
      }
    }
  });
}

function run(command: string, args: string[], as: RunAs | null, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(as ? { uid: as.uid, gid: as.gid } : {}),
    });
    let output = '';
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (code === 0) resolve(output);
      else reject(new Error(`${command} failed (${signal ?? `exit code ${code}`}):\n${output}`));
    });
  });
}

async function canConnect(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => {});
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => {});
  }
}

export interface StartPostgresOptions {
  /** Port to listen on; a free one by default. */
  port?: number;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string | number>;
  /** How long to wait for the server to accept connections (default 30 s). */
  startTimeoutMs?: number;
}

/**
 * Creates a cluster in a temporary directory and starts it on a loopback port.
 * Throws when no PostgreSQL binaries are installed (check {@link findPostgresBinaries} first to skip).
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const binaries = findPostgresBinaries();
  if (!binaries) {
    throw new Error(
      'PostgreSQL binaries (initdb, postgres) were not found in $AUDITKIT_PG_BINDIR, pg_config --bindir, PATH ' +
        'or /usr/lib/postgresql/*/bin. Install them (apt-get install postgresql) or set AUDITKIT_TEST_PG_URL.',
    );
  }
  const as = unprivilegedUser();
  const base = mkdtempSync(join(as ? '/tmp' : tmpdir(), 'auditkit-pg-'));
  directories.add(base);
  installExitHook();
  chmodSync(base, 0o700);
  if (as) chownSync(base, as.uid, as.gid);
  const dataDir = join(base, 'data');
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C', LANG: 'C', PGTZ: 'UTC' };
  if (as) env.HOME = base;

  await run(
    binaries.initdb,
    ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'],
    as,
    env,
  );

  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: base,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    max_connections: 200,
    log_min_messages: 'warning',
    timezone: 'UTC',
    ...options.settings,
  };
  const startTimeoutMs = options.startTimeoutMs ?? 30_000;
  let port = options.port ?? (await freePort());
  let child: ChildProcess | undefined;
  let logTail: string[] = [];
  const url = () => `postgres://postgres@127.0.0.1:${port}/postgres`;

  const launch = async (): Promise<void> => {
    const args = ['-D', dataDir, '-p', String(port)];
    for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);
    const proc = spawn(binaries.postgres, args, {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(as ? { uid: as.uid, gid: as.gid } : {}),
    });
    child = proc;
    running.add(proc);
    const remember = (d: Buffer) => {
      logTail.push(...d.toString().split('\n').filter(Boolean));
      if (logTail.length > 200) logTail = logTail.slice(-200);
    };
    proc.stdout?.on('data', remember);
    proc.stderr?.on('data', remember);
    let exited: string | undefined;
    proc.once('exit', (code, signal) => {
      running.delete(proc);
      exited = signal ?? `exit code ${code}`;
    });
    proc.once('error', (error) => {
      exited = error.message;
    });
    // The server must not keep a test process alive on its own; the exit hook stops it.
    proc.unref();
    (proc.stdout as { unref?: () => void } | null)?.unref?.();
    (proc.stderr as { unref?: () => void } | null)?.unref?.();

    const deadline = Date.now() + startTimeoutMs;
    while (Date.now() < deadline) {
      if (exited !== undefined) {
        throw new Error(`postgres exited while starting (${exited}):\n${logTail.slice(-30).join('\n')}`);
      }
      if (await canConnect(url())) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    proc.kill('SIGQUIT');
    throw new Error(
      `postgres did not accept connections within ${startTimeoutMs} ms:\n${logTail.join('\n')}`,
    );
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.ref(); // keep the process alive until the server is down
    proc.kill('SIGINT'); // fast shutdown: roll back open transactions, close connections, checkpoint
    const escalate = setTimeout(() => proc.kill('SIGQUIT'), 15_000);
    await exited;
    clearTimeout(escalate);
  };

  // A port found free can be taken before postgres binds it: try a few.
  for (let attempt = 1; ; attempt++) {
    try {
      await launch();
      break;
    } catch (error) {
      const portTaken = logTail.some((l) => /could not (bind|create any TCP\/IP sockets)/i.test(l));
      if (!portTaken || options.port !== undefined || attempt >= 5) {
        await stop();
        rmSync(base, { recursive: true, force: true });
        directories.delete(base);
        throw error;
      }
      logTail = [];
      port = await freePort();
    }
  }

  const server: PostgresServer = {
    get url() {
      return url();
    },
    get port() {
      return port;
    },
    dataDir,
    stop,
    start: async () => {
      if (child) return;
      await launch();
    },
    restart: async () => {
      await stop();
      await launch();
    },
    destroy: async () => {
      await stop();
      rmSync(base, { recursive: true, force: true, maxRetries: 3 });
      directories.delete(base);
    },
    log: () => logTail.join('\n'),
  };
  return server;
}

let schemaCounter = 0;

/** A schema name no other test (process, file, run) uses: `<prefix>_<pid>_<time>_<n>`, lower case. */
export function uniqueSchemaName(prefix = 'test'): string {
  const clean = prefix
    .toLowerCase()
    .replace(/[^a-z0-9_]/g, '_')
    .slice(0, 30);
  schemaCounter += 1;
  return `${clean}_${process.pid}_${Date.now().toString(36)}_${schemaCounter}`;
}

/** Creates a fresh schema on the server at `url`; `drop()` removes it with everything in it. */
export async function createTestSchema(
  url: string,
  prefix = 'test',
): Promise<{ schema: string; drop: () => Promise<void> }> {
  const schema = uniqueSchemaName(prefix);
  const sql = async (text: string) => {
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => {});
    await client.connect();
    try {
      await client.query(text);
    } finally {
      await client.end();
    }
  };
  await sql(`CREATE SCHEMA "${schema}"`);
  return { schema, drop: () => sql(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`) };
}
