// What changed between two metadata documents (each change named by its document path, the risky ones explained),
// and the request bodies that carry the changes (`PUT /api/views` and a revision's `metadata`).
import { isObj, type MetadataDocument } from './metadataDocument';

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
