/**
 * `npm run bench`: runs every benchmark (`bench/<name>/<name>.bench.ts` exporting `run...Bench()`) and
 * prints one table: metric, Auditkit, baseline, ratio, target. With `--soak` it then runs the long fault
 * runs of `bench/soak/` (a 30 s database outage under load, 10 minutes of load with the database down) and
 * prints what each one counted.
 *
 *   npx tsx bench/run-all.ts            # the table
 *   npx tsx bench/run-all.ts --soak     # the table, then the soak runs
 *   npx tsx bench/run-all.ts ingest     # only benches whose folder name matches
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BenchRow, printTable } from './table.js';

const root = fileURLToPath(new URL('.', import.meta.url));
const args = process.argv.slice(2);
const soak = args.includes('--soak');
const only = args.filter((a) => !a.startsWith('--'));

/** `bench/<dir>/*.bench.ts` files, and the `run...Bench` functions each declares. */
function discover(suffix: string, exportPattern: RegExp): Array<{ file: string; names: string[] }> {
  const found: Array<{ file: string; names: string[] }> = [];
  for (const dir of readdirSync(root).sort()) {
    const path = join(root, dir);
    if (!statSync(path).isDirectory()) continue;
    if (only.length > 0 && !only.some((o) => dir.includes(o))) continue;
    for (const name of readdirSync(path).sort()) {
      if (!name.endsWith(suffix)) continue;
      const file = join(path, name);
      // Read the source first: a file without a run function may run itself on import.
      const names = [...readFileSync(file, 'utf8').matchAll(exportPattern)].map((m) => m[1] as string);
      found.push({ file, names });
    }
  }
  return found;
}

const rows: BenchRow[] = [];
const notes: string[] = [];
for (const { file, names } of discover('.bench.ts', /export\s+async\s+function\s+(run\w*Bench)\s*\(/g)) {
  const label = file.slice(root.length);
  if (names.length === 0) {
    notes.push(`${label}: no exported run...Bench() function; run it on its own.`);
    continue;
  }
  const module = (await import(pathToFileURL(file).href)) as Record<string, () => Promise<BenchRow[]>>;
  for (const name of names) {
    const started = Date.now();
    console.error(`[bench] ${label} ${name}() ...`);
    try {
      rows.push(...(await (module[name] as () => Promise<BenchRow[]>)()));
      console.error(`[bench] ${label} ${name}() done in ${Math.round((Date.now() - started) / 1000)} s`);
    } catch (error) {
      notes.push(`${label} ${name}() failed: ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    }
  }
}

if (rows.length > 0) printTable(rows);
for (const note of notes) console.log(`\n- ${note}`);

if (soak) {
  console.log('\n## Soak runs\n');
  for (const { file, names } of discover('.soak.ts', /export\s+async\s+function\s+(run\w*Soak)\s*\(/g)) {
    const module = (await import(pathToFileURL(file).href)) as Record<
      string,
      () => Promise<{ name: string; passed: boolean; summary: string }>
    >;
    for (const name of names) {
      const result = await (
        module[name] as () => Promise<{ name: string; passed: boolean; summary: string }>
      )();
      console.log(`- **${result.name}**: ${result.passed ? 'PASS' : 'FAIL'}. ${result.summary}`);
      if (!result.passed) process.exitCode = 1;
    }
  }
}
