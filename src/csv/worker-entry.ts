// Worker thread body. Two uses:
//  - `validateInWorker`: runs `validateFile` and posts progress and the report back;
//  - `validatePartInWorker` (workerData.kind === 'part'): validates the second part of a file for a two-thread
//    `validateFile` and posts the part's result back, the id hashes as transferred buffers.
import { parentPort, workerData } from 'node:worker_threads';
import { CsvError } from './errors';
import { readRecords, type ReadProgress } from './reader';
import { validateFile, type DatasetSchema } from './validate';
import { PartValidator } from './validate-part';
import type { CsvErrorData, PartWorkerData, PartWorkerMessage, WorkerMessage, WorkerValidateOptions } from './worker';

const post = (msg: WorkerMessage | PartWorkerMessage, transfer: ArrayBuffer[] = []): void => parentPort?.postMessage(msg, transfer);
let last = 0;

function failure(err: unknown): WorkerMessage {
  const e = err instanceof Error ? err : new Error(String(err));
  const csv: CsvErrorData | undefined =
    e instanceof CsvError ? { code: e.code, file: e.file, line: e.line, column: e.column, detail: e.detail, byteOffset: e.byteOffset } : undefined;
  return { kind: 'error', message: e.message, name: e.name, code: e instanceof CsvError ? e.code : undefined, csv };
}

async function validatePart(data: PartWorkerData): Promise<void> {
  const part = new PartValidator(data.config);
  const progress: ReadProgress = { bytes: 0 };
  for await (const records of readRecords(data.format, data.options, progress, { start: data.start })) {
    part.add(records);
    const now = Date.now();
    if (now - last >= 100) {
      last = now;
      post({ kind: 'part-progress', bytes: progress.bytes - data.start });
    }
  }
  const result = part.result(progress.line ?? 1);
  post(
    { kind: 'part-done', result },
    result.idRuns.map((r) => r.buffer as ArrayBuffer),
  );
}

if ((workerData as { kind?: string }).kind === 'part') {
  validatePart(workerData as PartWorkerData).catch((err: unknown) => post(failure(err)));
} else {
  const { path, target, options } = workerData as { path: string; target: DatasetSchema; options: WorkerValidateOptions };
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
    (err: unknown) => post(failure(err)),
  );
}
