// DSMAPI flows: runs a revision end to end (create/update/metadata-only) with progress, cancellation and
// time-outs, on top of the one-request-per-endpoint `RevisionsClient`.
// Why one file: the three flows share one sequence (revision, source, upload, schema, apply, poll) and its
// cancellation and time-out handling; `planOutputColumns` is the one helper that sits beside them.
import { open } from 'node:fs/promises';
import { DEFAULT_RETRY_POLICY, sleep } from './retry';
import type { RevisionsClient } from './dsmapiClient';
import { assertFourfour, paths } from './dsmapiPaths';
import {
  type ColumnPlan,
  type CreateDatasetOptions,
  type DatasetMetadata,
  describe,
  type Envelope,
  errorStatus,
  type FlowOptions,
  type InputSchema,
  isAbort,
  isApproval,
  isObject,
  isTransient,
  jobCounts,
  type Links,
  num,
  type OutputColumn,
  type OutputSchema,
  type OutputSchemaRef,
  type Permission,
  type PollOptions,
  type Revision,
  type RevisionAction,
  RevisionError,
  type RevisionErrorKind,
  type RevisionOutcome,
  type RevisionStage,
  type Source,
  type TaskSet,
  TYPE_FUNCTIONS,
  type UpdateDatasetOptions,
} from './dsmapiTypes';

// ---------------------------------------------------------------------------------------------------------
// High-level flows
// ---------------------------------------------------------------------------------------------------------

/**
 * Poll with a growing interval until `done`, honouring the signal and the deadline. Transient errors are retried
 * as often as the shared retry policy allows (`DEFAULT_RETRY_POLICY.maxAttempts` attempts in a row).
 */
async function pollUntil<T>(
  fetch: () => Promise<T>,
  done: (t: T) => boolean,
  ctx: { signal?: AbortSignal; deadline: number; initialDelayMs: number; maxDelayMs: number; stage: RevisionStage; what: string },
): Promise<T> {
  let delay = ctx.initialDelayMs;
  let failures = 0;
  for (;;) {
    let value: T | undefined;
    try {
      value = await fetch();
      failures = 0;
    } catch (e) {
      if (isAbort(e) || ctx.signal?.aborted || !isTransient(e) || ++failures >= DEFAULT_RETRY_POLICY.maxAttempts) throw e;
    }
    if (value !== undefined && done(value)) return value;
    if (Date.now() + delay > ctx.deadline) {
      throw new RevisionError(`timed out waiting for ${ctx.what}`, 'timeout', ctx.stage);
    }
    await sleep(delay, ctx.signal);
    delay = Math.min(ctx.maxDelayMs, Math.round(delay * 1.5));
  }
}

function defaultContentType(file: string): string {
  if (/\.tsv$/i.test(file)) return 'text/tab-separated-values';
  return 'text/csv';
}

function baseName(file: string): string {
  const parts = file.split(/[\\/]/);
  return parts[parts.length - 1] || 'data.csv';
}

/** Output columns after applying the caller's plan to the server's default output schema. */
export function planOutputColumns(
  input: InputSchema,
  current: OutputColumn[],
  columns: Record<string, ColumnPlan> = {},
  rowIdentifier?: string,
): OutputColumn[] {
  const byInputId = new Map(input.input_columns.map((c) => [c.id, c]));
  const known = new Set(input.input_columns.map((c) => c.field_name));
  for (const name of Object.keys(columns)) {
    if (!known.has(name)) {
      throw new RevisionError(
        `column plan names "${name}", which is not a column of the uploaded file (columns: ${[...known].join(', ')})`,
        'invalid-input',
        'transform',
        { field: name },
      );
    }
  }
  const out: OutputColumn[] = [];
  const sorted = [...current].sort((a, b) => a.position - b.position);
  for (const col of sorted) {
    const inputIds = col.transform.transform_input_columns?.map((c) => c.input_column_id) ?? [];
    const source = inputIds.length === 1 ? byInputId.get(inputIds[0]) : input.input_columns.find((c) => c.field_name === col.field_name);
    const plan = source ? columns[source.field_name] : undefined;
    if (plan?.drop) continue;
    let expr = col.transform.transform_expr;
    if (plan?.type && source) {
      const fn = TYPE_FUNCTIONS[plan.type];
      if (!fn) {
        throw new RevisionError(`unknown column type "${String(plan.type)}" for column "${source.field_name}"`, 'invalid-input', 'transform', {
          field: source.field_name,
        });
      }
      expr = `${fn}(\`${source.field_name.replace(/`/g, '')}\`)`;
    }
    const fieldName = plan?.fieldName ?? col.field_name;
    const next: OutputColumn = {
      field_name: fieldName,
      display_name: plan?.displayName ?? col.display_name,
      description: plan?.description ?? col.description ?? '',
      position: out.length + 1,
      format: col.format ?? {},
      is_primary_key: rowIdentifier !== undefined ? fieldName === rowIdentifier : (col.is_primary_key ?? false),
      initial_output_column_id: col.initial_output_column_id ?? col.id ?? null,
      transform: { transform_expr: expr },
    };
    out.push(next);
  }
  if (out.length === 0) throw new RevisionError('the column plan drops every column', 'invalid-input', 'transform', { field: 'columns' });
  const seen = new Set<string>();
  for (const c of out) {
    if (!/^[a-z_][a-z0-9_]*$/.test(c.field_name)) {
      throw new RevisionError(`field name "${c.field_name}" must be lower-case letters, digits and _`, 'invalid-input', 'transform', { field: c.field_name });
    }
    if (seen.has(c.field_name)) throw new RevisionError(`field name "${c.field_name}" is used twice`, 'invalid-input', 'transform', { field: c.field_name });
    seen.add(c.field_name);
  }
  if (rowIdentifier !== undefined && !seen.has(rowIdentifier)) {
    throw new RevisionError(`row identifier "${rowIdentifier}" is not one of the output columns`, 'invalid-input', 'transform', { field: 'rowIdentifier' });
  }
  return out;
}

