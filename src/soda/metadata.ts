// Dataset metadata as one editable document (name, description, category, tags, licence, contact email, custom
// fields, row identifier, permission, and per column display name, description and field name), its validation
// (every problem names the field), the diff between two documents, and applying a document atomically: a DSMAPI
// metadata-only revision, or `PUT /api/views/{4x4}` where the portal has no DSMAPI or columns change.
// Plain Node: never imports vscode.
import { assert4x4 } from './domain';
import { SodaError, isSodaError } from './errors';
import type { SodaClient } from './client';
import { RevisionError, RevisionRunner, RevisionsClient, transportFromHttp, type Permission } from './revisions';

export interface ColumnMetadata {
  /** The column's id (read-only: it says which column a field-name change renames). */
  id: number;
  fieldName: string;
  displayName: string;
  description: string;
}

export interface MetadataDocument {
  name: string;
  description: string;
  category: string | null;
  tags: string[];
  license: { id: string | null; attribution: string | null; attributionLink: string | null };
  contactEmail: string | null;
  /** Fieldset → field → value (the domain's custom metadata). */
  customFields: Record<string, Record<string, string>>;
  /** Field name of the row identifier column, or null. */
  rowIdentifier: string | null;
  permission: Permission;
  columns: ColumnMetadata[];
}

export interface LicenseOption {
  id: string;
  name: string;
  attributionRequired: boolean;
}

export interface FieldsetOption {
  name: string;
  fields: { name: string; options?: string[] }[];
}

/** What the portal lists; each list is absent when the portal does not publish it (then anything is accepted). */
export interface DomainMetadataLists {
  categories?: string[];
  licenses?: LicenseOption[];
  fieldsets?: FieldsetOption[];
}

export interface MetadataProblem {
  /** Dotted path in the document, e.g. `columns[2].fieldName`, `license.id`. */
  field: string;
  message: string;
}

export const MAX_NAME_LENGTH = 255;
export const MAX_FIELD_NAME_LENGTH = 63;
const FIELD_NAME = /^[a-z_][a-z0-9_]*$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const TOP_KEYS = ['$schema', 'name', 'description', 'category', 'tags', 'license', 'contactEmail', 'customFields', 'rowIdentifier', 'permission', 'columns'];

// ------------------------------------------------------------------------------------------ from the server

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The document of a view (`/api/views/{4x4}.json` body). */
export function documentFromView(raw: Record<string, unknown>): MetadataDocument {
  const md = isObj(raw.metadata) ? raw.metadata : {};
  const pm = isObj(raw.privateMetadata) ? raw.privateMetadata : {};
  const cols = Array.isArray(raw.columns) ? (raw.columns as Record<string, unknown>[]) : [];
  const columns: ColumnMetadata[] = cols
    .filter((c) => typeof c.id === 'number' && typeof c.fieldName === 'string' && !c.fieldName.startsWith(':'))
    .sort((a, b) => Number(a.position ?? 0) - Number(b.position ?? 0))
    .map((c) => ({
      id: c.id as number,
      fieldName: c.fieldName as string,
      displayName: typeof c.name === 'string' ? c.name : '',
      description: typeof c.description === 'string' ? c.description : '',
    }));
  const ridId = typeof raw.rowIdentifierColumnId === 'number' ? raw.rowIdentifierColumnId : md.rowIdentifier;
  const rid = columns.find((c) => c.id === ridId || c.fieldName === ridId);
  const grants = Array.isArray(raw.grants) ? (raw.grants as Record<string, unknown>[]) : [];
  const isPublic = grants.some((g) => Array.isArray(g.flags) && (g.flags as unknown[]).includes('public'));
  const customFields: Record<string, Record<string, string>> = {};
  const cf = isObj(md.custom_fields) ? md.custom_fields : {};
  for (const [set, fields] of Object.entries(cf)) {
    if (!isObj(fields)) continue;
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(fields)) if (typeof v === 'string' && v !== '') out[k] = v;
    if (Object.keys(out).length) customFields[set] = out;
  }
  return {
    name: typeof raw.name === 'string' ? raw.name : '',
    description: typeof raw.description === 'string' ? raw.description : '',
    category: str(raw.category),
    tags: Array.isArray(raw.tags) ? (raw.tags as unknown[]).filter((t): t is string => typeof t === 'string') : [],
    license: { id: str(raw.licenseId), attribution: str(raw.attribution), attributionLink: str(raw.attributionLink) },
    contactEmail: str(pm.contactEmail),
    customFields,
    rowIdentifier: rid?.fieldName ?? null,
    permission: isPublic ? 'public' : 'private',
    columns,
  };
}

