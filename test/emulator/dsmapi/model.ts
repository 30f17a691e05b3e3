/**
 * DSMAPI state of one emulator instance: revisions, sources (with their uploads), input schemas,
 * output schemas (transforms really evaluated) and task sets. Pure data + helpers; HTTP lives in index.ts.
 */
import { parse } from 'csv-parse/sync';
import { canonicalNumber, type DataTypeName, fromCsv, MALTYPED, parseFloatingTimestamp, type StoredValue } from '../types';

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
  rows: Cell[][];
  error_count: number;
  created_by: UserRef;
}

export interface InputSchemaState {
  id: number;
  source_id: number;
  input_columns: InputColumnState[];
  /** Raw text cells (data rows only). */
  rows: string[][];
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

/** `Permit ID` → `permit_id` (lower case, non-alphanumerics → `_`). */
export function fieldNameOf(header: string, used: Set<string>): string {
  let base = header
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  if (base === '') base = 'column';
  if (/^[0-9]/.test(base)) base = `_${base}`;
  let name = base;
  for (let i = 2; used.has(name); i++) name = `${base}_${i}`;
  used.add(name);
  return name;
}

const WKT_POINT = /^\s*POINT\s*\(\s*-?\d+(?:\.\d+)?\s+-?\d+(?:\.\d+)?\s*\)\s*$/i;

/** SoQL type guessed from the non-empty values of a column. */
export function guessType(values: string[]): string {
  const nonEmpty = values.filter((v) => v.trim() !== '');
  if (nonEmpty.length === 0) return 'text';
  if (nonEmpty.every((v) => canonicalNumber(v) !== undefined)) return 'number';
  if (nonEmpty.every((v) => /^(true|false)$/i.test(v.trim()))) return 'boolean';
  if (nonEmpty.every((v) => parseFloatingTimestamp(v) !== undefined)) return 'floating_timestamp';
  if (nonEmpty.every((v) => WKT_POINT.test(v))) return 'point';
  return 'text';
}

/** Transform functions the emulator evaluates, by name → (legacy type, SoQL output type). */
const FUNCTIONS: Record<string, { dataType: DataTypeName; soql: string }> = {
  to_text: { dataType: 'text', soql: 'text' },
  to_number: { dataType: 'number', soql: 'number' },
  to_boolean: { dataType: 'checkbox', soql: 'boolean' },
  to_floating_timestamp: { dataType: 'calendar_date', soql: 'floating_timestamp' },
  to_fixed_timestamp: { dataType: 'date', soql: 'fixed_timestamp' },
  to_point: { dataType: 'point', soql: 'point' },
  to_url: { dataType: 'url', soql: 'url' },
};

export const FUNCTION_OF_SOQL: Record<string, string> = {
  text: 'to_text',
  number: 'to_number',
  boolean: 'to_boolean',
  floating_timestamp: 'to_floating_timestamp',
  fixed_timestamp: 'to_fixed_timestamp',
  point: 'to_point',
  url: 'to_url',
};

export interface ParsedExpr {
  fn: string;
  column: string;
  dataType: DataTypeName;
  soql: string;
}

/** Parses `` `col` `` or `` to_<type>(`col`) ``; anything else is unsupported here. */
export function parseExpr(expr: string): ParsedExpr | string {
  const ident = /^\s*`([^`]+)`\s*$/.exec(expr);
  if (ident?.[1]) return { fn: 'to_text', column: ident[1], dataType: 'text', soql: 'text' };
  const call = /^\s*([a-z_]+)\s*\(\s*`([^`]+)`\s*\)\s*$/.exec(expr);
  if (!call?.[1] || !call[2]) return `unsupported transform expression: ${expr}`;
  const f = FUNCTIONS[call[1]];
  if (!f) return `unknown function ${call[1]} in: ${expr}`;
  return { fn: call[1], column: call[2], dataType: f.dataType, soql: f.soql };
}

/** Parses CSV/TSV bytes into a header and data rows; rows with a wrong cell count are counted, not kept. */
export function parseUpload(
  bytes: Buffer,
  contentType: string | null,
  options: Record<string, unknown>,
): { header: string[]; rows: string[][]; rowErrors: number } | { error: string } {
  const delimiter =
    typeof options.column_separator === 'string' && options.column_separator !== ''
      ? options.column_separator
      : contentType?.includes('tab-separated')
        ? '\t'
        : ',';
  const headerCount = typeof options.header_count === 'number' ? options.header_count : 1;
  const columnHeader = typeof options.column_header === 'number' ? options.column_header : 1;
  let records: string[][];
  try {
    records = parse(bytes, {
      delimiter,
      bom: true,
      relax_column_count: true,
      skip_empty_lines: options.remove_empty_rows !== false,
      trim: options.trim_whitespace !== false,
    });
  } catch (e) {
    return { error: `could not parse the file: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (records.length < headerCount || headerCount < 1) return { error: 'the file has no header row' };
  const header = records[Math.max(0, columnHeader - 1)] ?? [];
  const rows: string[][] = [];
  let rowErrors = 0;
  for (const r of records.slice(headerCount)) {
    if (r.length !== header.length) rowErrors++;
    else rows.push(r);
  }
  return { header, rows, rowErrors };
}

/** Evaluates an output schema's transforms over the input rows; bad cells become errors. */
export function evaluate(input: InputSchemaState, columns: OutputColumnState[]): { rows: Cell[][]; errorCount: number } {
  const indexOf = new Map(input.input_columns.map((c, i) => [c.field_name, i]));
  // Each expression is parsed once per column, not once per cell; a null cell is one shared (never mutated) object.
  const plan = columns.map((c) => {
    const parsed = parseExpr(c.transform.transform_expr) as ParsedExpr;
    return { col: c, index: indexOf.get(parsed.column) ?? -1, dataType: parsed.dataType, soql: parsed.soql };
  });
  const rows: Cell[][] = new Array<Cell[]>(input.rows.length);
  let errorCount = 0;
  for (const c of columns) c.transform.error_count = 0;
  for (let r = 0; r < input.rows.length; r++) {
    const raw = input.rows[r] ?? [];
    let bad = false;
    const out: Cell[] = new Array<Cell>(plan.length);
    for (let i = 0; i < plan.length; i++) {
      const p = plan[i];
      const text = raw[p.index] ?? '';
      const v = fromCsv(p.dataType, text);
      if (v === MALTYPED) {
        bad = true;
        p.col.transform.error_count++;
        out[i] = { error: { message: `Unable to convert "${text}" to ${p.soql}`, input: text } };
      } else out[i] = v === null ? NULL_CELL : { ok: v };
    }
    if (bad) errorCount++;
    rows[r] = out;
  }
  return { rows, errorCount };
}

const NULL_CELL: Cell = Object.freeze({ ok: null });