/** Runs revisions end to end (create/update/metadata-only) with progress, cancellation and time-outs. */
export class RevisionRunner {
  constructor(readonly client: RevisionsClient) {}

  /** New dataset from a file → the new 4x4 (or the approval outcome). */
  async createDataset(opts: CreateDatasetOptions): Promise<RevisionOutcome> {
    if (!opts.metadata.name?.trim()) throw new RevisionError('a new dataset needs a name', 'invalid-input', 'create-revision', { field: 'metadata.name' });
    opts.onProgress?.({ stage: 'creating' });
    const rev = await this.client.createRevision(
      undefined,
      { action: 'update', metadata: opts.metadata, permission: opts.permission ?? 'private' },
      opts.signal,
    );
    return this.runData(rev, opts);
  }

  /** Revision of type update/replace/delete on an existing dataset from a file. */
  async updateDataset(fourfour: string, opts: UpdateDatasetOptions): Promise<RevisionOutcome> {
    assertFourfour(fourfour);
    opts.onProgress?.({ stage: 'creating' });
    const body: { action: RevisionAction; metadata?: DatasetMetadata; permission?: Permission } = { action: opts.action };
    if (opts.metadata) body.metadata = opts.metadata;
    if (opts.permission) body.permission = opts.permission;
    const rev = await this.client.createRevision(fourfour, body, opts.signal);
    return this.runData(rev, opts);
  }

  /** Metadata-only revision: create with metadata, apply with no output schema. */
  async updateMetadata(
    fourfour: string,
    metadata: DatasetMetadata,
    opts: Omit<FlowOptions, 'columns' | 'rowIdentifier'> & { permission?: Permission } = {},
  ): Promise<RevisionOutcome> {
    assertFourfour(fourfour);
    const rev = await this.client.createRevision(
      fourfour,
      { action: 'update', metadata, ...(opts.permission ? { permission: opts.permission } : {}) },
      opts.signal,
    );
    const ctx = this.context(rev, opts);
    try {
      ctx.checkpoint();
    } catch (e) {
      await this.abandon(rev, e, ctx, 'metadata');
    }
    return this.applyAndWait(rev, undefined, ctx, opts);
  }

  private context(rev: Envelope<Revision>, opts: PollOptions & { signal?: AbortSignal }) {
    const { fourfour, revision_seq: seq } = rev.resource;
    const timeoutMs = opts.timeoutMs ?? 6 * 3600_000;
    const deadline = Date.now() + timeoutMs;
    const timeout = AbortSignal.timeout(Math.max(1, timeoutMs));
    const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
    return {
      fourfour,
      seq,
      revisionPath: paths.revision(fourfour, seq),
      revisionUrl: this.client.revisionUrl(fourfour, seq),
      deadline,
      signal,
      userSignal: opts.signal,
      timeoutSignal: timeout,
      initialDelayMs: opts.initialDelayMs ?? 250,
      maxDelayMs: opts.maxDelayMs ?? 5000,
      checkpoint(): void {
        if (signal.aborted) throw signal.reason;
      },
    };
  }

