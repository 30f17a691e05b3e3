// Queries and exports through SODA3 (`/api/v3/views/{4x4}/query.json` and `export.csv`), falling back to
// SODA 2.1 `/resource/{4x4}` on portals without it. Plain Node; the CLI and the VS Code commands call these.
//
// - SODA3 refuses requests that are neither authenticated nor carry an application token: such a client is
//   told so before anything is sent (unless the domain is already known to have no SODA3).
// - A portal without SODA3 answers 404, 405 or a "not supported" error. Then the query is sent to
//   `/resource`, the domain is remembered (for this process) and the caller's `onNotice` hears it once.
//   A 404 counts only when `/resource` then finds the dataset: a missing dataset is not a missing API.
import { once } from 'node:events';
import type { Readable, Writable } from 'node:stream';
import { StringDecoder } from 'node:string_decoder';
import type { SodaClient, CallOptions } from './client';
import { assert4x4 } from './domain';
import { SodaError, isSodaError } from './errors';
import { jsonHeader } from './results';
import type { Row, RowsResult } from './types';

export type QueryApi = 'soda3' | 'soda2.1';

export interface QueryOptions extends CallOptions {
  /** SODA3 `page`: page `pageNumber` (1-based) of `pageSize` rows of the statement's result. */
  page?: { pageNumber: number; pageSize: number };
  /** SODA3 `includeSynthetic`: `*` also brings `:id`, `:created_at`, `:updated_at`. Default false. */
  includeSynthetic?: boolean;
  /** Told once per domain when it falls back to SODA 2.1. */
  onNotice?: (message: string) => void;
}

export interface QueryAnswer<T = Row> extends RowsResult<T> {
  api: QueryApi;
  /** With `page`: whether a next page may exist. */
  hasNext: boolean;
  /** The statement sent (on SODA 2.1 with the paging clauses added). */
  statement: string;
}

/** Domains (origins) known to have no SODA3, with the reason. */
const soda2Domains = new Map<string, string>();

/** Which API queries on `client`'s domain use now. */
export function queryApiOf(client: Pick<SodaClient, 'domain'>): QueryApi {
  return soda2Domains.has(client.domain.origin) ? 'soda2.1' : 'soda3';
}

/** Forgets what was learnt about domains (tests; or after a portal upgrade). */
export function forgetQueryApis(): void {
  soda2Domains.clear();
}

// ------------------------------------------------------------------ SoQL statements

/** Replaces string literals and back-quoted names with blanks so that keywords inside them are not seen. */
export function blankLiterals(stmt: string): string {
  return stmt.replace(/'(?:[^']|'')*'|`[^`]*`/g, (m) => ' '.repeat(m.length));
}

export interface StatementShape {
  hasLimit: boolean;
  hasOffset: boolean;
  hasOrder: boolean;
  hasGroup: boolean;
  /** The SELECT list calls an aggregate function (count, sum, avg, min, max, stddev…). */
  hasAggregate: boolean;
  /** SELECT DISTINCT. */
  hasDistinct: boolean;
}

