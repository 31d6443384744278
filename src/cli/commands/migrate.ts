import type { Command } from 'commander';
import { type CliIo, openStore, type StoreFlags } from '../io.js';
import { addStoreFlags } from './store-flags.js';

export function registerMigrate(program: Command, io: CliIo): void {
  addStoreFlags(program.command('migrate').description('Create or upgrade the audit tables')).action(
    async (flags: StoreFlags) => {
      const store = openStore(flags, io);
      try {
        await store.migrate();
        io.stdout(`Audit schema is up to date (${store.name}).\n`);
      } finally {
        await store.close();
      }
    },
  );
}