/** The document as the editor shows it: stable key order, 2-space indent, final newline. */
export function formatDocument(doc: MetadataDocument, schemaUri?: string): string {
  const ordered = {
    ...(schemaUri ? { $schema: schemaUri } : {}),
    name: doc.name,
    description: doc.description,
    category: doc.category,
    tags: doc.tags,
    license: { id: doc.license.id, attribution: doc.license.attribution, attributionLink: doc.license.attributionLink },
    contactEmail: doc.contactEmail,
    customFields: doc.customFields,
    rowIdentifier: doc.rowIdentifier,
    permission: doc.permission,
    columns: doc.columns.map((c) => ({ id: c.id, fieldName: c.fieldName, displayName: c.displayName, description: c.description })),
  };
  return `${JSON.stringify(ordered, null, 2)}\n`;
}

/** A canonical form for comparing documents (key order and formatting ignored). */
export function sameDocument(a: MetadataDocument, b: MetadataDocument): boolean {
  return formatDocument(a) === formatDocument(b);
}

// ------------------------------------------------------------------------------------------ parsing and validation

export class MetadataDocumentError extends Error {
  override readonly name = 'MetadataDocumentError';
  constructor(
    readonly problems: MetadataProblem[],
    readonly where = 'metadata.json',
  ) {
    super(`${where}: ${problems.map((p) => `${p.field}: ${p.message}`).join('; ')}`);
  }
}

/** Line and column (1-based) of a character offset. */
function lineColumn(text: string, offset: number): { line: number; column: number } {
  const before = text.slice(0, Math.max(0, Math.min(offset, text.length)));
  const lines = before.split('\n');
  return { line: lines.length, column: (lines[lines.length - 1]?.length ?? 0) + 1 };
}

/**
 * Parses and validates a document's text against the server's current document (the column set and ids must stay
 * the same) and the portal's lists. Throws {@link MetadataDocumentError} listing every problem.
 */
export function parseDocument(text: string, server: MetadataDocument, lists: DomainMetadataLists = {}, where = 'metadata.json'): MetadataDocument {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const msg = (e as Error).message;
    const lc = /line (\d+) column (\d+)/.exec(msg);
    const pos = /position (\d+)/.exec(msg);
    const at = lc ? { line: Number(lc[1]), column: Number(lc[2]) } : pos ? lineColumn(text, Number(pos[1])) : undefined;
    throw new MetadataDocumentError([{ field: '(document)', message: `not valid JSON${at ? ` at line ${at.line}, column ${at.column}` : ''}: ${msg}` }], where);
  }
  const problems = validateDocument(value, server, lists);
  if (problems.length) throw new MetadataDocumentError(problems, where);
  return value as MetadataDocument;
}

