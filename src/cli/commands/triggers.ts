import { type Command, InvalidArgumentError } from 'commander';
import {
  auditTriggers,
  type InstalledTrigger,
  parseRelationSpec,
  type TriggerTableOptions,
} from '../../changes/triggers/index.js';
import { AuditkitError } from '../../core/errors.js';
import { type CliIo, formatTable, openStore, type StoreFlags } from '../io.js';
import { addStoreFlags } from './store-flags.js';

interface InstallFlags extends StoreFlags {
  include?: string[];
  exclude?: string[];
  mask?: string[];
  maskMode?: 'redact' | 'changed';
  recordNoop?: boolean;
  forceLogDeletes?: boolean;
  secretKeys?: string[];
  primaryKey?: string[];
  relation?: string;
  printSql?: boolean;
}

interface UninstallFlags extends StoreFlags {
  printSql?: boolean;
}

interface StatusFlags extends StoreFlags {
  json?: boolean;
}

/** `--exclude a,b --exclude c`: repeatable, comma-separated column lists. */
function columns(value: string, previous: string[] | undefined): string[] {
  const names = value
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean);
  if (names.length === 0) throw new InvalidArgumentError('expected one or more column names.');
  return [...(previous ?? []), ...names];
}

function maskMode(value: string): 'redact' | 'changed' {
  if (value !== 'redact' && value !== 'changed')
    throw new InvalidArgumentError('expected redact or changed.');
  return value;
}

function relation(value: string): string {
  try {
    parseRelationSpec(value);
  } catch (error) {
    throw new InvalidArgumentError(error instanceof Error ? error.message : String(error));
  }
  return value;
}

function optionsOf(flags: InstallFlags, tables: string[]): TriggerTableOptions {
  const options: TriggerTableOptions = {};
  if (flags.include) options.include = flags.include;
  if (flags.exclude) options.exclude = flags.exclude;
  if (flags.mask) options.mask = flags.mask;
  if (flags.maskMode) options.maskMode = flags.maskMode;
  if (flags.recordNoop) options.recordNoOpUpdates = true;
  if (flags.forceLogDeletes) options.forceLogDeletes = true;
  if (flags.primaryKey) options.primaryKey = flags.primaryKey;
  if (flags.relation) {
    if (tables.length !== 1) {
      throw new AuditkitError(
        'invalid_config',
        '--relation describes one join table: give exactly one table with it.',
      );
    }
    const { name, ...link } = parseRelationSpec(flags.relation);
    options.relation = name === link.relatedType ? link : { ...link, name };
  }
  return options;
}

function describeInstall(done: InstalledTrigger): string {
  const parts = [done.primaryKey.length > 0 ? `key ${done.primaryKey.join(', ')}` : 'no key'];
  if (done.masked.length > 0) parts.push(`masked ${done.masked.join(', ')}`);
  if (done.options.relation) {
    const r = done.options.relation;
    parts.push(`links on ${r.ownerType} as ${r.name ?? r.relatedType}`);
  }
  return `Installed audit triggers on ${done.table} (${parts.join('; ')}).\n`;
}

/**
 * `auditkit triggers install|uninstall|status`: trigger mode, for the tables of the database that holds
 * the audit store (`--database-url` / `--data-dir`, `--schema` for the audit schema).
 */
export function registerTriggers(program: Command, io: CliIo): void {
  const triggers = program
    .command('triggers')
    .description(
      'Record every insert, update and delete of tables with database triggers (raw SQL included)',
    );

  addStoreFlags(
    triggers
      .command('install')
      .description('Add (or update) AFTER INSERT/UPDATE/DELETE row triggers on the tables')
      .argument('<table...>', 'tables, as SQL names them: orders, shop.orders, \'"Order Lines"\''),
  )
    .option('--include <columns>', 'record only these columns (comma-separated, repeatable)', columns)
    .option('--exclude <columns>', 'never record these columns', columns)
    .option(
      '--mask <columns>',
      'record these columns as [REDACTED] (secret-looking names always are)',
      columns,
    )
    .option(
      '--mask-mode <mode>',
      'redact: [REDACTED] where not null (default); changed: [REDACTED] always',
      maskMode,
    )
    .option('--record-noop', 'record updates that change no recorded column')
    .option('--force-log-deletes', 'record deletes even inside withoutAuditing')
    .option(
      '--secret-keys <names>',
      "more names of secrets (your auditor's redact.keys): such columns, and such keys inside JSON values, are masked",
      columns,
    )
    .option(
      '--primary-key <columns>',
      'the key columns of target.id, for tables without a primary key',
      columns,
    )
    .option(
      '--relation <spec>',
      'a join table recorded as links on its owner: owner(owner_columns).related(related_columns)[:name]',
      relation,
    )
    .option('--print-sql', 'print the SQL to paste into your migrations instead of running it')
    .action(async (tables: string[], flags: InstallFlags) => {
      const options = optionsOf(flags, tables);
      const store = openStore(flags, io);
      try {
        const installer = auditTriggers(store, { secretKeys: flags.secretKeys ?? [] });
        if (flags.printSql) {
          io.stdout(await installer.installSql(tables, options));
          return;
        }
        for (const done of await installer.install(tables, options)) {
          io.stdout(describeInstall(done));
          for (const warning of done.warnings) io.stderr(`warning: ${warning}\n`);
        }
      } finally {
        await store.close();
      }
    });

  addStoreFlags(
    triggers
      .command('uninstall')
      .description('Remove the triggers and their functions; the events they wrote stay')
      .argument('<table...>', 'tables to stop recording'),
  )
    .option('--print-sql', 'print the SQL instead of running it')
    .action(async (tables: string[], flags: UninstallFlags) => {
      const store = openStore(flags, io);
      try {
        const installer = auditTriggers(store);
        if (flags.printSql) {
          io.stdout(await installer.uninstallSql(tables));
          return;
        }
        for (const done of await installer.uninstall(tables)) {
          io.stdout(
            done.removed
              ? `Removed the audit triggers of ${done.table}; its events stay.\n`
              : `${done.table} had no audit triggers.\n`,
          );
        }
      } finally {
        await store.close();
      }
    });

  addStoreFlags(
    triggers.command('status').description('List the tables with audit triggers and their settings'),
  )
    .option('--json', 'print JSON')
    .action(async (flags: StatusFlags) => {
      const store = openStore(flags, io);
      try {
        const list = await auditTriggers(store).status();
        if (flags.json) {
          io.stdout(`${JSON.stringify(list, null, 2)}\n`);
          return;
        }
        if (list.length === 0) {
          io.stdout('No table has audit triggers. Add some with: auditkit triggers install <table...>\n');
          return;
        }
        const rows = list.map((s) => [
          s.table,
          s.active ? 'active' : 'INACTIVE',
          s.primaryKey.join(', ') || '-',
          Object.keys(s.options).length > 0 ? JSON.stringify(s.options) : '-',
          [
            s.addedColumns.length > 0 ? `added: ${s.addedColumns.join(', ')}` : '',
            s.droppedColumns.length > 0 ? `dropped: ${s.droppedColumns.join(', ')}` : '',
          ]
            .filter(Boolean)
            .join('; ') || '-',
          s.updatedAt.toISOString(),
        ]);
        io.stdout(
          `${formatTable(['table', 'state', 'key', 'options', 'columns since install', 'updated'], rows)}\n`,
        );
        if (list.some((s) => s.addedColumns.length > 0 || s.droppedColumns.length > 0)) {
          io.stdout('Re-run "auditkit triggers install <table>" to take column changes into its settings.\n');
        }
      } finally {
        await store.close();
      }
    });
}
