// Messages between the CSV preview host (src/preview/panel.ts) and its webview app (src/preview/app/). This module
// is shared by both bundles, so it holds types and small pure guards only: no `vscode`, no DOM, no Node.
//
// The host owns the model and sends it whole (`model`) after every change; the webview only renders it and sends
// intents back. Every message from the webview is checked with `isWebviewToHost` before use: anything else is
// ignored (and logged by the host).

import { isValid4x4 } from '../soda/ids';

export const PREVIEW_VIEW_TYPE = 'socrata.csvPreview';

export const MODES = ['upsert', 'append', 'replace', 'delete', 'sync', 'create'] as const;
export type Mode = (typeof MODES)[number];

/** Modes that remove or overwrite rows: on a public dataset they ask for confirmation first. */
export const DESTRUCTIVE_MODES: readonly Mode[] = ['replace', 'delete', 'sync'];

/** Types a person may choose for a column (the conversion types of src/csv). */
export const COLUMN_TYPES = [
  'text',
  'number',
  'double',
  'checkbox',
  'floating_timestamp',
  'fixed_timestamp',
  'point',
  'location',
  'url',
  'email',
  'multipoint',
  'line',
  'multiline',
  'polygon',
  'multipolygon',
] as const;
export type PreviewColumnType = (typeof COLUMN_TYPES)[number];

/** A column's target: a dataset field name, `null` (not sent), or `NEW_COLUMN` (a new dataset's own field). */
export const NEW_COLUMN = '@new';
export type ColumnTarget = string | null;

export interface FileInfo {
  name: string;
  /** Shown to people only; the host never trusts a path coming back. */
  path: string;
  size: number;
  encoding: string;
  delimiter: string;
  /** From the head read (exact when the whole file fit in it). */
  rowsEstimated: number;
  /** Set when the background pass has read every row. */
  rowsExact: number | undefined;
}

export interface ProblemExample {
  line: number;
  column: number;
  text: string;
}

export interface ColumnView {
  index: number;
  header: string;
  inferredType: PreviewColumnType | 'unsupported';
  /** The type used for conversion (chosen, or the field's type, or the inferred one). */
  type: PreviewColumnType | 'unsupported';
  typeChanged: boolean;
  /** Field name, NEW_COLUMN, or null (ignored). */
  target: ColumnTarget;
  /** 0..1 from the header matching; undefined when chosen by hand. */
  confidence: number | undefined;
  nullShare: number;
  problems: number;
  examples: ProblemExample[];
}

export interface FieldOption {
  fieldName: string;
  name: string;
  type: string;
}

export type TargetView =
  | { kind: 'none' }
  | {
      kind: 'existing';
      domain: string;
      id: string;
      name: string;
      isPublic: boolean | undefined;
      rowIdentifier: string | undefined;
      fields: FieldOption[];
      url: string;
    }
  | { kind: 'new'; domain: string; name: string; description: string; permission: 'public' | 'private' };

export interface PlanView {
  state: 'idle' | 'running' | 'ready' | 'error';
  /** Rows read so far by the background pass. */
  scannedRows: number;
  scannedBytes: number;
  explanation: string | undefined;
  toCreate: number | undefined;
  toUpdate: number | undefined;
  toDelete: number | undefined;
  problemCount: number | undefined;
  /** Rows with at least one problem (what "skip bad rows" leaves out), once the plan has counted them. */
  badRows: number | undefined;
  /** The person chose to publish the good rows and leave the bad ones out (to the error-rows CSV). */
  skipBadRows: boolean;
  blocked: boolean;
  warnings: string[];
  message: string | undefined;
}

export interface GridView {
  header: string[];
  rows: { line: number; fields: string[] }[];
}

export interface PreviewModel {
  file: FileInfo;
  grid: GridView;
  columns: ColumnView[];
  target: TargetView;
  mode: Mode;
  /** Row identifier of the target (existing) or chosen (new dataset). */
  rowIdentifier: string | undefined;
  plan: PlanView;
  /** A publish / dry run in progress. */
  busy: string | undefined;
  /** One line about the last dry run or publish. */
  lastResult: string | undefined;
  /** A message for people when loading failed (file unreadable, dataset not found, …). */
  error: string | undefined;
}

/** What the webview saves with setState and the serializer gets back after a window reload. */
export interface PreviewRestoreState {
  version: 1;
  file: string;
  target:
    | { domain: string; id: string; accountId?: string }
    | { domain: string; newName: string; description: string; permission?: 'public' | 'private' }
    | undefined;
  mode: Mode;
  mapping: Record<string, ColumnTarget>;
  types: Record<string, PreviewColumnType>;
}

