// The grid's pages of a SoQL statement and Save as CSV, on the engine's SODA3 queries (src/soda/query.ts), which
// fall back to SODA 2.1 on portals without SODA3. No `vscode` import: the commands call these with a SodaClient,
// and the unit tests call them against the emulator.
import type { Writable } from 'node:stream';
import type { GridColumn } from './grid/protocol';
import type { SodaClient } from '../soda/client';
import { SodaError } from '../soda/errors';
import { runQuery, saveQueryCsv } from '../soda/query';
import { checkStatement, formatCell, resultColumns, soqlTypeName } from './model';

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
    throw withStatement(error, `${stmt.trim()} (page ${index + 1}, ${pageSize} rows a page)`);
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
  const message = `${error.message.replace(/\.?\s*$/, '.')} Query sent: ${statement}`;
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
