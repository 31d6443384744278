import type { Command } from 'commander';
import { AuditkitError } from '../../core/errors.js';
import { recordVerification } from '../../integrity/auditor-integrity.js';
import { type VerifyOptions, type VerifyReport, verify } from '../../integrity/verify.js';
import { progressBar } from '../../report/progress-bar.js';
import { type CliIo, openStore, type StoreFlags } from '../io.js';
import { cliActor } from './cleanup.js';
import { parseTime } from './query.js';
import { addStoreFlags } from './store-flags.js';

interface VerifyFlags extends StoreFlags {
  tenant?: string;
  from?: Date;
  to?: Date;
  publicKey?: string;
  json?: boolean;
  progress: boolean;
  record: boolean;
}

/** The report as a terminal user reads it. */
export function formatVerifyReport(report: VerifyReport): string {
  const lines: string[] = [];
  lines.push(
    report.ok
      ? `OK: ${report.checkedEvents} event(s) in ${report.chains.length} chain(s) verified; ${report.checkpointsVerified} checkpoint(s) verified.`
      : `FAILED: ${report.problems.length} problem(s) found in ${report.checkedEvents} event(s).`,
  );
  if (report.firstProblem) lines.push(`First problem: ${report.firstProblem.message}`);
  for (const chain of report.chains) {
    const anchor = chain.anchor
      ? ` (intact from seq ${chain.fromSeq}: retention removed what came before, anchor checkpoint ${chain.anchor.checkpointId?.slice(0, 16)})`
      : '';
    lines.push(
      `  tenant ${chain.tenantId ?? '(none)'}: seq ${chain.fromSeq}-${chain.lastSeq}, ${chain.events} event(s)` +
        `${chain.removed > 0 ? `, ${chain.removed} removed by retention/erasure` : ''}, ` +
        `${chain.checkpoints} checkpoint(s) verified, last ${chain.lastCheckpointId?.slice(0, 16) ?? '(none)'}` +
        `${chain.uncheckpointed > 0 ? `, ${chain.uncheckpointed} after the last checkpoint` : ''}${anchor}` +
        `${chain.ok ? '' : ' FAILED'}`,
    );
  }
  for (const problem of report.problems) {
    lines.push(
      `  ${problem.kind}: tenant ${problem.tenantId ?? '(none)'}${problem.seq === null ? '' : ` seq ${problem.seq}`}` +
        `${problem.eventId ? ` event ${problem.eventId}` : ''}${problem.checkpointId ? ` checkpoint ${problem.checkpointId.slice(0, 16)}` : ''}: ${problem.message}`,
    );
  }
  if (report.unsealed > 0) lines.push(`${report.unsealed} event(s) are not sealed yet (run auditkit seal).`);
  for (const warning of report.warnings) lines.push(`Note: ${warning}`);
  return `${lines.join('\n')}\n`;
}

/** `auditkit verify`: recomputes the chains and checks the checkpoints; exits 1 when anything is wrong. */
export function registerVerify(program: Command, io: CliIo): void {
  addStoreFlags(
    program
      .command('verify')
      .description('Recompute the hash chains and check every checkpoint; names the first tampered event'),
  )
    .option('--tenant <id>', "verify this tenant's chain only")
    .option(
      '--from <time>',
      'verify the checkpoints covering events from this time (ISO 8601 or 7d)',
      (v: string) => parseTime(v),
    )
    .option('--to <time>', 'to this time', (v: string) => parseTime(v))
    .option(
      '--public-key <file>',
      'Ed25519 public key PEM the checkpoints must be signed with (AUDITKIT_PUBLIC_KEY)',
    )
    .option('--json', 'print the full report as JSON')
    .option('--no-progress', 'no progress bar')
    .option('--no-record', 'do not record the result as an integrity.verified event')
    .action(async (flags: VerifyFlags) => {
      const store = openStore(flags, io);
      try {
        const publicKey = flags.publicKey ?? io.env.AUDITKIT_PUBLIC_KEY;
        let bar: ReturnType<typeof progressBar> | undefined;
        const options: VerifyOptions = {
          ...(flags.tenant === undefined ? {} : { tenantId: flags.tenant }),
          ...(flags.from ? { from: flags.from } : {}),
          ...(flags.to ? { to: flags.to } : {}),
          ...(publicKey ? { publicKey } : {}),
        };
        const startedAt = new Date();
        const report = await verify(store, {
          ...options,
          onProgress: ({ checked, total }) => {
            if (!flags.progress) return;
            bar ??= progressBar(io.stderr, 'verify', total);
            bar.update(checked);
          },
        });
        bar?.finish();
        io.stdout(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatVerifyReport(report));
        if (flags.record) {
          // The admin UI shows the latest recorded result; a store that refuses the write (a read-only
          // user, say) still gets its verification, with a note.
          try {
            await recordVerification(store, report, options, { startedAt, actor: cliActor('verify') });
          } catch (error) {
            const reason = error instanceof Error ? error.message : String(error);
            io.stderr(`Note: the result was not recorded as an integrity.verified event: ${reason}\n`);
          }
        }
        if (!report.ok) {
          throw new AuditkitError(
            'verification_failed',
            `Verification failed: ${report.firstProblem?.message ?? 'see the report above'}`,
          );
        }
      } finally {
        await store.close();
      }
    });
}
