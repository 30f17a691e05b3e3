/**
 * Dataset metadata of the emulator beyond the store's basics: the domain's category and licence lists and its
 * custom metadata fieldsets (the sample domain's are seeded here), the view keys `licenseId`, `license`,
 * `attributionLink`, `privateMetadata.contactEmail`, `metadata.custom_fields`, and the platform's validation of a
 * metadata change, shared by `PUT /api/views/{4x4}` and DSMAPI metadata revisions. A change is validated whole
 * before anything is applied, then applied in one synchronous run of store calls.
 */
import type { EmulatorContext } from './context';
import { coreError } from './errors';
import type { Dataset, EmulatorStore } from './store';

export interface LicenseDef {
  id: string;
  name: string;
  termsLink: string | null;
  /** The platform asks for an attribution with these licences. */
  attributionRequired: boolean;
}

export interface FieldsetDef {
  name: string;
  fields: { name: string; options?: readonly string[]; required?: boolean }[];
}

/** The sample domain's lists (licence ids as Socrata's own clients list them). */
export const DOMAIN_METADATA: { categories: readonly string[]; licenses: readonly LicenseDef[]; fieldsets: readonly FieldsetDef[] } = {
  categories: ['Business', 'Education', 'Environment', 'Finance', 'Health', 'Permitting', 'Public Safety', 'Recreation', 'Transportation'],
  licenses: [
    { id: 'PUBLIC_DOMAIN', name: 'Public Domain', termsLink: null, attributionRequired: false },
    {
      id: 'CC0_10',
      name: 'Creative Commons 1.0 Universal (Public Domain Dedication)',
      termsLink: 'https://creativecommons.org/publicdomain/zero/1.0/legalcode',
      attributionRequired: false,
    },
    {
      id: 'CC_30_BY',
      name: 'Creative Commons Attribution 3.0 Unported',
      termsLink: 'https://creativecommons.org/licenses/by/3.0/legalcode',
      attributionRequired: true,
    },
    {
      id: 'CC_30_BY_SA',
      name: 'Creative Commons Attribution | Share Alike 3.0 Unported',
      termsLink: 'https://creativecommons.org/licenses/by-sa/3.0/legalcode',
      attributionRequired: true,
    },
    { id: 'ODC_BY_10', name: 'Open Data Commons Attribution License', termsLink: 'https://opendatacommons.org/licenses/by/1-0/', attributionRequired: true },
    { id: 'OPEN_DATABASE_LICENSE', name: 'Open Database License', termsLink: 'https://opendatacommons.org/licenses/odbl/1-0/', attributionRequired: true },
  ],
  fieldsets: [
    {
      name: 'Publication Metadata',
      fields: [{ name: 'Update Frequency', options: ['Daily', 'Weekly', 'Monthly', 'Quarterly', 'Annually', 'As needed'] }, { name: 'Department' }],
    },
    { name: 'Data Quality', fields: [{ name: 'Known Issues' }, { name: 'Collection Method', options: ['Survey', 'Sensor', 'Administrative records'] }] },
  ],
};

/** Longest dataset or column name the emulator accepts. */
export const MAX_NAME_LENGTH = 255;
/** Longest field name. */
export const MAX_FIELD_NAME_LENGTH = 63;
const FIELD_NAME = /^[a-z_][a-z0-9_]*$/;
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

/** Keys the store keeps in the dataset's free-form flags under `metadata`. */
export interface ExtraMetadata {
  licenseId: string | null;
  attributionLink: string | null;
  contactEmail: string | null;
  customFields: Record<string, Record<string, string>>;
}

export function extraOf(ds: Dataset): ExtraMetadata {
  const m = (ds.flags.metadata ?? {}) as Partial<ExtraMetadata>;
  return {
    licenseId: m.licenseId ?? null,
    attributionLink: m.attributionLink ?? null,
    contactEmail: m.contactEmail ?? null,
    customFields: m.customFields ?? {},
  };
}

