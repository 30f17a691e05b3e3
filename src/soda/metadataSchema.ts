// JSON Schema of the metadata document (and of the publish spec's `metadata` patch). With a portal's lists, the
// categories, licence ids and custom fieldsets become enums and known properties; without them anything of the
// right type is accepted. schemas/metadata.schema.json is this schema without lists (a unit test keeps them equal).
import type { DomainMetadataLists } from './metadataDocument';
import { MAX_FIELD_NAME_LENGTH, MAX_NAME_LENGTH } from './metadataDocument';

type Schema = Record<string, unknown>;

const nullableString = (extra: Schema = {}): Schema => ({ type: ['string', 'null'], ...extra });

function licenseSchema(lists: DomainMetadataLists): Schema {
  const ids = lists.licenses?.map((l) => l.id);
  return {
    type: 'object',
    description: 'Licence: its id on this portal, the attribution (who to credit) and the attribution link.',
    additionalProperties: false,
    properties: {
      id: ids
        ? {
            enum: [...ids, null],
            description: 'Licence id.',
            markdownEnumDescriptions: [
              ...(lists.licenses ?? []).map((l) => `${l.name}${l.attributionRequired ? ' (requires an attribution)' : ''}`),
              'No licence',
            ],
          }
        : nullableString({ description: 'Licence id, e.g. PUBLIC_DOMAIN, CC0_10, CC_30_BY.' }),
      attribution: nullableString({ description: 'Who to credit (required by some licences).' }),
      attributionLink: nullableString({ description: 'http(s) link of the source.', pattern: '^https?://' }),
    },
  };
}

function customFieldsSchema(lists: DomainMetadataLists): Schema {
  if (!lists.fieldsets) {
    return {
      type: 'object',
      description: "The portal's custom metadata: fieldset → field → value.",
      additionalProperties: { type: 'object', additionalProperties: { type: 'string' } },
    };
  }
  return {
    type: 'object',
    description: "The portal's custom metadata: fieldset → field → value.",
    additionalProperties: false,
    properties: Object.fromEntries(
      lists.fieldsets.map((f) => [
        f.name,
        {
          type: 'object',
          additionalProperties: false,
          properties: Object.fromEntries(f.fields.map((fd) => [fd.name, fd.options ? { enum: [...fd.options, ''] } : { type: 'string' }])),
        },
      ]),
    ),
  };
}

function categorySchema(lists: DomainMetadataLists): Schema {
  return lists.categories
    ? { enum: [...lists.categories, null], description: "One of the portal's categories, or null." }
    : nullableString({ description: "One of the portal's categories, or null." });
}

/** The schema of the whole document. */
export function metadataJsonSchema(lists: DomainMetadataLists = {}, id = 'https://opendata-tools.github.io/socrata-publisher/metadata.schema.json'): Schema {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    $id: id,
    title: 'Socrata dataset metadata',
    description: 'What describes a dataset: saved as one change. Risky changes (field names, the row identifier, the permission) are confirmed first.',
    type: 'object',
    additionalProperties: false,
    required: ['name', 'description', 'category', 'tags', 'license', 'contactEmail', 'customFields', 'rowIdentifier', 'permission', 'columns'],
    properties: {
      $schema: { type: 'string' },
      name: { type: 'string', minLength: 1, maxLength: MAX_NAME_LENGTH, description: 'The dataset title.' },
      description: { type: 'string' },
      category: categorySchema(lists),
      tags: { type: 'array', items: { type: 'string', minLength: 1 } },
      license: licenseSchema(lists),
      contactEmail: nullableString({ description: 'Contact email (private metadata: visible to editors only).', pattern: '^[^\\s@]+@[^\\s@]+\\.[^\\s@]+$' }),
      customFields: customFieldsSchema(lists),
      rowIdentifier: nullableString({ description: 'Field name of the row identifier column (upserts match rows by it), or null.' }),
      permission: { enum: ['public', 'private'], description: 'public: everyone can see the dataset; private: only you and people it is shared with.' },
      columns: {
        type: 'array',
        description: 'One entry per column; keep each id (it says which column you change).',
        items: {
          type: 'object',
          additionalProperties: false,
          required: ['id', 'fieldName', 'displayName', 'description'],
          properties: {
            id: { type: 'integer', description: 'Column id (read-only).' },
            fieldName: {
              type: 'string',
              pattern: '^[a-z_][a-z0-9_]*$',
              maxLength: MAX_FIELD_NAME_LENGTH,
              description: 'API field name. Changing it breaks /resource URLs and SoQL that use the old name.',
            },
            displayName: { type: 'string', minLength: 1, maxLength: MAX_NAME_LENGTH },
            description: { type: 'string' },
          },
        },
      },
    },
  };
}

/** The schema of a partial document (the publish spec's `metadata`, `metadata set` with some keys). */
export function metadataPatchJsonSchema(lists: DomainMetadataLists = {}): Schema {
  const full = metadataJsonSchema(lists).properties as Record<string, Schema>;
  return {
    type: 'object',
    description: 'Dataset metadata to set with the publish (inside the same revision on the revision route).',
    additionalProperties: false,
    properties: {
      name: full.name,
      description: full.description,
      category: full.category,
      tags: full.tags,
      license: full.license,
      contactEmail: full.contactEmail,
      customFields: full.customFields,
    },
  };
}
