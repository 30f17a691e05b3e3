// Typed shapes of the SODA endpoints the client reads. Every type keeps the server's object as `raw`
// so that callers can reach fields this module does not model.

import type { RetryPolicy } from './retry';

export interface CurrentUser {
  /** User uid (4x4 form). */
  id: string;
  displayName: string | undefined;
  screenName: string | undefined;
  email: string | undefined;
  roleName: string | undefined;
  rights: string[];
  raw: Record<string, unknown>;
}

export interface CatalogQuery {
  /** Owner uid (e.g. from `currentUser().id`). */
  forUser?: string;
  /** Only assets shared with this uid (the caller's own; the catalog leaves out the ones they own). */
  sharedTo?: string;
  /** Domains to search; default: the client's own domain. */
  domains?: string[];
  /** Full-text search. */
  q?: string;
  /** Asset type; default 'dataset'. Pass null to list every type. */
  only?: string | null;
  /** Page size (1-1000); default 100. */
  pageSize?: number;
  /** Where to start; default 0. */
  offset?: number;
  /** e.g. 'name', 'updatedAt DESC'. */
  order?: string;
  signal?: AbortSignal;
  /** Override the client's retry policy for each page request; `false` = a single attempt. */
  retry?: Partial<RetryPolicy> | false;
}

export interface CatalogColumn {
  name: string;
  fieldName: string;
  /** Display data type as the catalog returns it ("Text", "Number", "Calendar date"). */
  dataType: string;
}

export interface CatalogEntry {
  /** The asset id: a 4x4, or `abcd-1234:7` for a draft (see `draftOf`). */
  id: string;
  /** Set when the entry is a draft or working copy: the dataset's 4x4 and the revision number. */
  draftOf?: { id: string; revision: number };
  name: string;
  description: string | undefined;
  type: string | undefined;
  createdAt: string | undefined;
  updatedAt: string | undefined;
  domain: string | undefined;
  permalink: string | undefined;
  link: string | undefined;
  owner: { id: string; displayName: string | undefined } | undefined;
  columns: CatalogColumn[];
  raw: Record<string, unknown>;
}

export interface CatalogPage {
  results: CatalogEntry[];
  /** Offset of the first result of this page. */
  offset: number;
  /** `resultSetSize`: how many assets match in total. */
  total: number;
  /**
   * True on the last page the catalog API lets us reach (it refuses offset + limit > 10 000) while more
   * results exist; narrow the search (`q`, `forUser`) to see them.
   */
  capped: boolean;
}

/** The catalog API refuses `offset + limit` above this. */
export const CATALOG_OFFSET_CAP = 10_000;

export interface ViewColumn {
  id: number;
  name: string;
  fieldName: string;
  /** Legacy type name: text, number, calendar_date, checkbox, point, url, … */
  dataTypeName: string;
  position: number;
  description: string | undefined;
  renderTypeName: string | undefined;
  flags: string[];
  raw: Record<string, unknown>;
}

export interface ViewMetadata {
  id: string;
  name: string;
  description: string | undefined;
  viewType: string | undefined;
  publicationStage: string | undefined;
  /** Column id (not field name) of the row identifier, when one is set. */
  rowIdentifierColumnId: number | undefined;
  owner: { id: string; displayName: string | undefined; screenName: string | undefined } | undefined;
  /** Epoch seconds, as Socrata sends them, converted to Date. */
  createdAt: Date | undefined;
  rowsUpdatedAt: Date | undefined;
  viewLastModified: Date | undefined;
  /** Sorted by `position`. */
  columns: ViewColumn[];
  /** The caller's rights on this view (read, write, add, delete, …) when sent. */
  rights: string[] | undefined;
  /** From the grants: true when a grant carries the `public` flag; undefined when the grants were not sent. */
  isPublic: boolean | undefined;
  /** Field name of the row identifier column, or undefined when the dataset has none. */
  rowIdentifier: string | undefined;
  /** A draft or working copy, not yet published (`publicationStage` "unpublished"). */
  isDraft: boolean;
  raw: Record<string, unknown>;
}

export interface RowQuery {
  select?: string;
  where?: string;
  order?: string;
  group?: string;
  having?: string;
  limit?: number;
  offset?: number;
  /** Full-text search. */
  q?: string;
  /** A whole SoQL statement (`SELECT … WHERE … LIMIT …`); not combinable with the other clauses. */
  query?: string;
  /** Simple equality filters `field=value`; field names must be `[A-Za-z0-9_:@]`. */
  filters?: Record<string, string | number | boolean>;
}

export type Row = Record<string, unknown>;

export interface RowsResult<T = Row> {
  rows: T[];
  /** From `X-SODA2-Fields` (absent when the server omits it). */
  fields: string[] | undefined;
  /** From `X-SODA2-Types`: SoQL type names parallel to `fields`. */
  types: string[] | undefined;
  headers: Record<string, string>;
}

/** One per-row failure, when the server says which (the report-item and snake-case shapes do). */
export interface UpsertRowError {
  error: string;
  /** 0-based position in the request body, when known. */
  inputIndex: number | undefined;
  /** Row identifier value, when known. */
  primaryKey: unknown;
}

/** An upsert/replace result, whatever shape the server used. */
export interface UpsertResult {
  created: number;
  updated: number;
  deleted: number;
  /** Number of rows that failed (the documented shape gives only a count). */
  errors: number;
  /** Rows matched by row identifier / by Socrata id (documented shape only). */
  byRowIdentifier: number | undefined;
  bySid: number | undefined;
  rowErrors: UpsertRowError[];
  /** 'counts' = the documented object; 'report' = array of {typ,id}; 'snake' = rows_created…; 'row' = single-row answer. */
  shape: 'counts' | 'report' | 'snake' | 'row';
  /** Message on the result object (some servers add one on partial failure). */
  message: string | undefined;
  raw: unknown;
}
