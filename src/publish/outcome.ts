// What every publish execution shares: its options, the result it starts from, the progress meter, the
// error-rows file's default place and how a failure is described.
import { basename, dirname, extname, join } from 'node:path';
import { isSodaError } from '../soda';
import { openCsv } from '../csv';
import { RowEncoder } from './encode';
import type { ErrorRowsWriter } from './errorRows';
import type { PublishPlan, PublishProgress, PublishResult, PublishStage, RowError } from './types';

export interface ExecuteOptions {
  signal?: AbortSignal;
  onProgress?: (p: PublishProgress) => void;
  /** Where resume journals live (the extension's workspace storage, the CLI's `.socrata/`). No journal without it. */
  journalDir?: string;
  /** Where to write the rows that were not published. Default: `<file>.errors.csv` next to the CSV. */
  errorRowsFile?: string;
  /**
   * An append without a row identifier whose earlier run left batches with an unknown outcome: `stop` (default)
   * refuses and names the lines to check; `skip` resumes without them; `resend` sends them again.
   */
  uncertain?: 'stop' | 'skip' | 'resend';
  /** Poll timings for the revision route (tests). */
  revisionPoll?: { initialDelayMs?: number; maxDelayMs?: number };
}

export const MAX_ROW_ERRORS = 1000;

export interface Totals {
  created: number;
  updated: number;
  deleted: number;
  errors: number;
}

export function defaultErrorRowsFile(file: string): string {
  const ext = extname(file);
  return join(dirname(file), `${basename(file, ext)}.errors.csv`);
}

export class ProgressMeter {
  private readonly started = Date.now();
  rowsDone = 0;
  bytesDone = 0;
  lastRequestId: string | undefined;
  stage: PublishStage = 'reading';
  constructor(
    private readonly rowsTotal: number | undefined,
    private readonly bytesTotal: number,
    private readonly emit: ((p: PublishProgress) => void) | undefined,
  ) {}

  report(): void {
    if (!this.emit) return;
    const secs = Math.max((Date.now() - this.started) / 1000, 0.001);
    const rate = this.rowsDone / secs;
    const eta =
      this.rowsTotal !== undefined && rate > 0
        ? Math.max(0, (this.rowsTotal - this.rowsDone) / rate)
        : this.bytesDone > 0
          ? ((this.bytesTotal - this.bytesDone) / this.bytesDone) * secs
          : undefined;
    this.emit({
      stage: this.stage,
      rowsDone: this.rowsDone,
      rowsTotal: this.rowsTotal,
      bytesDone: this.bytesDone,
      bytesTotal: this.bytesTotal,
      rowsPerSecond: Math.round(rate),
      etaSeconds: eta === undefined ? undefined : Math.round(eta),
      lastRequestId: this.lastRequestId,
    });
  }
}

/** A result with nothing sent yet: the start of every publish's result, and the answer of a dry run or a decline. */
export function emptyResult(plan: PublishPlan | undefined, started: number): PublishResult {
  return {
    status: 'success',
    message: '',
    plan,
    dataset: plan?.dataset,
    route: plan?.route,
    created: 0,
    updated: 0,
    deleted: 0,
    errors: 0,
    rowErrors: [],
    appliedRanges: [],
    uncertainRanges: [],
    errorRowsFile: undefined,
    resume: undefined,
    requestIds: [],
    elapsedMs: Date.now() - started,
  };
}

export function describeError(e: unknown): string {
  if (isSodaError(e)) return `${e.message}${e.requestId ? ` (request id ${e.requestId})` : ''}`;
  return e instanceof Error ? e.message : String(e);
}

/** Writes the rows the encoder rejects to the error-rows CSV (used when nothing is sent). */
export async function collectBadRows(plan: PublishPlan, writer: ErrorRowsWriter, signal: AbortSignal | undefined): Promise<RowError[]> {
  const encoder = new RowEncoder(plan.columns, plan.dateOrders, plan.file.header.length, plan.rowIdentifier, plan.mode === 'delete');
  const reader = await openCsv(plan.file.path, { signal });
  const errors: RowError[] = [];
  for await (const batch of reader.batches()) {
    for (const rec of batch) {
      const res = encoder.encode(rec.fields);
      if (!res.ok) {
        await writer.write(rec.fields, res.message);
        if (errors.length < MAX_ROW_ERRORS) errors.push({ line: rec.line, message: res.message });
      }
    }
  }
  return errors;
}
