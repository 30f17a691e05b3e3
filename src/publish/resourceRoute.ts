// The /resource route — a streaming pipeline: read (csv reader batches) → convert each row to its JSON text once
// (RowEncoder) → close a batch at `batchSize` rows or `batchBytes` bytes → send with at most `concurrency` requests
// in flight. The reader waits while the limit is reached (back-pressure), so memory holds at most
// `concurrency + 1` batches whatever the file size. With the plan's spool (one pass) the encoded batches are sent
// as the plan's scan built them, without reading the CSV again.
//
// Cancellation stops reading, lets the batches in flight finish and reports the applied line ranges. Every applied
// batch is recorded in the journal; publishing the same unchanged file again skips the lines already applied.
// Appends without a row identifier are never re-sent blindly: a batch whose outcome is unknown stops the publish
// and its line range is reported as uncertain.
//
// executeResource is one function of about 280 lines on purpose: its closures (send, dispatch, badRow) share the
// run's state (totals, applied ranges, the journal, the failure), and cutting it would pass that state around.
import { basename } from 'node:path';
import { statSync } from 'node:fs';
import { openCsv } from '../csv';
import { isSodaError, normaliseUpsertResult, type SodaClient, SodaError } from '../soda';
import { applyPatch, MetadataClient } from '../soda/metadata';
import { type Batch, BatchBuilder, BufferPool } from './batches';
import { RowEncoder } from './encode';
import { ErrorRowsWriter } from './errorRows';
import { addRange, formatRanges, inRanges, Journal, removeRange } from './journal';
import { defaultErrorRowsFile, describeError, emptyResult, type ExecuteOptions, MAX_ROW_ERRORS, ProgressMeter, type Totals } from './outcome';
import { rowHash } from './remote';
import type { Spool } from './spool';
import type { LineRange, PublishPlan, PublishRequest, PublishResult, RowError } from './types';

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

export async function executeResource(client: SodaClient, plan: PublishPlan, options: ExecuteOptions, started: number): Promise<PublishResult> {
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
