/**
 * Entry of a hashing worker thread (see `hash-pool.ts`): runs each job it is sent and answers with its
 * result, or its error message.
 */
import { parentPort } from 'node:worker_threads';
import { type HashJob, runHashJob } from './hash-jobs.js';

parentPort?.on('message', (message: { id: number; job: HashJob }) => {
  try {
    const result = runHashJob(message.job);
    const transfer = result instanceof Uint8Array ? [result.buffer as ArrayBuffer] : [];
    parentPort?.postMessage({ id: message.id, result }, transfer);
  } catch (error) {
    parentPort?.postMessage({
      id: message.id,
      error: error instanceof Error ? error.message : String(error),
    });
  }
});
