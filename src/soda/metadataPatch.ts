// Partial metadata documents: the dataset-level keys a publish spec (or a partial `metadata set` file) may change,
// their shape check, and how they apply to a document or to a revision's request body.
import { EMAIL, isObj, type MetadataDocument, type MetadataProblem } from './metadataDocument';

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
