// Shapes shared by the publish planner, executor, journal, spec loader and CLI. Plain Node, no vscode.
import type { ColumnType } from '../csv';
import type { MetadataPatch } from '../soda/metadata';
import type { Spool } from './spool';

export const PUBLISH_MODES = ['upsert', 'append', 'replace', 'delete', 'create', 'sync'] as const;
export type PublishMode = (typeof PUBLISH_MODES)[number];

/** How rows reach the server. */
export type PublishRoute = 'resource' | 'revision';

/** Metadata for a new dataset (mode `create`). */
export interface NewDatasetMetadata {
  name: string;
  description?: string;
  category?: string;
  tags?: string[];
  /** Default private, as on Socrata. */
  permission?: 'public' | 'private';
}

export interface PublishRequest {
  /** The CSV file (absolute, or relative to the process's working directory). */
  file: string;
  mode: PublishMode;
  /** Existing dataset (every mode but `create`). */
  dataset?: string;
  /** New dataset metadata (mode `create`). */
  newDataset?: NewDatasetMetadata;
  /**
   * CSV header → dataset field name, or null to ignore the column. Headers not named here are matched to the
   * dataset's columns by field name / display name; for `create` they become `normaliseFieldName(header)`.
   */
  mapping?: Record<string, string | null>;
  /** Field name → type (overrides the inferred type for `create`, and the conversion type otherwise). */
  types?: Record<string, ColumnType>;
  /** Row identifier field: for `create` it is set on the new dataset; otherwise it must equal the dataset's. */
  rowIdentifier?: string;
  /** Rows per `/resource` request (default 10 000). */
  batchSize?: number;
  /** Bytes of JSON per request before a batch is closed early (default 8 MiB). */
  batchBytes?: number;
  /** Requests in flight at once (default 3, 1–8). */
  concurrency?: number;
  /** Send the good rows and put the rows with conversion problems into the error-rows CSV. Default false. */
  skipBadRows?: boolean;
  /**
   * `auto` (default): create/replace through a revision, row updates through `/resource`.
   * `revision`: also upsert/append/delete through a revision (all-or-nothing; what to choose for an append
   * without a row identifier, whose batches cannot be retried safely).
   */
  route?: 'auto' | 'revision';
  /**
   * Read the whole file while planning (validation and created/updated/deleted counts). Default true. With
   * false only the head of the file is read; counts are then unknown and problems are found while sending
   * (rows with problems are kept out of the upload only with `skipBadRows`).
   */
  fullScan?: boolean;
  /** Remote row identifiers held in memory for the plan counts (default 5 000 000, ~300–500 MB worst case). */
  maxRemoteIds?: number;
  /**
   * Dataset metadata to set with the publish: inside the same revision on the revision route; on the /resource
   * route after the rows, as a metadata-only revision.
   */
  metadata?: MetadataPatch;
}

export interface PlanProblem {
  line?: number;
  column?: number;
  field?: string;
  message: string;
}

export interface ColumnMappingEntry {
  csvIndex: number;
  csvHeader: string;
  /** Target field, or undefined when the column is not sent. */
  fieldName: string | undefined;
  type: ColumnType | undefined;
  /** Why a column is not sent (ignored in the mapping, unknown to the dataset). */
  note?: string;
}

export interface PublishPlan {
  request: PublishRequest;
  domain: string;
  /** 4x4 of the target, undefined for `create`. */
  dataset: string | undefined;
  datasetName: string | undefined;
  mode: PublishMode;
  route: PublishRoute;
  /** One or two sentences for people: what will happen and why this way. */
  explanation: string;
  rowIdentifier: string | undefined;
  columns: ColumnMappingEntry[];
  /** Date order per CSV column index, from the head sample (slash dates). */
  dateOrders: ('mdy' | 'dmy' | undefined)[];
  file: {
    path: string;
    size: number;
    mtimeMs: number;
    headHash: string;
    header: string[];
    /** As the head read it (the revision route tells the server a file that is not UTF-8 or not comma-separated). */
    encoding?: string;
    delimiter?: string;
  };
  /** Data rows in the file (undefined without a full scan). */
  rows: number | undefined;
  /** Rows with at least one problem (undefined without a full scan). */
  badRows: number | undefined;
  problemCount: number;
  /** Up to 20 problems, with line and column. */
  problems: PlanProblem[];
  /** Non-blocking remarks (ignored columns, unknown counts, …). */
  warnings: string[];
  /** What the execution will do; undefined members are unknown. */
  counts: {
    toCreate?: number;
    toUpdate?: number;
    toDelete?: number;
    /** Delete mode: listed ids that are not in the dataset. */
    notFound?: number;
    remoteBefore?: number;
    remoteAfter?: number;
    /** Sync: rows of the file identical to the remote row (not sent). */
    unchanged?: number;
    toSend?: number;
  };
  /** Sync: remote row ids absent from the file (deleted after the upserts). */
  syncDeletes: string[] | undefined;
  /** Sync: remote row id → digest of the remote row (rows whose digest matches the file are not sent). */
  remoteHashes: Map<string, string> | undefined;
  /** True when validation problems block the publish (no `skipBadRows`). */
  blocked: boolean;
  batchSize: number;
  batchBytes: number;
  concurrency: number;
  /**
   * One-pass publish: the request bodies the plan's scan built, on disk (`PlanOptions.spool`). Sent by
   * `executePublish`, which then deletes them; `disposePlan` deletes them unsent.
   */
  spool?: Spool;
}

export type PublishStage = 'planning' | 'reading' | 'sending' | 'deleting' | 'uploading' | 'processing' | 'applying' | 'done';

export interface PublishProgress {
  stage: PublishStage;
  rowsDone: number;
  rowsTotal: number | undefined;
  bytesDone: number;
  bytesTotal: number;
  rowsPerSecond: number;
  /** Seconds left, when it can be estimated. */
  etaSeconds: number | undefined;
  /** X-Socrata-RequestId of the last answered request. */
  lastRequestId: string | undefined;
}

/** An inclusive range of physical CSV lines. */
export type LineRange = [first: number, last: number];

export interface RowError {
  line: number;
  message: string;
}

export interface PublishResult {
  status: 'success' | 'partial' | 'cancelled' | 'failed' | 'approval-submitted' | 'dry-run' | 'refused';
  /** One paragraph for people. */
  message: string;
  plan: PublishPlan | undefined;
  dataset: string | undefined;
  route: PublishRoute | undefined;
  created: number;
  updated: number;
  deleted: number;
  /** Row errors reported by the server plus rows left out locally. */
  errors: number;
  /** Delete mode: ids listed in the file that the dataset did not have (the server reports them as errors; they are not). */
  notInDataset?: number;
  rowErrors: RowError[];
  /** Line ranges certainly applied (sorted, merged). */
  appliedRanges: LineRange[];
  /** Line ranges whose outcome is unknown (an append interrupted mid-request): check them before re-sending. */
  uncertainRanges: LineRange[];
  /** The CSV of rows not published (original columns + `error`), when there were any. */
  errorRowsFile: string | undefined;
  /** Set when a journal was found: `resumed` (skipped rows applied before) or `restarted` (file changed). */
  resume: { status: 'resumed' | 'restarted'; skippedRows: number; reason: string } | undefined;
  requestIds: string[];
  revisionUrl?: string;
  elapsedMs: number;
}
