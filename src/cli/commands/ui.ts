import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { createAuditor } from '../../core/auditor.js';
import { AuditkitError } from '../../core/errors.js';
import { auditUi } from '../../ui/audit-ui.js';
import { hashPassword } from '../../ui/auth/password.js';
import { resolveAuditUiOptions, type UiUserConfig } from '../../ui/config.js';
import { serveAuditUi } from '../../ui/serve.js';
import { type CliIo, openStore, type StoreFlags } from '../io.js';
import { wholeNumber } from './seal.js';
import { addStoreFlags } from './store-flags.js';

interface UiFlags extends StoreFlags {
  port: number;
  host: string;
  basePath?: string;
  users?: string;
}

/** Reads a users file: a JSON array of `{ username, passwordHash, role, tenants?, name? }`. */
export function readUsersFile(path: string): UiUserConfig[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new AuditkitError(
      'invalid_config',
      `Cannot read the users file ${path}: ${(error as Error).message}`,
    );
  }
  if (!Array.isArray(parsed)) {
    throw new AuditkitError('invalid_config', `The users file ${path} must hold a JSON array of users.`);
  }
  return parsed as UiUserConfig[];
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

/**
 * `auditkit ui --port 4600`: the admin UI on its own server against any store; `auditkit ui hash-password`
 * turns a password read from standard input into the argon2 hash a users file holds.
 */
export function registerUi(program: Command, io: CliIo): void {
  const ui = addStoreFlags(
    program
      .command('ui')
      .description(
        'Serve the admin web UI (users from --users or AUDITKIT_UI_USERS, tokens from AUDITKIT_UI_TOKENS)',
      ),
  )
    .option('--port <n>', 'port to listen on (0: any free port)', wholeNumber(0, 65_535), 4600)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--base-path <path>', 'serve under this path, e.g. /audit (AUDITKIT_UI_BASE_PATH)')
    .option('--users <file>', 'JSON file of users: [{ "username", "passwordHash", "role", "tenants"? }]')
    .action(async (flags: UiFlags) => {
      const users = flags.users ? readUsersFile(flags.users) : [];
      const store = openStore(flags, io);
      // Synchronous writes: what the UI records (views, searches, exports) is stored before it answers.
      const audit = createAuditor({ store, mode: 'sync', spool: false });
      const options = {
        audit,
        users,
        ...(flags.basePath ? { basePath: flags.basePath } : {}),
      };
      const resolved = resolveAuditUiOptions(options, io.env);
      if (resolved.users.length === 0 && resolved.tokens.length === 0) {
        await audit.close();
        throw new AuditkitError(
          'invalid_config',
          'No one could log in: give --users <file> (hashes from `auditkit ui hash-password`), or AUDITKIT_UI_USERS / AUDITKIT_UI_TOKENS.',
        );
      }
      await audit.migrate();
      const served = await serveAuditUi(auditUi(options), { port: flags.port, host: flags.host });
      io.stdout(
        `Auditkit UI on ${served.url} (store: ${store.name}; ${resolved.users.length} user(s), ${resolved.tokens.length} token(s))\n`,
      );
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await served.close();
      await audit.close();
    });

  ui.command('hash-password')
    .description('Read a password from standard input and print its argon2 hash for a users file')
    .action(async () => {
      const password = await readStdin();
      io.stdout(`${await hashPassword(password)}\n`);
    });
}
