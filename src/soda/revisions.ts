// Dataset Management API (DSMAPI, `/api/publishing/v1`) client: revisions, sources, uploads, schemas, apply.
//
// Everything goes through a narrow `DsmapiTransport` (one HTTP request, JSON or text answer, a retry policy
// and an AbortSignal) so the module only depends on the gateway's contract, not on its implementation.
// Design choices and the open questions they answer are written down in docs/REVISIONS.md.
import { open } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RequestOptions, SodaHttp } from './http';

// ---------------------------------------------------------------------------------------------------------
// Transport seam
// ---------------------------------------------------------------------------------------------------------

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface DsmapiRequest {
  method: HttpMethod;
  /** Absolute path on the domain, e.g. `/api/publishing/v1/revision/abcd-1234`. */
  path: string;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  expect: 'json' | 'text';
  /** 'safe' lets the gateway retry idempotent calls; 'never' for writes whose repetition is not safe. */
  retry: 'safe' | 'never';
  signal?: AbortSignal;
}

export interface DsmapiResponse {
  status: number;
  body: unknown;
}

/** One HTTP call. Must throw on non-2xx answers (ideally an error with `status` and/or `kind`). */
export interface DsmapiTransport {
  request(req: DsmapiRequest): Promise<DsmapiResponse>;
}

// ---------------------------------------------------------------------------------------------------------
// Errors
// ---------------------------------------------------------------------------------------------------------

export type RevisionErrorKind = 'cancelled' | 'timeout' | 'failed' | 'invalid-input' | 'protocol';
export type RevisionStage =
  | 'create-revision'
  | 'create-source'
  | 'upload'
  | 'commit'
  | 'parse'
  | 'transform'
  | 'validate-row-id'
  | 'apply'
  | 'job'
  | 'discard'
  | 'metadata';

export class RevisionError extends Error {
  override readonly name = 'RevisionError';
  constructor(
    message: string,
    readonly kind: RevisionErrorKind,
    readonly stage: RevisionStage,
    readonly details: {
      /** API path of the revision, to check what happened (`GET` it) when the outcome is unknown. */
      revisionPath?: string;
      /** Browser page of the revision on the domain. */
      revisionUrl?: string;
      /** 'not-applied' — nothing changed on the dataset; 'unknown' — an unsafe write may have happened. */
      outcome?: 'not-applied' | 'unknown';
      /** Whether the revision was discarded while handling this error. */
      discarded?: boolean;
      cause?: unknown;
      field?: string;
    } = {},
  ) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
  }
}

function errorStatus(e: unknown): number | undefined {
  if (typeof e === 'object' && e !== null && 'status' in e && typeof (e).status === 'number') {
    return (e as { status: number }).status;
  }
  return undefined;
}

function errorKind(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'kind' in e && typeof (e).kind === 'string') {
    return (e as { kind: string }).kind;
  }
  return undefined;
}

function isAbort(e: unknown): boolean {
  return (
    (e instanceof Error && (e.name === 'AbortError' || (e as { code?: unknown }).code === 'ABORT_ERR')) ||
    errorKind(e) === 'cancelled'
  );
}

/** Transient failures worth retrying for idempotent calls (chunks, polls). */
export function isTransient(e: unknown): boolean {
  const kind = errorKind(e);
  if (kind === 'network' || kind === 'server' || kind === 'rate-limited') return true;
  const status = errorStatus(e);
  if (status !== undefined) return status >= 500 || status === 429;
  return e instanceof Error && /ECONNRESET|ECONNREFUSED|EPIPE|socket|network/i.test(e.message);
}

