// Runs `validateFile` in a worker thread so a long validation never blocks the extension host's event loop.
// The worker script is `worker-entry.js` next to this module; a bundler must emit it as its own entry point.
// When running from TypeScript sources (tests, through tsx) the worker registers tsx's CommonJS hook first, since
// loader hooks given with `--import` are not inherited by worker threads on Node 20.
import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CsvError } from './errors';
import type { DatasetSchema, ValidateOptions, ValidationProgress, ValidationReport } from './validate';

/** Options that can cross the thread boundary (no signal, no callbacks). */
export type WorkerValidateOptions = Omit<ValidateOptions, 'signal' | 'onProgress'>;

export type WorkerMessage =
  | { kind: 'progress'; progress: ValidationProgress }
  | { kind: 'done'; report: ValidationReport }
  | { kind: 'error'; message: string; name: string; code?: string };

export function workerScriptPath(): string {
  const ext = extname(__filename);
  const candidate = join(__dirname, `worker-entry${ext}`);
  if (existsSync(candidate)) return candidate;
  return join(__dirname, 'worker-entry.js');
}

function cancelled(path: string): CsvError {
  return new CsvError('ABORTED', path, undefined, undefined, 'validation was cancelled');
}

/** Runs `validateFile` in a worker thread; aborting the signal terminates the worker and rejects with `ABORTED`. */
export function validateInWorker(
  path: string,
  target: DatasetSchema,
  options: WorkerValidateOptions = {},
  control: { signal?: AbortSignal; onProgress?: (p: ValidationProgress) => void; script?: string } = {},
): Promise<ValidationReport> {
  return new Promise((resolve, reject) => {
    if (control.signal?.aborted) {
      reject(cancelled(path));
      return;
    }
    const script = control.script ?? workerScriptPath();
    const workerData = { path, target, options };
    const worker = script.endsWith('.ts')
      ? new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(script)});`, { eval: true, workerData })
      : new Worker(script, { workerData });
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      control.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => {
      void worker.terminate();
      finish(() => reject(cancelled(path)));
    };
    control.signal?.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (msg: WorkerMessage) => {
      if (msg.kind === 'progress') control.onProgress?.(msg.progress);
      else if (msg.kind === 'done') finish(() => resolve(msg.report));
      else {
        const err = new Error(msg.message);
        err.name = msg.name;
        if (msg.code) Object.assign(err, { code: msg.code });
        finish(() => reject(err));
      }
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) => finish(() => reject(new Error(`validation worker exited with code ${code} before finishing`))));
  });
}