/** A validated change; absent keys stay as they are. */
export interface MetadataChange {
  name?: string;
  description?: string;
  category?: string | null;
  tags?: string[];
  attribution?: string | null;
  licenseId?: string | null;
  attributionLink?: string | null;
  contactEmail?: string | null;
  /** Fieldset → field → value (null clears the field; a null fieldset clears the set). */
  customFields?: Record<string, Record<string, string | null> | null> | null;
  /** Column id, or undefined to leave; null clears. */
  rowIdentifier?: number | null;
  isPublic?: boolean;
  columns?: { id: number; name?: string; description?: string; fieldName?: string }[];
}

/** A refused change: the field (a dotted path) and why. */
export class MetadataInvalid extends Error {
  constructor(
    readonly field: string,
    message: string,
    readonly value: unknown,
  ) {
    super(message);
    this.name = 'MetadataInvalid';
  }
}

const fail = (field: string, message: string, value: unknown): never => {
  throw new MetadataInvalid(field, message, value);
};

function obj(v: unknown, field: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) fail(field, `${field} must be an object`, v);
  return v as Record<string, unknown>;
}

function optString(b: Record<string, unknown>, key: string, field: string, nullable: true): string | null | undefined;
function optString(b: Record<string, unknown>, key: string, field: string, nullable: false): string | undefined;
function optString(b: Record<string, unknown>, key: string, field: string, nullable: boolean): string | null | undefined {
  const v = b[key];
  if (v === undefined) return undefined;
  if (v === null && nullable) return null;
  if (typeof v !== 'string') return fail(field, `${field} must be a string${nullable ? ' or null' : ''}`, v);
  return v;
}

/**
 * Reads a metadata body in the view's key names (the same in `PUT /api/views/{4x4}` and in a DSMAPI revision's
 * `metadata`) and validates it against the dataset and the domain's lists. `columns` (view PUT only) is a list of
 * `{id, name, description, fieldName}`.
 */