function describe(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// ---------------------------------------------------------------------------------------------------------
// Resource shapes (read defensively: every field may be missing on some server version)
// ---------------------------------------------------------------------------------------------------------

export type Links = { [name: string]: string | Links };
export interface Envelope<T> {
  resource: T;
  links: Links;
}

export interface TaskSet {
  id: number;
  status?: string;
  key?: string;
  log?: { stage?: string; time?: string; details?: Record<string, unknown> | null }[];
  finished_at?: string | null;
  output_schema_id?: number | null;
}

export interface Revision {
  id?: number;
  fourfour: string;
  revision_seq: number;
  action?: { type?: string; permission?: string };
  metadata?: Record<string, unknown> | null;
  output_schema_id?: number | null;
  closed_at?: string | null;
  task_sets?: TaskSet[];
}

export interface InputColumn {
  id: number;
  field_name: string;
  display_name?: string;
  position?: number;
  soql_type?: string;
  guessed_soql_type?: string | null;
}

export interface OutputColumn {
  id?: number;
  field_name: string;
  display_name: string;
  description?: string | null;
  position: number;
  format?: Record<string, unknown>;
  is_primary_key?: boolean;
  initial_output_column_id?: number | null;
  transform: {
    id?: number;
    transform_expr: string;
    output_soql_type?: string;
    transform_input_columns?: { input_column_id: number }[];
    error_count?: number | null;
    failed_at?: string | null;
    failure_details?: { message?: string } | null;
  };
}

export interface OutputSchema {
  id: number;
  input_schema_id: number;
  output_columns: OutputColumn[];
  total_rows?: number | null;
  error_count?: number | null;
  completed_at?: string | null;
  finished_at?: string | null;
}

export interface InputSchema {
  id: number;
  total_rows?: number | null;
  num_row_errors?: number | null;
  input_columns: InputColumn[];
  output_schemas?: OutputSchema[];
}

export interface Source {
  id: number;
  source_type?: { type?: string; filename?: string };
  parse_options?: Record<string, unknown>;
  schemas?: InputSchema[];
  filesize?: number | null;
  finished_at?: string | null;
  failed_at?: string | null;
  failure_details?: { message?: string } | null;
}

// ---------------------------------------------------------------------------------------------------------
// Public option and result types
// ---------------------------------------------------------------------------------------------------------

export type RevisionAction = 'update' | 'replace' | 'delete';
export type Permission = 'public' | 'private';

export interface DatasetMetadata {
  name?: string;
  description?: string;
  category?: string;
  tags?: string[];
  [key: string]: unknown;
}

export interface ParseOptions {
  header_count?: number;
  column_header?: number;
  encoding?: string;
  column_separator?: string;
  quote_char?: string;
  trim_whitespace?: boolean;
  remove_empty_rows?: boolean;
}

/** SoQL output types the client can retype a column to (legacy names accepted). */
export type ColumnType =
  | 'text'
  | 'number'
  | 'boolean'
  | 'checkbox'
  | 'floating_timestamp'
  | 'calendar_date'
  | 'fixed_timestamp'
  | 'date'
  | 'point'
  | 'url';

const TYPE_FUNCTIONS: Record<ColumnType, string> = {
  text: 'to_text',
  number: 'to_number',
  boolean: 'to_boolean',
  checkbox: 'to_boolean',
  floating_timestamp: 'to_floating_timestamp',
  calendar_date: 'to_floating_timestamp',
  fixed_timestamp: 'to_fixed_timestamp',
  date: 'to_fixed_timestamp',
  point: 'to_point',
  url: 'to_url',
};

/** What to do with one input column. Columns not named keep the server's guess. */
export interface ColumnPlan {
  /** New API field name (rename). */
  fieldName?: string;
  displayName?: string;
  description?: string;
  type?: ColumnType;
  /** Leave this column out of the dataset. */
  drop?: boolean;
}

export type RevisionProgress =
  | { stage: 'creating' }
  | { stage: 'uploading'; bytesSent: number; totalBytes: number }
  | { stage: 'parsing'; rows?: number }
  | { stage: 'transforming'; errorCount?: number }
  | { stage: 'applying'; status: string; rowsUpserted: number };

export interface RowErrorSummary {
  errorCount: number;
  outputSchema: OutputSchemaRef;
}

export interface PollOptions {
  /** First delay between polls (ms). */
  initialDelayMs?: number;
  /** Upper bound for the delay between polls (ms). */
  maxDelayMs?: number;
  /** Overall limit for the whole operation (ms); default 6 hours. */
  timeoutMs?: number;
}

export interface FlowOptions extends PollOptions {
  signal?: AbortSignal;
  onProgress?: (p: RevisionProgress) => void;
  /** Columns by INPUT field name (as the server derived it from the header). */
  columns?: Record<string, ColumnPlan>;
  /** Field name (after renames) to set as the row identifier (validated first). */
  rowIdentifier?: string;
  parseOptions?: ParseOptions;
  contentType?: string;
  /** Files up to this size are sent in one request; larger ones in chunks. Default 256 KiB. */
  singleShotMaxBytes?: number;
  /** Force an upload mode. */
  uploadMode?: 'auto' | 'single' | 'chunked';
  /** Retries per chunk after the first attempt (default 5). */
  chunkRetries?: number;
  /** Base backoff between chunk attempts (ms, default 500): attempt² × base. */
  chunkBackoffMs?: number;
  /**
   * Called when the output schema reports rows that will not import. Return 'abort' to discard the revision
   * (the error then has kind 'invalid-input'), 'apply' to import the good rows. Default: apply.
   */
  onRowErrors?: (summary: RowErrorSummary) => 'apply' | 'abort' | Promise<'apply' | 'abort'>;
}

export interface CreateDatasetOptions extends FlowOptions {
  metadata: DatasetMetadata & { name: string };
  permission?: Permission;
  /** Path of the file on disk. */
  file: string;
  /** Name recorded on the source (defaults to the file's base name). */
  filename?: string;
}

export interface UpdateDatasetOptions extends FlowOptions {
  action: RevisionAction;
  file: string;
  filename?: string;
  metadata?: DatasetMetadata;
  permission?: Permission;
}

export interface RowCounts {
  created: number;
  updated: number;
  deleted: number;
  errors: number;
}

export type RevisionOutcome =
  | {
      status: 'successful';
      fourfour: string;
      revisionSeq: number;
      revisionUrl: string;
      counts: RowCounts;
      /** Rows that did not import because of schema (cell) errors. */
      errorCount: number;
    }
  | { status: 'approval-submitted'; fourfour: string; revisionSeq: number; revisionUrl: string };

export interface OutputSchemaRef {
  sourceId: number;
  inputSchemaId: number;
  outputSchemaId: number;
  links?: Links;
}

export interface SchemaErrorRow {
  /** 0-based index of the data row in the file, when the server tells it. */
  offset?: number;
  errors: { field: string; message: string; input?: unknown }[];
}

// ---------------------------------------------------------------------------------------------------------
// Paths and links
// ---------------------------------------------------------------------------------------------------------

const BASE = '/api/publishing/v1';
const FOURFOUR = /^[a-z0-9]{4}-[a-z0-9]{4}$/;

export function assertFourfour(id: string): string {
  if (!FOURFOUR.test(id)) throw new RevisionError(`dataset id "${id}" is not a 4x4 id like abcd-1234`, 'invalid-input', 'create-revision', { field: 'fourfour' });
  return id;
}

const enc = (v: string | number): string => encodeURIComponent(String(v));

export const paths = {
  newRevision: (): string => `${BASE}/revision`,
  revisions: (ff: string): string => `${BASE}/revision/${enc(assertFourfour(ff))}`,
  revision: (ff: string, seq: number): string => `${BASE}/revision/${enc(assertFourfour(ff))}/${enc(seq)}`,
  apply: (ff: string, seq: number): string => `${paths.revision(ff, seq)}/apply`,
  job: (ff: string, seq: number, id: number): string => `${paths.revision(ff, seq)}/apply/${enc(id)}`,
  createSource: (ff: string, seq: number): string => `${paths.revision(ff, seq)}/source`,
  source: (id: number): string => `${BASE}/source/${enc(id)}`,
  initiate: (id: number): string => `${paths.source(id)}/initiate`,
  chunk: (id: number, seq: number, offset: number): string => `${paths.source(id)}/chunk/${enc(seq)}/${enc(offset)}`,
  commit: (id: number, seq: number, offset: number): string => `${paths.chunk(id, seq, offset)}/commit`,
  inputSchema: (sid: number, isid: number): string => `${paths.source(sid)}/schema/${enc(isid)}`,
  outputSchema: (sid: number, isid: number, osid: number): string => `${paths.inputSchema(sid, isid)}/output/${enc(osid)}`,
  schemaErrors: (sid: number, isid: number, osid: number): string => `${paths.inputSchema(sid, isid)}/errors/${enc(osid)}`,
  validateRowId: (sid: number, isid: number, osid: number, tid: number): string =>
    `${paths.outputSchema(sid, isid, osid)}/validate_row_id/${enc(tid)}`,
};

/**
 * Follows a link from a response when present: `links.a.b` with `{placeholder}` templates filled in (values
 * URL-encoded). Only same-domain API paths are followed; anything else falls back to the documented path.
 */
export function followLink(links: Links | undefined, keyPath: string[], vars: Record<string, string | number>, fallback: string): string {
  let cur: string | Links | undefined = links;
  for (const k of keyPath) {
    if (cur === undefined || typeof cur === 'string') return fallback;
    cur = cur[k];
  }
  if (typeof cur !== 'string') return fallback;
  const filled = cur.replace(/\{([a-z_]+)\}/g, (m, name: string) => (name in vars ? enc(vars[name]) : m));
  if (!filled.startsWith(`${BASE}/`) || /[{}]/.test(filled) || filled.includes('..') || filled.includes('//')) return fallback;
  return filled;
}

// ---------------------------------------------------------------------------------------------------------
// Shape readers
// ---------------------------------------------------------------------------------------------------------

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** socrata-py rule: a body without `resource` is itself the resource (links from `body.links`). */
export function envelope<T>(body: unknown, stage: RevisionStage): Envelope<T> {
  if (!isObject(body)) throw new RevisionError('the server answered with something that is not a JSON object', 'protocol', stage);
  if (isObject(body.resource)) {
    return { resource: body.resource as T, links: isObject(body.links) ? (body.links as Links) : {} };
  }
  return { resource: body as T, links: isObject(body.links) ? (body.links as Links) : {} };
}

function num(v: unknown): number {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return 0;
}

/** Counts from the newest task-set log entry that carries them (`upsert_complete` or progress entries). */
export function jobCounts(job: TaskSet): RowCounts & { upserted: number } {
  const out = { created: 0, updated: 0, deleted: 0, errors: 0, upserted: 0 };
  const log = [...(job.log ?? [])];
  // Logs are newest-first in socrata-py's example; be robust to either order by taking the largest counts.
  for (const entry of log) {
    const d = entry.details;
    if (!isObject(d)) continue;
    const created = num(d['Rows Created']);
    const updated = num(d['Rows Updated']);
    const deleted = num(d['Rows Deleted']);
    const errors = num(d.Errors);
    const upserted = Math.max(num(d.rows_upserted), num(d['Rows Upserted']), created + updated + deleted);
    if (upserted >= out.upserted) {
      out.upserted = upserted;
      if (created + updated + deleted + errors > 0) Object.assign(out, { created, updated, deleted, errors });
    }
  }
  return out;
}

const isApproval = (r: unknown): boolean =>
  isObject(r) && (r.key === 'approval_submitted' || r.status === 'submitted_for_approval' || r.status === 'approval_submitted');

// ---------------------------------------------------------------------------------------------------------
// Low-level client
// ---------------------------------------------------------------------------------------------------------

export interface RevisionsClientOptions {
  /** Validated domain (host or host:port) used only to build the browser URL of a revision. */
  domain: string;
  /** Scheme for browser URLs; 'https' unless the domain is a loopback emulator. */
  scheme?: 'https' | 'http';
}

export class RevisionsClient {
  constructor(
    private readonly transport: DsmapiTransport,
    private readonly options: RevisionsClientOptions,
  ) {}

  /** Browser page of a revision (socrata-py `Revision.ui_url`). */
  revisionUrl(fourfour: string, seq: number): string {
    const u = new URL(`${this.options.scheme ?? 'https'}://${this.options.domain}`);
    u.pathname = `/d/${enc(assertFourfour(fourfour))}/revisions/${enc(seq)}`;
    return u.toString();
  }

  private async call<T>(stage: RevisionStage, req: DsmapiRequest): Promise<Envelope<T>> {
    const res = await this.transport.request(req);
    return envelope<T>(res.body, stage);
  }

  private json(method: HttpMethod, path: string, body: unknown, retry: 'safe' | 'never', signal?: AbortSignal): DsmapiRequest {
    const req: DsmapiRequest = { method, path, expect: 'json', retry, headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) };
    if (signal) req.signal = signal;
    return req;
  }

  private get(path: string, signal?: AbortSignal, query?: Record<string, string>): DsmapiRequest {
    const req: DsmapiRequest = { method: 'GET', path, expect: 'json', retry: 'safe' };
    if (signal) req.signal = signal;
    if (query) req.query = query;
    return req;
  }

  /** New dataset with its first revision (`fourfour` undefined) or a revision on an existing dataset. */
  async createRevision(
    fourfour: string | undefined,
    opts: { action: RevisionAction; metadata?: DatasetMetadata; permission?: Permission },
    signal?: AbortSignal,
  ): Promise<Envelope<Revision>> {
    const action: Record<string, string> = { type: opts.action };
    if (opts.permission) action.permission = opts.permission;
    const body: Record<string, unknown> = { action };
    if (opts.metadata) body.metadata = opts.metadata;
    // Creating a revision is not idempotent (a retry would open a second one): never retried blindly.
    const env = await this.call<Revision>('create-revision', this.json('POST', fourfour ? paths.revisions(fourfour) : paths.newRevision(), body, 'never', signal));
    if (typeof env.resource.fourfour !== 'string' || !FOURFOUR.test(env.resource.fourfour) || typeof env.resource.revision_seq !== 'number') {
      throw new RevisionError('the revision in the answer has no valid fourfour/revision_seq', 'protocol', 'create-revision');
    }
    return env;
  }

  async getRevision(fourfour: string, seq: number, signal?: AbortSignal): Promise<Envelope<Revision>> {
    return this.call<Revision>('job', this.get(paths.revision(fourfour, seq), signal));
  }

  async listRevisions(fourfour: string, openOnly = false, signal?: AbortSignal): Promise<Revision[]> {
    const res = await this.transport.request(this.get(paths.revisions(fourfour), signal, openOnly ? { open: 'true' } : undefined));
    const list = Array.isArray(res.body) ? res.body : [];
    return list.map((b) => envelope<Revision>(b, 'job').resource);
  }

  /** Discard (close without applying). Safe to repeat. */
  async discard(fourfour: string, seq: number, links?: Links): Promise<void> {
    const path = followLink(links, ['discard'], {}, paths.revision(fourfour, seq));
    await this.transport.request({ method: 'DELETE', path, expect: 'json', retry: 'safe' });
  }

  async createUploadSource(rev: Envelope<Revision>, filename: string, parseOptions: ParseOptions = {}, signal?: AbortSignal): Promise<Envelope<Source>> {
    const { fourfour, revision_seq: seq } = rev.resource;
    const path = followLink(rev.links, ['create_source'], {}, paths.createSource(fourfour, seq));
    const body = { source_type: { type: 'upload', filename }, parse_options: { parse_source: true, ...parseOptions } };
    const env = await this.call<Source>('create-source', this.json('POST', path, body, 'never', signal));
    if (typeof env.resource.id !== 'number') throw new RevisionError('the source in the answer has no numeric id', 'protocol', 'create-source');
    return env;
  }

  async getSource(source: Envelope<Source>, signal?: AbortSignal): Promise<Envelope<Source>> {
    const path = followLink(source.links, ['show'], {}, paths.source(source.resource.id));
    return this.call<Source>('parse', this.get(path, signal));
  }

  /** Single-shot upload of a small file (`links.bytes`). */
  async uploadBytes(source: Envelope<Source>, bytes: Uint8Array, contentType: string, signal?: AbortSignal): Promise<Envelope<Source>> {
    const path = followLink(source.links, ['bytes'], {}, paths.source(source.resource.id));
    const req: DsmapiRequest = { method: 'POST', path, expect: 'json', retry: 'never', headers: { 'content-type': contentType }, body: bytes };
    if (signal) req.signal = signal;
    return this.call<Source>('upload', req);
  }

  /**
   * Chunked upload from disk: initiate → chunk/{seq}/{offset} (in parallel, retried with backoff — chunks
   * are idempotent) → commit. Each of the `parallelism` workers reads its chunks into one buffer of its own, reused
   * from chunk to chunk: only `parallelism` chunks are in memory at a time, and a 4 MiB allocation per chunk (zero-filled,
   * its pages faulted in fresh) cost more CPU than sending the bytes. A buffer is refilled only once the answer to its
   * previous chunk has been read whole, i.e. after the server received that chunk; a retry resends the same bytes.
   */
  async uploadFileChunked(
    source: Envelope<Source>,
    file: string,
    opts: { contentType: string; signal?: AbortSignal; onProgress?: (sent: number, total: number) => void; retries?: number; backoffMs?: number },
  ): Promise<void> {
    const sid = source.resource.id;
    const signal = opts.signal;
    const fh = await open(file, 'r');
    try {
      const total = (await fh.stat()).size;
      const init = await this.transport.request(
        this.json('POST', followLink(source.links, ['initiate'], {}, paths.initiate(sid)), { content_type: opts.contentType }, 'safe', signal),
      );
      // The platform answers flat `{preferred_chunk_size, preferred_upload_parallelism}` (socrata-py, .NET client).
      const initBody = isObject(init.body) ? init.body : {};
      const chunkSize = Math.floor(num(initBody.preferred_chunk_size)) || 4 * 1024 * 1024;
      const parallelism = Math.min(8, Math.max(1, Math.floor(num(initBody.preferred_upload_parallelism)) || 1));
      const count = Math.max(1, Math.ceil(total / chunkSize));
      let next = 0;
      let sent = 0;
      const retries = opts.retries ?? 5;
      const backoff = opts.backoffMs ?? 500;
      const sendChunk = async (seq: number, into: Buffer): Promise<void> => {
        const offset = seq * chunkSize;
        const len = Math.min(chunkSize, total - offset);
        const buf = into.subarray(0, len);
        let read = 0;
        while (read < len) {
          const r = await fh.read(buf, read, len - read, offset + read);
          if (r.bytesRead === 0) throw new RevisionError(`${file}: the file shrank while it was being uploaded (at byte ${offset + read})`, 'invalid-input', 'upload', { field: 'file' });
          read += r.bytesRead;
        }
        const path = followLink(source.links, ['chunk'], { seq_num: seq, byte_offset: offset }, paths.chunk(sid, seq, offset));
        for (let attempt = 0; ; attempt++) {
          try {
            const req: DsmapiRequest = { method: 'POST', path, expect: 'json', retry: 'never', headers: { 'content-type': 'application/octet-stream' }, body: buf };
            if (signal) req.signal = signal;
            await this.transport.request(req);
            break;
          } catch (e) {
            if (signal?.aborted || isAbort(e) || !isTransient(e) || attempt >= retries) throw e;
            await sleep((attempt + 1) * (attempt + 1) * backoff, undefined, signal ? { signal } : undefined);
          }
        }
        sent += len;
        opts.onProgress?.(sent, total);
      };
      const worker = async (): Promise<void> => {
        let buf: Buffer | undefined;
        while (next < count) {
          const seq = next++;
          // Not zero-filled: sendChunk overwrites every byte it sends (or throws if the file shrank).
          buf ??= Buffer.allocUnsafeSlow(Math.min(chunkSize, total));
          await sendChunk(seq, buf);
        }
      };
      opts.onProgress?.(0, total);
      const workers = Array.from({ length: Math.min(parallelism, count) }, () => worker());
      const results = await Promise.allSettled(workers);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
      // Commit: seq_num = last chunk, byte_offset = total bytes (socrata-py). Finishes the upload: never retried.
      const commitPath = followLink(source.links, ['commit'], { seq_num: count - 1, byte_offset: total }, paths.commit(sid, count - 1, total));
      const req: DsmapiRequest = { method: 'POST', path: commitPath, expect: 'json', retry: 'never' };
      if (signal) req.signal = signal;
      try {
        await this.transport.request(req);
      } catch (e) {
        if (isAbort(e)) throw e;
        throw new RevisionError(`committing the upload of ${file} failed: ${describe(e)}`, 'failed', 'commit', { cause: e, outcome: 'unknown' });
      }
    } finally {
      await fh.close();
    }
  }

  async getOutputSchema(ref: OutputSchemaRef, signal?: AbortSignal): Promise<Envelope<OutputSchema>> {
    const path = followLink(ref.links, ['show'], { output_schema_id: ref.outputSchemaId }, paths.outputSchema(ref.sourceId, ref.inputSchemaId, ref.outputSchemaId));
    return this.call<OutputSchema>('transform', this.get(path, signal));
  }

  /** POST a new output schema (transform) for an input schema. */
  async transform(
    sourceId: number,
    inputSchemaId: number,
    outputColumns: OutputColumn[],
    links: Links | undefined,
    signal?: AbortSignal,
  ): Promise<Envelope<OutputSchema>> {
    const path = followLink(links, ['transform'], { input_schema_id: inputSchemaId }, paths.inputSchema(sourceId, inputSchemaId));
    return this.call<OutputSchema>('transform', this.json('POST', path, { output_columns: outputColumns }, 'never', signal));
  }

  async validateRowId(ref: OutputSchemaRef, transformId: number, signal?: AbortSignal): Promise<boolean> {
    const path = followLink(
      ref.links,
      ['validate_row_id'],
      { transform_id: transformId, output_schema_id: ref.outputSchemaId },
      paths.validateRowId(ref.sourceId, ref.inputSchemaId, ref.outputSchemaId, transformId),
    );
    const res = await this.transport.request(this.get(path, signal));
    // The platform answers flat `{valid: boolean}` (socrata-py reads ['valid'], the .NET client's ValidResult).
    return isObject(res.body) && res.body.valid === true;
  }

  /** Schema (cell) errors of an output schema, as JSON rows. */
  async schemaErrors(ref: OutputSchemaRef, opts: { offset?: number; limit?: number; signal?: AbortSignal } = {}): Promise<SchemaErrorRow[]> {
    const path = followLink(ref.links, ['schema_errors'], { output_schema_id: ref.outputSchemaId }, paths.schemaErrors(ref.sourceId, ref.inputSchemaId, ref.outputSchemaId));
    const res = await this.transport.request(this.get(path, opts.signal, { offset: String(opts.offset ?? 0), limit: String(opts.limit ?? 500) }));
    const rows = Array.isArray(res.body) ? res.body : [];
    const schema = await this.getOutputSchema(ref, opts.signal);
    const fields = [...schema.resource.output_columns].sort((a, b) => a.position - b.position).map((c) => c.field_name);
    const out: SchemaErrorRow[] = [];
    for (const entry of rows) {
      // The first element is metadata (socrata-py drops it); rows are `{row: [{ok}|{error}...]}`.
      if (!isObject(entry) || !Array.isArray(entry.row)) continue;
      const errors: SchemaErrorRow['errors'] = [];
      entry.row.forEach((cell: unknown, i: number) => {
        if (isObject(cell) && isObject(cell.error)) {
          const e = cell.error;
          const item: SchemaErrorRow['errors'][number] = {
            field: fields[i] ?? `column ${i + 1}`,
            message: typeof e.message === 'string' ? e.message : 'invalid value',
          };
          if ('input' in e) item.input = e.input;
          errors.push(item);
        }
      });
      const row: SchemaErrorRow = { errors };
      if (typeof entry.offset === 'number') row.offset = entry.offset;
      out.push(row);
    }
    return out;
  }

  /** Schema errors as CSV text (same endpoint, `Accept: text/csv`), for export. */
  async schemaErrorsCsv(ref: OutputSchemaRef, signal?: AbortSignal): Promise<string> {
    const path = followLink(ref.links, ['schema_errors'], { output_schema_id: ref.outputSchemaId }, paths.schemaErrors(ref.sourceId, ref.inputSchemaId, ref.outputSchemaId));
    const req: DsmapiRequest = { method: 'GET', path, expect: 'text', retry: 'safe', headers: { accept: 'text/csv' } };
    if (signal) req.signal = signal;
    const res = await this.transport.request(req);
    return typeof res.body === 'string' ? res.body : String(res.body);
  }

  /** PUT apply. Unsafe: never retried. Returns the job (task set) or the approval marker. */
  async apply(rev: Envelope<Revision>, outputSchemaId: number | undefined, signal?: AbortSignal): Promise<Envelope<TaskSet>> {
    const { fourfour, revision_seq: seq } = rev.resource;
    const path = followLink(rev.links, ['apply'], {}, paths.apply(fourfour, seq));
    const body = outputSchemaId === undefined ? {} : { output_schema_id: outputSchemaId };
    return this.call<TaskSet>('apply', this.json('PUT', path, body, 'never', signal));
  }

  async getJob(fourfour: string, seq: number, job: Envelope<TaskSet>, signal?: AbortSignal): Promise<TaskSet> {
    const path = followLink(job.links, ['show'], {}, paths.job(fourfour, seq, job.resource.id));
    const env = await this.call<TaskSet>('job', this.get(path, signal));
    return env.resource;
  }
}

