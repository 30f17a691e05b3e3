/**
 * SODA3, the current query API (dev.socrata.com docs/queries): `/api/v3/views/{4x4}/query.json` and
 * `/api/v3/views/{4x4}/export.csv`, on the same SoQL engine as `/resource`. Every choice and its source is in
 * docs/EMULATOR.md, section "SODA3".
 *
 * - Requests are refused (403) unless the caller is authenticated or sends an application token.
 * - `query.json`: `POST` with a JSON body `{query, page: {pageNumber, pageSize}, includeSynthetic}`, or `GET`
 *   with the same names as URL parameters (`query`, `pageNumber`, `pageSize`, `includeSynthetic`). Answers a
 *   JSON array of row objects. `page` cuts page `pageNumber` (1-based) of `pageSize` rows out of the query's
 *   result, after the query's own LIMIT and OFFSET, over a stable order (`:id` breaks ties).
 * - `export.csv`: `GET ?query=` or `POST {query, includeSynthetic}`; the whole result as CSV; `page` is refused.
 * - No implicit row limit (SODA 2.1's default of 1000 does not apply).
 * - Errors use the core envelope `{code, error: true, message, data}`.
 */
import type { EmulatorContext } from './context';
import { coreError, EmulatorHttpError } from './errors';
import { runQuery, type QueryParams, type QueryResult } from './soql';
import type { Dataset } from './store';
import { toCsvText } from './types';

export const SODA3_PATH = /^\/api\/v3\/views\/([^/]+)\/(query\.json|export\.csv)$/;

interface Soda3Request {
  query: string;
  page: { pageNumber: number; pageSize: number } | undefined;
  includeSynthetic: boolean;
}

const KNOWN = new Set(['query', 'page', 'includeSynthetic']);

function bad(message: string, data: Record<string, unknown> = {}): EmulatorHttpError {
  return coreError(400, 'bad_request', message, data);
}

function positiveInt(v: unknown, name: string): number {
  const n = typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw bad(`${name} must be a whole number of at least 1`, { field: name, value: v });
  return n;
}

function fromBody(body: unknown): Soda3Request {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw bad('The request body must be a JSON object such as {"query": "SELECT *"}', { expected: 'object' });
  }
  const b = body as Record<string, unknown>;
  const query = b.query ?? 'SELECT *';
  if (typeof query !== 'string') throw bad('query must be a string of SoQL', { field: 'query' });
  let page: Soda3Request['page'];
  if (b.page !== undefined && b.page !== null) {
    if (typeof b.page !== 'object' || Array.isArray(b.page)) throw bad('page must be an object {"pageNumber": n, "pageSize": n}', { field: 'page' });
    const p = b.page as Record<string, unknown>;
    page = { pageNumber: positiveInt(p.pageNumber, 'page.pageNumber'), pageSize: positiveInt(p.pageSize, 'page.pageSize') };
  }
  const synthetic = b.includeSynthetic ?? true;
  if (typeof synthetic !== 'boolean') throw bad('includeSynthetic must be true or false', { field: 'includeSynthetic' });
  const unknown = Object.keys(b).filter((k) => !KNOWN.has(k));
  if (unknown.length) throw bad(`Unknown request option(s): ${unknown.join(', ')}`, { fields: unknown });
  return { query, page, includeSynthetic: synthetic };
}

function fromSearch(sp: URLSearchParams): Soda3Request {
  const body: Record<string, unknown> = {};
  for (const [k, v] of sp) {
    if (k === '$$app_token') continue;
    if (k === 'query') body.query = v;
    else if (k === 'includeSynthetic') body.includeSynthetic = v === 'true' ? true : v === 'false' ? false : v;
    else if (k === 'pageNumber' || k === 'pageSize') body.page = { ...(body.page as object | undefined), [k]: v };
    else body[k] = v;
  }
  return fromBody(body);
}

function csvCell(s: string): string {
  return `"${s.replace(/"/g, '""')}"`;
}

/** The CSV text of a result: `/resource/{4x4}.csv` and the SODA3 export write it the same way. */
export function resultCsv(result: QueryResult): string {
  const lines: string[] = [result.fields.map(csvCell).join(',')];
  for (const r of result.rows) {
    lines.push(
      result.fields
        .map((f) => {
          const t = toCsvText(r[f]);
          return t === undefined ? '' : csvCell(t);
        })
        .join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

/**
 * Answers a SODA3 request whose path matched {@link SODA3_PATH}. `readable` resolves the dataset the caller
 * may read (404 otherwise), as for `/resource`.
 */
export async function handleSoda3(ctx: EmulatorContext, id: string, endpoint: 'query.json' | 'export.csv', readable: (id: string) => Dataset): Promise<void> {
  if (ctx.method !== 'GET' && ctx.method !== 'HEAD' && ctx.method !== 'POST') {
    throw coreError(405, 'method_not_allowed', `Method ${ctx.method} is not allowed here`, { method: ctx.method, allowed: ['GET', 'POST'] });
  }
  if (!ctx.user && !ctx.appToken) {
    throw coreError(403, 'authentication_required', 'SODA3 requests must be authenticated or carry an application token (X-App-Token)');
  }
  const ds = readable(id);
  const req = ctx.method === 'POST' ? fromBody(await ctx.readJson(4 * 1024 * 1024)) : fromSearch(ctx.url.searchParams);
  if (endpoint === 'export.csv' && req.page) throw bad('page is not available on /export; use /query to page', { field: 'page' });
  const params: QueryParams = { filters: [], query: req.query, defaultLimit: Infinity, synthetic: req.includeSynthetic };
  if (req.page) params.window = { offset: (req.page.pageNumber - 1) * req.page.pageSize, limit: req.page.pageSize };
  let result: QueryResult;
  try {
    result = runQuery(ds.id, ds.columns, ctx.store.iterateRows(ds.id), params, () => ctx.store.rowCount(ds.id));
  } catch (e) {
    // The engine's SODA 2.1 envelope, re-worded into the core envelope v3 answers with.
    if (e instanceof EmulatorHttpError) throw coreError(e.status, e.code, e.message, e.data);
    throw e;
  }
  if (endpoint === 'query.json') {
    ctx.sendRaw(200, JSON.stringify(result.rows), 'application/json; charset=utf-8');
    return;
  }
  ctx.sendRaw(200, resultCsv(result), 'text/csv; charset=utf-8', { 'Content-Disposition': `attachment; filename="${ds.id}.csv"` });
}
