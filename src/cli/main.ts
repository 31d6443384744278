import { Command, CommanderError } from 'commander';
import { isAuditkitError } from '../core/errors.js';
import { registerCleanup } from './commands/cleanup.js';
import { registerErase } from './commands/erase.js';
import { registerErrors } from './commands/errors.js';
import { registerExport } from './commands/export.js';
import { registerKeys } from './commands/keys.js';
import { registerMigrate } from './commands/migrate.js';
import { registerQuery } from './commands/query.js';
import { registerSeal } from './commands/seal.js';
import { registerTriggers } from './commands/triggers.js';
import { registerUi } from './commands/ui.js';
import { registerVerify } from './commands/verify.js';
import type { CliIo } from './io.js';

/** Each command module registers itself here; later modules add theirs to this list. */
const COMMANDS: Array<(program: Command, io: CliIo) => void> = [
  registerMigrate,
  registerQuery,
  registerKeys,
  registerSeal,
  registerVerify,
  registerCleanup,
  registerErase,
  registerExport,
  registerUi,
  registerErrors,
  registerTriggers,
];

/** Builds the `auditkit` program; exported so tests and embedding apps can run it in-process. */
export function buildProgram(io: CliIo): Command {
  const program = new Command('auditkit')
    .description(
      'Auditkit: audit log administration (migrate, query, seal, verify, cleanup, erase, export, ...)',
    )
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)');
  for (const register of COMMANDS) register(program, io);
  return program;
}

/** Runs the CLI with `argv` (without node and script) and returns the exit code instead of exiting. */
export async function runCli(argv: string[], io: CliIo = processIo()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv, { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (isAuditkitError(error)) io.stderr(`auditkit: ${error.message} [${error.code}]\n`);
    else io.stderr(`auditkit: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

export function processIo(): CliIo {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
  };
}