// ---------------------------------------------------------------------------------------------------------
// High-level flows
// ---------------------------------------------------------------------------------------------------------

/** Poll with backoff until `done`, honouring the signal and the deadline. Transient errors are retried 5×. */
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
      if (isAbort(e) || ctx.signal?.aborted || !isTransient(e) || ++failures > 5) throw e;
    }
    if (value !== undefined && done(value)) return value;
    if (Date.now() + delay > ctx.deadline) {
      throw new RevisionError(`timed out waiting for ${ctx.what}`, 'timeout', ctx.stage);
    }
    await sleep(delay, undefined, ctx.signal ? { signal: ctx.signal } : undefined);
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
      if (!fn) throw new RevisionError(`unknown column type "${String(plan.type)}" for column "${source.field_name}"`, 'invalid-input', 'transform', { field: source.field_name });
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
    const rev = await this.client.createRevision(undefined, { action: 'update', metadata: opts.metadata, permission: opts.permission ?? 'private' }, opts.signal);
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
  async updateMetadata(fourfour: string, metadata: DatasetMetadata, opts: Omit<FlowOptions, 'columns' | 'rowIdentifier'> & { permission?: Permission } = {}): Promise<RevisionOutcome> {
    assertFourfour(fourfour);
    const rev = await this.client.createRevision(fourfour, { action: 'update', metadata, ...(opts.permission ? { permission: opts.permission } : {}) }, opts.signal);
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
          throw new RevisionError(`the server could not read the file: ${s.resource.failure_details?.message ?? 'unknown reason'}`, 'invalid-input', 'parse', { field: 'file' });
        }
        const input = latest(s.resource.schemas ?? []);
        opts.onProgress?.({ stage: 'parsing', ...(input?.total_rows != null ? { rows: input.total_rows } : {}) });
        return input !== undefined && input.total_rows != null && latest(input.output_schemas ?? []) !== undefined;
      },
      { ...ctx, stage: 'parse', what: 'the file to be parsed' },
    );
    const input = latest(src.resource.schemas ?? []) as InputSchema;
    const first = latest(input.output_schemas ?? []) as OutputSchema;
    const inputLinks = (isObject(src.links.input_schema_links) ? src.links.input_schema_links : {});
    const outputLinks = (isObject(inputLinks.output_schema_links) ? inputLinks.output_schema_links : {});
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
    const outLinks = isObject(inputLinks.output_schema_links) ? (inputLinks.output_schema_links) : {};
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
      const kind: RevisionErrorKind = ctx.userSignal?.aborted ? 'cancelled' : ctx.timeoutSignal.aborted || (e instanceof RevisionError && e.kind === 'timeout') ? 'timeout' : 'failed';
      throw unknown(`stopped waiting for the job (${describe(e)})`, kind, 'job', e);
    }
    if (isApproval(last)) return { status: 'approval-submitted', ...base };
    if (last.status === 'failure') {
      const reason = [...(last.log ?? [])].map((l) => (isObject(l.details) && typeof l.details.message === 'string' ? l.details.message : undefined)).find(Boolean);
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

// ---------------------------------------------------------------------------------------------------------
// Wiring to the HTTP gateway
// ---------------------------------------------------------------------------------------------------------

/**
 * Adapts the gateway (`SodaHttp`) to the transport seam: 'safe' → `safeToRepeat: true` (GETs, discard,
 * initiate), 'never' → `safeToRepeat: false`, so apply, commit and revision creation are only retried when
 * the gateway knows nothing was sent (its unsafe policy). Chunks use 'never' because this module retries
 * them itself with its own backoff.
 */
export function transportFromHttp(http: Pick<SodaHttp, 'request'>, operationId?: string): DsmapiTransport {
  return {
    async request(req: DsmapiRequest): Promise<DsmapiResponse> {
      const options: RequestOptions = { method: req.method, path: req.path, safeToRepeat: req.retry === 'safe' };
      if (req.query) options.query = req.query;
      if (req.headers) options.headers = req.headers;
      if (req.body !== undefined) options.body = req.body;
      if (req.signal) options.signal = req.signal;
      if (operationId) options.operationId = operationId;
      if (req.expect === 'text') {
        const res = await http.request({ ...options, expect: 'text' });
        return { status: res.status, body: res.body };
      }
      const res = await http.request({ ...options, expect: 'json' });
      return { status: res.status, body: res.body };
    },
  };
}
