// Executing a plan.
//
// /resource route — a streaming pipeline: read (csv reader batches) → convert each row to its JSON text once
// (RowEncoder) → close a batch at `batchSize` rows or `batchBytes` bytes → send with at most `concurrency` requests
// in flight. The reader waits while the limit is reached (back-pressure), so memory holds at most
// `concurrency + 1` batches whatever the file size.
//
// Cancellation stops reading, lets the batches in flight finish and reports the applied line ranges. Every applied
// batch is recorded in the journal; publishing the same unchanged file again skips the lines already applied.
// Appends without a row identifier are never re-sent blindly: a batch whose outcome is unknown stops the publish
// and its line range is reported as uncertain.
//
// revision route — the file's bytes are uploaded as they are (chunked) and applied in one step; a cancel discards
// the revision so nothing is applied.
import { dirname, basename, extname, join } from 'node:path';
import { openCsv, type ColumnType as CsvColumnType, normaliseFieldName } from '../csv';
import { isSodaError, normaliseUpsertResult, type SodaClient, SodaError } from '../soda';
import {
  type ColumnPlan,
  type ColumnType as RevisionColumnType,
  RevisionError,
  type RevisionProgress,
  RevisionRunner,
  RevisionsClient,
  transportFromHttp,
} from '../soda/revisions';
import { applyPatch, MetadataClient, patchBody } from '../soda/metadata';
import { statSync } from 'node:fs';
import { type Batch, BatchBuilder, BufferPool } from './batches';
import { RowEncoder } from './encode';
import { ErrorRowsWriter } from './errorRows';
import { isPublishError, PublishError } from './errors';
import { addRange, formatRanges, inRanges, Journal, removeRange } from './journal';
import { disposePlan, planPublish, rowHash } from './plan';
import type { Spool } from './spool';
import type { LineRange, PublishPlan, PublishProgress, PublishRequest, PublishResult, PublishStage, RowError } from './types';

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

const MAX_ROW_ERRORS = 1000;

interface Totals {
  created: number;
  updated: number;
  deleted: number;
  errors: number;
}

function defaultErrorRowsFile(file: string): string {
  const ext = extname(file);
  return join(dirname(file), `${basename(file, ext)}.errors.csv`);
}

