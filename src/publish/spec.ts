// The publish spec (`socrata.publish.json` / `*.socrata.json`): what to publish where, without secrets.
// JSON Schema: schemas/publish-spec.schema.json (kept in step with `parseSpec`, a unit test checks both agree).
// Credentials never go in a spec: keys that look like secrets are refused, naming the key.
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { columnTypeOf } from '../csv';
import { isValid4x4, parseDomain } from '../soda';
import { patchProblems, type MetadataPatch } from '../soda/metadata';
import { PublishError } from './errors';
import { PUBLISH_MODES, type NewDatasetMetadata, type PublishMode, type PublishRequest } from './types';

export interface PublishSpec {
  $schema?: string;
  domain: string;
  /** A 4x4, or `new` (then `new` holds the metadata). */
  dataset: string;
  new?: NewDatasetMetadata;
  /** Path of the CSV, relative to the spec file. */
  csv: string;
  mode: PublishMode;
  mapping?: Record<string, string | null>;
  types?: Record<string, string>;
  rowIdentifier?: string;
  batchSize?: number;
  concurrency?: number;
  skipBadRows?: boolean;
  route?: 'auto' | 'revision';
  /** Dataset metadata set with the publish (a partial metadata document). */
  metadata?: MetadataPatch;
}

export interface LoadedSpec {
  spec: PublishSpec;
  /** The request, with the CSV path resolved against the spec's directory. */
  request: PublishRequest;
  domain: string;
  specDir: string;
}

const KNOWN = new Set([
  '$schema',
  'domain',
  'dataset',
  'new',
  'csv',
  'mode',
  'mapping',
  'types',
  'rowIdentifier',
  'batchSize',
  'concurrency',
  'skipBadRows',
  'route',
  'metadata',
]);
const NEW_KEYS = new Set(['name', 'description', 'category', 'tags', 'permission']);
const SECRET_KEY = /(secret|passw(or)?d|pwd|token|api[_-]?key|key[_-]?id|credential|authori[sz]ation|^auth$|cookie|private[_-]?key)/i;

function fail(where: string, field: string, message: string): never {
  throw new PublishError('invalid-input', `${where}: ${field}: ${message}`, field);
}

function findSecrets(value: unknown, path: string, where: string): void {
  if (typeof value !== 'object' || value === null) return;
  for (const [k, v] of Object.entries(value)) {
    const p = path ? `${path}.${k}` : k;
    // Mapping and type keys are CSV headers and field names, not settings.
    if (path === 'mapping' || path === 'types') continue;
    if (SECRET_KEY.test(k)) {
      fail(
        where,
        p,
        'looks like a secret. A spec must never hold credentials: set SOCRATA_KEY_ID / SOCRATA_KEY_SECRET (or SOCRATA_USERNAME / SOCRATA_PASSWORD, SOCRATA_OAUTH_TOKEN, SOCRATA_APP_TOKEN) in the environment, or sign in from the editor, and remove this key.',
      );
    }
    findSecrets(v, p, where);
  }
}

