/**
 * What the emulator's store holds, as types: principals, datasets and their columns, rows, the write reports and the
 * counters tests read. Plus the small rules every part of the store shares (4x4 ids, field names, row keys).
 */
import type { Grant } from '../grants';
import type { DataTypeName, StoredValue } from '../types';

export type Role = 'publisher' | 'viewer' | 'administrator';

export interface User {
  /** User uid in 4x4 form. */
  id: string;
  email: string;
  displayName: string;
  screenName: string;
  roleName: Role;
  /** Domain rights, e.g. `create_datasets`. */
  rights: string[];
}

export interface UserInput {
  id?: string;
  email: string;
  password?: string;
  displayName: string;
  roleName: Role;
}

export interface ColumnDef {
  id: number;
  name: string;
  fieldName: string;
  dataTypeName: DataTypeName;
  /** 1-based. */
  position: number;
  description: string;
}

export interface ColumnInput {
  name: string;
  /** Derived from `name` (lower snake case) when omitted. */
  fieldName?: string;
  /** Legacy (`calendar_date`, `checkbox`) or SoQL (`floating_timestamp`, `boolean`) type name. */
  dataTypeName: string;
  description?: string;
}

export interface Dataset {
  id: string;
  name: string;
  description: string;
  category: string | null;
  tags: string[];
  attribution: string | null;
  /** Owner user id. */
  owner: string;
  isPublic: boolean;
  /** fieldName of the row identifier column, if any. */
  rowIdentifier: string | undefined;
  columns: ColumnDef[];
  /** Epoch seconds. */
  createdAt: number;
  rowsUpdatedAt: number;
  viewLastModified: number;
  rowsUpdatedBy: string;
  publicationStage: 'published' | 'unpublished';
  provenance: 'official' | 'community';
  /** When set, DSMAPI applies to this dataset go through approval. */
  approvalRequired: boolean;
  /** Free-form per-dataset flags tests may set. */
  flags: Record<string, unknown>;
  /** Bumped on every row or metadata change (used for ETags). */
  dataVersion: number;
  nextColumnId: number;
  nextSid: number;
  /** Name of the sample generator whose rows have not been materialised yet. */
  seedPending: string | undefined;
  /** Roles given to other users (absent in state saved before sharing existed). */
  grants?: Grant[];
}

export interface DatasetInput {
  /** A fixed 4x4 (must be unused); generated when omitted. */
  id?: string;
  name: string;
  description?: string;
  category?: string | null;
  tags?: string[];
  attribution?: string | null;
  /** Owner user id. */
  owner: string;
  /** Default false (new datasets are private, as on Socrata). */
  isPublic?: boolean;
  columns: ColumnInput[];
  /** fieldName of the row identifier column. */
  rowIdentifier?: string;
  publicationStage?: 'published' | 'unpublished';
  approvalRequired?: boolean;
  provenance?: 'official' | 'community';
}

export interface Row {
  /** Internal sequence number. */
  sid: number;
  /** `:id`, e.g. `row-abcd~efgh~ijkm`. */
  id: string;
  /** Epoch milliseconds. */
  createdAt: number;
  updatedAt: number;
  /** Stored values by fieldName (null cells are absent). */
  v: Record<string, StoredValue>;
}

/** The public upsert/replace report (all six keys, as the docs and captured responses show). */
export interface UpsertResult {
  'By RowIdentifier': number;
  'Rows Updated': number;
  'Rows Deleted': number;
  'By SID': number;
  'Rows Created': number;
  Errors: number;
}

export interface AppliedWrite {
  seq: number;
  /** Epoch ms. */
  at: number;
  requestId: string | undefined;
  dataset: string;
  kind: 'upsert' | 'replace' | 'delete';
  /** Number of row operations in the request. */
  rowsIn: number;
  result: UpsertResult;
  /** Where the write came from, e.g. `resource`, `dsmapi`, `store`. */
  source: string;
}

export interface WriteOptions {
  requestId?: string;
  source?: string;
}

export interface FaultCounters {
  requests: number;
  latencyMs: number;
  errors5xx: number;
  resets: number;
  throttled: number;
  throttledWithRetryAfter: number;
  resetsAfterApply: number;
  /** Reads answered 202 Accepted (`accepted=<rate>`). */
  accepted: number;
}

export interface SinkCounters {
  requests: number;
  rows: number;
  bytes: number;
}

export interface OAuthClient {
  clientId: string;
  clientSecret: string;
  /** Registered callback prefixes (redirect_uri must start with one of them). */
  callbackPrefixes: string[];
  /** Also accept `http://127.0.0.1:<any port>/` and `http://localhost:<any port>/` redirects. */
  allowLoopback: boolean;
}

export interface StoreOptions {
  /** Directory for `emulator.sqlite`; without one, SQLite's private temporary database (deleted on close). */
  dataDir?: string;
  /** Load the sample seed into an empty store (default `sample`). */
  seed?: 'sample' | 'none';
}

const FOURBYFOUR = /^[a-z0-9]{4}-[a-z0-9]{4}$/;
/** The alphabet of generated 4x4s and row ids (no look-alike letters). */
export const ID_ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';

export function isFourByFour(s: string): boolean {
  return FOURBYFOUR.test(s);
}

/** Canonical map key of a row-identifier value. */
export function keyOf(v: StoredValue): string {
  return typeof v === 'string' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v);
}

/** `Permit ID` → `permit_id`. */
export function fieldNameFrom(name: string): string {
  const f = name
    .trim()
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
  return f === '' ? 'column' : /^[0-9]/.test(f) ? `_${f}` : f;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export function emptyResult(): UpsertResult {
  return { 'By RowIdentifier': 0, 'Rows Updated': 0, 'Rows Deleted': 0, 'By SID': 0, 'Rows Created': 0, Errors: 0 };
}
