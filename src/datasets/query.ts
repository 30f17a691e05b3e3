// The grid's pages of a SoQL statement and Save as CSV, on the engine's SODA3 queries (src/soda/query.ts), which
// fall back to SODA 2.1 on portals without SODA3. No `vscode` import: the commands call these with a SodaClient,
// and the unit tests call them against the emulator. Its texts go through @vscode/l10n.
import type { Writable } from 'node:stream';
import * as l10n from '@vscode/l10n';
import type { GridColumn } from './grid/protocol';
import type { SodaClient } from '../soda/client';
import { SodaError } from '../soda/errors';
import { blankLiterals, runQuery, saveQueryCsv } from '../soda/query';
import { checkStatement, formatCell, resultColumns, soqlTypeName, statementShape } from './model';

export interface QueryPage {
  readonly columns: GridColumn[];
  /** Display text per cell; null = no value. */
  readonly rows: (string | null)[][];
  readonly hasNext: boolean;
  /** The statement actually sent (on SODA 2.1 with the paging clauses). */
  readonly statement: string;
}

function invalidStatement(stmt: string): SodaError | undefined {
  const problem = checkStatement(stmt);
  return problem === undefined ? undefined : new SodaError({ kind: 'invalid-input', message: problem, field: 'query' });
}

/** Field name → SoQL type of a dataset's columns, fetched once per client and dataset. */
const datasetTypes = new WeakMap<SodaClient, Map<string, Promise<Map<string, string>>>>();

function typesOf(client: SodaClient, id: string, signal?: AbortSignal): Promise<Map<string, string>> {
  let byId = datasetTypes.get(client);
  if (!byId) datasetTypes.set(client, (byId = new Map<string, Promise<Map<string, string>>>()));
  let types = byId.get(id);
  if (!types) {
    const cache = byId;
    types = client.view(id, signal ? { signal } : {}).then(
      (view) => new Map(view.columns.map((c) => [c.fieldName, soqlTypeName(c.dataTypeName)] as const)),
      () => {
        cache.delete(id);
        return new Map<string, string>();
      },
    );
    byId.set(id, types);
  }
  return types;
}

export interface QueryCallOptions {
  signal?: AbortSignal;
  /** Told once per domain when it falls back to SODA 2.1. */
  onNotice?: (message: string) => void;
}

/**
 * Page `index` (0-based) of `stmt` on dataset `id`: SODA3's `page` (page `index + 1` of `pageSize` rows). Columns are
 * typed from X-SODA2-Types when the answer has them, otherwise from the dataset's columns.
 */
export async function queryPage(
  client: SodaClient,
  id: string,
  stmt: string,
  pageSize: number,
  index: number,
  options: QueryCallOptions = {},
): Promise<QueryPage> {
  const bad = invalidStatement(stmt);
  if (bad) throw bad;
  const result = await runQuery(client, id, stmt, { page: { pageNumber: index + 1, pageSize }, ...options }).catch((error: unknown) => {
    throw withStatement(error, l10n.t('{0} (page {1}, {2} rows a page)', stmt.trim(), index + 1, pageSize));
  });
  let columns: GridColumn[] = resultColumns(result.rows, result.fields, result.types);
  if (result.types === undefined) {
    const types = await typesOf(client, id, options.signal);
    columns = columns.map((c) => ({ name: c.name, type: c.type ?? types.get(c.name) }));
  }
  const rows = result.rows.map((row) => columns.map((c) => (row[c.name] === undefined || row[c.name] === null ? null : formatCell(row[c.name]))));
  return { columns, rows, hasNext: result.hasNext, statement: result.statement };
}

/** The error with the statement sent appended to its message. */
function withStatement(error: unknown, statement: string): unknown {
  if (!(error instanceof SodaError) || error.kind === 'cancelled') return error;
  const message = l10n.t('{0} Query sent: {1}', error.message.replace(/\.?\s*$/, '.'), statement);
  return Object.assign(Object.create(Object.getPrototypeOf(error) as object) as SodaError, error, { message });
}

export interface ExportOptions extends QueryCallOptions {
  /** Called as rows arrive with the number of rows written so far. */
  onProgress?: (rows: number) => void;
}

/**
 * Writes every row of `stmt` to `out` as the portal's CSV export (header = the result's field names), streamed, so
 * memory stays bounded whatever the size. Does not end `out`. Returns the number of rows written.
 */
export async function exportQueryCsv(
  client: SodaClient,
  id: string,
  stmt: string,
  out: Writable,
  options: ExportOptions = {},
): Promise<{ rows: number; columns: string[] }> {
  const bad = invalidStatement(stmt);
  if (bad) throw bad;
  const { rows, columns } = await saveQueryCsv(client, id, stmt, out, options);
  return { rows, columns };
}

// ------------------------------------------------------------------ total row count

