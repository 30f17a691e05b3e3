// `socrata-publish metadata get|set` as a separate process against the emulator, the publish spec's `metadata`
// section (inside the revision, or after the rows on the /resource route), and the metadata JSON Schemas.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startEmulator } from '../emulator/index';
import { dsmapiState } from '../emulator/dsmapi/index';
import { parseSpec } from '../../src/publish/spec';
import { metadataJsonSchema, metadataPatchJsonSchema } from '../../src/soda/metadataSchema';
import { bundleCli } from '../lib/helpers';

const root = join(__dirname, '..', '..');
const KEY_ENV = { SOCRATA_KEY_ID: 'demo_key_id', SOCRATA_KEY_SECRET: 'demo_key_secret' };

describe('metadata: CLI, publish spec, schemas', () => {
  let emu: Awaited<ReturnType<typeof startEmulator>>;
  let dir: string;
  let bundle = '';
  const file = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const cli = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> => {
    const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('SOCRATA_')));
    return new Promise((resolve) => {
      execFile(process.execPath, [bundle, ...args], { cwd: root, env: { ...clean, ...KEY_ENV } }, (err, stdout, stderr) => {
        resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
      });
    });
  };
  const scratch = (): string => {
    const id = emu.store.createDataset({
      name: 'Scratch',
      owner: 'pub1-usr1',
      category: 'Finance',
      columns: [
        { name: 'Code', dataTypeName: 'text' },
        { name: 'Amount', dataTypeName: 'number' },
      ],
      rowIdentifier: 'code',
    });
    emu.store.upsertRows(id, [{ code: 'A', amount: 1 }]);
    return id;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'metadata-cli-'));
    bundle = await bundleCli(dir);
    emu = await startEmulator({ port: 0, seed: 'sample' });
  });
  after(async () => {
    await emu.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('metadata get prints the document (JSON with --json)', async () => {
    const text = await cli(['metadata', 'get', '--domain', emu.domain, '--dataset', 'bldg-prmt']);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /Name: +Building Permits/);
    assert.match(text.stdout, /permit_id — Permit ID: Unique permit number/);
    const json = await cli(['metadata', 'get', '--domain', emu.domain, '--dataset', 'bldg-prmt', '--json']);
    const doc = JSON.parse(json.stdout) as { rowIdentifier: string; columns: unknown[] };
    assert.equal(doc.rowIdentifier, 'permit_id');
    assert.equal(doc.columns.length, 7);
    assert.equal((await cli(['metadata', 'get', '--domain', emu.domain])).code, 2);
    assert.equal((await cli(['metadata', 'frob', '--domain', emu.domain, '--dataset', 'bldg-prmt'])).code, 2);
  });

  it('metadata set: a partial file, dry run first (nothing sent), then applied; a field rename warns', async () => {
    const id = scratch();
    // A partial file: two dataset keys and the columns (every key of each, as `get --json` prints them).
    const got = JSON.parse((await cli(['metadata', 'get', '--domain', emu.domain, '--dataset', id, '--json'])).stdout) as {
      columns: Record<string, unknown>[];
    };
    const columns = got.columns.map((c) => (c.fieldName === 'amount' ? { ...c, fieldName: 'amount_usd' } : c));
    const f = file(
      'meta.json',
      JSON.stringify({ description: 'Ledger lines', license: { id: 'PUBLIC_DOMAIN', attribution: null, attributionLink: null }, columns }),
    );
    const dry = await cli(['metadata', 'set', '--domain', emu.domain, '--dataset', id, '--file', f, '--dry-run']);
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(dry.stdout, /Would change 3 field\(s\)/);
    assert.match(dry.stderr, /Warning: Field name amount → amount_usd: this breaks API consumers/);
    assert.equal(emu.store.getDataset(id)?.description, '');
    const run = await cli(['metadata', 'set', '--domain', emu.domain, '--dataset', id, '--file', f, '--json']);
    assert.equal(run.code, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { route: string; document: { description: string; license: { id: string } } };
    assert.deepEqual([out.route, out.document.description, out.document.license.id], ['view', 'Ledger lines', 'PUBLIC_DOMAIN']);
    assert.deepEqual(
      emu.store.getRows(id).map((r) => r.v.amount_usd),
      ['1'],
    );
  });

  it('metadata set refuses a bad file naming the file and every field, and sends nothing', async () => {
    const id = scratch();
    const f = file('bad.json', JSON.stringify({ category: 'Sports', contactEmail: 'x@', permission: 'secret' }));
    const r = await cli(['metadata', 'set', '--domain', emu.domain, '--dataset', id, '--file', f]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.json: category: "Sports" is not a category of this portal/);
    assert.match(r.stderr, /bad\.json: contactEmail: "x@" is not a valid email address/);
    assert.match(r.stderr, /bad\.json: permission: must be "public" or "private"/);
    assert.equal(emu.store.getDataset(id)?.category, 'Finance');
    const broken = await cli(['metadata', 'set', '--domain', emu.domain, '--dataset', id, '--file', file('broken.json', '{ "name": ')]);
    assert.equal(broken.code, 1);
    assert.match(broken.stderr, /broken\.json: not valid JSON/);
  });

  it('a spec metadata section goes into the same revision on the revision route', async () => {
    const id = scratch();
    const csv = file('rows.csv', 'code,amount\nB,2\n');
    const spec = file(
      'rev.socrata.json',
      JSON.stringify({
        domain: emu.domain,
        dataset: id,
        csv,
        mode: 'upsert',
        route: 'revision',
        metadata: { description: 'From the spec', customFields: { 'Publication Metadata': { 'Update Frequency': 'Daily' } } },
      }),
    );
    const before = dsmapiState(emu.store).revisionsOf(id).length;
    const r = await cli(['publish', '--spec', spec]);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    assert.equal(dsmapiState(emu.store).revisionsOf(id).length, before + 1, 'one revision for rows and metadata');
    assert.equal(emu.store.getDataset(id)?.description, 'From the spec');
    assert.deepEqual((emu.store.getDataset(id)?.flags.metadata as { customFields: unknown }).customFields, {
      'Publication Metadata': { 'Update Frequency': 'Daily' },
    });
    assert.equal(emu.store.rowCount(id), 2);
  });

  it('a new dataset gets the spec metadata with its first revision; a bad value refuses the whole create', async () => {
    const csv = file('new.csv', 'code,amount\nA,1\n');
    const spec = file(
      'new.socrata.json',
      JSON.stringify({
        domain: emu.domain,
        dataset: 'new',
        new: { name: 'Fresh' },
        csv,
        mode: 'create',
        metadata: { license: { id: 'PUBLIC_DOMAIN' }, contactEmail: 'fresh@example.org' },
      }),
    );
    const r = await cli(['publish', '--spec', spec, '--json']);
    assert.equal(r.code, 0, r.stderr + r.stdout);
    const id = (JSON.parse(r.stdout) as { dataset: string }).dataset;
    assert.deepEqual(emu.store.getDataset(id)?.flags.metadata, {
      licenseId: 'PUBLIC_DOMAIN',
      attributionLink: null,
      contactEmail: 'fresh@example.org',
      customFields: {},
    });
    const count = emu.store.listDatasets().length;
    const bad = file(
      'new-bad.socrata.json',
      JSON.stringify({ domain: emu.domain, dataset: 'new', new: { name: 'Fresh' }, csv, mode: 'create', metadata: { license: { id: 'MIT' } } }),
    );
    const refused = await cli(['publish', '--spec', bad]);
    assert.equal(refused.code, 1);
    assert.match(refused.stdout + refused.stderr, /Invalid license "MIT"/);
    assert.equal(emu.store.listDatasets().length, count, 'no draft left behind');
  });

  it('on the /resource route the metadata follows the rows; a refused value is reported with the rows kept', async () => {
    const id = scratch();
    const csv = file('rows2.csv', 'code,amount\nC,3\n');
    const ok = await cli([
      'publish',
      '--spec',
      file('res.socrata.json', JSON.stringify({ domain: emu.domain, dataset: id, csv, mode: 'upsert', metadata: { tags: ['ledger'] } })),
    ]);
    assert.equal(ok.code, 0, ok.stderr + ok.stdout);
    assert.match(ok.stdout, /Metadata updated \(tags\)/);
    assert.deepEqual(emu.store.getDataset(id)?.tags, ['ledger']);
    const bad = await cli([
      'publish',
      '--spec',
      file('res2.socrata.json', JSON.stringify({ domain: emu.domain, dataset: id, csv, mode: 'upsert', metadata: { category: 'Sports' } })),
    ]);
    assert.equal(bad.code, 1);
    // The rows were published (counts on stdout); the failure comes last, on stderr.
    assert.match(bad.stdout, /updated 1/);
    assert.match(bad.stderr, /the metadata was not changed: .*category/);
    assert.equal(emu.store.getDataset(id)?.category, 'Finance');
  });

  it('the spec refuses a bad metadata section naming the key; the schemas match the generator', () => {
    const base = { domain: 'data.example.org', dataset: 'abcd-1234', csv: 'a.csv', mode: 'upsert' };
    assert.throws(() => parseSpec({ ...base, metadata: { colour: 'red' } }), /metadata\.colour: unknown key/);
    assert.throws(() => parseSpec({ ...base, metadata: { contactEmail: 'nope' } }), /metadata\.contactEmail: "nope" is not a valid email/);
    const onDisk = JSON.parse(readFileSync(join(root, 'schemas', 'metadata.schema.json'), 'utf8')) as unknown;
    assert.deepEqual(onDisk, metadataJsonSchema());
    const specSchema = JSON.parse(readFileSync(join(root, 'schemas', 'publish-spec.schema.json'), 'utf8')) as { properties: { metadata: unknown } };
    assert.deepEqual(specSchema.properties.metadata, metadataPatchJsonSchema());
    // With a portal's lists, categories and licences become enums.
    const withLists = metadataJsonSchema({ categories: ['A'], licenses: [{ id: 'L', name: 'L', attributionRequired: false }] }) as {
      properties: { category: { enum: unknown[] }; license: { properties: { id: { enum: unknown[] } } } };
    };
    assert.deepEqual(withLists.properties.category.enum, ['A', null]);
    assert.deepEqual(withLists.properties.license.properties.id.enum, ['L', null]);
  });
});