/** Validates a parsed spec object; `where` names the file in messages. */
export function parseSpec(value: unknown, where = 'socrata.publish.json'): PublishSpec {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(where, '(root)', 'must be a JSON object');
  const o = value as Record<string, unknown>;
  findSecrets(o, '', where);
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) fail(where, k, `unknown setting (known: ${[...KNOWN].filter((x) => x !== '$schema').join(', ')})`);
  const str = (k: string, required: boolean): string | undefined => {
    const v = o[k];
    if (v === undefined) {
      if (required) fail(where, k, 'is required');
      return undefined;
    }
    if (typeof v !== 'string' || v.trim() === '') fail(where, k, 'must be a non-empty string');
    return v;
  };
  const domain = str('domain', true) as string;
  try {
    parseDomain(domain);
  } catch (e) {
    fail(where, 'domain', (e as Error).message);
  }
  const dataset = str('dataset', true) as string;
  if (dataset !== 'new' && !isValid4x4(dataset)) fail(where, 'dataset', `must be a 4x4 id such as "abcd-1234", or "new" (got ${JSON.stringify(dataset)})`);
  const csv = str('csv', true) as string;
  const mode = o.mode;
  if (typeof mode !== 'string' || !(PUBLISH_MODES as readonly string[]).includes(mode)) {
    fail(where, 'mode', `must be one of ${PUBLISH_MODES.join(', ')}${mode === undefined ? '' : ` (got ${JSON.stringify(mode)})`}`);
  }
  if ((dataset === 'new') !== (mode === 'create')) {
    fail(where, 'mode', dataset === 'new' ? 'a "new" dataset needs mode create' : 'mode create needs "dataset": "new"');
  }
  const spec: PublishSpec = { domain, dataset, csv, mode: mode as PublishMode };
  if (typeof o.$schema === 'string') spec.$schema = o.$schema;
  if (o.new !== undefined) {
    const n = o.new;
    if (typeof n !== 'object' || n === null || Array.isArray(n)) fail(where, 'new', 'must be an object with name, description, category, tags, permission');
    const nn = n as Record<string, unknown>;
    for (const k of Object.keys(nn)) if (!NEW_KEYS.has(k)) fail(where, `new.${k}`, `unknown setting (known: ${[...NEW_KEYS].join(', ')})`);
    if (typeof nn.name !== 'string' || nn.name.trim() === '') fail(where, 'new.name', 'is required: the name of the new dataset');
    for (const k of ['description', 'category'] as const) if (nn[k] !== undefined && typeof nn[k] !== 'string') fail(where, `new.${k}`, 'must be a string');
    if (nn.tags !== undefined && (!Array.isArray(nn.tags) || !nn.tags.every((t) => typeof t === 'string'))) {
      fail(where, 'new.tags', 'must be a list of strings');
    }
    if (nn.permission !== undefined && nn.permission !== 'public' && nn.permission !== 'private') {
      fail(where, 'new.permission', 'must be one of public, private');
    }
    spec.new = nn as unknown as NewDatasetMetadata;
  } else if (dataset === 'new') fail(where, 'new', 'is required when dataset is "new" (at least { "name": … })');
  if (o.mapping !== undefined) {
    if (typeof o.mapping !== 'object' || o.mapping === null || Array.isArray(o.mapping)) {
      fail(where, 'mapping', 'must be an object of CSV header → field name (or null to ignore the column)');
    }
    for (const [k, v] of Object.entries(o.mapping)) {
      if (v !== null && (typeof v !== 'string' || !/^[A-Za-z0-9_:@]+$/.test(v))) {
        fail(where, `mapping.${k}`, 'must be a field name (letters, digits, "_") or null to ignore the column');
      }
    }
    spec.mapping = o.mapping as Record<string, string | null>;
  }
  if (o.types !== undefined) {
    if (typeof o.types !== 'object' || o.types === null || Array.isArray(o.types)) fail(where, 'types', 'must be an object of field name → type');
    for (const [k, v] of Object.entries(o.types)) {
      if (typeof v !== 'string' || columnTypeOf(v) === 'unsupported') {
        fail(
          where,
          `types.${k}`,
          `must be a type such as text, number, checkbox, calendar_date, floating_timestamp, date, point, url (got ${JSON.stringify(v)})`,
        );
      }
    }
    spec.types = o.types as Record<string, string>;
  }
  if (o.rowIdentifier !== undefined) spec.rowIdentifier = str('rowIdentifier', false);
  const int = (k: 'batchSize' | 'concurrency', min: number, max: number): void => {
    const v = o[k];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) fail(where, k, `must be a whole number from ${min} to ${max}`);
    spec[k] = v;
  };
  int('batchSize', 1, 100_000);
  int('concurrency', 1, 8);
  if (o.skipBadRows !== undefined) {
    if (typeof o.skipBadRows !== 'boolean') fail(where, 'skipBadRows', 'must be true or false');
    spec.skipBadRows = o.skipBadRows;
  }
  if (o.route !== undefined) {
    if (o.route !== 'auto' && o.route !== 'revision') fail(where, 'route', 'must be one of auto, revision');
    spec.route = o.route;
  }
  if (o.metadata !== undefined) {
    const problem = patchProblems(o.metadata)[0];
    if (problem) fail(where, problem.field, problem.message);
    spec.metadata = o.metadata as MetadataPatch;
  }
  return spec;
}

/** The publish request a spec describes; relative CSV paths are resolved against `specDir`. */
export function requestFromSpec(spec: PublishSpec, specDir: string): PublishRequest {
  const req: PublishRequest = { file: isAbsolute(spec.csv) ? spec.csv : resolve(specDir, spec.csv), mode: spec.mode };
  if (spec.dataset !== 'new') req.dataset = spec.dataset;
  if (spec.new) req.newDataset = spec.new;
  if (spec.mapping) req.mapping = spec.mapping;
  if (spec.types) req.types = Object.fromEntries(Object.entries(spec.types).map(([k, v]) => [k, columnTypeOf(v)]));
  if (spec.rowIdentifier) req.rowIdentifier = spec.rowIdentifier;
  if (spec.batchSize !== undefined) req.batchSize = spec.batchSize;
  if (spec.concurrency !== undefined) req.concurrency = spec.concurrency;
  if (spec.skipBadRows !== undefined) req.skipBadRows = spec.skipBadRows;
  if (spec.route !== undefined) req.route = spec.route;
  if (spec.metadata !== undefined) req.metadata = spec.metadata;
  return req;
}

/** Reads and validates a spec file. Errors name the file and the field. */
export async function loadSpec(path: string): Promise<LoadedSpec> {
  const full = resolve(path);
  let text: string;
  try {
    text = await readFile(full, 'utf8');
  } catch (e) {
    throw new PublishError('invalid-input', `${full}: cannot read the spec (${(e as NodeJS.ErrnoException).code ?? String(e)}).`, 'spec');
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new PublishError('invalid-input', `${full}: not valid JSON (${(e as Error).message}).`, 'spec');
  }
  const spec = parseSpec(value, full);
  const specDir = dirname(full);
  return { spec, request: requestFromSpec(spec, specDir), domain: spec.domain, specDir };
}
