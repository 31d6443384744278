import { createServer, type Server } from 'node:http';
import type { AuditUi } from './audit-ui.js';
import { auditUiNode } from './mount/node.js';

export interface ServeAuditUiOptions {
  port?: number;
  /** Default 127.0.0.1: the console is not exposed to the network unless asked. */
  host?: string;
}

/**
 * Runs the UI on its own node:http server (what `auditkit ui` does). Resolves once it listens.
 *
 * @example
 * const { url, close } = await serveAuditUi(auditUi({ audit, users }), { port: 4600 });
 */
export async function serveAuditUi(
  ui: AuditUi,
  options: ServeAuditUiOptions = {},
): Promise<{ server: Server; url: string; close: () => Promise<void> }> {
  const server = createServer(auditUiNode(ui));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 4600, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : (options.port ?? 4600);
  const shown = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  return {
    server,
    url: `http://${shown}:${port}${ui.basePath}/`,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections?.();
      await ui.close();
    },
  };
}