/** Every problem of a parsed document (an empty list when it is valid). */
export function validateDocument(value: unknown, server: MetadataDocument, lists: DomainMetadataLists = {}): MetadataProblem[] {
  const problems: MetadataProblem[] = [];
  const bad = (field: string, message: string): void => {
    problems.push({ field, message });
  };
  if (!isObj(value)) return [{ field: '(document)', message: 'must be a JSON object' }];
  const d = value;
  for (const k of Object.keys(d)) if (!TOP_KEYS.includes(k)) bad(k, `unknown key (known: ${TOP_KEYS.filter((x) => x !== '$schema').join(', ')})`);
  const nullableString = (v: unknown, field: string): v is string | null => {
    if (v === null || typeof v === 'string') return true;
    bad(field, 'must be a string or null');
    return false;
  };
  if (typeof d.name !== 'string') bad('name', 'must be a string');
  else if (d.name.trim() === '') bad('name', 'must not be empty');
  else if (d.name.length > MAX_NAME_LENGTH) bad('name', `is ${d.name.length} characters long; at most ${MAX_NAME_LENGTH} are allowed`);
  if (typeof d.description !== 'string') bad('description', 'must be a string');
  if (nullableString(d.category, 'category') && typeof d.category === 'string' && lists.categories && !lists.categories.includes(d.category)) {
    bad('category', `"${d.category}" is not a category of this portal (${lists.categories.join(', ')})`);
  }
  if (!Array.isArray(d.tags)) bad('tags', 'must be a list of strings');
  else d.tags.forEach((t, i) => (typeof t !== 'string' || t.trim() === '' ? bad(`tags[${i}]`, 'must be a non-empty string') : undefined));
  if (!isObj(d.license)) bad('license', 'must be an object with id, attribution and attributionLink');
  else {
    const l = d.license;
    for (const k of Object.keys(l)) {
      if (!['id', 'attribution', 'attributionLink'].includes(k)) bad(`license.${k}`, 'unknown key (known: id, attribution, attributionLink)');
    }
    let lic: LicenseOption | undefined;
    if (nullableString(l.id, 'license.id') && typeof l.id === 'string' && lists.licenses) {
      lic = lists.licenses.find((x) => x.id === l.id);
      if (!lic) bad('license.id', `"${l.id}" is not a licence of this portal (${lists.licenses.map((x) => x.id).join(', ')})`);
    }
    if (nullableString(l.attribution, 'license.attribution') && lic?.attributionRequired && (l.attribution === null || l.attribution.trim() === '')) {
      bad('license.attribution', `the licence ${lic.id} requires an attribution`);
    }
    if (nullableString(l.attributionLink, 'license.attributionLink') && typeof l.attributionLink === 'string' && !isHttpUrl(l.attributionLink)) {
      bad('license.attributionLink', `"${l.attributionLink}" is not an http(s) URL`);
    }
  }
  if (nullableString(d.contactEmail, 'contactEmail') && typeof d.contactEmail === 'string' && !EMAIL.test(d.contactEmail)) {
    bad('contactEmail', `"${d.contactEmail}" is not a valid email address`);
  }
  if (!isObj(d.customFields)) bad('customFields', 'must be an object: fieldset → field → value');
  else {
    for (const [set, fields] of Object.entries(d.customFields)) {
      const def = lists.fieldsets?.find((f) => f.name === set);
      if (lists.fieldsets && !def) bad(`customFields.${set}`, `unknown fieldset (this portal has: ${lists.fieldsets.map((f) => f.name).join(', ') || 'none'})`);
      if (!isObj(fields)) {
        bad(`customFields.${set}`, 'must be an object: field → value');
        continue;
      }
      for (const [k, v] of Object.entries(fields)) {
        const fdef = def?.fields.find((f) => f.name === k);
        if (def && !fdef) bad(`customFields.${set}.${k}`, `unknown field of "${set}" (${def.fields.map((f) => f.name).join(', ')})`);
        if (typeof v !== 'string') bad(`customFields.${set}.${k}`, 'must be a string');
        else if (fdef?.options && v !== '' && !fdef.options.includes(v)) bad(`customFields.${set}.${k}`, `"${v}" is not one of ${fdef.options.join(', ')}`);
      }
    }
  }
  if (d.permission !== 'public' && d.permission !== 'private') bad('permission', 'must be "public" or "private"');
  const finalNames: string[] = [];
  if (!Array.isArray(d.columns)) bad('columns', 'must be the list of columns');
  else {
    const seenIds = new Set<number>();
    const seenNames = new Map<string, number>();
    d.columns.forEach((raw, i) => {
      const at = `columns[${i}]`;
      if (!isObj(raw)) {
        bad(at, 'must be an object with id, fieldName, displayName and description');
        return;
      }
      for (const k of Object.keys(raw)) {
        if (!['id', 'fieldName', 'displayName', 'description'].includes(k)) bad(`${at}.${k}`, 'unknown key (known: id, fieldName, displayName, description)');
      }
      const sc = server.columns.find((c) => c.id === raw.id);
      if (!sc) bad(`${at}.id`, `${JSON.stringify(raw.id)} is not a column of this dataset (columns cannot be added here; keep each id as it was)`);
      else if (seenIds.has(sc.id)) bad(`${at}.id`, `column ${sc.id} is listed twice`);
      else seenIds.add(sc.id);
      if (typeof raw.fieldName !== 'string') bad(`${at}.fieldName`, 'must be a string');
      else if (!FIELD_NAME.test(raw.fieldName) || raw.fieldName.length > MAX_FIELD_NAME_LENGTH) {
        bad(
          `${at}.fieldName`,
          `"${raw.fieldName}" is not a valid field name: lower-case letters, digits and _, not starting with a digit, at most ${MAX_FIELD_NAME_LENGTH} characters`,
        );
      } else {
        const prev = seenNames.get(raw.fieldName);
        if (prev !== undefined) bad(`${at}.fieldName`, `duplicate field name "${raw.fieldName}" (also columns[${prev}])`);
        seenNames.set(raw.fieldName, i);
        finalNames.push(raw.fieldName);
      }
      if (typeof raw.displayName !== 'string' || raw.displayName.trim() === '') bad(`${at}.displayName`, 'must be a non-empty string');
      else if (raw.displayName.length > MAX_NAME_LENGTH) {
        bad(`${at}.displayName`, `is ${raw.displayName.length} characters long; at most ${MAX_NAME_LENGTH} are allowed`);
      }
      if (typeof raw.description !== 'string') bad(`${at}.description`, 'must be a string');
    });
    for (const c of server.columns) {
      if (!seenIds.has(c.id) && !problems.some((p) => p.field.endsWith('.id'))) {
        bad('columns', `column ${c.id} (${c.fieldName}) is missing; columns cannot be removed here`);
      }
    }
  }
  if (d.rowIdentifier !== null && d.rowIdentifier !== undefined) {
    if (typeof d.rowIdentifier !== 'string') bad('rowIdentifier', 'must be a field name or null');
    else if (Array.isArray(d.columns) && !finalNames.includes(d.rowIdentifier)) {
      bad('rowIdentifier', `"${d.rowIdentifier}" is not a field name of the columns below`);
    }
  } else if (d.rowIdentifier === undefined) bad('rowIdentifier', 'is required (a field name, or null for none)');
  return problems;
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

// ------------------------------------------------------------------------------------------ diff

export type MetadataChangeKind = 'field-name' | 'row-identifier' | 'permission' | 'plain';

export interface MetadataChange {
  /** Document path, e.g. `name`, `columns[3].fieldName`. */
  field: string;
  from: unknown;
  to: unknown;
  kind: MetadataChangeKind;
}

/** What changes from `server` to `mine`; risky changes (field names, row identifier, permission) are marked. */
export function diffDocuments(server: MetadataDocument, mine: MetadataDocument): MetadataChange[] {
  const out: MetadataChange[] = [];
  const cmp = (field: string, a: unknown, b: unknown, kind: MetadataChangeKind = 'plain'): void => {
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ field, from: a, to: b, kind });
  };
  cmp('name', server.name, mine.name);
  cmp('description', server.description, mine.description);
  cmp('category', server.category, mine.category);
  cmp('tags', server.tags, mine.tags);
  cmp('license.id', server.license.id, mine.license.id);
  cmp('license.attribution', server.license.attribution, mine.license.attribution);
  cmp('license.attributionLink', server.license.attributionLink, mine.license.attributionLink);
  cmp('contactEmail', server.contactEmail, mine.contactEmail);
  cmp('customFields', normFields(server.customFields), normFields(mine.customFields));
  cmp('permission', server.permission, mine.permission, 'permission');
  mine.columns.forEach((c, i) => {
    const s = server.columns.find((x) => x.id === c.id);
    if (!s) return;
    cmp(`columns[${i}].fieldName`, s.fieldName, c.fieldName, 'field-name');
    cmp(`columns[${i}].displayName`, s.displayName, c.displayName);
    cmp(`columns[${i}].description`, s.description, c.description);
  });
  // The row identifier is the same column when only its field name changed.
  const ridCol = (doc: MetadataDocument): number | null => doc.columns.find((c) => c.fieldName === doc.rowIdentifier)?.id ?? null;
  if (ridCol(server) !== ridCol(mine)) out.push({ field: 'rowIdentifier', from: server.rowIdentifier, to: mine.rowIdentifier, kind: 'row-identifier' });
  return out;
}

