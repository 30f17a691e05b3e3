/**
 * DSMAPI state of one emulator instance: revisions, sources (with their uploads), input schemas,
 * output schemas (transforms really evaluated) and task sets. Data only: the transforms are in transforms.ts, the work
 * in operations.ts, HTTP in index.ts.
 */
import type { DataTypeName, StoredValue } from '../types';
import type { Staged } from './staged';
import type { UploadRows } from './upload';

export interface DsmapiConfig {
  /** `preferred_chunk_size` answered by `initiate` (bytes). */
  preferredChunkSize: number;
  /** `preferred_upload_parallelism` answered by `initiate`. */
  preferredParallelism: number;
  /** Time after an upload before its input schema reports `total_rows` (ms). */
  parseDelayMs: number;
  /** Time after creating an output schema before it reports `completed_at` (ms). */
  transformDelayMs: number;
  /** Duration of each apply stage (initializing, upserting…) (ms). */
  applyStepMs: number;
}

export const DEFAULT_CONFIG: DsmapiConfig = {
  preferredChunkSize: 4 * 1024 * 1024,
  preferredParallelism: 4,
  parseDelayMs: 0,
  transformDelayMs: 0,
  applyStepMs: 0,
};

export interface UserRef {
  user_id: string;
  display_name: string;
  email?: string;
}

export interface TaskSetState {
  id: number;
  status: 'initializing' | 'creating_columns' | 'upserting' | 'finishing' | 'successful' | 'failure';
  log: { stage: string; time: string; details: Record<string, unknown> | null }[];
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  output_schema_id: number | null;
  created_by: UserRef;
}

export interface RevisionState {
  id: number;
  fourfour: string;
  revision_seq: number;
  action: { type: 'update' | 'replace' | 'delete'; permission?: 'public' | 'private' };
  metadata: Record<string, unknown> | null;
  output_schema_id: number | null;
  created_at: string;
  created_by: UserRef;
  closed_at: string | null;
  task_sets: TaskSetState[];
  /** The dataset was created by this revision and has never been applied. */
  creates: boolean;
  ownerId: string;
  approval?: 'submitted';
}

export interface InputColumnState {
  id: number;
  field_name: string;
  display_name: string;
  position: number;
  soql_type: 'text';
  guessed_soql_type: string;
  input_schema_id: number;
}

export type Cell = { ok: StoredValue | null } | { error: { message: string; input: string } };

export interface OutputColumnState {
  id: number;
  field_name: string;
  display_name: string;
  description: string;
  position: number;
  format: Record<string, unknown>;
  is_primary_key: boolean;
  initial_output_column_id: number | null;
  transform: {
    id: number;
    transform_expr: string;
    output_soql_type: string;
    transform_input_columns: { input_column_id: number }[];
    error_count: number;
    failed_at: string | null;
    failure_details: { message: string; type: string } | null;
    completed_at: string | null;
    finished_at: string | null;
  };
  /** Legacy type used to store values of this column. */
  dataType: DataTypeName;
}

export interface OutputSchemaState {
  id: number;
  input_schema_id: number;
  output_columns: OutputColumnState[];
  created_at: string;
  readyAt: number;
  /** Rows the transforms were evaluated on (the input schema's row count). */
  total: number;
  /** Indexes of the rows with a cell that does not convert, ascending (the cells are computed again when asked). */
  errorRows: number[];
  error_count: number;
  created_by: UserRef;
}

export interface InputSchemaState {
  id: number;
  source_id: number;
  input_columns: InputColumnState[];
  /** The uploaded rows, read again from the upload's bytes on each pass. */
  upload: UploadRows;
  /** The rows converted at commit with the guessed types, for the apply (`staged.ts`); gone once applied. */
  staged?: Staged;
  /** Transform functions every value of each input column converts with (by column index): no errors to look for. */
  clean: Set<string>[];
  num_row_errors: number;
  output_schemas: OutputSchemaState[];
  created_at: string;
  readyAt: number;
}

export interface SourceState {
  id: number;
  fourfour: string;
  revision_seq: number;
  source_type: { type: 'upload'; filename: string };
  parse_options: Record<string, unknown>;
  content_type: string | null;
  /** Received chunks, each kept as the pieces it arrived in (joined once, at commit). */
  chunks: Map<number, { offset: number; length: number; parts: Buffer[] }>;
  filesize: number | null;
  created_at: string;
  finished_at: string | null;
  failed_at: string | null;
  failure_details: { message: string } | null;
  schemas: InputSchemaState[];
  created_by: UserRef;
}

export class DsmapiState {
  config: DsmapiConfig = { ...DEFAULT_CONFIG };
  readonly revisions = new Map<string, RevisionState[]>();
  readonly sources = new Map<number, SourceState>();
  /** Chunk sequence numbers that fail once (500) the next time they arrive, for any source. */
  readonly failChunksOnce = new Set<number>();
  /** Datasets (4x4) on which applying a revision needs approval. */
  readonly approvalRequired = new Set<string>();
  /** Timers of running apply jobs (cleared by `stop()`). */
  readonly timers = new Set<NodeJS.Timeout>();
  private nextId = 1000;
  newId(): number {
    return this.nextId++;
  }
  revisionsOf(fourfour: string): RevisionState[] {
    let list = this.revisions.get(fourfour);
    if (!list) {
      list = [];
      this.revisions.set(fourfour, list);
    }
    return list;
  }
  findRevision(fourfour: string, seq: number): RevisionState | undefined {
    return this.revisions.get(fourfour)?.find((r) => r.revision_seq === seq);
  }
  stop(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}

export const nowIso = (): string => new Date().toISOString();
