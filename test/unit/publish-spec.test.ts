// The publish spec loader (src/publish/spec.ts) and its JSON Schema (schemas/publish-spec.schema.json).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { loadSpec, parseSpec, PUBLISH_MODES, PublishError } from '../../src/publish';

const schema = JSON.parse(readFileSync(join(__dirname, '..', '..', 'schemas', 'publish-spec.schema.json'), 'utf8')) as {
  required: string[];
  properties: Record<string, { enum?: string[]; properties?: Record<string, unknown>; additionalProperties?: unknown }>;
};
const base = { domain: 'data.example.gov', dataset: 'abcd-1234', csv: 'data.csv', mode: 'upsert' };

describe('publish spec', () => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'publish-spec-'));
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('accepts a full spec and resolves the CSV against the spec directory', async () => {
    const p = join(dir, 'socrata.publish.json');
    writeFileSync(
      p,
      JSON.stringify({
        ...base,
        mapping: { 'Permit #': 'permit_id', Notes: null },
        types: { valuation: 'money' },
        rowIdentifier: 'permit_id',
        batchSize: 5000,
        concurrency: 2,
        skipBadRows: true,
        route: 'revision',
      }),
    );
    const loaded = await loadSpec(p);
    assert.equal(loaded.request.file, join(dir, 'data.csv'));
    assert.equal(loaded.request.dataset, 'abcd-1234');
    assert.deepEqual(loaded.request.mapping, { 'Permit #': 'permit_id', Notes: null });
    assert.deepEqual(loaded.request.types, { valuation: 'number' });
    assert.equal(loaded.request.batchSize, 5000);
    assert.equal(loaded.domain, 'data.example.gov');
  });

  it('names the field in every error', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ ...base, mode: 'merge' }, /x\.json: mode: must be one of upsert, append, replace, delete, create, sync \(got "merge"\)/],
      [{ ...base, dataset: 'ABCD' }, /dataset: must be a 4x4 id/],
      [{ ...base, domain: 'http://evil.example.com' }, /domain: .*plain http/],
      [{ ...base, csv: undefined }, /csv: is required/],
      [{ ...base, batchSize: 0 }, /batchSize: must be a whole number from 1 to 100000/],
      [{ ...base, concurrency: 9 }, /concurrency: must be a whole number from 1 to 8/],
      [{ ...base, mapping: { a: 'bad name' } }, /mapping\.a: must be a field name/],
      [{ ...base, types: { a: 'blob' } }, /types\.a: must be a type/],
      [{ ...base, colour: 'red' }, /colour: unknown setting/],
      [{ ...base, dataset: 'new' }, /mode: a "new" dataset needs mode create/],
      [{ ...base, dataset: 'new', mode: 'create' }, /new: is required/],
      [{ ...base, dataset: 'new', mode: 'create', new: { name: 'X', permission: 'open' } }, /new\.permission: must be one of public, private/],
    ];
    for (const [value, re] of cases) {
      assert.throws(
        () => parseSpec(value, 'x.json'),
        (e: unknown) => e instanceof PublishError && re.test(e.message),
        JSON.stringify(value),
      );
    }
  });

  it('refuses anything that looks like a secret, wherever it is', () => {
    for (const key of ['password', 'apiKey', 'keySecret', 'key_id', 'appToken', 'oauthToken', 'client_secret', 'auth']) {
      assert.throws(() => parseSpec({ ...base, [key]: 'x' }, 'x.json'), new RegExp(`x\\.json: ${key}: looks like a secret.*SOCRATA_KEY_ID`, 's'), key);
    }
    assert.throws(() => parseSpec({ ...base, dataset: 'new', mode: 'create', new: { name: 'X', token: 'y' } }, 'x.json'), /new\.token: looks like a secret/);
    // CSV headers in the mapping are data, not settings.
    assert.doesNotThrow(() => parseSpec({ ...base, mapping: { Password: 'password_hint' } }));
  });

  it('the JSON Schema lists the same settings, modes and requirements', () => {
    assert.deepEqual(schema.required.sort(), ['csv', 'dataset', 'domain', 'mode']);
    assert.deepEqual(schema.properties.mode.enum, [...PUBLISH_MODES]);
    const props = Object.keys(schema.properties)
      .filter((k) => k !== '$schema')
      .sort();
    assert.deepEqual(props, [
      'batchSize',
      'concurrency',
      'csv',
      'dataset',
      'domain',
      'mapping',
      'metadata',
      'mode',
      'new',
      'route',
      'rowIdentifier',
      'skipBadRows',
      'types',
    ]);
    for (const k of props) assert.doesNotThrow(() => parseSpec({ ...base, ...(k === 'new' ? { dataset: 'new', mode: 'create', new: { name: 'N' } } : {}) }), k);
    assert.deepEqual(Object.keys(schema.properties.new.properties ?? {}).sort(), ['category', 'description', 'name', 'permission', 'tags']);
  });

  it('loadSpec names the file when it is missing or not JSON', async () => {
    await assert.rejects(loadSpec(join(dir, 'none.json')), /none\.json: cannot read the spec \(ENOENT\)/);
    const p = join(dir, 'broken.socrata.json');
    writeFileSync(p, '{ "domain": ');
    await assert.rejects(loadSpec(p), /broken\.socrata\.json: not valid JSON/);
  });
});
