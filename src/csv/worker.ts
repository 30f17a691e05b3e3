// Runs `validateFile` in a worker thread so a long validation never blocks the extension host's event loop.
// The worker script is `worker-entry.js` next to this module (`worker-entry.ts` when running from sources through
// tsx, whose loader the worker inherits through `execArgv`). A bundler must emit it as its own entry point.
import { existsSync } from 'node:fs';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
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

export function validateInWorker(
  path: string,
  target: DatasetSchema,
  options: WorkerValidateOptions = {},
  control: { signal?: AbortSignal; onProgress?: (p: ValidationProgress) => void; script?: string } = {},
): Promise<ValidationReport> {
  return new Promise((resolve, reject) => {
    if (control.signal?.aborted) {
      reject(control.signal.reason instanceof Error ? control.signal.reason : new Error('validation was cancelled'));
      return;
    }
    const worker = new Worker(control.script ?? workerScriptPath(), { workerData: { path, target, options } });
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      control.signal?.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => {
      void worker.terminate();
      finish(() => reject(control.signal?.reason instanceof Error ? control.signal.reason : new Error('validation was cancelled')));
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
