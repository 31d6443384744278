import { mkdir, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import { toAuditkitError } from '../core/errors.js';
import type { Sink } from './sink.js';

export interface JsonlFileSinkOptions {
  /** The file events are appended to, one JSON object per line; created with its directory if needed. */
  path: string;
  /** fsync after each batch. Default true. */
  fsync?: boolean;
  /** Names the sink (and its stored cursor). Default `jsonl-file`. */
  name?: string;
}

/**
 * Appends each event as one line of JSON to a file, for a log shipper (Filebeat, Fluent Bit, Vector) to
 * forward to a SIEM. The file is opened for each batch, so a rotated file (moved away by logrotate) is
 * followed by a new one. At-least-once: after a crash the last batch may appear twice (same `id`).
 *
 * @example
 * jsonlFileSink({ path: '/var/log/myapp/audit.jsonl' })
 */
export function jsonlFileSink({ path, fsync = true, name = 'jsonl-file' }: JsonlFileSinkOptions): Sink {
  let madeDir = false;
  return {
    name,
    async send(events) {
      try {
        if (!madeDir) {
          await mkdir(dirname(path), { recursive: true });
          madeDir = true;
        }
        const handle = await open(path, 'a');
        try {
          await handle.write(events.map((e) => `${JSON.stringify(e)}\n`).join(''));
          if (fsync) await handle.datasync();
        } finally {
          await handle.close();
        }
      } catch (error) {
        throw toAuditkitError(error, 'sink_failed', `Appending ${events.length} event(s) to ${path} failed`);
      }
    },
  };
}
