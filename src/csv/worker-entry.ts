// Worker thread body for `validateInWorker`: runs `validateFile` and posts progress and the report back.
import { parentPort, workerData } from 'node:worker_threads';
import { CsvError } from './errors';
import { validateFile, type DatasetSchema } from './validate';
import type { WorkerMessage, WorkerValidateOptions } from './worker';

const { path, target, options } = workerData as { path: string; target: DatasetSchema; options: WorkerValidateOptions };
const post = (msg: WorkerMessage): void => parentPort?.postMessage(msg);
let last = 0;

validateFile(path, target, {
  ...options,
  onProgress: (progress) => {
    const now = Date.now();
    if (now - last >= 100) {
      last = now;
      post({ kind: 'progress', progress });
    }
  },
}).then(
  (report) => post({ kind: 'done', report }),
  (err: unknown) => {
    const e = err instanceof Error ? err : new Error(String(err));
    post({ kind: 'error', message: e.message, name: e.name, code: e instanceof CsvError ? e.code : undefined });
  },
);