/** SoQL's aggregate functions: a statement selecting one is grouped (implicitly, into one row, without GROUP BY). */
const AGGREGATE = /\b(?:count|sum|avg|min|max|stddev_pop|stddev_samp|median|percentile_cont|percentile_disc|regr_[a-z]+)\s*\(/i;

export function statementShape(stmt: string): StatementShape {
  const bare = blankLiterals(stmt);
  const select = /^\s*select\b([\s\S]*?)(?=\b(?:where|group\s+by|having|order\s+by|limit|offset|search)\b|$)/i.exec(bare)?.[1] ?? '';
  return {
    hasLimit: /\blimit\b/i.test(bare),
    hasOffset: /\boffset\b/i.test(bare),
    hasOrder: /\border\s+by\b/i.test(bare),
    hasGroup: /\bgroup\s+by\b/i.test(bare),
    hasAggregate: AGGREGATE.test(select),
    hasDistinct: /^\s*distinct\b/i.test(select),
  };
}

/**
 * The statement for one page on SODA 2.1. A statement with its own LIMIT is run as written (one page), and so is an
 * aggregate without GROUP BY (`SELECT count(*)`: one row). Otherwise LIMIT/OFFSET are appended, with `ORDER BY :id`
 * first only for a plain row query without an order: offset paging is only correct over a stable order, and the
 * server refuses `:id` in a grouped, aggregated or DISTINCT query (it is not one of the groups). Those are paged by
 * their own ORDER BY when they have one, and as the server returns the groups otherwise.
 */
export function pagedStatement(stmt: string, limit: number, offset: number): { statement: string; paged: boolean } {
  const text = stmt.trim().replace(/;\s*$/, '');
  const shape = statementShape(text);
  if (shape.hasLimit) return { statement: text, paged: false };
  if (shape.hasAggregate && !shape.hasGroup) return { statement: text, paged: false };
  const order = shape.hasOrder || shape.hasGroup || shape.hasAggregate || shape.hasDistinct ? '' : ' ORDER BY :id';
  return { statement: `${text}${order} LIMIT ${limit} OFFSET ${offset}`, paged: true };
}

// ------------------------------------------------------------------ fallback

/** Why a SODA3 failure means "this portal has no SODA3", or undefined. */
function unsupported(e: unknown): 'definite' | 'if-found' | undefined {
  if (!isSodaError(e) || e.status === undefined) return undefined;
  if (e.status === 405 || e.status === 501) return 'definite';
  if (e.status === 404) return 'if-found';
  if (e.status >= 400 && e.status < 500 && /not\s+supported/i.test(`${e.serverMessage ?? ''} ${e.code ?? ''}`)) return 'definite';
  return undefined;
}

function checkIdentified(client: SodaClient): void {
  if (!client.http.identified) {
    throw new SodaError({
      kind: 'invalid-input',
      field: 'appToken',
      message: `${client.domain.host} answers SODA3 queries only to a signed-in account or an application token; sign in, or set an app token (SOCRATA_APP_TOKEN for the command line).`,
    });
  }
}

/** Runs `soda3`; on a portal without SODA3 runs `soda2` instead and remembers the domain. */
async function withFallback<R>(client: SodaClient, what: string, opts: QueryOptions, soda3: () => Promise<R>, soda2: () => Promise<R>): Promise<R> {
  const origin = client.domain.origin;
  if (soda2Domains.has(origin)) return soda2();
  checkIdentified(client);
  try {
    return await soda3();
  } catch (e) {
    const why = unsupported(e);
    if (why === undefined) throw e;
    const status = (e as SodaError).status ?? 0;
    const result = await soda2();
    if (!soda2Domains.has(origin)) {
      const reason = `SODA3 ${what} answered ${status}`;
      soda2Domains.set(origin, reason);
      opts.onNotice?.(`${client.domain.host} has no SODA3 query API (${reason}); queries on it use SODA 2.1 /resource from now on.`);
    }
    return result;
  }
}

function checkPage(page: QueryOptions['page']): void {
  if (page === undefined) return;
  for (const [k, v] of Object.entries(page)) {
    if (!Number.isInteger(v) || v < 1) {
      throw new SodaError({ kind: 'invalid-input', message: `page.${k} must be a whole number of at least 1 (got ${v}).`, field: `page.${k}` });
    }
  }
}

function call(opts: CallOptions): CallOptions {
  const out: CallOptions = {};
  if (opts.signal) out.signal = opts.signal;
  if (opts.timeoutMs !== undefined) out.timeoutMs = opts.timeoutMs;
  if (opts.retry !== undefined) out.retry = opts.retry;
  if (opts.operationId !== undefined) out.operationId = opts.operationId;
  return out;
}

// ------------------------------------------------------------------ query and export

/**
 * Runs a SoQL statement: `POST /api/v3/views/{4x4}/query.json` with `{query, page, includeSynthetic}`, or on a
 * portal without SODA3, `GET /resource/{4x4}.json?$query=` (paged with LIMIT/OFFSET, see {@link pagedStatement}).
 */
export async function runQuery<T = Row>(client: SodaClient, id: string, statement: string, opts: QueryOptions = {}): Promise<QueryAnswer<T>> {
  assert4x4(id);
  checkPage(opts.page);
  const page = opts.page;
  const soda3 = async (): Promise<QueryAnswer<T>> => {
    const body: Record<string, unknown> = { query: statement, includeSynthetic: opts.includeSynthetic ?? false };
    if (page) body.page = page;
    const res = await client.request({ method: 'POST', path: `/api/v3/views/${id}/query.json`, json: body, safeToRepeat: true, read: true, ...call(opts) });
    if (!Array.isArray(res.body)) {
      throw new SodaError({
        kind: 'protocol',
        message: `Unexpected answer to a SODA3 query on ${id}: not a JSON array.`,
        data: res.body,
        requestId: res.serverRequestId ?? res.operationId,
      });
    }
    const rows = res.body as T[];
    return {
      rows,
      fields: jsonHeader(res.headers, 'x-soda2-fields'),
      types: jsonHeader(res.headers, 'x-soda2-types'),
      headers: res.headers,
      api: 'soda3',
      hasNext: page !== undefined && rows.length === page.pageSize,
      statement,
    };
  };
  const soda2 = async (): Promise<QueryAnswer<T>> => {
    let text = statement;
    let paged = false;
    if (page) {
      ({ statement: text, paged } = pagedStatement(statement, page.pageSize, (page.pageNumber - 1) * page.pageSize));
      if (!paged && page.pageNumber > 1) return { rows: [], fields: undefined, types: undefined, headers: {}, api: 'soda2.1', hasNext: false, statement: text };
    }
    const res = await client.rows<T>(id, { query: text }, call(opts));
    return { ...res, api: 'soda2.1', hasNext: page !== undefined && paged && res.rows.length === page.pageSize, statement: text };
  };
  return withFallback(client, 'query', opts, soda3, soda2);
}

/** SODA 2.1 has no row limit with an explicit `$limit` ("2.1: unlimited"); this stands for "every row". */
const ALL_ROWS = 2_147_483_647;

/**
 * Every row of a SoQL statement as CSV, streamed: `POST /api/v3/views/{4x4}/export.csv` with `{query}`, or on
 * a portal without SODA3, `GET /resource/{4x4}.csv?$query=` with an explicit LIMIT (SODA 2.1 otherwise stops at
 * 1000 rows) and `ORDER BY :id` when the statement has no order.
 */
export async function exportCsv(
  client: SodaClient,
  id: string,
  statement: string,
  opts: QueryOptions & { maxBytes?: number } = {},
): Promise<{ api: QueryApi; body: Readable }> {
  assert4x4(id);
  const common = { expect: 'stream' as const, headers: { accept: 'text/csv' }, safeToRepeat: true, maxBodyBytes: opts.maxBytes, ...call(opts) };
  const soda3 = async (): Promise<{ api: QueryApi; body: Readable }> => {
    const res = await client.request<Readable>({
      method: 'POST',
      path: `/api/v3/views/${id}/export.csv`,
      json: { query: statement, includeSynthetic: opts.includeSynthetic ?? false },
      read: true,
      ...common,
    });
    return { api: 'soda3', body: res.body };
  };
  const soda2 = async (): Promise<{ api: QueryApi; body: Readable }> => {
    const { statement: text } = pagedStatement(statement, ALL_ROWS, 0);
    const res = await client.request<Readable>({ method: 'GET', path: `/resource/${id}.csv`, query: { $query: text }, ...common });
    return { api: 'soda2.1', body: res.body };
  };
  return withFallback(client, 'export', opts, soda3, soda2);
}

/** Counts CSV records (header included) in text fed chunk by chunk; a quoted line break is not a record end. */
export class CsvRecordCounter {
  records = 0;
  private quoted = false;
  private pending = false;

  push(chunk: string): void {
    for (let i = 0; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c === 34) this.quoted = !this.quoted;
      else if (c === 10 && !this.quoted) {
        this.records++;
        this.pending = false;
        continue;
      }
      if (c !== 13) this.pending = true;
    }
  }

  /** Records, counting a last line without a line break. */
  total(): number {
    return this.records + (this.pending ? 1 : 0);
  }
}

