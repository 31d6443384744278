import { type Command, InvalidArgumentError } from 'commander';
import { seal } from '../../integrity/sealer.js';
import { type CliIo, openStore, type StoreFlags } from '../io.js';
import { addStoreFlags } from './store-flags.js';

interface SealFlags extends StoreFlags {
  signingKey?: string;
  batchSize: number;
  checkpointEvery: number;
  checkpointNow?: boolean;
}

/** A whole number within bounds, for commander options. */
export function wholeNumber(min: number, max: number) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
    }
    return n;
  };
}

/** `auditkit seal`: chains and checkpoints what the writers stored since the last run. */
export function registerSeal(program: Command, io: CliIo): void {
  addStoreFlags(
    program
      .command('seal')
      .description("Seal unsealed events into each tenant's hash chain and write signed checkpoints"),
  )
    .option(
      '--signing-key <file>',
      'Ed25519 private key PEM (AUDITKIT_SIGNING_KEY); without it checkpoints are unsigned',
    )
    .option('--batch-size <n>', 'events per transaction', wholeNumber(1, 50_000), 2000)
    .option('--checkpoint-every <n>', 'events per checkpoint', wholeNumber(1, 1_000_000), 1000)
    .option('--checkpoint-now', 'also checkpoint every tenant with events after its last checkpoint')
    .action(async (flags: SealFlags) => {
      const store = openStore(flags, io);
      try {
        const signingKey = flags.signingKey ?? io.env.AUDITKIT_SIGNING_KEY;
        const result = await seal(store, {
          ...(signingKey ? { signingKey } : {}),
          batchSize: flags.batchSize,
          checkpointEvery: flags.checkpointEvery,
          checkpointNow: flags.checkpointNow === true,
        });
        io.stdout(`Sealed ${result.sealed} event(s); ${result.checkpoints.length} checkpoint(s) written.\n`);
        for (const cp of result.checkpoints) {
          io.stdout(
            `  checkpoint ${cp.id.slice(0, 16)}  tenant ${cp.tenantId ?? '(none)'}  seq ${cp.firstSeq}-${cp.lastSeq}  ${cp.signature ? `signed by ${cp.keyId}` : 'unsigned'}\n`,
          );
        }
        if (!signingKey) {
          io.stderr(
            'Note: no signing key (--signing-key or AUDITKIT_SIGNING_KEY): checkpoints are not signed.\n',
          );
        }
      } finally {
        await store.close();
      }
    });
}