function normFields(f: Record<string, Record<string, string>>): Record<string, Record<string, string>> {
  const out: Record<string, Record<string, string>> = {};
  for (const set of Object.keys(f).sort()) {
    const fields: Record<string, string> = {};
    for (const k of Object.keys(f[set] ?? {}).sort()) {
      const v = f[set]?.[k];
      if (v !== undefined && v !== '') fields[k] = v;
    }
    if (Object.keys(fields).length) out[set] = fields;
  }
  return out;
}

export const isRisky = (c: MetadataChange): boolean => c.kind !== 'plain';

/** The risky changes in words, with the /resource consequence of a field-name change. */
export function describeRisks(changes: readonly MetadataChange[], domain: string, id: string): string[] {
  const text = (v: unknown): string => (typeof v === 'string' ? v : v === null || v === undefined ? 'none' : JSON.stringify(v));
  return changes.filter(isRisky).map((c) => {
    const from = text(c.from);
    const to = text(c.to);
    if (c.kind === 'field-name') {
      return `Field name ${from} → ${to}: this breaks API consumers — any /resource URL or SoQL that uses "${from}" (e.g. https://${domain}/resource/${id}.json?$select=${from}) stops working.`;
    }
    if (c.kind === 'row-identifier') {
      return `Row identifier ${from} → ${to}: upserts and deletes will match rows by ${c.to === null ? ':id' : `"${to}"`} from now on.`;
    }
    return `Permission ${from} → ${to}: the dataset becomes ${c.to === 'public' ? 'visible to everyone' : 'visible only to you and people it is shared with'}.`;
  });
}

