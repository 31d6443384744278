import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { APP_CSS } from './app-css.js';
import { APP_JS } from './app-js.js';
import { DASHBOARD_JS } from './dashboard-js.js';
import { INTEGRITY_JS } from './integrity-js.js';

/** A static file of the UI, shipped in the package (no CDN, no build step for the user). */
export interface Asset {
  body: string;
  type: string;
  etag: string;
}

const JS = 'text/javascript; charset=utf-8';
const CSS = 'text/css; charset=utf-8';

function asset(body: string, type: string): Asset {
  return { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` };
}

const BUILT_IN: Record<string, () => Asset> = {
  'app.css': () => asset(APP_CSS, CSS),
  'app.js': () => asset(APP_JS, JS),
  'dashboard.js': () => asset(DASHBOARD_JS, JS),
  'integrity.js': () => asset(INTEGRITY_JS, JS),
  // uPlot is a dependency; its own files are served as they ship.
  'uplot.js': () => asset(readFileSync(resolveUplot('uplot/dist/uPlot.iife.min.js'), 'utf8'), JS),
  'uplot.css': () => asset(readFileSync(resolveUplot('uplot/dist/uPlot.min.css'), 'utf8'), CSS),
};

function resolveUplot(path: string): string {
  return createRequire(import.meta.url).resolve(path);
}

const cache = new Map<string, Asset | null>();

/** The asset of this name, or null when there is none (or uPlot is not installed). */
export function loadAsset(name: string): Asset | null {
  if (cache.has(name)) return cache.get(name) ?? null;
  const make = Object.hasOwn(BUILT_IN, name) ? BUILT_IN[name] : undefined;
  let loaded: Asset | null = null;
  try {
    loaded = make ? make() : null;
  } catch {
    loaded = null; // a missing optional file: the page still works, without charts
  }
  cache.set(name, loaded);
  return loaded;
}
