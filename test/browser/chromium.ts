/**
 * Real headless Chromium for the browser tests: Debian's `/usr/bin/chromium` driven by playwright-core
 * (never a downloaded browser), with background networking off (the machine has no network) and a fresh
 * profile per launch.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Browser, type BrowserContext, chromium } from 'playwright-core';

export const CHROMIUM = process.env.AUDITKIT_CHROMIUM ?? '/usr/bin/chromium';

/** Why the browser tests cannot run here (empty when they can). */
export function chromiumSkipReason(): string {
  return existsSync(CHROMIUM) ? '' : `no Chromium at ${CHROMIUM} (apt-get install chromium)`;
}

export interface LaunchedBrowser {
  browser: Browser;
  context: BrowserContext;
  close(): Promise<void>;
}

/** Launches Chromium with a fresh user-data directory; `close()` removes it. */
export async function launchChromium(options: { acceptDownloads?: boolean } = {}): Promise<LaunchedBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'auditkit-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    acceptDownloads: options.acceptDownloads ?? true,
    viewport: { width: 1366, height: 900 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
  const browser = context.browser() as Browser;
  return {
    browser,
    context,
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Where screenshots go: `.tmp/screenshots/` of the checkout (git-ignored). */
export function screenshotDir(): string {
  const dir = new URL('../../.tmp/screenshots/', import.meta.url).pathname;
  mkdirSync(dir, { recursive: true });
  return dir;
}
