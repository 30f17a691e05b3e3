// Running SoQL statements page by page and exporting every page as CSV. No `vscode` import: the commands
// call these with a SodaClient, and the unit tests call them against the emulator.
import { once } from 'node:events';
import type { Writable } from 'node:stream';
import type { GridColumn } from './grid/protocol';
import type { SodaClient } from '../soda/client';
import { SodaError } from '../soda/errors';
import { checkStatement, csvLine, formatCell, pagedStatement, resultColumns } from './model';

export interface QueryPage {
  readonly columns: GridColumn[];
  /** Display text per cell; null = no value. */
  readonly rows: (string | null)[][];
  readonly hasNext: boolean;
  /** The statement actually sent (with the paging clauses). */
  readonly statement: string;
}

function invalidStatement(stmt: string): SodaError | undefined {
  const problem = checkStatement(stmt);
  return problem === undefined ? undefined : new SodaError({ kind: 'invalid-input', message: problem, field: 'query' });
}

/** Page `index` (0-based) of `stmt` on dataset `id`. A statement with its own LIMIT has one page only. */
export async function queryPage(client: Pick<SodaClient, 'rows'>, id: string, stmt: string, pageSize: number, index: number, signal?: AbortSignal): Promise<QueryPage> {
  const bad = invalidStatement(stmt);
  if (bad) throw bad;
  const { statement, paged } = pagedStatement(stmt, pageSize, index * pageSize);
  if (!paged && index > 0) return { columns: [], rows: [], hasNext: false, statement };
  const result = await client.rows(id, { query: statement }, signal ? { signal } : {}).catch((error: unknown) => {
    throw withStatement(error, statement);
  });
  const columns = resultColumns(result.rows, result.fields, result.types);
  const rows = result.rows.map((row) => columns.map((c) => (row[c.name] === undefined || row[c.name] === null ? null : formatCell(row[c.name]))));
  return { columns, rows, hasNext: paged && result.rows.length === pageSize, statement };
}

/** The error with the statement actually sent (paging clauses included) appended to its message. */
function withStatement(error: unknown, statement: string): unknown {
  if (!(error instanceof SodaError) || error.kind === 'cancelled') return error;
  const message = `${error.message.replace(/\.?\s*$/, '.')} Query sent: ${statement}`;
  return Object.assign(Object.create(Object.getPrototypeOf(error) as object) as SodaError, error, { message });
}

export interface ExportOptions {
  pageSize?: number;
  signal?: AbortSignal;
  /** Called after each page with the number of rows written so far. */
  onProgress?: (rows: number) => void;
}

async function write(out: Writable, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/**
 * Writes every row of `stmt` to `out` as CSV (header = the result's field names), one page at a time, so
 * memory stays bounded whatever the size. Does not end `out`. Returns the number of rows written.
 */
export async function exportQueryCsv(client: Pick<SodaClient, 'rows'>, id: string, stmt: string, out: Writable, options: ExportOptions = {}): Promise<{ rows: number; columns: string[] }> {
  const bad = invalidStatement(stmt);
  if (bad) throw bad;
  const pageSize = options.pageSize ?? 5000;
  let columns: string[] | undefined;
  let written = 0;
  for (let index = 0; ; index++) {
    if (options.signal?.aborted) throw new SodaError({ kind: 'cancelled', message: 'The export was cancelled.' });
    const { statement, paged } = pagedStatement(stmt, pageSize, index * pageSize);
    const result = await client.rows(id, { query: statement }, options.signal ? { signal: options.signal } : {});
    if (columns === undefined) {
      columns = resultColumns(result.rows, result.fields, result.types).map((c) => c.name);
      await write(out, csvLine(columns));
    }
    const names = columns;
    let chunk = '';
    for (const row of result.rows) {
      chunk += csvLine(names.map((n) => row[n]));
      if (chunk.length > 64 * 1024) {
        await write(out, chunk);
        chunk = '';
      }
    }
    if (chunk !== '') await write(out, chunk);
    written += result.rows.length;
    options.onProgress?.(written);
    if (!paged || result.rows.length < pageSize) break;
  }
  return { rows: written, columns: columns ?? [] };
}
