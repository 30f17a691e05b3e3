// DSMAPI (`/api/publishing/v1`) shapes and the transport seam: the request/answer contract, the errors, the
// resource shapes the server sends (read defensively) and the option/result types of the flows.
// Design choices and the open questions they answer are written down in docs/REVISIONS.md.
// It stays one file: it is the contract the DSMAPI modules (dsmapiPaths, dsmapiClient, dsmapiUpload, dsmapiRunner)
// share, mostly types; its few functions are the error tests and defensive readers every one of them needs.
import type { HttpMethod as GatewayMethod } from './httpTypes';

// ---------------------------------------------------------------------------------------------------------
// Transport seam
// ---------------------------------------------------------------------------------------------------------

/** The gateway's methods, HEAD aside (DSMAPI has no use for it). */
export type HttpMethod = Exclude<GatewayMethod, 'HEAD'>;

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
  'create-revision' | 'create-source' | 'upload' | 'commit' | 'parse' | 'transform' | 'validate-row-id' | 'apply' | 'job' | 'discard' | 'metadata';

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

export function errorStatus(e: unknown): number | undefined {
  if (typeof e === 'object' && e !== null && 'status' in e && typeof e.status === 'number') {
    return (e as { status: number }).status;
  }
  return undefined;
}

export function errorKind(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'kind' in e && typeof e.kind === 'string') {
    return (e as { kind: string }).kind;
  }
  return undefined;
}

export function isAbort(e: unknown): boolean {
  return (e instanceof Error && (e.name === 'AbortError' || (e as { code?: unknown }).code === 'ABORT_ERR')) || errorKind(e) === 'cancelled';
}

/** Transient failures worth retrying for idempotent calls (chunks, polls). */
export function isTransient(e: unknown): boolean {
  const kind = errorKind(e);
  if (kind === 'network' || kind === 'server' || kind === 'rate-limited') return true;
  const status = errorStatus(e);
  if (status !== undefined) return status >= 500 || status === 429;
  return e instanceof Error && /ECONNRESET|ECONNREFUSED|EPIPE|socket|network/i.test(e.message);
}

export function describe(e: unknown): string {
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
export type ColumnType = 'text' | 'number' | 'boolean' | 'checkbox' | 'floating_timestamp' | 'calendar_date' | 'fixed_timestamp' | 'date' | 'point' | 'url';

export const TYPE_FUNCTIONS: Record<ColumnType, string> = {
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
  /** Backoff base between chunk attempts (ms, default 500), under the shared retry policy (full jitter, src/soda/retry.ts). */
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
// Shape readers
// ---------------------------------------------------------------------------------------------------------

export function isObject(v: unknown): v is Record<string, unknown> {
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

export function num(v: unknown): number {
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

export const isApproval = (r: unknown): boolean =>
  isObject(r) && (r.key === 'approval_submitted' || r.status === 'submitted_for_approval' || r.status === 'approval_submitted');
