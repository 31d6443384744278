import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { AuditkitError } from '../../core/errors.js';
import { ERASE_MODES, type EraseMode, erase } from '../../retention/erase.js';
import { type CliIo, openStore, type StoreFlags } from '../io.js';
import { cliActor } from './cleanup.js';
import { addStoreFlags } from './store-flags.js';

interface EraseFlags extends StoreFlags {
  subject: string;
  mode: EraseMode;
  identifier?: string[];
  tenant?: string;
  dryRun?: boolean;
  pseudonymKeyFile?: string;
}

function mode(value: string): EraseMode {
  if (!ERASE_MODES.includes(value as EraseMode)) {
    throw new InvalidArgumentError(`expected one of ${ERASE_MODES.join(', ')}.`);
  }
  return value as EraseMode;
}

/** `auditkit erase --subject <id>`: the right to be forgotten, keeping the chain verifiable. */
export function registerErase(program: Command, io: CliIo): void {
  addStoreFlags(
    program
      .command('erase')
      .description("Erase a person's personal data from the audit trail (pseudonymise, anonymise or delete)"),
  )
    .requiredOption('--subject <id>', "the person's id (as events carry it in actor.id or target.id)")
    .option('--mode <mode>', `${ERASE_MODES.join(', ')}`, mode, 'pseudonymise')
    .option('--identifier <value...>', 'more identifiers to remove wherever they appear: email, name, phone')
    .option('--tenant <id>', "only this tenant's events")
    .option('--dry-run', 'count the events that would change, change nothing')
    .option('--pseudonym-key-file <file>', 'file holding the pseudonym secret (else AUDITKIT_PSEUDONYM_KEY)')
    .action(async (flags: EraseFlags) => {
      const secret = flags.pseudonymKeyFile
        ? readFileSync(flags.pseudonymKeyFile, 'utf8').trim()
        : io.env.AUDITKIT_PSEUDONYM_KEY;
      if (flags.mode === 'pseudonymise' && !secret) {
        throw new AuditkitError(
          'invalid_config',
          'Pseudonymising needs a secret: set AUDITKIT_PSEUDONYM_KEY or pass --pseudonym-key-file (or use --mode anonymise).',
        );
      }
      const store = openStore(flags, io);
      try {
        const report = await erase(store, {
          subject: flags.subject,
          mode: flags.mode,
          ...(secret ? { pseudonymKey: secret } : {}),
          identifiers: flags.identifier ?? [],
          ...(flags.tenant === undefined ? {} : { tenantId: flags.tenant }),
          dryRun: flags.dryRun === true,
          actor: cliActor('erase'),
        });
        const verb = report.dryRun ? 'Would change' : 'Changed';
        io.stdout(
          `${verb} ${report.changed} event(s)${report.mode === 'delete' ? `, ${report.dryRun ? 'would remove' : 'removed'} ${report.deleted}` : ''}; ` +
            `the subject is now ${report.pseudonym}.${report.dryRun ? ' (dry run: nothing changed)' : ''}\n`,
        );
        if (report.eventId) io.stdout(`Recorded as event ${report.eventId} (privacy.erased).\n`);
      } finally {
        await store.close();
      }
    });
}
