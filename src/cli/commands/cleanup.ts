import { hostname, userInfo } from 'node:os';
import { type Command, InvalidArgumentError } from 'commander';
import type { Actor } from '../../core/event.js';
import { CATEGORIES, type Category } from '../../core/event.js';
import { progressBar } from '../../report/progress-bar.js';
import { cleanup } from '../../retention/cleanup.js';
import { type CliIo, formatTable, openStore, type StoreFlags } from '../io.js';
import { wholeNumber } from './seal.js';
import { addStoreFlags } from './store-flags.js';

interface CleanupFlags extends StoreFlags {
  days: number;
  category?: Category[];
  dryRun?: boolean;
  batchSize: number;
  signingKey?: string;
  partitions: boolean;
  progress: boolean;
}

/** Who runs a maintenance command from the CLI: the operating-system user on this host. */
export function cliActor(command: string): Actor {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (some containers)
  }
  return { type: 'service', id: 'auditkit-cli', label: `auditkit ${command} by ${user}@${hostname()}` };
}

function category(value: string, previous: Category[] | undefined): Category[] {
  if (!CATEGORIES.includes(value as Category)) {
    throw new InvalidArgumentError(`expected one of ${CATEGORIES.join(', ')}.`);
  }
  return [...(previous ?? []), value as Category];
}

/** `auditkit cleanup --days 90`: retention, in batches or by dropping whole partitions. */
export function registerCleanup(program: Command, io: CliIo): void {
  addStoreFlags(
    program
      .command('cleanup')
      .description(
        'Remove events older than the retention (batches; whole monthly partitions on PostgreSQL)',
      ),
  )
    .requiredOption('--days <n>', 'keep this many days', wholeNumber(1, 100_000))
    .option('--category <name...>', `only these categories (${CATEGORIES.join(', ')}); default all`, category)
    .option('--dry-run', 'count what would be removed, change nothing')
    .option('--batch-size <n>', 'events removed per transaction', wholeNumber(1, 1_000_000), 10_000)
    .option('--signing-key <file>', 'sign the checkpoint at the cut (AUDITKIT_SIGNING_KEY)')
    .option('--no-partitions', 'never drop whole partitions, always remove in batches')
    .option('--no-progress', 'no progress output')
    .action(async (flags: CleanupFlags) => {
      const store = openStore(flags, io);
      try {
        const signingKey = flags.signingKey ?? io.env.AUDITKIT_SIGNING_KEY;
        const bar = progressBar(io.stderr, 'removed', null);
        const report = await cleanup(store, {
          days: flags.days,
          ...(flags.category ? { categories: flags.category } : {}),
          dryRun: flags.dryRun === true,
          batchSize: flags.batchSize,
          dropPartitions: flags.partitions,
          ...(signingKey ? { signingKey } : {}),
          actor: cliActor('cleanup'),
          onProgress: (n) => {
            if (flags.progress) bar.update(n);
          },
        });
        bar.finish();
        const verb = report.dryRun ? 'Would remove' : 'Removed';
        io.stdout(
          `${verb} ${report.removed} event(s)${report.dryRun ? ' (dry run: nothing changed)' : ''}.\n`,
        );
        const rows = Object.entries(report.byCategory).map(([c, n]) => [
          c,
          String(n),
          report.cutoffs[c as Category] ?? 'kept forever',
        ]);
        if (rows.length > 0) io.stdout(`${formatTable(['category', 'events', 'older than'], rows)}\n`);
        if (report.droppedPartitions.length > 0) {
          io.stdout(
            `${report.dryRun ? 'Would drop' : 'Dropped'} partitions: ${report.droppedPartitions.join(', ')}\n`,
          );
        }
        if (!report.dryRun && report.batches > 0)
          io.stdout(`${report.batches} batch(es) of at most ${flags.batchSize}.\n`);
        for (const anchor of report.anchors) {
          io.stdout(
            `Tenant ${anchor.tenantId ?? '(none)'}: the chain now starts after seq ${anchor.seq} (checkpoint ${anchor.checkpointId.slice(0, 16)}).\n`,
          );
        }
        if (report.skippedUnsealed > 0) {
          io.stdout(`${report.skippedUnsealed} old event(s) kept because they are not sealed yet.\n`);
        }
      } finally {
        await store.close();
      }
    });
}
