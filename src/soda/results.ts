// Turning server JSON into the typed shapes of ./types. Lenient about optional fields, strict about the
// ones a caller relies on (a missing id is a protocol error, not an undefined further down).
import { SodaError } from './errors';
import { draftRef } from './domain';
import type { CatalogEntry, CurrentUser, UpsertResult, UpsertRowError, ViewColumn, ViewMetadata } from './types';
import { draftFromStage, publicFromGrants } from './view';

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}
function num(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
  return undefined;
}
function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}
function epoch(v: unknown): Date | undefined {
  const n = num(v);
  return n === undefined ? undefined : new Date(n * 1000);
}

function protocol(what: string, body: unknown): SodaError {
  const text = JSON.stringify(body) ?? String(body);
  return new SodaError({
    kind: 'protocol',
    message: `Unexpected answer from Socrata: ${what} (got ${text.length > 160 ? `${text.slice(0, 160)}…` : text}).`,
    data: body,
  });
}

export function parseCurrentUser(body: unknown): CurrentUser {
  if (!isObj(body) || typeof body.id !== 'string') throw protocol('the current user has no "id"', body);
  return {
    id: body.id,
    displayName: str(body.displayName) ?? str(body.display_name),
    screenName: str(body.screenName),
    email: str(body.email),
    roleName: str(body.roleName),
    rights: strings(body.rights),
    raw: body,
  };
}

export function parseCatalogEntry(item: unknown): CatalogEntry {
  if (!isObj(item) || !isObj(item.resource) || typeof item.resource.id !== 'string') throw protocol('a catalog result without resource.id', item);
  const r = item.resource;
  const names = strings(r.columns_name);
  const fields = strings(r.columns_field_name);
  const types = strings(r.columns_datatype);
  const owner =
    isObj(item.owner) && typeof item.owner.id === 'string'
      ? { id: item.owner.id, displayName: str(item.owner.display_name) ?? str(item.owner.displayName) }
      : undefined;
  // A draft or working copy is listed to its owners as `abcd-1234:7` (dataset id, revision number).
  const draft = draftRef(r.id);
  return {
    id: r.id as string,
    ...(draft ? { draftOf: draft } : {}),
    name: str(r.name) ?? (r.id as string),
    description: str(r.description),
    type: str(r.type),
    createdAt: str(r.createdAt),
    updatedAt: str(r.updatedAt),
    domain: isObj(item.metadata) ? str(item.metadata.domain) : undefined,
    permalink: str(item.permalink),
    link: str(item.link),
    owner,
    columns: fields.map((fieldName, i) => ({ fieldName, name: names[i] ?? fieldName, dataType: types[i] ?? '' })),
    raw: item,
  };
}

export function parseView(body: unknown): ViewMetadata {
  if (!isObj(body) || typeof body.id !== 'string') throw protocol('the dataset metadata has no "id"', body);
  const columns: ViewColumn[] = (Array.isArray(body.columns) ? body.columns : []).filter(isObj).map((c, i) => ({
    id: num(c.id) ?? -1,
    name: str(c.name) ?? str(c.fieldName) ?? '',
    fieldName: str(c.fieldName) ?? '',
    dataTypeName: str(c.dataTypeName) ?? '',
    position: num(c.position) ?? i + 1,
    description: str(c.description),
    renderTypeName: str(c.renderTypeName),
    flags: strings(c.flags),
    raw: c,
  }));
  columns.sort((a, b) => a.position - b.position);
  const owner =
    isObj(body.owner) && typeof body.owner.id === 'string'
      ? { id: body.owner.id, displayName: str(body.owner.displayName), screenName: str(body.owner.screenName) }
      : undefined;
  const view: ViewMetadata = {
    id: body.id,
    name: str(body.name) ?? body.id,
    description: str(body.description),
    viewType: str(body.viewType),
    publicationStage: str(body.publicationStage),
    rowIdentifierColumnId: num(body.rowIdentifierColumnId),
    owner,
    createdAt: epoch(body.createdAt),
    rowsUpdatedAt: epoch(body.rowsUpdatedAt),
    viewLastModified: epoch(body.viewLastModified),
    columns,
    rights: Array.isArray(body.rights) ? strings(body.rights) : undefined,
    isPublic: publicFromGrants(body),
    rowIdentifier: undefined,
    isDraft: draftFromStage(str(body.publicationStage)),
    raw: body,
  };
  view.rowIdentifier = rowIdentifierField(view);
  return view;
}

/**
 * The field name of the dataset's row identifier, or undefined when it has none (upserts then append).
 * Reads `rowIdentifierColumnId`; falls back to `metadata.rowIdentifier`, which holds a column id on some
 * sites and a field name on others.
 */