export function parseChange(body: unknown, ds: Dataset, opts: { allowColumns: boolean; prefix?: string }): MetadataChange {
  const p = opts.prefix ?? '';
  const b = obj(body, p === '' ? 'the body' : p.replace(/\.$/, ''));
  const out: MetadataChange = {};
  const name = optString(b, 'name', `${p}name`, false);
  if (name !== undefined) {
    if (name.trim() === '') fail(`${p}name`, 'name must not be empty', name);
    if (name.length > MAX_NAME_LENGTH) fail(`${p}name`, `name is ${name.length} characters long; at most ${MAX_NAME_LENGTH} are allowed`, name.length);
    out.name = name;
  }
  const description = optString(b, 'description', `${p}description`, true);
  if (description !== undefined) out.description = description ?? '';
  const category = optString(b, 'category', `${p}category`, true);
  if (category !== undefined) {
    if (category !== null && category !== '' && !DOMAIN_METADATA.categories.includes(category)) {
      fail(`${p}category`, `Unknown category "${category}"; this domain's categories are: ${DOMAIN_METADATA.categories.join(', ')}`, category);
    }
    out.category = category === '' ? null : category;
  }
  if (b.tags !== undefined && b.tags !== null) {
    if (!Array.isArray(b.tags) || b.tags.some((t) => typeof t !== 'string')) fail(`${p}tags`, 'tags must be a list of strings', b.tags);
    const tags = b.tags as string[];
    const empty = tags.findIndex((t) => t.trim() === '');
    if (empty >= 0) fail(`${p}tags[${empty}]`, 'a tag must not be empty', '');
    out.tags = tags.map((t) => t.trim());
  } else if (b.tags === null) out.tags = [];
  const attribution = optString(b, 'attribution', `${p}attribution`, true);
  if (attribution !== undefined) out.attribution = attribution === '' ? null : attribution;
  const licenseId = optString(b, 'licenseId', `${p}licenseId`, true);
  if (licenseId !== undefined) {
    if (licenseId !== null && licenseId !== '' && !DOMAIN_METADATA.licenses.some((l) => l.id === licenseId)) {
      fail(`${p}licenseId`, `Invalid license "${licenseId}"; valid ids: ${DOMAIN_METADATA.licenses.map((l) => l.id).join(', ')}`, licenseId);
    }
    out.licenseId = licenseId === '' ? null : licenseId;
  }
  const link = optString(b, 'attributionLink', `${p}attributionLink`, true);
  if (link !== undefined) {
    if (link !== null && link !== '' && !isHttpUrl(link)) fail(`${p}attributionLink`, `attributionLink "${link}" is not an http(s) URL`, link);
    out.attributionLink = link === '' ? null : link;
  }
  if (b.privateMetadata !== undefined && b.privateMetadata !== null) {
    const pm = obj(b.privateMetadata, `${p}privateMetadata`);
    const email = optString(pm, 'contactEmail', `${p}privateMetadata.contactEmail`, true);
    if (email !== undefined) {
      if (email !== null && email !== '' && !EMAIL.test(email)) fail(`${p}privateMetadata.contactEmail`, `"${email}" is not a valid email address`, email);
      out.contactEmail = email === '' ? null : email;
    }
  }
  if (b.metadata !== undefined && b.metadata !== null) {
    const md = obj(b.metadata, `${p}metadata`);
    if (md.custom_fields !== undefined) out.customFields = parseCustomFields(md.custom_fields, `${p}metadata.custom_fields`);
    if ('rowIdentifier' in md) {
      const ri = md.rowIdentifier;
      if (ri === null || ri === undefined || ri === '') out.rowIdentifier = null;
      else {
        const col = typeof ri === 'number' ? ds.columns.find((c) => c.id === ri) : ds.columns.find((c) => c.fieldName === ri || String(c.id) === ri);
        if (!col) fail(`${p}metadata.rowIdentifier`, `Row identifier ${JSON.stringify(ri)} is not a column of ${ds.id}`, ri);
        else out.rowIdentifier = col.id;
      }
    }
  }
  if (b.columns !== undefined) {
    if (!opts.allowColumns) fail(`${p}columns`, 'columns cannot be changed here', b.columns);
    out.columns = parseColumns(b.columns, ds);
  }
  const lic = DOMAIN_METADATA.licenses.find((l) => l.id === (out.licenseId !== undefined ? out.licenseId : extraOf(ds).licenseId));
  const finalAttribution = out.attribution !== undefined ? out.attribution : ds.attribution;
  if (lic?.attributionRequired && (finalAttribution === null || finalAttribution.trim() === '')) {
    fail(`${p}attribution`, `The license ${lic.id} requires an attribution`, finalAttribution);
  }
  return out;
}

function parseCustomFields(v: unknown, field: string): MetadataChange['customFields'] {
  if (v === null) return null;
  const sets = obj(v, field);
  const out: Record<string, Record<string, string | null> | null> = {};
  for (const [setName, setValue] of Object.entries(sets)) {
    const def = DOMAIN_METADATA.fieldsets.find((f) => f.name === setName);
    if (!def) {
      fail(
        `${field}.${setName}`,
        `Unknown custom metadata fieldset "${setName}"; this domain has: ${DOMAIN_METADATA.fieldsets.map((f) => f.name).join(', ')}`,
        setName,
      );
    }
    if (setValue === null) {
      out[setName] = null;
      continue;
    }
    const fields = obj(setValue, `${field}.${setName}`);
    const set: Record<string, string | null> = {};
    for (const [k, fv] of Object.entries(fields)) {
      const fdef = def?.fields.find((f) => f.name === k);
      if (!fdef) fail(`${field}.${setName}.${k}`, `Unknown field "${k}" in fieldset "${setName}"`, k);
      if (fv !== null && typeof fv !== 'string') fail(`${field}.${setName}.${k}`, `${setName} / ${k} must be a string or null`, fv);
      if (typeof fv === 'string' && fv !== '' && fdef?.options && !fdef.options.includes(fv)) {
        fail(`${field}.${setName}.${k}`, `"${fv}" is not an option of ${setName} / ${k} (${fdef.options.join(', ')})`, fv);
      }
      set[k] = fv === '' ? null : (fv as string | null);
    }
    out[setName] = set;
  }
  return out;
}

