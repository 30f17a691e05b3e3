// The revision route (create, replace, and upsert/append/delete with `route: 'revision'`): the file's bytes are
// uploaded as they are, the server parses, transforms and checks every row, and the revision is applied in one step.
//
// The client does not read the rows: it checks the header (the plan reads the head), tells the server a file that is
// not UTF-8 or not comma-separated (`parse_options.encoding` / `column_separator`, as socrata-py's
// `change_parse_option` sets them), and uploads the bytes in chunks. This is what socrata-py (`create(...).csv(file)`,
// then `revision.apply(output_schema=...)`) and DataSync do; the rows are checked once, by the server.
//
// Safety: when the server's output schema reports rows with errors, nothing is applied unless `skipBadRows`: the
// revision is discarded. Either way the rows the server refused are read back (its schema errors, up to
// MAX_ROW_ERRORS), mapped from their position in the upload to the file's physical lines (one read of the file, only
// when there are errors) and written to the error-rows CSV with the server's message.
import { normaliseFieldName, openCsv, type ColumnType as CsvColumnType } from '../csv';
import { isSodaError, type SodaClient } from '../soda';
import { patchBody } from '../soda/metadata';
import {
  type ColumnPlan,
  type ColumnType as RevisionColumnType,
  type OutputSchemaRef,
  type ParseOptions,
  RevisionError,
  type RevisionProgress,
  RevisionRunner,
  RevisionsClient,
  transportFromHttp,
} from '../soda/revisions';
import { ErrorRowsWriter } from './errorRows';
import { defaultErrorRowsFile, describeError, emptyResult, type ExecuteOptions, MAX_ROW_ERRORS, ProgressMeter } from './outcome';
import type { PublishPlan, PublishResult, RowError } from './types';

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

/** The column plan sent to the server: renames, dropped columns, and each column's type. */
function columnPlan(plan: PublishPlan): Record<string, ColumnPlan> {
  const columns: Record<string, ColumnPlan> = {};
  for (const c of plan.columns) {
    const input = normaliseFieldName(c.csvHeader);
    if (c.fieldName === undefined) columns[input] = { drop: true };
    else {
      const p: ColumnPlan = {};
      if (c.fieldName !== input) p.fieldName = c.fieldName;
      // Every column is cast to its type in the output schema (the field's own type for an existing dataset), so
      // the server finds a bad cell while transforming, before anything is applied, and can leave its row out.
      const type = revisionType(c.type);
      if (type !== undefined) p.type = type;
      if (p.fieldName !== undefined || p.type !== undefined) columns[input] = p;
    }
  }
  return columns;
}

/** What the server must be told to read the bytes as the head read them (nothing for UTF-8 CSV or TSV). */
export function parseOptionsFor(plan: PublishPlan): ParseOptions | undefined {
  const out: ParseOptions = {};
  const enc = plan.file.encoding;
  if (enc !== undefined && enc !== 'utf-8') out.encoding = enc;
  const d = plan.file.delimiter;
  const tsv = /\.tsv$/i.test(plan.file.path);
  if (d !== undefined && d !== (tsv ? '\t' : ',')) out.column_separator = d;
  return Object.keys(out).length > 0 ? out : undefined;
}

/**
 * The rows the server refused, read from its schema errors and placed on the file's lines: the server counts data
 * rows from 0 in upload order (empty lines skipped, as the reader skips them), the file's lines are physical (a quoted
 * field may span several). Writes each row's cells and the server's message to the error-rows CSV.
 */
