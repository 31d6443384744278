import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { AuditkitError } from '../core/errors.js';
import type { AuditEvent } from '../core/event.js';

export interface AccessLogFileOptions {
  dir: string;
  /** Size at which `access.log` is rotated. */
  maxBytes: number;
  /** Rotated files kept (`access.log.1` is the newest). */
  maxFiles: number;
  onError: (error: AuditkitError) => void;
  /** Lines held in memory while the disk is slow; beyond that, lines are dropped and reported. */
  maxPending?: number;
}

/** Appends events as JSON lines to `<dir>/access.log`, rotating by size. Writes never block the caller. */
export interface AccessLogFile {
  write(event: AuditEvent): void;
  /** Resolves when every line written so far is on disk (or reported as failed). */
  flush(): Promise<void>;
  readonly path: string;
}

/**
 * Creates the access-log file sink: one JSON object per line, written in batches by one background loop,
 * rotated to `access.log.1` ... `access.log.<maxFiles>` when `maxBytes` would be exceeded. A write
 * failure is reported through `onError`, never thrown.
 */
export function createAccessLogFile({
  dir,
  maxBytes,
  maxFiles,
  onError,
  maxPending = 10_000,
}: AccessLogFileOptions): AccessLogFile {
  const path = join(dir, 'access.log');
  let pending: string[] = [];
  let running: Promise<void> | null = null;
  let size: number | null = null;
  let dropped = 0;

  const rotate = async () => {
    await rm(`${path}.${maxFiles}`, { force: true });
    for (let i = maxFiles - 1; i >= 1; i--) {
      await rename(`${path}.${i}`, `${path}.${i + 1}`).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== 'ENOENT') throw e;
      });
    }
    await rename(path, `${path}.1`).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    size = 0;
  };

  const drain = async () => {
    while (pending.length > 0) {
      const lines = pending;
      pending = [];
      try {
        if (size === null) {
          await mkdir(dir, { recursive: true });
          size = await stat(path).then(
            (s) => s.size,
            () => 0,
          );
        }
        // Group lines into chunks that fit the current file, rotating between chunks.
        let chunk = '';
        let chunkBytes = 0;
        for (const line of lines) {
          const bytes = Buffer.byteLength(line);
          const used = (size as number) + chunkBytes;
          // A line larger than maxBytes still goes into a fresh file rather than nowhere.
          if (used > 0 && used + bytes > maxBytes) {
            if (chunk) await append(chunk);
            chunk = '';
            chunkBytes = 0;
            await rotate();
          }
          chunk += line;
          chunkBytes += bytes;
        }
        if (chunk) await append(chunk);
      } catch (error) {
        size = null;
        onError(
          new AuditkitError(
            'access_log_failed',
            `Could not write the access log ${path}: ${(error as Error).message}`,
            {
              cause: error,
              details: { lines: lines.length },
            },
          ),
        );
      }
    }
  };

  const append = async (text: string) => {
    const handle = await open(path, 'a');
    try {
      await handle.write(text);
    } finally {
      await handle.close();
    }
    size = (size ?? 0) + Buffer.byteLength(text);
  };

  const kick = () => {
    running ??= drain().finally(() => {
      running = null;
      if (pending.length > 0) kick();
    });
  };

  return {
    path,
    write(event) {
      if (pending.length >= maxPending) {
        dropped += 1;
        if (dropped === 1 || dropped % 1000 === 0) {
          onError(
            new AuditkitError(
              'access_log_failed',
              `The access log ${path} is falling behind; ${dropped} lines dropped.`,
              {
                details: { dropped },
              },
            ),
          );
        }
        return;
      }
      pending.push(`${JSON.stringify(event)}\n`);
      kick();
    },
    async flush() {
      while (running) await running;
    },
  };
}
