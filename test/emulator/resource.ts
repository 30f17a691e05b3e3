/**
 * The SODA routes of one dataset: `/api/views/{4x4}` (the view, its metadata changes, deletion) and
 * `/resource/{4x4}` (reads through the SoQL engine as JSON or CSV, upserts, replaces, sink mode, single rows).
 */
import { createHash } from 'node:crypto';
import { parse as parseCsv } from 'csv-parse/sync';
import { methodNotAllowed, readable, userJson, writable } from './access';
import type { EmulatorContext } from './context';
import { coreError, sodaError } from './errors';
import { datasetRights } from './grants';
import { scanJson } from './jsonscan';
import { applyChange, decorateView, MetadataInvalid, parseChange } from './metadata';
import { runQuery, type QueryParams } from './soql';
import { resultCsv } from './soda3';
import { type Dataset, type EmulatorStore, isFourByFour, type Row, type UpsertResult } from './store';
import { soqlTypeOf } from './types';

export async function view(ctx: EmulatorContext, id: string): Promise<void> {
  if (ctx.method === 'GET' || ctx.method === 'HEAD') {
    const ds = readable(ctx, id);
    ctx.sendJson(200, viewJson(ctx, ds));
    return;
  }
  if (ctx.method === 'PUT' || ctx.method === 'PATCH') {
    const ds = writable(ctx, id, 'update_view');
    if (ctx.url.searchParams.get('method') === 'setPermission') {
      // sodapy's set_permission: value public.read (or public) / private.
      const value = ctx.url.searchParams.get('value') ?? '';
      if (!['public', 'public.read', 'private'].includes(value)) {
        throw coreError(400, 'invalid_request', `Invalid permission value "${value}" (public.read or private)`, { field: 'value', value });
      }
      ctx.req.resume();
      ctx.store.updateDataset(ds.id, { isPublic: value !== 'private' });
      ctx.sendJson(200, viewJson(ctx, ds));
      return;
    }
    const body = await ctx.readJson(16 * 1024 * 1024);
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw sodaError(400, 'req.content.json.invalid', 'Body must be a JSON object', { expected: 'object' });
    }
    // Validated whole (metadata.ts), then applied: a refusal names the field and changes nothing.
    try {
      applyChange(ctx.store, ds, parseChange(body, ds, { allowColumns: true }));
    } catch (e) {
      if (e instanceof MetadataInvalid) throw coreError(400, 'invalid_request', e.message, { field: e.field, value: e.value ?? null });
      throw e;
    }
    ctx.sendJson(200, viewJson(ctx, ds));
    return;
  }
  if (ctx.method === 'DELETE') {
    const ds = writable(ctx, id, 'delete_view');
    ctx.store.deleteDataset(ds.id);
    ctx.sendRaw(200, '', 'application/json; charset=utf-8');
    return;
  }
  throw methodNotAllowed(ctx, ['GET', 'PUT', 'PATCH', 'DELETE']);
}

// ------------------------------------------------------------------ /resource