export function rowIdentifierField(view: ViewMetadata): string | undefined {
  if (view.rowIdentifierColumnId !== undefined) {
    const col = view.columns.find((c) => c.id === view.rowIdentifierColumnId);
    if (col?.fieldName) return col.fieldName;
  }
  const meta = view.raw.metadata;
  if (isObj(meta) && meta.rowIdentifier !== undefined && meta.rowIdentifier !== null) {
    const ri = meta.rowIdentifier;
    const byId = view.columns.find((c) => c.id === num(ri));
    if (byId?.fieldName) return byId.fieldName;
    const byField = view.columns.find((c) => c.fieldName === ri);
    if (byField) return byField.fieldName;
  }
  return undefined;
}

function count(o: Obj, ...keys: string[]): number | undefined {
  for (const k of keys) {
    const n = num(o[k]);
    if (n !== undefined) return n;
  }
  return undefined;
}

/**
 * Normalises the upsert/replace answers Socrata is known to give:
 *  1. `{"Rows Created","Rows Updated","Rows Deleted","Errors","By RowIdentifier","By SID"}` (any subset);
 *  2. an array of report items `{"typ":"insert"|"update"|"delete"|"error", "id", "err"}` (optionally wrapped
 *     in one more array);
 *  3. snake case `{"rows_created","rows_updated","rows_deleted","errors":[{error,input_index,primary_key}]}`;
 *  4. a single-object POST answered with the resulting row.
 */
export function normaliseUpsertResult(body: unknown): UpsertResult {
  const base = { byRowIdentifier: undefined, bySid: undefined, rowErrors: [] as UpsertRowError[], message: undefined, raw: body };
  let items: unknown = body;
  if (Array.isArray(items) && items.length === 1 && Array.isArray(items[0])) items = items[0];
  if (Array.isArray(items)) {
    const r: UpsertResult = { ...base, created: 0, updated: 0, deleted: 0, errors: 0, shape: 'report' };
    items.forEach((item, index) => {
      if (!isObj(item)) throw protocol('an upsert report item that is not an object', item);
      switch (item.typ) {
        case 'insert':
          r.created++;
          break;
        case 'update':
          r.updated++;
          break;
        case 'delete':
          r.deleted++;
          break;
        case 'error':
          r.errors++;
          r.rowErrors.push({ error: str(item.err) ?? str(item.error) ?? 'error', inputIndex: num(item.index) ?? index, primaryKey: item.id });
          break;
        default:
          throw protocol(`an upsert report item of unknown type ${JSON.stringify(item.typ)}`, item);
      }
    });
    return r;
  }
  if (!isObj(body)) throw protocol('the upsert result is not an object', body);
  const counts = ['Rows Created', 'Rows Updated', 'Rows Deleted', 'Errors', 'By RowIdentifier', 'By SID'];
  if (counts.some((k) => k in body)) {
    // A count that is not a number (a hostile or broken server) must not become a silent 0 in the totals.
    const bad = counts.find((k) => body[k] !== undefined && body[k] !== null && num(body[k]) === undefined);
    if (bad !== undefined) throw protocol(`an upsert result whose "${bad}" is not a count`, body);
    return {
      ...base,
      created: count(body, 'Rows Created') ?? 0,
      updated: count(body, 'Rows Updated') ?? 0,
      deleted: count(body, 'Rows Deleted') ?? 0,
      errors: count(body, 'Errors') ?? 0,
      byRowIdentifier: count(body, 'By RowIdentifier'),
      bySid: count(body, 'By SID'),
      message: str(body.message),
      shape: 'counts',
    };
  }
  if (['rows_created', 'rows_updated', 'rows_deleted'].some((k) => k in body)) {
    const errs = Array.isArray(body.errors) ? body.errors : [];
    const rowErrors: UpsertRowError[] = errs
      .filter(isObj)
      .map((e) => ({ error: str(e.error) ?? 'error', inputIndex: num(e.input_index), primaryKey: e.primary_key }));
    return {
      ...base,
      created: count(body, 'rows_created') ?? 0,
      updated: count(body, 'rows_updated') ?? 0,
      deleted: count(body, 'rows_deleted') ?? 0,
      errors: typeof body.errors === 'number' ? body.errors : rowErrors.length,
      rowErrors,
      message: str(body.message),
      shape: 'snake',
    };
  }
  // A single-row upsert answers with the row itself (system fields included).
  if (':id' in body || ':created_at' in body || ':updated_at' in body) {
    const created = str(body[':created_at']);
    const updated = str(body[':updated_at']);
    const isNew = created !== undefined && updated !== undefined ? created === updated : true;
    return { ...base, created: isNew ? 1 : 0, updated: isNew ? 0 : 1, deleted: 0, errors: 0, shape: 'row' };
  }
  throw protocol('an upsert result in none of the known shapes', body);
}

/** A SODA header holding a JSON list of strings (`X-SODA2-Fields`, `X-SODA2-Types`), or undefined when absent or malformed. */
export function jsonHeader(headers: Record<string, string>, name: string): string[] | undefined {
  const v = headers[name];
  if (v === undefined) return undefined;
  try {
    const parsed: unknown = JSON.parse(v);
    return Array.isArray(parsed) && parsed.every((x) => typeof x === 'string') ? parsed : undefined;
  } catch {
    return undefined;
  }
}
