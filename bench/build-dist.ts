/**
 * The JavaScript a benchmark should measure: src compiled by tsc with the package's own build settings
 * (tsconfig.build.json), the code users run from `dist`. Running src through tsx instead measures
 * esbuild's output, which adds a `__name(...)` call to every closure created at runtime.
 *
 * The build goes to `node_modules/.cache/auditkit-bench/dist` (inside the project, so the compiled files
 * still find `node_modules`), incrementally. `AUDITKIT_BENCH_DIST=<dir>` uses a build you made instead;
 * `AUDITKIT_BENCH_DIST=src` runs from src.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

const root = fileURLToPath(new URL('..', import.meta.url));

/** Builds (or finds) the compiled package; resolves with its directory, or `src` to run from source. */
export async function benchDist(): Promise<string> {
  const given = process.env.AUDITKIT_BENCH_DIST;
  if (given) return given === 'src' ? 'src' : given;
  const cache = join(root, 'node_modules', '.cache', 'auditkit-bench');
  const dir = join(cache, 'dist');
  const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  const args = [
    tsc,
    '-p',
    join(root, 'tsconfig.build.json'),
    '--outDir',
    dir,
    '--declaration',
    'false',
    '--sourceMap',
    'false',
    '--incremental',
    '--tsBuildInfoFile',
    join(cache, 'tsbuildinfo'),
  ];
  try {
    await promisify(execFile)(process.execPath, args, { cwd: root, maxBuffer: 64 * 1024 * 1024 });
  } catch (error) {
    // Type errors still emit JavaScript; only a build that produced nothing is fatal.
    if (!existsSync(join(dir, 'index.js'))) throw error;
    const output = String((error as { stdout?: unknown }).stdout ?? '').split('\n');
    console.error(
      `[bench] tsc reported ${output.filter((l) => l.includes('error TS')).length} type error(s); measuring what it emitted`,
    );
  }
  return dir;
}

/** Imports a module of the package (`core/auditor`) from the build `benchDist()` chose, or from src. */
export async function importBuilt<T>(dist: string, modulePath: string): Promise<T> {
  const url =
    dist === 'src'
      ? new URL(`../src/${modulePath}.js`, import.meta.url).href
      : pathToFileURL(join(dist, `${modulePath}.js`)).href;
  return (await import(url)) as T;
}