// ------------------------------------------------------------------------------------------ request bodies

/**
 * The metadata body (view key names, as `PUT /api/views` and a revision's `metadata` take them) for the
 * dataset-level changes between two documents; `raw` is the server's view, whose `metadata` and
 * `privateMetadata` objects are sent back whole with the changed keys (a partial object would replace them).
 */
export function metadataBody(server: MetadataDocument, mine: MetadataDocument, raw: Record<string, unknown>): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  const changes = diffDocuments(server, mine);
  const has = (f: string): boolean => changes.some((c) => c.field === f);
  if (has('name')) body.name = mine.name;
  if (has('description')) body.description = mine.description;
  if (has('category')) body.category = mine.category;
  if (has('tags')) body.tags = mine.tags;
  if (has('license.id')) body.licenseId = mine.license.id;
  if (has('license.attribution') || (has('license.id') && mine.license.attribution !== null)) body.attribution = mine.license.attribution;
  if (has('license.attributionLink')) body.attributionLink = mine.license.attributionLink;
  if (has('contactEmail')) body.privateMetadata = { ...(isObj(raw.privateMetadata) ? raw.privateMetadata : {}), contactEmail: mine.contactEmail };
  const md: Record<string, unknown> = {};
  if (has('customFields')) {
    // Fields removed from the document are cleared with null.
    const cf: Record<string, Record<string, string | null>> = {};
    for (const [set, fields] of Object.entries(server.customFields)) for (const k of Object.keys(fields)) (cf[set] ??= {})[k] = null;
    for (const [set, fields] of Object.entries(mine.customFields)) for (const [k, v] of Object.entries(fields)) (cf[set] ??= {})[k] = v === '' ? null : v;
    md.custom_fields = cf;
  }
  if (has('rowIdentifier')) {
    md.rowIdentifier = server.columns.find((c) => c.id === mine.columns.find((x) => x.fieldName === mine.rowIdentifier)?.id)?.id ?? null;
  }
  if (Object.keys(md).length) body.metadata = { ...(isObj(raw.metadata) ? raw.metadata : {}), ...md };
  return body;
}

/** Column changes as `PUT /api/views` takes them: `{id, name, description, fieldName}` per changed column. */
export function columnsBody(server: MetadataDocument, mine: MetadataDocument): { id: number; name?: string; description?: string; fieldName?: string }[] {
  const out: { id: number; name?: string; description?: string; fieldName?: string }[] = [];
  for (const c of mine.columns) {
    const s = server.columns.find((x) => x.id === c.id);
    if (!s) continue;
    const ch: { id: number; name?: string; description?: string; fieldName?: string } = { id: c.id };
    if (s.displayName !== c.displayName) ch.name = c.displayName;
    if (s.description !== c.description) ch.description = c.description;
    if (s.fieldName !== c.fieldName) ch.fieldName = c.fieldName;
    if (Object.keys(ch).length > 1) out.push(ch);
  }
  return out;
}

// ------------------------------------------------------------------------------------------ client

/** Saving refused: the dataset's metadata changed on the server since `base` was read. */
export class MetadataConflictError extends Error {
  override readonly name = 'MetadataConflictError';
  constructor(
    readonly server: MetadataDocument,
    readonly raw: Record<string, unknown>,
  ) {
    super("The dataset's metadata changed on the server since it was opened.");
  }
}