export interface WebviewState {
  restore: PreviewRestoreState | undefined;
  model: PreviewModel | undefined;
  scrollTop: number;
  scrollLeft: number;
}

export type HostToWebview =
  { type: 'model'; model: PreviewModel; restore: PreviewRestoreState } | { type: 'plan'; plan: PlanView; rowsExact: number | undefined };

export type PreviewAction = 'dryRun' | 'publish' | 'saveSpec';

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'setType'; column: number; columnType: PreviewColumnType }
  | { type: 'setTarget'; column: number; target: ColumnTarget }
  | { type: 'setMode'; mode: Mode }
  | { type: 'pickDataset' }
  | { type: 'newDataset'; name: string; description: string; permission?: 'public' | 'private' }
  | { type: 'setRowIdentifier'; field: string | null }
  | { type: 'openLine'; line: number; column: number }
  | { type: 'refresh' }
  | { type: 'setSkipBadRows'; skip: boolean }
  | { type: 'action'; action: PreviewAction };

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function isIndex(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v < 100_000;
}

function isShortString(v: unknown, max = 1000): v is string {
  return typeof v === 'string' && v.length <= max;
}

export function isMode(v: unknown): v is Mode {
  return typeof v === 'string' && (MODES as readonly string[]).includes(v);
}

export function isColumnType(v: unknown): v is PreviewColumnType {
  return typeof v === 'string' && (COLUMN_TYPES as readonly string[]).includes(v);
}

/** A field name as Socrata writes them, or NEW_COLUMN. */
export function isColumnTarget(v: unknown): v is ColumnTarget {
  return v === null || v === NEW_COLUMN || (typeof v === 'string' && /^[A-Za-z0-9_:@]{1,200}$/.test(v));
}

/** Checks a message from the webview; only a message that passes is acted on. */
export function isWebviewToHost(m: unknown): m is WebviewToHost {
  if (!isRecord(m) || typeof m.type !== 'string') return false;
  switch (m.type) {
    case 'ready':
    case 'pickDataset':
    case 'refresh':
      return Object.keys(m).length === 1;
    case 'setSkipBadRows':
      return typeof m.skip === 'boolean';
    case 'setType':
      return isIndex(m.column) && isColumnType(m.columnType);
    case 'setTarget':
      return isIndex(m.column) && isColumnTarget(m.target);
    case 'setMode':
      return isMode(m.mode);
    case 'newDataset':
      return (
        isShortString(m.name, 255) &&
        m.name.trim() !== '' &&
        isShortString(m.description, 10_000) &&
        (m.permission === undefined || m.permission === 'public' || m.permission === 'private')
      );
    case 'setRowIdentifier':
      return m.field === null || (typeof m.field === 'string' && /^[a-z_][a-z0-9_]{0,199}$/.test(m.field));
    case 'openLine':
      return isIndex(m.column) && typeof m.line === 'number' && Number.isInteger(m.line) && m.line >= 1;
    case 'action':
      return m.action === 'dryRun' || m.action === 'publish' || m.action === 'saveSpec';
    default:
      return false;
  }
}

/** Checks a message from the host (the webview trusts nothing it did not check either). */
export function isHostToWebview(m: unknown): m is HostToWebview {
  if (!isRecord(m)) return false;
  if (m.type === 'model') return isRecord(m.model) && isRecord(m.restore);
  if (m.type === 'plan') return isRecord(m.plan);
  return false;
}

/** Checks state saved by the webview before the serializer uses it to reopen a preview. */
export function isRestoreState(v: unknown): v is PreviewRestoreState {
  if (!isRecord(v) || v.version !== 1 || !isShortString(v.file, 4096) || v.file === '' || !isMode(v.mode)) return false;
  if (!isRecord(v.mapping) || !Object.values(v.mapping).every(isColumnTarget)) return false;
  if (!isRecord(v.types) || !Object.values(v.types).every(isColumnType)) return false;
  const t = v.target;
  if (t === undefined || t === null) return true;
  if (!isRecord(t) || !isShortString(t.domain, 300)) return false;
  if (typeof t.id === 'string') return isValid4x4(t.id) && (t.accountId === undefined || isShortString(t.accountId, 500));
  return (
    isShortString(t.newName, 255) &&
    isShortString(t.description, 10_000) &&
    (t.permission === undefined || t.permission === 'public' || t.permission === 'private')
  );
}
