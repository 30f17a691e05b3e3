// Runs `validateFile` in a worker thread so a long validation never blocks the extension host's event loop.
// The worker script is `worker-entry.js` next to this module; a bundler must emit it as its own entry point.
// When running from TypeScript sources (tests, through tsx) the worker registers tsx's CommonJS hook first, since
// loader hooks given with `--import` are not inherited by worker threads on Node 20.
import { existsSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { CsvError, type CsvErrorCode } from './errors';
import type { CsvFormat, CsvReadOptions } from './reader';
import type { DatasetSchema, ValidateOptions, ValidationProgress, ValidationReport } from './validate';
import type { PartConfig, PartResult } from './validate-part';

/** Options that can cross the thread boundary (no signal, no callbacks). */
export type WorkerValidateOptions = Omit<ValidateOptions, 'signal' | 'onProgress'>;

export type WorkerMessage =
  | { kind: 'progress'; progress: ValidationProgress }
  | { kind: 'done'; report: ValidationReport }
  | { kind: 'error'; message: string; name: string; code?: string; csv?: CsvErrorData };

/** A CsvError's fields, to rebuild it on the other side of a thread boundary. */
export interface CsvErrorData {
  code: CsvErrorCode;
  file: string;
  line?: number;
  column?: number;
  detail: string;
  byteOffset?: number;
}

/** Data of a worker that validates the second part of a file (see `validatePartInWorker`). */
export interface PartWorkerData {
  kind: 'part';
  format: CsvFormat;
  config: PartConfig;
  options: Omit<CsvReadOptions, 'signal'>;
  start: number;
}

export type PartWorkerMessage =
  | { kind: 'part-progress'; bytes: number }
  | { kind: 'part-done'; result: PartResult }
  | { kind: 'error'; message: string; name: string; code?: string; csv?: CsvErrorData };

function startWorker(script: string, workerData: unknown): Worker {
  return script.endsWith('.ts')
    ? new Worker(`require('tsx/cjs/api').register(); require(${JSON.stringify(script)});`, { eval: true, workerData })
    : new Worker(script, { workerData });
}

function errorFrom(msg: { message: string; name: string; code?: string; csv?: CsvErrorData }): Error {
  if (msg.csv) {
    const c = msg.csv;
    return new CsvError(c.code, c.file, c.line, c.column, c.detail, c.byteOffset);
  }
  const err = new Error(msg.message);
  err.name = msg.name;
  if (msg.code) Object.assign(err, { code: msg.code });
  return err;
}

/**
 * Where to split a file for two threads: the offset just after a line break near the middle, or undefined (no line
 * break found there, or no worker script to run the second part).
 */
export async function findSplit(path: string, fileSize: number): Promise<number | undefined> {
  if (!existsSync(workerScriptPath())) return undefined;
  const handle = await open(path, 'r');
  try {
    const buf = Buffer.alloc(256 * 1024);
    const at = Math.floor(fileSize / 2);
    const { bytesRead } = await handle.read(buf, 0, buf.length, at);
    const nl = buf.subarray(0, bytesRead).indexOf(10);
    return nl < 0 || at + nl + 1 >= fileSize ? undefined : at + nl + 1;
  } finally {
    await handle.close();
  }
}

/** Validates the records from byte `start` to the end of the file in a worker thread; lines count from 1 there. */
export function validatePartInWorker(
  path: string,
  format: CsvFormat,
  config: PartConfig,
  options: CsvReadOptions,
  start: number,
  signal: AbortSignal,
  onBytes: (bytes: number) => void,
): Promise<PartResult> {
  return new Promise((resolve, reject) => {
    const { signal: _ignored, ...readOptions } = options;
    const pick = (({ encoding, delimiter, maxFieldSize, batchSize, chunkSize }) => ({ encoding, delimiter, maxFieldSize, batchSize, chunkSize }))(readOptions);
    const data: PartWorkerData = { kind: 'part', format, config, options: JSON.parse(JSON.stringify(pick)) as Omit<CsvReadOptions, 'signal'>, start };
    const worker = startWorker(workerScriptPath(), data);
    let settled = false;
    const finish = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      fn();
    };
    const onAbort = (): void => {
      void worker.terminate();
      finish(() => reject(cancelled(path)));
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    worker.on('message', (msg: PartWorkerMessage) => {
      if (msg.kind === 'part-progress') onBytes(msg.bytes);
      else if (msg.kind === 'part-done') finish(() => resolve(msg.result));
      else finish(() => reject(errorFrom(msg)));
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) => finish(() => reject(new Error(`validation worker exited with code ${code} before finishing`))));
  });
}

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
    const worker = startWorker(script, workerData);
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
        const err = errorFrom(msg);
        finish(() => reject(err));
      }
    });
    worker.on('error', (err) => finish(() => reject(err)));
    worker.on('exit', (code) => finish(() => reject(new Error(`validation worker exited with code ${code} before finishing`))));
  });
}