  /** Discard the revision, then throw the right error (cancellation, time-out or the original failure). */
  private async abandon(rev: Envelope<Revision>, cause: unknown, ctx: ReturnType<RevisionRunner['context']>, stage: RevisionStage): Promise<never> {
    let discarded = false;
    try {
      await this.client.discard(ctx.fourfour, ctx.seq, rev.links);
      discarded = true;
    } catch {
      discarded = false;
    }
    const details = { revisionPath: ctx.revisionPath, revisionUrl: ctx.revisionUrl, outcome: 'not-applied' as const, discarded, cause };
    const note = discarded ? 'the revision was discarded' : `the revision could not be discarded; discard it at ${ctx.revisionUrl}`;
    if (ctx.userSignal?.aborted) throw new RevisionError(`cancelled; ${note}`, 'cancelled', stage, details);
    if (ctx.timeoutSignal.aborted || (cause instanceof RevisionError && cause.kind === 'timeout')) {
      throw new RevisionError(`timed out during ${stage}; ${note}`, 'timeout', stage, details);
    }
    if (cause instanceof RevisionError) {
      throw new RevisionError(`${cause.message}; ${note}`, cause.kind, cause.stage, { ...cause.details, ...details, cause: cause.details.cause ?? cause });
    }
    throw new RevisionError(`${stage} failed: ${describe(cause)}; ${note}`, 'failed', stage, details);
  }

  private async runData(rev: Envelope<Revision>, opts: FlowOptions & { file: string; filename?: string }): Promise<RevisionOutcome> {
    const ctx = this.context(rev, opts);
    const { signal } = ctx;
    let stage: RevisionStage = 'create-source';
    let schemaRef: OutputSchemaRef;
    let schemaErrorCount = 0;
    try {
      const filename = opts.filename ?? baseName(opts.file);
      const source = await this.client.createUploadSource(rev, filename, opts.parseOptions, signal);
      stage = 'upload';
      await this.upload(source, opts, signal);
      ctx.checkpoint();
      stage = 'parse';
      const { input, output, outputLinks, inputLinks } = await this.waitForSchemas(source, ctx, opts);
      schemaRef = { sourceId: source.resource.id, inputSchemaId: input.id, outputSchemaId: output.id, links: outputLinks };
      let current = output;
      if (opts.columns || opts.rowIdentifier) {
        stage = 'transform';
        const planned = planOutputColumns(input, current.output_columns, opts.columns, undefined);
        current = await this.runTransform(source.resource.id, input.id, planned, inputLinks, ctx, opts);
        schemaRef = { ...schemaRef, outputSchemaId: current.id };
        if (opts.rowIdentifier) {
          stage = 'validate-row-id';
          const col = current.output_columns.find((c) => c.field_name === opts.rowIdentifier);
          if (!col?.transform.id) {
            throw new RevisionError(`row identifier "${opts.rowIdentifier}" is not an output column`, 'invalid-input', stage, { field: 'rowIdentifier' });
          }
          const valid = await this.client.validateRowId(schemaRef, col.transform.id, signal);
          if (!valid) {
            throw new RevisionError(
              `column "${opts.rowIdentifier}" cannot be the row identifier: its values are missing, duplicated or have errors`,
              'invalid-input',
              stage,
              { field: 'rowIdentifier' },
            );
          }
          stage = 'transform';
          const withPk = planOutputColumns(input, current.output_columns, {}, opts.rowIdentifier);
          current = await this.runTransform(source.resource.id, input.id, withPk, inputLinks, ctx, opts);
          schemaRef = { ...schemaRef, outputSchemaId: current.id };
        }
      }
      const errorCount = num(current.error_count);
      schemaErrorCount = errorCount;
      if (errorCount > 0 && opts.onRowErrors) {
        const decision = await opts.onRowErrors({ errorCount, outputSchema: schemaRef });
        if (decision === 'abort') {
          throw new RevisionError(`${errorCount} row(s) have errors; the revision was not applied`, 'invalid-input', 'transform', { field: 'rows' });
        }
      }
      ctx.checkpoint();
    } catch (e) {
      return this.abandon(rev, e, ctx, stage);
    }
    return this.applyAndWait(rev, schemaRef.outputSchemaId, ctx, opts, schemaErrorCount);
  }