function parseColumns(v: unknown, ds: Dataset): NonNullable<MetadataChange['columns']> {
  if (!Array.isArray(v)) return fail('columns', 'columns must be a list', v);
  const out: NonNullable<MetadataChange['columns']> = [];
  const seen = new Set<number>();
  for (const [i, raw] of v.entries()) {
    const c = obj(raw, `columns[${i}]`);
    const id = c.id;
    const col = typeof id === 'number' ? ds.columns.find((x) => x.id === id) : undefined;
    if (!col) fail(`columns[${i}].id`, `Column id ${JSON.stringify(id)} is not a column of ${ds.id}`, id);
    if (seen.has(id as number)) fail(`columns[${i}].id`, `Column ${String(id)} is listed twice`, id);
    seen.add(id as number);
    const ch: NonNullable<MetadataChange['columns']>[number] = { id: id as number };
    const name = optString(c, 'name', `columns[${i}].name`, false);
    if (name !== undefined) {
      if (name.trim() === '') fail(`columns[${i}].name`, 'a column name must not be empty', name);
      if (name.length > MAX_NAME_LENGTH) {
        fail(`columns[${i}].name`, `column name is ${name.length} characters long; at most ${MAX_NAME_LENGTH} are allowed`, name.length);
      }
      ch.name = name;
    }
    const description = optString(c, 'description', `columns[${i}].description`, true);
    if (description !== undefined) ch.description = description ?? '';
    const fieldName = optString(c, 'fieldName', `columns[${i}].fieldName`, false);
    if (fieldName !== undefined) {
      if (!FIELD_NAME.test(fieldName) || fieldName.length > MAX_FIELD_NAME_LENGTH) {
        fail(
          `columns[${i}].fieldName`,
          `Invalid field name "${fieldName}": lower-case letters, digits and _ only, not starting with a digit, at most ${MAX_FIELD_NAME_LENGTH} characters`,
          fieldName,
        );
      }
      ch.fieldName = fieldName;
    }
    out.push(ch);
  }
  // Duplicates are judged on the resulting set of field names.
  const finalNames = new Map<string, number>();
  for (const col of ds.columns) {
    const fieldName = out.find((c) => c.id === col.id)?.fieldName ?? col.fieldName;
    const other = finalNames.get(fieldName);
    if (other !== undefined) {
      const idx = out.findIndex((c) => c.id === col.id && c.fieldName !== undefined);
      const at = idx >= 0 ? idx : out.findIndex((c) => c.id === other);
      fail(`columns[${Math.max(0, at)}].fieldName`, `Duplicate field name "${fieldName}"`, fieldName);
    }
    finalNames.set(fieldName, col.id);
  }
  return out;
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return u.protocol === 'http:' || u.protocol === 'https:';
  } catch {
    return false;
  }
}

/**
 * Applies a validated change. The row identifier goes first (it is the only step the store can still refuse, when
 * the column's values are not unique): a refusal leaves everything as it was.
 */
