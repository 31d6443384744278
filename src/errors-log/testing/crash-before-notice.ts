/**
 * A child process for the notice crash test: records a captured error (synchronously, into PostgreSQL)
 * and is killed with SIGKILL by its own notifier, i.e. after "error recorded" and before "notice sent".
 */
import { createAuditor } from '../../core/auditor.js';
import { postgresStore } from '../../store/postgres/index.js';

const [url, schema] = process.argv.slice(2) as [string, string];
const audit = createAuditor({
  store: postgresStore({ connectionString: url, schema }),
  mode: 'sync',
  spool: false,
  notify: {
    notifiers: [
      {
        name: 'crashing',
        notify: () => {
          process.kill(process.pid, 'SIGKILL');
          return new Promise<void>(() => {});
        },
      },
    ],
  },
});
await audit.migrate();
await audit
  .runWithContext({ tenantId: 'org_crash', requestId: 'req-crash' }, () =>
    audit.captureErrors(async () => {
      throw new Error('card declined');
    }),
  )
  .catch(() => undefined);
// Wait for the notifier to kill this process.
await new Promise(() => {});