  private async upload(source: Envelope<Source>, opts: FlowOptions & { file: string }, signal: AbortSignal): Promise<void> {
    const contentType = opts.contentType ?? defaultContentType(opts.file);
    const fh = await open(opts.file, 'r').catch((e: unknown) => {
      throw new RevisionError(`${opts.file}: cannot open the file (${describe(e)})`, 'invalid-input', 'upload', { field: 'file', cause: e });
    });
    let size: number;
    try {
      size = (await fh.stat()).size;
      if (size === 0) throw new RevisionError(`${opts.file}: the file is empty`, 'invalid-input', 'upload', { field: 'file' });
      const mode = opts.uploadMode ?? 'auto';
      if (mode === 'single' || (mode === 'auto' && size <= (opts.singleShotMaxBytes ?? 256 * 1024))) {
        const buf = Buffer.alloc(size);
        let read = 0;
        while (read < size) {
          const r = await fh.read(buf, read, size - read, read);
          if (r.bytesRead === 0) break;
          read += r.bytesRead;
        }
        await fh.close();
        opts.onProgress?.({ stage: 'uploading', bytesSent: 0, totalBytes: size });
        await this.client.uploadBytes(source, buf.subarray(0, read), contentType, signal);
        opts.onProgress?.({ stage: 'uploading', bytesSent: read, totalBytes: size });
        return;
      }
    } catch (e) {
      await fh.close().catch(() => undefined);
      throw e;
    }
    await fh.close();
    await this.client.uploadFileChunked(source, opts.file, {
      contentType,
      signal,
      onProgress: (sent, total) => opts.onProgress?.({ stage: 'uploading', bytesSent: sent, totalBytes: total }),
      ...(opts.chunkRetries !== undefined ? { retries: opts.chunkRetries } : {}),
      ...(opts.chunkBackoffMs !== undefined ? { backoffMs: opts.chunkBackoffMs } : {}),
    });
  }

  private async waitForSchemas(source: Envelope<Source>, ctx: ReturnType<RevisionRunner['context']>, opts: FlowOptions) {
    const src = await pollUntil(
      () => this.client.getSource(source, ctx.signal),
      (s) => {
        if (s.resource.failed_at) {
          throw new RevisionError(`the server could not read the file: ${s.resource.failure_details?.message ?? 'unknown reason'}`, 'invalid-input', 'parse', {
            field: 'file',
          });
        }
        const input = latest(s.resource.schemas ?? []);
        opts.onProgress?.({ stage: 'parsing', ...(input?.total_rows != null ? { rows: input.total_rows } : {}) });
        return input !== undefined && input.total_rows != null && latest(input.output_schemas ?? []) !== undefined;
      },
      { ...ctx, stage: 'parse', what: 'the file to be parsed' },
    );
    const input = latest(src.resource.schemas ?? []) as InputSchema;
    const first = latest(input.output_schemas ?? []) as OutputSchema;
    const inputLinks = isObject(src.links.input_schema_links) ? src.links.input_schema_links : {};
    const outputLinks = isObject(inputLinks.output_schema_links) ? inputLinks.output_schema_links : {};
    const fill = (l: Links, vars: Record<string, number>): Links => substituteLinks(l, vars);
    const inLinks = fill(inputLinks, { input_schema_id: input.id, source_id: src.resource.id });
    const outLinks = fill(outputLinks, { input_schema_id: input.id, source_id: src.resource.id });
    const ref: OutputSchemaRef = { sourceId: src.resource.id, inputSchemaId: input.id, outputSchemaId: first.id, links: outLinks };
    const output = await this.waitForOutput(ref, ctx, opts);
    return { input, output, inputLinks: inLinks, outputLinks: outLinks };
  }

  private async waitForOutput(ref: OutputSchemaRef, ctx: ReturnType<RevisionRunner['context']>, opts: FlowOptions): Promise<OutputSchema> {
    const env = await pollUntil(
      () => this.client.getOutputSchema(ref, ctx.signal),
      (o) => {
        const failed = o.resource.output_columns?.find((c) => c.transform?.failed_at);
        if (failed) {
          throw new RevisionError(
            `the transform of column "${failed.field_name}" failed: ${failed.transform.failure_details?.message ?? 'unknown reason'}`,
            'invalid-input',
            'transform',
            { field: failed.field_name },
          );
        }
        const done = Boolean(o.resource.completed_at ?? o.resource.finished_at);
        opts.onProgress?.({ stage: 'transforming', ...(done ? { errorCount: num(o.resource.error_count) } : {}) });
        return done;
      },
      { ...ctx, stage: 'transform', what: 'the columns to be transformed' },
    );
    return env.resource;
  }

  private async runTransform(
    sourceId: number,
    inputSchemaId: number,
    columns: OutputColumn[],
    inputLinks: Links,
    ctx: ReturnType<RevisionRunner['context']>,
    opts: FlowOptions,
  ): Promise<OutputSchema> {
    const created = await this.client.transform(sourceId, inputSchemaId, columns, inputLinks, ctx.signal);
    const outLinks = isObject(inputLinks.output_schema_links) ? inputLinks.output_schema_links : {};
    return this.waitForOutput({ sourceId, inputSchemaId, outputSchemaId: created.resource.id, links: outLinks }, ctx, opts);
  }