async function serverRowErrors(
  rc: RevisionsClient,
  ref: OutputSchemaRef,
  plan: PublishPlan,
  writer: ErrorRowsWriter,
  signal: AbortSignal | undefined,
): Promise<RowError[]> {
  const byOffset = new Map<number, string>();
  const unplaced: string[] = [];
  for (let offset = 0; byOffset.size + unplaced.length < MAX_ROW_ERRORS;) {
    const page = await rc.schemaErrors(ref, { offset, limit: 500, ...(signal ? { signal } : {}) });
    if (page.length === 0) break;
    for (const row of page) {
      const message = row.errors
        .map(
          (e) =>
            `${e.field}: ${e.message}${e.input !== undefined && !e.message.includes(typeof e.input === 'string' ? e.input : JSON.stringify(e.input)) ? ` (${JSON.stringify(e.input)})` : ''}`,
        )
        .join('; ');
      if (row.offset !== undefined) byOffset.set(row.offset, message || 'refused by the server');
      else unplaced.push(message);
    }
    offset += page.length;
    if (page.length < 500) break;
  }
  const errors: RowError[] = [];
  if (byOffset.size > 0) {
    const last = Math.max(...byOffset.keys());
    const reader = await openCsv(plan.file.path, { signal });
    let index = 0;
    try {
      outer: for await (const batch of reader.batches()) {
        for (const rec of batch) {
          const message = byOffset.get(index);
          if (message !== undefined) {
            await writer.write(rec.fields, message);
            errors.push({ line: rec.line, message });
          }
          if (++index > last) break outer;
        }
      }
    } finally {
      await reader.close().catch(() => undefined);
    }
  }
  for (const message of unplaced) errors.push({ line: 0, message: `${message} (the server did not say which row)` });
  return errors;
}

export async function executeRevision(client: SodaClient, plan: PublishPlan, options: ExecuteOptions, started: number): Promise<PublishResult> {
  const result = emptyResult(plan, started);
  const req = plan.request;
  const meter = new ProgressMeter(plan.rows, plan.file.size, options.onProgress);
  const writer = new ErrorRowsWriter(options.errorRowsFile ?? defaultErrorRowsFile(plan.file.path), plan.file.header);
  const rc = new RevisionsClient(transportFromHttp(client.http), { domain: client.domain.host, scheme: client.domain.scheme });
  const runner = new RevisionRunner(rc);
  const parseOptions = parseOptionsFor(plan);
  let serverErrors = 0;
  const common = {
    file: plan.file.path,
    columns: columnPlan(plan),
    signal: options.signal,
    ...(parseOptions ? { parseOptions } : {}),
    ...(options.revisionPoll ?? {}),
    onRowErrors: async (summary: { errorCount: number; outputSchema: OutputSchemaRef }): Promise<'apply' | 'abort'> => {
      serverErrors = summary.errorCount;
      try {
        result.rowErrors = await serverRowErrors(rc, summary.outputSchema, plan, writer, options.signal);
      } catch (e) {
        // The count stands even when the rows cannot be read back; the decision does not depend on them.
        result.rowErrors = [{ line: 0, message: `the rows with errors could not be read back: ${describeError(e)}` }];
      }
      return req.skipBadRows ? 'apply' : 'abort';
    },
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
      result.errors = Math.max(outcome.counts.errors, outcome.errorCount, serverErrors);
      result.status = result.errors > 0 ? 'partial' : 'success';
      result.message =
        plan.mode === 'create'
          ? `Created dataset ${outcome.fourfour} with ${outcome.counts.created} rows.`
          : `Applied revision ${outcome.revisionSeq} to ${outcome.fourfour}: ${outcome.counts.created} created, ${outcome.counts.updated} updated, ${outcome.counts.deleted} deleted.`;
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
      if (serverErrors > 0 && e.kind !== 'cancelled') {
        result.errors = serverErrors;
        if (nothing) result.message += ' Fix the rows the server refused, or publish again choosing to skip bad rows.';
      }
    } else if (isSodaError(e, 'cancelled')) {
      result.status = 'cancelled';
      result.message = `Cancelled before the revision was opened; nothing was applied.`;
    } else {
      result.status = 'failed';
      result.message = describeError(e);
    }
  }
  result.errorRowsFile = await writer.close();
  if (result.errorRowsFile && result.errors > 0) result.message += ` ${result.errors} row(s) were refused by the server; they are in ${result.errorRowsFile}.`;
  result.elapsedMs = Date.now() - started;
  return result;
}
