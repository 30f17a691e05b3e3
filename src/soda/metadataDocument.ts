// Dataset metadata as one editable document (name, description, category, tags, licence, contact email, custom
// fields, row identifier, permission, and per column display name, description and field name): read from a view,
// written as JSON text, parsed and validated (every problem names the field). Plain Node: never imports vscode.
import type { Permission } from './revisions';

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
export const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const TOP_KEYS = ['$schema', 'name', 'description', 'category', 'tags', 'license', 'contactEmail', 'customFields', 'rowIdentifier', 'permission', 'columns'];

// ------------------------------------------------------------------------------------------ from the server

const str = (v: unknown): string | null => (typeof v === 'string' && v !== '' ? v : null);
export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

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