export type MetadataRoute = 'revision' | 'view';

export interface ApplyMetadataOptions {
  /** The document as it was when the editing started; omitted = no conflict check. */
  base?: MetadataDocument;
  /** Force a route ('view' for portals without DSMAPI); default: revision unless columns change. */
  route?: MetadataRoute;
  /** Only validate and report what would change. */
  dryRun?: boolean;
  lists?: DomainMetadataLists;
  signal?: AbortSignal;
}

export interface ApplyMetadataResult {
  changes: MetadataChange[];
  route: MetadataRoute | 'none';
  /** The document on the server afterwards (the current one for a dry run). */
  document: MetadataDocument;
  approvalSubmitted?: boolean;
}

export class MetadataClient {
  constructor(private readonly soda: SodaClient) {}

  /** The dataset's document and its raw view. */
  async get(id: string, signal?: AbortSignal): Promise<{ document: MetadataDocument; raw: Record<string, unknown> }> {
    assert4x4(id);
    const res = await this.soda.request<Record<string, unknown>>({ method: 'GET', path: `/api/views/${id}.json`, signal });
    if (!isObj(res.body)) throw new SodaError({ kind: 'protocol', message: `The view of ${id} is not a JSON object.` });
    return { document: documentFromView(res.body), raw: res.body };
  }

  /**
   * The portal's categories (`/api/catalog/v1/domain_categories`), licences (`/api/licenses.json`) and custom
   * fieldsets (`/api/configurations.json?type=metadata`); a list the portal does not answer is left out.
   */
  async lists(signal?: AbortSignal): Promise<DomainMetadataLists> {
    const out: DomainMetadataLists = {};
    const tryGet = async (path: string, query?: Record<string, string>): Promise<unknown> => {
      try {
        return (await this.soda.request({ method: 'GET', path, query, signal, retry: false })).body;
      } catch (e) {
        if (isSodaError(e) && (e.status === 404 || e.status === 403 || e.kind === 'protocol')) return undefined;
        throw e;
      }
    };
    const cats = (await tryGet('/api/catalog/v1/domain_categories', { domains: this.soda.domain.host })) as
      { results?: { domain_category?: unknown }[] } | undefined;
    if (cats && Array.isArray(cats.results)) out.categories = cats.results.map((r) => r.domain_category).filter((c): c is string => typeof c === 'string');
    const lic = await tryGet('/api/licenses.json');
    if (Array.isArray(lic)) {
      out.licenses = (lic as Record<string, unknown>[])
        .filter((l) => typeof l.id === 'string')
        .map((l) => ({
          id: l.id as string,
          name: typeof l.name === 'string' ? l.name : (l.id as string),
          attributionRequired: l.attributionRequired === true,
        }));
    }
    const conf = await tryGet('/api/configurations.json', { type: 'metadata', defaultOnly: 'true' });
    if (Array.isArray(conf)) {
      const props = (conf as { properties?: { name?: unknown; value?: unknown }[] }[]).flatMap((c) => c.properties ?? []);
      const sets = props.find((p) => p.name === 'fieldsets')?.value;
      if (Array.isArray(sets)) {
        out.fieldsets = (sets as Record<string, unknown>[])
          .filter((s) => typeof s.name === 'string')
          .map((s) => ({
            name: s.name as string,
            fields: (Array.isArray(s.fields) ? (s.fields as Record<string, unknown>[]) : [])
              .filter((f) => typeof f.name === 'string')
              .map((f) => ({
                name: f.name as string,
                ...(Array.isArray(f.options) ? { options: (f.options as unknown[]).filter((o): o is string => typeof o === 'string') } : {}),
              })),
          }));
      }
    }
    return out;
  }