/** Where the clauses of a statement start: positions of the top-level keywords (literals and names blanked). */
function clauses(stmt: string): Map<string, string> {
  const text = stmt.trim().replace(/;\s*$/, '');
  const bare = blankLiterals(text);
  const found: { name: string; at: number }[] = [];
  let depth = 0;
  const keyword = /\(|\)|\b(select|where|group\s+by|having|order\s+by|limit|offset|search)\b/gi;
  for (let m = keyword.exec(bare); m !== null; m = keyword.exec(bare)) {
    if (m[0] === '(') depth++;
    else if (m[0] === ')') depth = Math.max(0, depth - 1);
    else if (depth === 0 && m[1] !== undefined) found.push({ name: m[1].toLowerCase().replace(/\s+/, ' '), at: m.index });
  }
  const out = new Map<string, string>();
  found.forEach((f, i) => {
    if (!out.has(f.name)) out.set(f.name, text.slice(f.at, found[i + 1]?.at ?? text.length).trim());
  });
  return out;
}

/**
 * How to count the rows of a statement's whole result, once: a plain row query as `SELECT count(*)` with its own
 * WHERE and SEARCH; a grouped one as `SELECT count(*)` with its WHERE, GROUP BY, HAVING and SEARCH, one row per
 * group (`groups`: count the rows it returns). Undefined for a DISTINCT query or an aggregate without GROUP BY
 * (one row): the grid's pages give their total. The statement's own LIMIT and OFFSET are applied to the count.
 */
export function countStatement(stmt: string): { statement: string; groups: boolean; limit?: number; offset?: number } | undefined {
  const shape = statementShape(stmt);
  if (shape.hasDistinct || (shape.hasAggregate && !shape.hasGroup)) return undefined;
  const parts = clauses(stmt);
  const keep = shape.hasGroup ? ['where', 'group by', 'having', 'search'] : ['where', 'search'];
  const statement = ['SELECT count(*)', ...keep.map((k) => parts.get(k)).filter((p): p is string => p !== undefined)].join(' ');
  const number = (clause: string | undefined) => {
    const n = clause === undefined ? undefined : Number(/^\w+\s+(\d+)$/.exec(clause)?.[1]);
    return n === undefined || Number.isNaN(n) ? undefined : n;
  };
  const limit = number(parts.get('limit'));
  const offset = number(parts.get('offset'));
  return { statement, groups: shape.hasGroup, ...(limit !== undefined ? { limit } : {}), ...(offset !== undefined ? { offset } : {}) };
}

/** The most groups counted by fetching them; more makes the total unknown. */
export const MAX_COUNTED_GROUPS = 10_000;

/**
 * The number of rows `stmt` returns in all, by one count query (see {@link countStatement}); undefined when it
 * cannot be counted that way (the caller says the total is unknown). Errors are the caller's to catch.
 */
export async function queryTotal(client: SodaClient, id: string, stmt: string, options: QueryCallOptions = {}): Promise<number | undefined> {
  const count = countStatement(stmt);
  if (count === undefined) return undefined;
  let total: number;
  if (count.groups) {
    const result = await runQuery(client, id, count.statement, { page: { pageNumber: 1, pageSize: MAX_COUNTED_GROUPS }, ...options });
    if (result.hasNext) return undefined;
    total = result.rows.length;
  } else {
    const result = await runQuery(client, id, count.statement, { page: { pageNumber: 1, pageSize: 1 }, ...options });
    const first = result.rows[0];
    const value = first === undefined ? undefined : Number(Object.values(first)[0]);
    if (value === undefined || !Number.isInteger(value) || value < 0) return undefined;
    total = value;
  }
  const afterOffset = Math.max(0, total - (count.offset ?? 0));
  return count.limit === undefined ? afterOffset : Math.min(count.limit, afterOffset);
}

// ------------------------------------------------------------------ history

/** Where a query history lives (the extension's globalState; a Map in tests). */
export interface HistoryStore {
  get<T>(key: string): T | undefined;
  update(key: string, value: unknown): Thenable<void>;
}

/** The last {@link QueryHistory.size} statements run per dataset, newest first; at most 100 datasets, least recent dropped. */
export class QueryHistory {
  static readonly key = 'socrata.queryHistory';
  static readonly size = 20;
  static readonly datasets = 100;

  constructor(private readonly store: HistoryStore) {}

  private all(): Record<string, string[]> {
    const value = this.store.get<unknown>(QueryHistory.key);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return {};
    const out: Record<string, string[]> = {};
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      if (Array.isArray(v)) out[k] = v.filter((s): s is string => typeof s === 'string');
    }
    return out;
  }

  list(domain: string, id: string): string[] {
    return this.all()[`${domain}/${id}`] ?? [];
  }

  async add(domain: string, id: string, statement: string): Promise<void> {
    const text = statement.trim();
    if (text === '') return;
    const same = (s: string) => s.replace(/\s+/g, ' ') === text.replace(/\s+/g, ' ');
    const all = this.all();
    const key = `${domain}/${id}`;
    const list = [text, ...(all[key] ?? []).filter((s) => !same(s))].slice(0, QueryHistory.size);
    delete all[key];
    all[key] = list;
    const keys = Object.keys(all);
    for (const old of keys.slice(0, Math.max(0, keys.length - QueryHistory.datasets))) delete all[old];
    await this.store.update(QueryHistory.key, all);
  }
}