export function applyChange(store: EmulatorStore, ds: Dataset, ch: MetadataChange): void {
  if (ch.rowIdentifier !== undefined) {
    const col = ch.rowIdentifier === null ? undefined : ds.columns.find((c) => c.id === ch.rowIdentifier);
    if (col?.fieldName !== ds.rowIdentifier) store.setRowIdentifier(ds.id, col?.fieldName);
  }
  if (ch.columns && ch.columns.length) store.updateColumns(ds.id, ch.columns);
  const patch: Parameters<EmulatorStore['updateDataset']>[1] = {};
  if (ch.name !== undefined) patch.name = ch.name;
  if (ch.description !== undefined) patch.description = ch.description;
  if (ch.category !== undefined) patch.category = ch.category;
  if (ch.tags !== undefined) patch.tags = ch.tags;
  if (ch.attribution !== undefined) patch.attribution = ch.attribution;
  if (ch.isPublic !== undefined) patch.isPublic = ch.isPublic;
  const extra = extraOf(ds);
  let extraChanged = false;
  if (ch.licenseId !== undefined) [extra.licenseId, extraChanged] = [ch.licenseId, true];
  if (ch.attributionLink !== undefined) [extra.attributionLink, extraChanged] = [ch.attributionLink, true];
  if (ch.contactEmail !== undefined) [extra.contactEmail, extraChanged] = [ch.contactEmail, true];
  if (ch.customFields !== undefined) {
    extraChanged = true;
    if (ch.customFields === null) extra.customFields = {};
    else {
      for (const [set, fields] of Object.entries(ch.customFields)) {
        if (fields === null) {
          delete extra.customFields[set];
          continue;
        }
        const cur = { ...(extra.customFields[set] ?? {}) };
        for (const [k, v] of Object.entries(fields)) {
          if (v === null) delete cur[k];
          else cur[k] = v;
        }
        if (Object.keys(cur).length) extra.customFields[set] = cur;
        else delete extra.customFields[set];
      }
    }
  }
  if (extraChanged) store.setDatasetFlag(ds.id, 'metadata', extra);
  if (Object.keys(patch).length || extraChanged) store.updateDataset(ds.id, patch);
}

/** Adds the licence, attribution link, contact email (owner and administrators only) and custom fields to a view. */
export function decorateView(ds: Dataset, view: Record<string, unknown>, canWrite: boolean): void {
  const extra = extraOf(ds);
  const lic = DOMAIN_METADATA.licenses.find((l) => l.id === extra.licenseId);
  view.licenseId = extra.licenseId;
  if (lic) view.license = { name: lic.name, ...(lic.termsLink ? { termsLink: lic.termsLink } : {}) };
  view.attributionLink = extra.attributionLink;
  const md = (view.metadata ?? {}) as Record<string, unknown>;
  md.custom_fields = extra.customFields;
  view.metadata = md;
  if (canWrite) view.privateMetadata = extra.contactEmail ? { contactEmail: extra.contactEmail } : {};
}

/**
 * Domain-level lists: `GET /api/catalog/v1/domain_categories` (Discovery API), `GET /api/licenses.json` and
 * `GET /api/configurations.json?type=metadata` (the custom fieldsets). Returns false for other paths.
 */
export function handleDomainMetadata(ctx: EmulatorContext): boolean {
  const p = ctx.url.pathname;
  const get = ctx.method === 'GET' || ctx.method === 'HEAD';
  if (p === '/api/catalog/v1/domain_categories') {
    if (!get) throw coreError(405, 'method_not_allowed', `Method ${ctx.method} is not allowed here`);
    const counts = new Map<string, number>();
    for (const ds of ctx.store.listDatasets()) if (ds.isPublic && ds.category) counts.set(ds.category, (counts.get(ds.category) ?? 0) + 1);
    ctx.sendJson(200, { results: DOMAIN_METADATA.categories.map((c) => ({ domain_category: c, count: counts.get(c) ?? 0 })) });
    return true;
  }
  if (p === '/api/licenses' || p === '/api/licenses.json') {
    if (!get) throw coreError(405, 'method_not_allowed', `Method ${ctx.method} is not allowed here`);
    ctx.sendJson(
      200,
      DOMAIN_METADATA.licenses.map((l) => ({ id: l.id, name: l.name, termsLink: l.termsLink, attributionRequired: l.attributionRequired })),
    );
    return true;
  }
  if (p === '/api/configurations' || p === '/api/configurations.json') {
    if (!get) throw coreError(405, 'method_not_allowed', `Method ${ctx.method} is not allowed here`);
    const type = ctx.url.searchParams.get('type');
    const configs =
      type === null || type === 'metadata'
        ? [
            {
              id: 1,
              name: 'Metadata',
              type: 'metadata',
              default: true,
              domainCName: ctx.domain,
              properties: [{ name: 'fieldsets', value: DOMAIN_METADATA.fieldsets }],
            },
          ]
        : [];
    ctx.sendJson(200, configs);
    return true;
  }
  return false;
}