  /**
   * Applies `mine` (already validated against the server's document) as one atomic change. Refuses with
   * {@link MetadataConflictError} when the server's document is no longer `opts.base`.
   */
  async apply(id: string, mine: MetadataDocument, opts: ApplyMetadataOptions = {}): Promise<ApplyMetadataResult> {
    const { document: server, raw } = await this.get(id, opts.signal);
    if (opts.base && !sameDocument(opts.base, server)) throw new MetadataConflictError(server, raw);
    const problems = validateDocument(mine, server, opts.lists ?? {});
    if (problems.length) throw new MetadataDocumentError(problems);
    const changes = diffDocuments(server, mine);
    if (changes.length === 0) return { changes, route: 'none', document: server };
    const cols = columnsBody(server, mine);
    const permissionChanges = mine.permission !== server.permission;
    const route: MetadataRoute = opts.route ?? (cols.length ? 'view' : 'revision');
    const onlyPermission = permissionChanges && changes.length === 1;
    if (route === 'view' && permissionChanges && !onlyPermission) {
      throw new SodaError({
        kind: 'invalid-input',
        field: 'permission',
        message: cols.length
          ? 'Column changes and a permission change cannot be saved in one step (columns change through PUT /api/views, the permission through a revision). Save the column changes first, then the permission.'
          : 'Without a revision the permission cannot change in the same step as the other metadata (it has its own call): save the other changes first, then the permission.',
      });
    }
    if (opts.dryRun) return { changes, route, document: server };
    const body = metadataBody(server, mine, raw);
    if (route === 'revision') {
      const runner = new RevisionRunner(new RevisionsClient(transportFromHttp(this.soda.http), { domain: this.soda.domain.host }));
      try {
        const outcome = await runner.updateMetadata(id, body, { signal: opts.signal, ...(permissionChanges ? { permission: mine.permission } : {}) });
        const after = await this.get(id, opts.signal);
        return { changes, route, document: after.document, ...(outcome.status === 'approval-submitted' ? { approvalSubmitted: true } : {}) };
      } catch (e) {
        throw fieldOf(e);
      }
    }
    if (onlyPermission) {
      // sodapy's set_permission: PUT /api/views/{4x4}?method=setPermission&value=public.read|private
      try {
        await this.soda.request({
          method: 'PUT',
          path: `/api/views/${id}`,
          query: { method: 'setPermission', value: mine.permission === 'public' ? 'public.read' : 'private' },
          signal: opts.signal,
          safeToRepeat: true,
        });
      } catch (e) {
        throw fieldOf(e);
      }
      return { changes, route, document: (await this.get(id, opts.signal)).document };
    }
    if (cols.length) body.columns = cols;
    let res;
    try {
      res = await this.soda.request<Record<string, unknown>>({
        method: 'PUT',
        path: `/api/views/${id}.json`,
        json: body,
        signal: opts.signal,
        safeToRepeat: true,
      });
    } catch (e) {
      throw fieldOf(e);
    }
    const after = isObj(res.body) && Array.isArray(res.body.columns) ? documentFromView(res.body) : (await this.get(id, opts.signal)).document;
    return { changes, route, document: after };
  }
}

/** A server refusal mapped back to the document's field names (`metadata.privateMetadata.contactEmail` → `contactEmail`). */
function fieldOf(e: unknown): unknown {
  const cause = e instanceof RevisionError ? e.details.cause : e;
  if (!isSodaError(cause)) return e;
  const data = cause.data as { field?: unknown } | undefined;
  const raw = typeof data?.field === 'string' ? data.field : cause.field;
  if (!raw) return e;
  const field = documentField(raw);
  return new SodaError({
    kind: 'invalid-input',
    status: cause.status,
    code: cause.code,
    message: `${field}: ${cause.serverMessage ?? cause.message}`,
    field,
    data: cause.data,
    cause,
  });
}

/** The document path of a server-side field name. */
export function documentField(serverField: string): string {
  const f = serverField.replace(/^metadata\.(?=.)/, '');
  const map: Record<string, string> = {
    licenseId: 'license.id',
    attribution: 'license.attribution',
    attributionLink: 'license.attributionLink',
    'privateMetadata.contactEmail': 'contactEmail',
    'metadata.rowIdentifier': 'rowIdentifier',
    rowIdentifier: 'rowIdentifier',
  };
  if (map[f]) return map[f];
  const cf = /^(?:metadata\.)?custom_fields\.?(.*)$/.exec(f);
  if (cf) return cf[1] ? `customFields.${cf[1]}` : 'customFields';
  return f.replace(/^columns\[(\d+)\]\.name$/, 'columns[$1].displayName');
}

// ------------------------------------------------------------------------------------------ partial documents

/** Dataset-level keys a publish spec (or a partial `metadata set` file) may change. */
export interface MetadataPatch {
  name?: string;
  description?: string;
  category?: string | null;
  tags?: string[];
  license?: Partial<MetadataDocument['license']>;
  contactEmail?: string | null;
  customFields?: Record<string, Record<string, string>>;
}