/** The cells of a CSV header line (quotes removed, `""` unescaped). */
export function csvHeaderCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line.charAt(i);
    if (quoted) {
      if (c === '"' && line.charAt(i + 1) === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else if (c !== '\r') cell += c;
  }
  cells.push(cell);
  return cells;
}

export interface SaveCsvOptions extends QueryOptions {
  /** Called as data arrives with the number of rows written so far. */
  onProgress?: (rows: number) => void;
}

/**
 * Writes every row of a SoQL statement to `out` as the portal's CSV (see {@link exportCsv}), streamed so memory
 * stays bounded. Does not end `out`. Returns the number of rows and the header's field names. Cancelled through
 * `signal` (kind 'cancelled').
 */
export async function saveQueryCsv(
  client: SodaClient,
  id: string,
  statement: string,
  out: Writable,
  opts: SaveCsvOptions = {},
): Promise<{ rows: number; columns: string[]; api: QueryApi }> {
  const cancelled = (): SodaError => new SodaError({ kind: 'cancelled', message: 'The export was cancelled.' });
  if (opts.signal?.aborted) throw cancelled();
  const { api, body } = await exportCsv(client, id, statement, opts);
  const counter = new CsvRecordCounter();
  let head = '';
  let columns: string[] | undefined;
  const onAbort = (): void => {
    body.destroy(cancelled());
  };
  opts.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    const decoder = new StringDecoder('utf8');
    const write = async (chunk: string): Promise<void> => {
      if (columns === undefined) {
        head += chunk;
        const end = head.indexOf('\n');
        if (end >= 0) columns = csvHeaderCells(head.slice(0, end));
      }
      counter.push(chunk);
      if (!out.write(chunk)) await once(out, 'drain');
      opts.onProgress?.(Math.max(0, counter.records - 1));
    };
    for await (const raw of body as AsyncIterable<Buffer | string>) {
      await write(typeof raw === 'string' ? raw : decoder.write(raw));
    }
    const rest = decoder.end();
    if (rest !== '') await write(rest);
  } catch (e) {
    if (opts.signal?.aborted) throw cancelled();
    throw e;
  } finally {
    opts.signal?.removeEventListener('abort', onAbort);
  }
  if (opts.signal?.aborted) throw cancelled();
  const total = counter.total();
  return { rows: Math.max(0, total - 1), columns: columns ?? (head.trim() === '' ? [] : csvHeaderCells(head)), api };
}
