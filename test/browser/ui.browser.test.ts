/**
 * The admin UI in real headless Chromium (Debian's, through playwright-core): what a compliance officer
 * does, page by page, with a screenshot of each in `.tmp/screenshots/`. Skipped with the reason when
 * Chromium is not installed.
 */
import { readFileSync } from 'node:fs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditUi } from '../../src/ui/audit-ui.js';
import { serveAuditUi } from '../../src/ui/serve.js';
import {
  hostileEvent,
  makeAuditFixture,
  PASSWORD,
  SECRET,
  testUsers,
  type UiFixture,
} from '../../src/ui/testing/fixtures.js';
import { chromiumSkipReason, type LaunchedBrowser, launchChromium, screenshotDir } from './chromium.js';

const skip = chromiumSkipReason();

describe.skipIf(skip !== '')(`admin UI in Chromium${skip ? ` (skipped: ${skip})` : ''}`, () => {
  let fixture: UiFixture;
  let served: Awaited<ReturnType<typeof serveAuditUi>>;
  let chromium: LaunchedBrowser;
  let base = '';
  const shots = screenshotDir();
  /** Console errors and CSP violations of every page, checked at the end. */
  const problems: string[] = [];

  const newPage = async () => {
    const page = await chromium.context.newPage();
    page.on('console', (message) => {
      if (message.type() === 'error' && !/status of 40[13]/.test(message.text()))
        problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('dialog', (dialog) => {
      problems.push(`dialog opened: ${dialog.message()}`);
      void dialog.dismiss();
    });
    return page;
  };
  const shot = (page: Page, name: string, fullPage = true) =>
    page.screenshot({ path: `${shots}ui-${name}.png`, fullPage });
  const logIn = async (page: Page, username: string) => {
    await chromium.context.clearCookies(); // the profile is shared by the tests: start logged out
    await page.goto(`${base}/events`);
    await page.getByLabel('User name').fill(username);
    await page.getByLabel('Password').fill(PASSWORD);
    await Promise.all([
      page.waitForURL(/\/audit\/events$/),
      page.getByRole('button', { name: 'Log in' }).click(),
    ]);
  };

  beforeAll(async () => {
    fixture = await makeAuditFixture([hostileEvent()]);
    await fixture.audit.seal({ checkpointEvery: 3 });
    const ui = auditUi({
      audit: fixture.audit,
      basePath: '/audit',
      users: await testUsers(),
      sessionSecret: SECRET,
      now: () => new Date('2026-04-02T00:00:00Z'), // the sample events are of 2026-04-01
    });
    served = await serveAuditUi(ui, { port: 0 });
    base = served.url.replace(/\/$/, '');
    chromium = await launchChromium();
  }, 120_000);

  afterAll(async () => {
    await chromium?.close();
    await served?.close();
    await fixture?.close();
  });

  it('shows nothing but the login form before authentication (401)', async () => {
    const page = await newPage();
    const response = await page.goto(`${base}/events?category=change`);
    expect(response?.status()).toBe(401);
    expect(await page.locator('table.events').count()).toBe(0);
    await expect(page.content()).resolves.not.toContain('Ada Lovelace');
    const event = await page.goto(`${base}/events/0192f000-0000-7000-8000-000000000005`);
    expect(event?.status()).toBe(401);
    await shot(page, 'login');
    await page.close();
  });

  it('logs in, filters (the filters land in the URL), opens an event and its diff', async () => {
    const page = await newPage();
    await logIn(page, 'root');
    expect(await page.locator('table.events tbody tr').count()).toBeGreaterThan(5);
    await shot(page, 'events');

    await page.getByLabel('change').check();
    await page.getByLabel('Target type').fill('invoice');
    await Promise.all([
      page.waitForURL(/category=change/),
      page.getByRole('button', { name: 'Search' }).click(),
    ]);
    const url = new URL(page.url());
    expect(url.searchParams.getAll('category')).toEqual(['change']);
    expect(url.searchParams.get('targetType')).toBe('invoice');
    expect(url.searchParams.has('actor')).toBe(false); // empty fields stay out of a shared link
    const actions = await page.locator('table.events td.action').allTextContents();
    expect(actions.sort()).toEqual(['record.created', 'record.deleted', 'record.updated', 'record.updated']);
    await shot(page, 'events-filtered');

    await page
      .locator('tr', { hasText: 'record.updated' })
      .filter({ hasText: 'INV-1' })
      .locator('a.row-link')
      .click();
    await page.waitForURL(/\/events\/0192f000-0000-7000-8000-000000000005$/);
    const diff = page.locator('table.diff tbody tr', { hasText: 'total' });
    await expect(diff.locator('td.before').textContent()).resolves.toContain('990');
    await expect(diff.locator('td.after').textContent()).resolves.toContain('1090');
    await shot(page, 'event-diff');
    await page.close();
  });

  it("marks masked values in a request and links the same request's other events", async () => {
    const page = await newPage();
    await logIn(page, 'root');
    await page.goto(`${base}/events/0192f000-0000-7000-8000-000000000004`);
    expect(await page.locator('mark.masked').count()).toBeGreaterThanOrEqual(2);
    await expect(
      page.getByRole('heading', { name: 'Other events of the same request' }).count(),
    ).resolves.toBe(1);
    await shot(page, 'event-request');
    await page.close();
  });

  it("follows a record's timeline from an event and shows its state at a chosen time", async () => {
    const page = await newPage();
    await logIn(page, 'root');
    await page.goto(`${base}/events/0192f000-0000-7000-8000-000000000005`);
    await Promise.all([
      page.waitForURL(/\/records\?/),
      page.getByRole('link', { name: /History of invoice:INV-1/ }).click(),
    ]);
    expect(await page.locator('ol.timeline > li').count()).toBe(3);
    await page.getByLabel('At (UTC)').fill('2026-04-01T09:05:00');
    await Promise.all([
      page.waitForURL(/at=2026-04-01T09/),
      page.getByRole('button', { name: 'Show state' }).click(),
    ]);
    await expect(page.locator('table.state').textContent()).resolves.toMatch(/total\s*990/);
    await shot(page, 'record-timeline');
    await page.goto(`${base}/people?actor=ada`);
    await expect(page.locator('h1').textContent()).resolves.toContain('Ada Lovelace');
    await shot(page, 'person');
    await page.close();
  });

  it('draws the dashboard charts with uPlot under the strict CSP', async () => {
    const page = await newPage();
    await logIn(page, 'root');
    await page.goto(`${base}/dashboard?range=30d`);
    await page.locator('#timeline-chart canvas').waitFor();
    await page.locator('#reasons-chart canvas').waitFor();
    await shot(page, 'dashboard');
    await page.close();
  });

  it('verifies now with progress, then shows the result and the checkpoints', async () => {
    const page = await newPage();
    await logIn(page, 'audrey');
    await page.goto(`${base}/integrity`);
    await page.getByRole('button', { name: 'Verify now' }).click();
    await page.locator('.result.ok').waitFor({ timeout: 30_000 });
    await expect(page.locator('.result').textContent()).resolves.toContain('Intact');
    expect(await page.locator('text=Latest checkpoints').count()).toBe(1);
    await shot(page, 'integrity');
    await page.close();
  });

  it('exports the current filter as a CSV download', async () => {
    const page = await newPage();
    await logIn(page, 'audrey');
    await page.goto(`${base}/events?category=change`);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'CSV' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^audit-.*\.csv$/);
    const csv = readFileSync((await download.path()) as string, 'utf8');
    expect(csv.trim().split('\n')).toHaveLength(5);
    expect(csv).toContain('record.updated');
    await page.close();
  });

  it('moves through the rows with the keyboard and opens one with Enter', async () => {
    const page = await newPage();
    await logIn(page, 'vic');
    await page.waitForLoadState('load'); // app.js (deferred) has run
    await page.locator('table.events a.row-link').first().waitFor();
    await page.keyboard.press('j');
    await page.keyboard.press('j');
    await page.locator('table.events tr.selected').waitFor();
    const focused = await page.evaluate(() =>
      document.activeElement?.closest('tr')?.classList.contains('selected'),
    );
    expect(focused).toBe(true);
    await Promise.all([page.waitForURL(/\/events\/[0-9a-f-]{36}$/), page.keyboard.press('Enter')]);
    await page.close();
  });

  it('answers 403 and shows nothing of another organisation to a restricted user', async () => {
    const page = await newPage();
    await logIn(page, 'alice');
    expect(await page.locator('table.events').textContent()).not.toContain('org_b');
    const other = await page.goto(`${base}/events/0192f000-0000-7000-8000-000000000008`);
    expect(other?.status()).toBe(403);
    await expect(page.content()).resolves.not.toContain('secret plan');
    const filtered = await page.goto(`${base}/events?tenant=org_b`);
    expect(filtered?.status()).toBe(403);
    expect(await page.locator('table.events').count()).toBe(0);
    await shot(page, 'forbidden');
    await page.close();
  });

  it('renders a hostile event as text: no script runs, no markup from data, the 1 MB field clipped', async () => {
    const page = await newPage();
    await logIn(page, 'root');
    await page.goto(`${base}/events/0192f000-0000-7000-8000-00000000beef`);
    await expect(page.locator('h1').textContent()).resolves.toContain('<script>window.__pwned=1</script>');
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    expect(await page.locator('main script, main img, main iframe, main svg, main style').count()).toBe(0);
    await expect(page.locator('body').isVisible()).resolves.toBe(true);
    await expect(page.content()).resolves.toContain('more characters');
    await shot(page, 'hostile', false);
    await page.goto(`${base}/events`);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
    await page.close();
  });

  it('logged no console error and no Content-Security-Policy violation on any page', () => {
    expect(problems).toEqual([]);
  });
});