export async function resource(ctx: EmulatorContext, id: string, ext: 'json' | 'csv', sinkMode: boolean): Promise<void> {
  if (ctx.method === 'GET' || ctx.method === 'HEAD') return read(ctx, id, ext);
  if (ctx.method !== 'POST' && ctx.method !== 'PUT') throw methodNotAllowed(ctx, ['GET', 'POST', 'PUT']);
  const replace = ctx.method === 'PUT';
  if (sinkMode) return sink(ctx, id);
  const ds = writable(ctx, id);
  const ct = (ctx.req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  if (ct !== '' && ct !== 'text/csv' && ct !== 'application/json') {
    throw sodaError(415, 'req.content-type.not-json', `Content-Type should be application/json or text/csv, got ${ct}`, { 'content-type': ct });
  }
  // No Content-Type (the popular Python client's JSON posts): real portals accept the body; it is sniffed.
  const sniffed = ct === '' ? await ctx.readBody() : undefined;
  const isCsv = ct === 'text/csv' || (sniffed !== undefined && sniffBody(sniffed) === 'csv');
  const opts = { requestId: ctx.requestId, source: 'resource' };
  let result: UpsertResult;
  if (isCsv) {
    const text = (sniffed ?? (await ctx.readBody())).toString('utf8');
    result = replace ? ctx.store.replaceCsv(ds.id, text, opts) : ctx.store.upsertCsv(ds.id, text, opts);
  } else {
    const body = sniffed ? jsonFromBytes(sniffed) : await ctx.readJson();
    if (Array.isArray(body)) {
      result = replace ? ctx.store.replaceRows(ds.id, body, opts) : ctx.store.upsertRows(ds.id, body, opts);
    } else if (!replace && body !== null && typeof body === 'object') {
      // A single object: soda-fountain answers with the resulting row.
      ctx.store.upsertRows(ds.id, [body], opts);
      const key = ds.rowIdentifier ? (body as Record<string, unknown>)[ds.rowIdentifier] : (body as Record<string, unknown>)[':id'];
      const row = typeof key === 'string' || typeof key === 'number' ? ctx.store.findRow(ds.id, String(key)) : lastRow(ctx.store, ds.id);
      ctx.sendJson(200, row ? rowWithMeta(ds, row) : {});
      return;
    } else {
      throw sodaError(400, 'req.content.json.invalid', replace ? 'Body must be a JSON array' : 'Body must be a JSON array or object', {
        expected: replace ? 'array' : 'array, object',
      });
    }
  }
  ctx.sendJson(200, result);
}

export async function sink(ctx: EmulatorContext, id: string): Promise<void> {
  if (!ctx.user) throw coreError(403, 'authentication_required', 'You must be logged in to access this resource');
  if (!isFourByFour(id)) throw coreError(404, 'dataset.missing', 'Not found', { id });
  const buf = await ctx.readBody();
  const ct = (ctx.req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  let rows = 0;
  if (ct === 'text/csv' || (ct === '' && sniffBody(buf) === 'csv')) {
    const parsed: unknown = parseCsv(buf, { bom: true, skip_empty_lines: true });
    rows = Math.max(0, (parsed as unknown[]).length - 1);
  } else {
    // Checked for well-formedness and counted in one pass over the bytes; nothing is decoded or built.
    const scan = scanJson(buf);
    if (!scan.ok) {
      throw sodaError(400, 'req.body.malformed-json', `Malformed JSON at line ${scan.line}, column ${scan.column}`, { row: scan.line, column: scan.column });
    }
    rows = scan.topLevel === 'array' ? scan.elements : 1;
  }
  const c = ctx.store.sinkCounters;
  c.requests++;
  c.rows += rows;
  c.bytes += buf.length;
  ctx.sendJson(200, { 'By RowIdentifier': 0, 'Rows Updated': 0, 'Rows Deleted': 0, 'By SID': 0, 'Rows Created': rows, Errors: 0 });
}

export function read(ctx: EmulatorContext, id: string, ext: 'json' | 'csv'): void {
  const ds = readable(ctx, id);
  const sp = ctx.url.searchParams;
  const params: QueryParams = { filters: [] };
  const soql = ['select', 'where', 'order', 'group', 'having', 'limit', 'offset', 'q', 'query'] as const;
  for (const [k, v] of sp) {
    if (k.startsWith('$$')) continue;
    if (k.startsWith('$')) {
      const name = k.slice(1) as (typeof soql)[number];
      if (!(soql as readonly string[]).includes(name)) throw sodaError(400, 'req.bad-parameter', `Unrecognized parameter ${k}`, { parameter: k, value: v });
      if (params[name] !== undefined) throw sodaError(400, 'req.bad-parameter', `Parameter ${k} given more than once`, { parameter: k, value: v });
      params[name] = v;
    } else params.filters.push([k, v]);
  }
  if (params.query !== undefined && (soql.some((n) => n !== 'query' && params[n] !== undefined) || params.filters.length)) {
    throw sodaError(400, 'req.bad-parameter', '$query cannot be combined with other SoQL parameters', { parameter: '$query', value: params.query });
  }
  const lastModified = new Date(Math.max(ds.rowsUpdatedAt, ds.viewLastModified) * 1000).toUTCString();
  const etag = `"${ds.id}-${ds.dataVersion}-${createHash('sha1').update(`${ext}?${ctx.url.search}`).digest('hex').slice(0, 16)}"`;
  const inm = ctx.req.headers['if-none-match'];
  const ims = ctx.req.headers['if-modified-since'];
  if (
    (inm !== undefined &&
      inm
        .split(',')
        .map((s) => s.trim().replace(/^W\//, ''))
        .includes(etag)) ||
    (inm === undefined && ims !== undefined && Date.parse(ims) >= Date.parse(lastModified))
  ) {
    if (!ctx.res.headersSent) {
      ctx.res.writeHead(304, { ETag: etag, 'Last-Modified': lastModified });
      ctx.res.end();
    }
    return;
  }
  const result = runQuery(ds.id, ds.columns, ctx.store.iterateRows(ds.id), params, () => ctx.store.rowCount(ds.id));
  const headers: Record<string, string> = { ETag: etag, 'Last-Modified': lastModified, 'X-SODA2-Row-Count': String(result.rows.length) };
  const fields = JSON.stringify(result.fields);
  const types = JSON.stringify(result.types);
  if (fields.length + types.length > 5000) {
    headers['X-SODA2-Warning'] = 'X-SODA2-Fields and X-SODA2-Types are deprecated and have been suppressed for being too large';
  } else {
    headers['X-SODA2-Fields'] = fields;
    headers['X-SODA2-Types'] = types;
  }
  if (ext === 'json') {
    ctx.sendRaw(200, JSON.stringify(result.rows), 'application/json; charset=utf-8', headers);
    return;
  }
  const bom = sp.get('$$bom') === 'true' ? '\ufeff' : '';
  ctx.sendRaw(200, `${bom}${resultCsv(result)}`, 'text/csv; charset=utf-8', headers);
}

export async function singleRow(ctx: EmulatorContext, id: string, rowId: string): Promise<void> {
  if (ctx.method === 'GET' || ctx.method === 'HEAD') {
    const ds = readable(ctx, id);
    const row = ctx.store.findRow(ds.id, rowId);
    if (!row) throw sodaError(404, 'soda.row.not-found', `Row with identifier ${rowId} was not found`, { value: rowId });
    ctx.sendJson(200, rowJson(ds, row));
    return;
  }
  if (ctx.method === 'DELETE') {
    const ds = writable(ctx, id, 'delete');
    const r = ctx.store.deleteRows(ds.id, [rowId], { requestId: ctx.requestId, source: 'resource' });
    if (r['Rows Deleted'] === 0) throw sodaError(404, 'soda.row.not-found', `Row with identifier ${rowId} was not found`, { value: rowId });
    ctx.sendJson(200, [{ typ: 'delete', id: rowId }]);
    return;
  }
  if (ctx.method === 'POST') {
    const ds = writable(ctx, id);
    const body = await ctx.readJson();
    if (!body || typeof body !== 'object' || Array.isArray(body)) {
      throw sodaError(400, 'soda.row.upsert-row-not-an-object', 'Row is not parseable as a json object', { value: body });
    }
    const obj = { ...(body as Record<string, unknown>) };
    const existing = ctx.store.findRow(ds.id, rowId);
    if (ds.rowIdentifier) {
      if (obj[ds.rowIdentifier] === undefined) obj[ds.rowIdentifier] = existing && existing.id === rowId ? existing.v[ds.rowIdentifier] : rowId;
    } else {
      if (!existing) throw sodaError(404, 'soda.row.not-found', `Row with identifier ${rowId} was not found`, { value: rowId });
      obj[':id'] = existing.id;
    }
    ctx.store.upsertRows(ds.id, [obj], { requestId: ctx.requestId, source: 'resource' });
    const key = ds.rowIdentifier ? obj[ds.rowIdentifier] : existing?.id;
    const row = ctx.store.findRow(ds.id, typeof key === 'string' ? key : JSON.stringify(key));
    ctx.sendJson(200, row ? rowWithMeta(ds, row) : {});
    return;
  }
  throw methodNotAllowed(ctx, ['GET', 'POST', 'DELETE']);
}
/**
 * The type of a body sent without Content-Type: JSON when its first byte after a UTF-8 BOM and whitespace is `[` or
 * `{`, else CSV (an empty body counts as JSON, so it gets the JSON error).
 */
export function sniffBody(buf: Buffer): 'json' | 'csv' {
  let i = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? 3 : 0;
  while (i < buf.length && (buf[i] === 0x20 || buf[i] === 0x09 || buf[i] === 0x0a || buf[i] === 0x0d)) i++;
  if (i === buf.length) return 'json';
  return buf[i] === 0x5b || buf[i] === 0x7b ? 'json' : 'csv';
}

/** JSON.parse of a body already read, with the same 400 `req.body.malformed-json` answer as `readJson`. */
function jsonFromBytes(buf: Buffer): unknown {
  const bytes = buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf ? buf.subarray(3) : buf;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (e) {
    const scan = scanJson(bytes);
    const { line, column, detail } = scan.ok ? { line: 1, column: 1, detail: (e as Error).message } : { ...scan, detail: scan.message };
    throw sodaError(400, 'req.body.malformed-json', `Malformed JSON at line ${line}, column ${column}: ${detail}`, { row: line, column });
  }
}

function viewJson(ctx: EmulatorContext, ds: Dataset): Record<string, unknown> {
  const owner = ctx.store.getUser(ds.owner);
  const ownerJson = owner ? userJson(owner, false) : { id: ds.owner };
  const rid = ds.columns.find((c) => c.fieldName === ds.rowIdentifier);
  const view: Record<string, unknown> = {
    id: ds.id,
    name: ds.name,
    description: ds.description,
    category: ds.category,
    tags: ds.tags,
    attribution: ds.attribution,
    averageRating: 0,
    createdAt: ds.createdAt,
    displayType: 'table',
    downloadCount: 0,
    hideFromCatalog: false,
    hideFromDataJson: false,
    indexUpdatedAt: ds.rowsUpdatedAt,
    licenseId: null,
    newBackend: true,
    numberOfComments: 0,
    oid: 1,
    provenance: ds.provenance,
    publicationAppendEnabled: false,
    publicationDate: ds.createdAt,
    publicationGroup: 1,
    publicationStage: ds.publicationStage,
    rowsUpdatedAt: ds.rowsUpdatedAt,
    rowsUpdatedBy: ds.rowsUpdatedBy,
    tableId: 1,
    totalTimesRated: 0,
    viewCount: 0,
    viewLastModified: ds.viewLastModified,
    viewType: 'tabular',
    columns: ds.columns.map((c) => ({
      id: c.id,
      name: c.name,
      dataTypeName: c.dataTypeName,
      description: c.description,
      fieldName: c.fieldName,
      position: c.position,
      renderTypeName: c.dataTypeName,
      tableColumnId: c.id,
      format: {},
    })),
    grants: [
      ...(ds.isPublic ? [{ inherited: false, type: 'viewer', flags: ['public'] }] : []),
      ...(ds.grants ?? []).map((g) => ({ inherited: false, type: g.type, userId: g.userId, userEmail: ctx.store.getUser(g.userId)?.email, flags: [] })),
    ],
    metadata: { availableDisplayTypes: ['table', 'fatrow', 'page'], ...(rid ? { rowIdentifier: rid.id } : {}) },
    owner: ownerJson,
    rights: [...datasetRights(ds, ctx.user)],
    tableAuthor: ownerJson,
    flags: ['default', 'restorable', 'restorePossibleForType'],
  };
  if (rid) view.rowIdentifierColumnId = rid.id;
  decorateView(ds, view, datasetRights(ds, ctx.user).includes('write'));
  return view;
}

function rowJson(ds: Dataset, row: Row): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const c of ds.columns) {
    const v = row.v[c.fieldName];
    if (v !== undefined) o[c.fieldName] = soqlTypeOf(c.dataTypeName) === 'double' && typeof v === 'number' && !Number.isFinite(v) ? String(v) : v;
  }
  return o;
}

function rowWithMeta(ds: Dataset, row: Row): Record<string, unknown> {
  return { ':id': row.id, ':created_at': new Date(row.createdAt).toISOString(), ':updated_at': new Date(row.updatedAt).toISOString(), ...rowJson(ds, row) };
}

function lastRow(store: EmulatorStore, id: string): Row | undefined {
  let last: Row | undefined;
  for (const r of store.iterateRows(id)) last = r;
  return last;
}