  private async applyAndWait(
    rev: Envelope<Revision>,
    outputSchemaId: number | undefined,
    ctx: ReturnType<RevisionRunner['context']>,
    opts: FlowOptions,
    schemaErrorCount = 0,
  ): Promise<RevisionOutcome> {
    const base = { fourfour: ctx.fourfour, revisionSeq: ctx.seq, revisionUrl: ctx.revisionUrl };
    const unknown = (msg: string, kind: RevisionErrorKind, stage: RevisionStage, cause: unknown): RevisionError =>
      new RevisionError(
        `${msg}. The revision may have been applied or may still be applying: check ${ctx.revisionPath} (or ${ctx.revisionUrl}) before trying again`,
        kind,
        stage,
        { revisionPath: ctx.revisionPath, revisionUrl: ctx.revisionUrl, outcome: 'unknown', cause },
      );
    opts.onProgress?.({ stage: 'applying', status: 'initializing', rowsUpserted: 0 });
    let job: Envelope<TaskSet>;
    try {
      job = await this.client.apply(rev, outputSchemaId, ctx.signal);
    } catch (e) {
      const status = errorStatus(e);
      // A 4xx answer means the server refused it: nothing was applied and the revision stays open.
      if (status !== undefined && status >= 400 && status < 500 && status !== 408 && status !== 429) {
        throw new RevisionError(`applying the revision was refused: ${describe(e)}`, 'failed', 'apply', {
          revisionPath: ctx.revisionPath,
          revisionUrl: ctx.revisionUrl,
          outcome: 'not-applied',
          cause: e,
        });
      }
      const kind: RevisionErrorKind = ctx.userSignal?.aborted ? 'cancelled' : ctx.timeoutSignal.aborted ? 'timeout' : 'failed';
      throw unknown(`applying the revision did not get an answer (${describe(e)})`, kind, 'apply', e);
    }
    if (isApproval(job.resource)) return { status: 'approval-submitted', ...base };
    if (typeof job.resource.id !== 'number') throw unknown('the apply answer has no job id', 'protocol', 'apply', undefined);
    let last: TaskSet;
    try {
      last = await pollUntil(
        () => this.client.getJob(ctx.fourfour, ctx.seq, job, ctx.signal),
        (t) => {
          if (isApproval(t)) return true;
          const status = t.status ?? 'unknown';
          opts.onProgress?.({ stage: 'applying', status, rowsUpserted: jobCounts(t).upserted });
          return status === 'successful' || status === 'failure';
        },
        { ...ctx, stage: 'job', what: 'the revision to be applied' },
      );
    } catch (e) {
      const kind: RevisionErrorKind = ctx.userSignal?.aborted
        ? 'cancelled'
        : ctx.timeoutSignal.aborted || (e instanceof RevisionError && e.kind === 'timeout')
          ? 'timeout'
          : 'failed';
      throw unknown(`stopped waiting for the job (${describe(e)})`, kind, 'job', e);
    }
    if (isApproval(last)) return { status: 'approval-submitted', ...base };
    if (last.status === 'failure') {
      const reason = [...(last.log ?? [])]
        .map((l) => (isObject(l.details) && typeof l.details.message === 'string' ? l.details.message : undefined))
        .find(Boolean);
      throw new RevisionError(`the job applying the revision failed${reason ? `: ${reason}` : ''}; the dataset was left unchanged`, 'failed', 'job', {
        revisionPath: ctx.revisionPath,
        revisionUrl: ctx.revisionUrl,
        outcome: 'not-applied',
      });
    }
    const counts = jobCounts(last);
    return {
      status: 'successful',
      ...base,
      counts: { created: counts.created, updated: counts.updated, deleted: counts.deleted, errors: counts.errors },
      errorCount: Math.max(schemaErrorCount, counts.errors),
    };
  }
}

function latest<T extends { id: number }>(list: T[]): T | undefined {
  let best: T | undefined;
  for (const x of list) if (!best || x.id > best.id) best = x;
  return best;
}

function substituteLinks(links: Links, vars: Record<string, number>): Links {
  const out: Links = {};
  for (const [k, v] of Object.entries(links)) {
    out[k] = typeof v === 'string' ? v.replace(/\{([a-z_]+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m)) : substituteLinks(v, vars);
  }
  return out;
}