class ProgressMeter {
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

function describeError(e: unknown): string {
  if (isSodaError(e)) return `${e.message}${e.requestId ? ` (request id ${e.requestId})` : ''}`;
  return e instanceof Error ? e.message : String(e);
}

/** Writes the rows the encoder rejects to the error-rows CSV (used when nothing is sent, and for the revision route). */
async function collectBadRows(plan: PublishPlan, writer: ErrorRowsWriter, signal: AbortSignal | undefined): Promise<RowError[]> {
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

function revisionType(t: CsvColumnType | undefined): RevisionColumnType | undefined {
  switch (t) {
    case 'text':
    case 'email':
      return 'text';
    case 'number':
    case 'double':
      return 'number';
    case 'checkbox':
      return 'checkbox';
    case 'floating_timestamp':
      return 'floating_timestamp';
    case 'fixed_timestamp':
      return 'fixed_timestamp';
    case 'point':
      return 'point';
    case 'url':
      return 'url';
    default:
      return undefined;
  }
}

async function executeRevision(client: SodaClient, plan: PublishPlan, options: ExecuteOptions, started: number): Promise<PublishResult> {
  const result = emptyResult(plan, started);
  const req = plan.request;
  const meter = new ProgressMeter(plan.rows, plan.file.size, options.onProgress);
  if (plan.badRows) {
    const writer = new ErrorRowsWriter(options.errorRowsFile ?? defaultErrorRowsFile(plan.file.path), plan.file.header);
    result.rowErrors = await collectBadRows(plan, writer, options.signal);
    result.errorRowsFile = await writer.close();
    result.errors += plan.badRows;
  }
  const columns: Record<string, ColumnPlan> = {};
  for (const c of plan.columns) {
    const input = normaliseFieldName(c.csvHeader);
    if (c.fieldName === undefined) columns[input] = { drop: true };
    else {
      const p: ColumnPlan = {};
      if (c.fieldName !== input) p.fieldName = c.fieldName;
      const explicitType = req.types?.[c.fieldName];
      const type = plan.mode === 'create' || explicitType !== undefined ? revisionType(c.type) : undefined;
      if (type !== undefined) p.type = type;
      if (p.fieldName !== undefined || p.type !== undefined) columns[input] = p;
    }
  }
  const rc = new RevisionsClient(transportFromHttp(client.http), { domain: client.domain.host, scheme: client.domain.scheme });
  const runner = new RevisionRunner(rc);
  const common = {
    file: plan.file.path,
    columns,
    signal: options.signal,
    ...(options.revisionPoll ?? {}),
    onRowErrors: (): 'apply' | 'abort' => (req.skipBadRows ? 'apply' : 'abort'),
    onProgress: (p: RevisionProgress) => {
      if (p.stage === 'uploading') {
        meter.stage = 'uploading';
        meter.bytesDone = p.bytesSent;
      } else if (p.stage === 'applying') {
        meter.stage = 'applying';
        meter.rowsDone = p.rowsUpserted;
      } else meter.stage = 'processing';
      meter.report();
    },
  };
  try {
    const outcome =
      plan.mode === 'create'
        ? await runner.createDataset({
            ...common,
            metadata: {
              name: req.newDataset?.name ?? '',
              ...(req.newDataset?.description ? { description: req.newDataset.description } : {}),
              ...(req.newDataset?.category ? { category: req.newDataset.category } : {}),
              ...(req.newDataset?.tags ? { tags: req.newDataset.tags } : {}),
              ...(req.metadata ? patchBody(req.metadata) : {}),
            },
            permission: req.newDataset?.permission ?? 'private',
            ...(plan.rowIdentifier ? { rowIdentifier: plan.rowIdentifier } : {}),
          })
        : await runner.updateDataset(plan.dataset as string, {
            ...common,
            action: plan.mode === 'replace' ? 'replace' : plan.mode === 'delete' ? 'delete' : 'update',
            ...(req.metadata ? { metadata: patchBody(req.metadata) } : {}),
          });
    result.dataset = outcome.fourfour;
    result.revisionUrl = outcome.revisionUrl;
    if (outcome.status === 'approval-submitted') {
      result.status = 'approval-submitted';
      result.message = `The revision was submitted for approval; the rows change once it is approved (${outcome.revisionUrl}).`;
    } else {
      result.created = outcome.counts.created;
      result.updated = outcome.counts.updated;
      result.deleted = outcome.counts.deleted;
      result.errors += outcome.counts.errors + outcome.errorCount;
      result.status = result.errors > 0 ? 'partial' : 'success';
      result.message =
        plan.mode === 'create'
          ? `Created dataset ${outcome.fourfour} with ${outcome.counts.created} rows.`
          : `Applied revision ${outcome.revisionSeq} to ${outcome.fourfour}: ${outcome.counts.created} created, ${outcome.counts.updated} updated, ${outcome.counts.deleted} deleted.`;
      if (result.errors > 0) result.message += ` ${result.errors} row(s) were not published${result.errorRowsFile ? `; see ${result.errorRowsFile}` : ''}.`;
    }
    meter.stage = 'done';
    meter.rowsDone = plan.rows ?? meter.rowsDone;
    meter.report();
  } catch (e) {
    if (e instanceof RevisionError) {
      result.status = e.kind === 'cancelled' ? 'cancelled' : 'failed';
      result.revisionUrl = e.details.revisionUrl;
      const nothing = e.details.outcome !== 'unknown';
      result.message =
        e.kind === 'cancelled'
          ? `Cancelled${e.details.discarded ? '; the revision was discarded and nothing was applied' : nothing ? '; nothing was applied' : `; the revision may have been applied — check ${e.details.revisionUrl ?? 'the dataset'}`}.`
          : `${e.message}${nothing ? ' Nothing was applied.' : ` The outcome is unknown: check ${e.details.revisionUrl ?? 'the dataset'} before trying again.`}`;
    } else if (isSodaError(e, 'cancelled')) {
      result.status = 'cancelled';
      result.message = `Cancelled before the revision was opened; nothing was applied.`;
    } else {
      result.status = 'failed';
      result.message = describeError(e);
    }
  }
  result.elapsedMs = Date.now() - started;
  return result;
}

/** The plan's spool, when it can stand for the file: unchanged since the plan, and no earlier run to resume. */
function usableSpool(plan: PublishPlan, skip: LineRange[]): Spool | undefined {
  const spool = plan.spool;
  if (spool === undefined || skip.length > 0) return undefined;
  try {
    const st = statSync(plan.file.path);
    if (st.size !== spool.source.size || st.mtimeMs !== spool.source.mtimeMs) return undefined;
  } catch {
    return undefined;
  }
  return spool;
}

/**
 * A refusal of a whole batch that points at one row by its position in the body (`data.index`, and "(row N)" in
 * the message) names that row's line in the file instead: the position means nothing to the person.
 */
function atFileLine(e: unknown, b: Batch, file: string): unknown {
  if (!(e instanceof SodaError) || typeof e.data !== 'object' || e.data === null) return e;
  const index = (e.data as { index?: unknown }).index;
  const line = typeof index === 'number' && Number.isInteger(index) ? b.lines[index] : undefined;
  if (line === undefined) return e;
  const message = `Line ${line} of ${basename(file)}: ${e.message.replace(/\s*\(row \d+\)/, '')}`;
  return Object.assign(Object.create(Object.getPrototypeOf(e) as object) as SodaError, e, { message });
}

async function executeResource(client: SodaClient, plan: PublishPlan, options: ExecuteOptions, started: number): Promise<PublishResult> {
  const result = emptyResult(plan, started);
  const dataset = plan.dataset as string;
  const rid = plan.rowIdentifier;
  const safe = rid !== undefined;
  const signal = options.signal;
  const meter = new ProgressMeter(plan.rows, plan.file.size, options.onProgress);
  const totals: Totals = { created: 0, updated: 0, deleted: 0, errors: 0 };
  const writer = new ErrorRowsWriter(options.errorRowsFile ?? defaultErrorRowsFile(plan.file.path), plan.file.header);

  // Journal: resume from an earlier run of the same publish.
  let journal: Journal | undefined;
  let skip: LineRange[] = [];
  if (options.journalDir !== undefined) {
    const loaded = await Journal.load(options.journalDir, plan);
    if (loaded.journal) {
      journal = loaded.journal;
      const uncertain = journal.data.inFlight;
      if (!safe && uncertain.length > 0) {
        const choice = options.uncertain ?? 'stop';
        if (choice === 'stop') {
          result.status = 'refused';
          result.uncertainRanges = uncertain;
          result.appliedRanges = journal.data.applied;
          result.message = `An earlier run of this append stopped with requests whose outcome is unknown (${formatRanges(uncertain)} of ${plan.file.path}). ${dataset} has no row identifier, so sending them again could duplicate rows: check whether those rows are in the dataset, then publish again choosing to skip or resend them.`;
          result.elapsedMs = Date.now() - started;
          return result;
        }
        if (choice === 'skip') journal.data.applied = uncertain.reduce(addRange, journal.data.applied);
        journal.data.inFlight = [];
      }
      skip = journal.data.applied;
      const skipped = skip.reduce((n, [a, b]) => n + (b - a + 1), 0);
      result.resume = { status: 'resumed', skippedRows: skipped, reason: `resuming: ${formatRanges(skip)} were applied by an earlier run and are skipped` };
    } else {
      journal = Journal.fresh(options.journalDir, plan);
      if (loaded.changed !== undefined) result.resume = { status: 'restarted', skippedRows: 0, reason: `starting over: ${loaded.changed}` };
    }
  }
  let applied: LineRange[] = journal ? [...journal.data.applied] : [];
  let uncertainRanges: LineRange[] = [];
  let failure: unknown;
  let cancelled = false;
  const inflight = new Set<Promise<void>>();
  const rowErrors: RowError[] = [];
  const serverErrorLines = new Map<number, string>();
  const encoder = new RowEncoder(plan.columns, plan.dateOrders, plan.file.header.length, rid, plan.mode === 'delete');
  const path = `/resource/${dataset}.json`;

  const send = async (batch: Batch): Promise<void> => {
    const range: LineRange = [batch.first, batch.last];
    if (journal && !safe) {
      journal.data.inFlight = addRange(journal.data.inFlight, range);
      await journal.save();
    }
    try {
      const body = batch.buf.subarray(0, batch.len);
      const res = await client.request({ method: 'POST', path, body, contentType: 'application/json', safeToRepeat: safe });
      const r = normaliseUpsertResult(res.body);
      totals.created += r.created;
      totals.updated += r.updated;
      totals.deleted += r.deleted;
      totals.errors += r.errors;
      for (const re of r.rowErrors) {
        const i = re.inputIndex;
        const line = i !== undefined ? batch.lines[i] : undefined;
        if (line !== undefined) {
          // The row's cells are written to the error-rows CSV at the end (one more read of just those lines).
          serverErrorLines.set(line, re.error);
          if (rowErrors.length < MAX_ROW_ERRORS) rowErrors.push({ line, message: re.error });
        } else if (rowErrors.length < MAX_ROW_ERRORS) {
          rowErrors.push({ line: batch.first, message: `${re.error} (lines ${batch.first}–${batch.last}; the server did not say which row)` });
        }
      }
      meter.lastRequestId = res.serverRequestId ?? res.operationId;
      result.requestIds.push(meter.lastRequestId);
      applied = addRange(applied, range);
      if (journal) {
        journal.data.applied = applied;
        journal.data.inFlight = removeRange(journal.data.inFlight, range);
        await journal.save();
      }
      meter.rowsDone += batch.count;
      meter.bytesDone = Math.max(meter.bytesDone, batch.bytesMark);
      meter.report();
    } catch (e) {
      failure ??= atFileLine(e, batch, plan.file.path);
      const unknown = isSodaError(e) ? e.outcome === 'unknown' || (safe && e.kind !== 'client' && e.kind !== 'auth' && e.kind !== 'not-found') : true;
      if (!safe && unknown) uncertainRanges = addRange(uncertainRanges, range);
      else if (journal && !safe) {
        journal.data.inFlight = removeRange(journal.data.inFlight, range);
        await journal.save();
      }
      if (isSodaError(e) && e.requestId) result.requestIds.push(e.requestId);
    } finally {
      release(batch);
    }
  };

  const dispatch = async (batch: Batch): Promise<boolean> => {
    while (inflight.size >= plan.concurrency) await Promise.race(inflight);
    if (failure !== undefined) return false;
    if (signal?.aborted) {
      cancelled = true;
      return false;
    }
    meter.stage = 'sending';
    const p: Promise<void> = send(batch).finally(() => inflight.delete(p));
    inflight.add(p);
    return true;
  };

  const pool = new BufferPool(plan.batchBytes + 64 * 1024, plan.concurrency);
  const release = (b: Batch): void => pool.release(b);
  let skippedRows = 0;
  let unchangedRows = 0;
  const remoteHashes = plan.mode === 'sync' ? plan.remoteHashes : undefined;
  const badRow = async (line: number, fields: readonly string[], message: string): Promise<void> => {
    totals.errors++;
    meter.rowsDone++;
    await writer.write(fields, message);
    if (rowErrors.length < MAX_ROW_ERRORS) rowErrors.push({ line, message });
  };
  const spool = usableSpool(plan, skip);
  if (spool !== undefined) {
    // One pass: the plan's scan already checked and encoded every row; its batches are sent as they are.
    if (plan.mode === 'sync') unchangedRows = plan.counts.unchanged ?? 0;
    meter.rowsDone += unchangedRows;
    const records = spool.records(pool);
    try {
      for await (const r of records) {
        if (signal?.aborted) {
          cancelled = true;
          if (r.kind === 'batch') release(r.batch);
          break;
        }
        if (failure !== undefined) {
          if (r.kind === 'batch') release(r.batch);
          break;
        }
        if (r.kind === 'bad') await badRow(r.row.line, r.row.fields, r.row.message);
        else if (!(await dispatch(r.batch))) {
          release(r.batch);
          break;
        }
      }
    } finally {
      await records.return(undefined);
      await Promise.allSettled([...inflight]);
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    }
  } else {
    const reader = await openCsv(plan.file.path, { batchSize: 2000 });
    const builder = new BatchBuilder(plan.batchSize, plan.batchBytes, reader.format.lineBreak, pool);
    try {
      outer: for await (const records of reader.batches()) {
        if (signal?.aborted) {
          cancelled = true;
          break;
        }
        if (failure !== undefined) break;
        for (const rec of records) {
          if (skip.length > 0 && inRanges(skip, rec.line)) {
            // Applied by an earlier run: done as far as progress goes.
            skippedRows++;
            meter.rowsDone++;
            continue;
          }
          const json = encoder.encodeText(rec.fields);
          if (json === undefined) {
            await badRow(rec.line, rec.fields, encoder.lastError.message);
            continue;
          }
          const id = encoder.lastId;
          if (remoteHashes !== undefined && id !== undefined && remoteHashes.get(id) === rowHash(json)) {
            unchangedRows++;
            meter.rowsDone++;
            continue;
          }
          const closed = builder.add(json, rec.line, rec.fields, reader.bytesRead);
          if (closed) for (const full of closed) if (!(await dispatch(full))) break outer;
        }
      }
      if (failure === undefined && !cancelled) {
        const last = builder.finish(plan.file.size);
        if (last) {
          if (signal?.aborted) cancelled = true;
          else await dispatch(last);
        }
      }
    } finally {
      await reader.close().catch(() => undefined);
      await Promise.allSettled([...inflight]);
      while (inflight.size > 0) await Promise.allSettled([...inflight]);
    }
  }

  // Sync: delete the remote rows absent from the file, once every upsert is applied.
  if (plan.mode === 'sync' && failure === undefined && !cancelled && plan.syncDeletes && plan.syncDeletes.length > 0 && rid !== undefined) {
    meter.stage = 'deleting';
    const key = JSON.stringify(rid);
    for (let i = 0; i < plan.syncDeletes.length; i += plan.batchSize) {
      if (signal?.aborted) {
        cancelled = true;
        break;
      }
      const ids = plan.syncDeletes.slice(i, i + plan.batchSize);
      const body = `[${ids.map((id) => `{${key}:${JSON.stringify(id)},":deleted":true}`).join(',')}]`;
      try {
        const res = await client.request({ method: 'POST', path, body, contentType: 'application/json', safeToRepeat: true });
        const r = normaliseUpsertResult(res.body);
        totals.deleted += r.deleted;
        totals.errors += r.errors;
        meter.lastRequestId = res.serverRequestId ?? res.operationId;
        result.requestIds.push(meter.lastRequestId);
        meter.report();
      } catch (e) {
        failure = e;
        break;
      }
    }
  }

  result.created = totals.created;
  result.updated = totals.updated;
  result.deleted = totals.deleted;
  // A delete of an id the dataset does not have comes back as an error in the server's report; it is not one.
  const notInDataset = plan.mode === 'delete' ? Math.max(0, totals.errors - rowErrors.length) : 0;
  result.errors = totals.errors - notInDataset;
  if (notInDataset > 0) result.notInDataset = notInDataset;
  result.rowErrors = rowErrors.sort((a, b) => a.line - b.line);
  result.appliedRanges = applied;
  result.uncertainRanges = uncertainRanges;
  if (serverErrorLines.size > 0) {
    const again = await openCsv(plan.file.path);
    for await (const records of again.batches()) {
      for (const rec of records) {
        const message = serverErrorLines.get(rec.line);
        if (message !== undefined) await writer.write(rec.fields, message);
      }
    }
  }
  result.errorRowsFile = await writer.close();
  if (result.resume && result.resume.status === 'resumed') result.resume.skippedRows = skippedRows;
  const where = `${plan.file.path}`;
  if (failure !== undefined) {
    result.status = 'failed';
    const unsafeNote =
      uncertainRanges.length > 0
        ? ` The outcome of ${formatRanges(uncertainRanges)} is unknown and ${dataset} has no row identifier: check whether those rows arrived before publishing again (they are not re-sent automatically), or publish with the revision route (all or nothing).`
        : safe
          ? ' Publishing the same file again resumes with the rows not yet applied.'
          : '';
    result.message = `Stopped: ${describeError(failure)} Applied: ${applied.length ? formatRanges(applied) : 'nothing'} of ${where}.${unsafeNote}`;
    if (journal) {
      journal.data.inFlight = uncertainRanges;
      await journal.save();
    }
  } else if (cancelled) {
    result.status = 'cancelled';
    result.message = `Cancelled after the requests in flight finished. Applied: ${applied.length ? formatRanges(applied) : 'nothing'} of ${where}.${journal ? ' Publishing the same file again resumes from there.' : ''}`;
  } else {
    result.status = result.errors > 0 ? 'partial' : 'success';
    result.message = `Published ${plan.mode === 'delete' ? 'deletions' : 'rows'} to ${dataset}: ${totals.created} created, ${totals.updated} updated, ${totals.deleted} deleted${notInDataset ? `, ${notInDataset} not in the dataset` : ''}${result.errors ? `, ${result.errors} error(s)` : ''}${unchangedRows ? `; ${unchangedRows} unchanged row(s) not sent` : ''}.`;
    if (result.errorRowsFile) result.message += ` Rows not published are in ${result.errorRowsFile} (fix them and publish that file again).`;
    if (journal) await journal.remove();
    if (plan.request.metadata && dataset) await applyMetadataAfterRows(client, dataset, plan.request.metadata, result, options.signal);
  }
  meter.stage = 'done';
  meter.report();
  result.elapsedMs = Date.now() - started;
  return result;
}

/** Executes a plan (made by `planPublish`). Never throws for server failures: they are in the result. */
export async function executePublish(client: SodaClient, plan: PublishPlan, options: ExecuteOptions = {}): Promise<PublishResult> {
  try {
    return await executePlan(client, plan, options);
  } finally {
    await disposePlan(plan);
  }
}

async function executePlan(client: SodaClient, plan: PublishPlan, options: ExecuteOptions): Promise<PublishResult> {
  const started = Date.now();
  if (plan.blocked) {
    const result = emptyResult(plan, started);
    const writer = new ErrorRowsWriter(options.errorRowsFile ?? defaultErrorRowsFile(plan.file.path), plan.file.header);
    result.rowErrors = await collectBadRows(plan, writer, options.signal);
    result.errorRowsFile = await writer.close();
    result.status = 'refused';
    result.errors = plan.badRows ?? plan.problemCount;
    result.message = `Nothing was sent: validation found ${plan.problemCount} problem(s), e.g. ${plan.problems
      .slice(0, 3)
      .map((p) => p.message)
      .join('; ')}. Fix the file${result.errorRowsFile ? ` (the rows are in ${result.errorRowsFile})` : ''}, or choose to skip bad rows.`;
    return result;
  }
  if (plan.route === 'revision') return executeRevision(client, plan, options, started);
  return executeResource(client, plan, options, started);
}

/** The spec's metadata on the /resource route: one metadata-only revision once the rows are in. */
async function applyMetadataAfterRows(
  client: SodaClient,
  dataset: string,
  patch: NonNullable<PublishRequest['metadata']>,
  result: PublishResult,
  signal: AbortSignal | undefined,
): Promise<void> {
  const meta = new MetadataClient(client);
  try {
    const { document } = await meta.get(dataset, signal);
    const applied = await meta.apply(dataset, applyPatch(document, patch), { base: document, lists: await meta.lists(signal), ...(signal ? { signal } : {}) });
    if (applied.changes.length) result.message += ` Metadata updated (${applied.changes.map((c) => c.field).join(', ')}).`;
  } catch (e) {
    result.status = 'failed';
    result.message += ` The rows are published, but the metadata was not changed: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** Plans, then executes (or only plans with `dryRun`). Refusals come back as a result with status `refused`. */
export async function publish(client: SodaClient, request: PublishRequest, options: ExecuteOptions & { dryRun?: boolean } = {}): Promise<PublishResult> {
  const started = Date.now();
  let plan: PublishPlan;
  try {
    options.onProgress?.({
      stage: 'planning',
      rowsDone: 0,
      rowsTotal: undefined,
      bytesDone: 0,
      bytesTotal: 0,
      rowsPerSecond: 0,
      etaSeconds: undefined,
      lastRequestId: undefined,
    });
    // One pass: the plan's scan spools the request bodies it builds, sent below without reading the CSV again.
    plan = await planPublish(client, request, { signal: options.signal, spool: !options.dryRun });
  } catch (e) {
    if (isPublishError(e) || (isSodaError(e) && (e.kind === 'auth' || e.kind === 'not-found' || e.kind === 'invalid-input'))) {
      const r = emptyResult(undefined, started);
      r.status = 'refused';
      r.message = e.message;
      return r;
    }
    if (isSodaError(e, 'cancelled') || (e instanceof Error && e.name === 'CsvError' && (e as { code?: string }).code === 'ABORTED')) {
      const r = emptyResult(undefined, started);
      r.status = 'cancelled';
      r.message = 'Cancelled while planning; nothing was sent.';
      return r;
    }
    throw e;
  }
  if (options.dryRun) {
    await disposePlan(plan);
    const r = emptyResult(plan, started);
    r.status = 'dry-run';
    r.message = `Dry run: nothing was sent. ${plan.explanation}`;
    return r;
  }
  return executePublish(client, plan, options);
}

export { PublishError, SodaError };