const PATCH_KEYS = ['name', 'description', 'category', 'tags', 'license', 'contactEmail', 'customFields'];

/** Shape problems of a patch (values are checked against the portal when it is applied). */
export function patchProblems(value: unknown, prefix = 'metadata'): MetadataProblem[] {
  if (!isObj(value)) return [{ field: prefix, message: `must be an object with some of ${PATCH_KEYS.join(', ')}` }];
  const out: MetadataProblem[] = [];
  for (const k of Object.keys(value)) {
    if (!PATCH_KEYS.includes(k)) out.push({ field: `${prefix}.${k}`, message: `unknown key (known: ${PATCH_KEYS.join(', ')})` });
  }
  const s = (k: string, nullable: boolean): void => {
    const v = value[k];
    if (v !== undefined && !(typeof v === 'string' || (nullable && v === null))) {
      out.push({ field: `${prefix}.${k}`, message: `must be a string${nullable ? ' or null' : ''}` });
    }
  };
  s('name', false);
  s('description', false);
  s('category', true);
  s('contactEmail', true);
  if (typeof value.name === 'string' && value.name.trim() === '') out.push({ field: `${prefix}.name`, message: 'must not be empty' });
  if (value.tags !== undefined && (!Array.isArray(value.tags) || value.tags.some((t) => typeof t !== 'string'))) {
    out.push({ field: `${prefix}.tags`, message: 'must be a list of strings' });
  }
  if (value.license !== undefined) {
    if (!isObj(value.license)) out.push({ field: `${prefix}.license`, message: 'must be an object with id, attribution, attributionLink' });
    else {
      for (const [k, v] of Object.entries(value.license)) {
        if (!['id', 'attribution', 'attributionLink'].includes(k)) {
          out.push({ field: `${prefix}.license.${k}`, message: 'unknown key (known: id, attribution, attributionLink)' });
        } else if (v !== null && typeof v !== 'string') out.push({ field: `${prefix}.license.${k}`, message: 'must be a string or null' });
      }
    }
  }
  if (value.customFields !== undefined) {
    if (!isObj(value.customFields) || Object.values(value.customFields).some((f) => !isObj(f) || Object.values(f).some((v) => typeof v !== 'string'))) {
      out.push({ field: `${prefix}.customFields`, message: 'must be an object: fieldset → field → text' });
    }
  }
  if (typeof value.contactEmail === 'string' && !EMAIL.test(value.contactEmail)) {
    out.push({ field: `${prefix}.contactEmail`, message: `"${value.contactEmail}" is not a valid email address` });
  }
  return out;
}

/** The document with a patch applied (custom fields merge per fieldset). */
export function applyPatch(doc: MetadataDocument, patch: MetadataPatch): MetadataDocument {
  const out: MetadataDocument = JSON.parse(JSON.stringify(doc)) as MetadataDocument;
  if (patch.name !== undefined) out.name = patch.name;
  if (patch.description !== undefined) out.description = patch.description;
  if (patch.category !== undefined) out.category = patch.category;
  if (patch.tags !== undefined) out.tags = [...patch.tags];
  if (patch.license) out.license = { ...out.license, ...patch.license };
  if (patch.contactEmail !== undefined) out.contactEmail = patch.contactEmail;
  if (patch.customFields) {
    for (const [set, fields] of Object.entries(patch.customFields)) out.customFields[set] = { ...(out.customFields[set] ?? {}), ...fields };
  }
  return out;
}

/** A patch in the view's key names, for the `metadata` of a revision that also changes rows. */
export function patchBody(patch: MetadataPatch): Record<string, unknown> {
  const body: Record<string, unknown> = {};
  if (patch.name !== undefined) body.name = patch.name;
  if (patch.description !== undefined) body.description = patch.description;
  if (patch.category !== undefined) body.category = patch.category;
  if (patch.tags !== undefined) body.tags = patch.tags;
  if (patch.license?.id !== undefined) body.licenseId = patch.license.id;
  if (patch.license?.attribution !== undefined) body.attribution = patch.license.attribution;
  if (patch.license?.attributionLink !== undefined) body.attributionLink = patch.license.attributionLink;
  if (patch.contactEmail !== undefined) body.privateMetadata = { contactEmail: patch.contactEmail };
  if (patch.customFields) body.metadata = { custom_fields: patch.customFields };
  return body;
}
