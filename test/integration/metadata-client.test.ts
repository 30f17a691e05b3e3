// The metadata document (src/soda/metadata.ts): read from a view, validated naming the field, diffed with risky
// changes marked, and applied atomically against the emulator through a revision or PUT /api/views, with a
// conflict when the server changed since the document was read.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { type RunningEmulator, SAMPLE, startEmulator } from '../emulator';
import { SodaClient } from '../../src/soda/client';
import { isSodaError } from '../../src/soda/errors';
import {
  describeRisks,
  diffDocuments,
  formatDocument,
  MetadataClient,
  MetadataConflictError,
  MetadataDocumentError,
  parseDocument,
  type MetadataDocument,
} from '../../src/soda/metadata';
import { dsmapiState } from '../emulator/dsmapi/index';

describe('metadata document and client', () => {
  let emu: RunningEmulator;
  let soda: SodaClient;
  let client: MetadataClient;
  before(async () => {
    emu = await startEmulator({ seed: 'sample' });
    soda = new SodaClient({
      domain: emu.domain,
      auth: { type: 'apiKey', keyId: SAMPLE.apiKey.keyId, keySecret: SAMPLE.apiKey.keySecret },
      retry: { baseDelayMs: 1 },
    });
    client = new MetadataClient(soda);
  });
  after(async () => {
    await soda.close();
    await emu.stop();
  });
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
    emu.store.upsertRows(id, [
      { code: 'A', amount: 1 },
      { code: 'B', amount: 1 },
    ]);
    return id;
  };
  const clone = (d: MetadataDocument): MetadataDocument => JSON.parse(JSON.stringify(d)) as MetadataDocument;

  it('reads the document of a sample dataset and the portal lists', async () => {
    const { document } = await client.get('bldg-prmt');
    assert.equal(document.name, 'Building Permits');
    assert.equal(document.category, 'Permitting');
    assert.equal(document.rowIdentifier, 'permit_id');
    assert.equal(document.permission, 'public');
    assert.deepEqual(
      document.columns.map((c) => c.fieldName),
      ['permit_id', 'address', 'valuation', 'issued_date', 'is_residential', 'info_url', 'location'],
    );
    assert.equal(document.columns[0]?.description, 'Unique permit number');
    const lists = await client.lists();
    assert.ok(lists.categories?.includes('Permitting'));
    assert.ok(lists.licenses?.some((l) => l.id === 'CC_30_BY' && l.attributionRequired));
    assert.deepEqual(
      lists.fieldsets?.map((f) => f.name),
      ['Publication Metadata', 'Data Quality'],
    );
    // The formatted text parses back to the same document.
    assert.deepEqual(parseDocument(formatDocument(document, 'socrata:/x/schema.json'), document, lists), { $schema: 'socrata:/x/schema.json', ...document });
  });

  it('validation names every bad field, with the line and column of a JSON syntax error', async () => {
    const { document } = await client.get('bldg-prmt');
    const lists = await client.lists();
    const bad = clone(document) as unknown as Record<string, unknown>;
    Object.assign(bad, {
      category: 'Sports',
      contactEmail: 'nope',
      license: { id: 'CC_30_BY', attribution: null, attributionLink: 'ftp://x' },
      customFields: { 'Publication Metadata': { 'Update Frequency': 'Hourly' } },
      rowIdentifier: 'gone',
      extra: 1,
    });
    const cols = bad.columns as { fieldName: string; displayName: string }[];
    cols[1].fieldName = 'permit_id';
    cols[2].fieldName = 'Bad Name';
    cols[3].displayName = 'x'.repeat(256);
    let fields: string[] = [];
    try {
      parseDocument(JSON.stringify(bad), document, lists);
      assert.fail('parsed');
    } catch (e) {
      assert.ok(e instanceof MetadataDocumentError);
      fields = e.problems.map((p) => p.field).sort();
    }
    assert.deepEqual(fields, [
      'category',
      'columns[1].fieldName',
      'columns[2].fieldName',
      'columns[3].displayName',
      'contactEmail',
      'customFields.Publication Metadata.Update Frequency',
      'extra',
      'license.attribution',
      'license.attributionLink',
      'rowIdentifier',
    ]);
    try {
      parseDocument('{\n  "name": "x",\n  oops\n}', document);
      assert.fail('parsed');
    } catch (e) {
      assert.ok(e instanceof MetadataDocumentError);
      assert.match(e.message, /not valid JSON at line 3, column 3/);
    }
  });

  it('diff marks field-name, row-identifier and permission changes as risky and explains the /resource break', async () => {
    const { document } = await client.get('bldg-prmt');
    const mine = clone(document);
    mine.description = 'New';
    mine.columns[0].fieldName = 'permit_number';
    mine.rowIdentifier = 'permit_number';
    mine.permission = 'private';
    const changes = diffDocuments(document, mine);
    assert.deepEqual(
      changes.map((c) => [c.field, c.kind]),
      [
        ['description', 'plain'],
        ['permission', 'permission'],
        ['columns[0].fieldName', 'field-name'],
      ],
    );
    const risks = describeRisks(changes, emu.domain, 'bldg-prmt');
    assert.match(risks.join('\n'), /permit_id → permit_number: this breaks API consumers .*\/resource\/bldg-prmt\.json\?\$select=permit_id/);
    mine.rowIdentifier = 'address';
    assert.ok(diffDocuments(document, mine).some((c) => c.kind === 'row-identifier'));
  });

  it('applies dataset metadata and the permission in one metadata-only revision', async () => {
    const id = scratch();
    const revisionsBefore = dsmapiState(emu.store).revisionsOf(id).length;
    const { document: base } = await client.get(id);
    const mine = clone(base);
    Object.assign(mine, {
      name: 'Ledger',
      category: 'Business',
      tags: ['money'],
      contactEmail: 'data@example.org',
      permission: 'public',
      customFields: { 'Publication Metadata': { 'Update Frequency': 'Weekly' } },
    });
    mine.license = { id: 'CC_30_BY', attribution: 'City', attributionLink: 'https://example.org' };
    const result = await client.apply(id, mine, { base, lists: await client.lists() });
    assert.equal(result.route, 'revision');
    assert.equal(dsmapiState(emu.store).revisionsOf(id).length, revisionsBefore + 1);
    const after = (await client.get(id)).document;
    assert.deepEqual(after, mine);
    assert.equal(emu.store.getDataset(id)?.isPublic, true);
    // Nothing to change: no request that writes.
    assert.equal((await client.apply(id, after, { base: after })).route, 'none');
  });

  it('applies column changes (rename, row identifier) in one PUT /api/views, and the data follows the rename', async () => {
    const id = scratch();
    const { document: base } = await client.get(id);
    const mine = clone(base);
    mine.columns[0].fieldName = 'line_code';
    mine.columns[0].displayName = 'Line code';
    mine.columns[1].description = 'In USD';
    mine.rowIdentifier = 'line_code';
    mine.description = 'Renamed';
    const dry = await client.apply(id, mine, { base, dryRun: true });
    assert.deepEqual([dry.route, dry.changes.length], ['view', 4]);
    assert.equal((await client.get(id)).document.columns[0]?.fieldName, 'code');
    const result = await client.apply(id, mine, { base });
    assert.equal(result.route, 'view');
    assert.deepEqual(result.document, mine);
    const rows = await soda.rows(id, { order: 'line_code' });
    assert.deepEqual(
      rows.rows.map((r) => r.line_code),
      ['A', 'B'],
    );
  });

  it('refuses to save over a change made on the server since the document was read', async () => {
    const id = scratch();
    const { document: base } = await client.get(id);
    emu.store.updateDataset(id, { description: 'changed elsewhere' });
    const mine = clone(base);
    mine.name = 'Mine';
    const err = await client.apply(id, mine, { base }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof MetadataConflictError);
    assert.equal(err.server.description, 'changed elsewhere');
    assert.equal(emu.store.getDataset(id)?.name, 'Scratch');
    // Overwrite: apply without the base; the document wins, the server's description included.
    await client.apply(id, mine);
    assert.equal(emu.store.getDataset(id)?.name, 'Mine');
    assert.equal(emu.store.getDataset(id)?.description, '');
  });

  it('a server refusal comes back naming the document field, and nothing is applied', async () => {
    const id = scratch();
    const { document: base } = await client.get(id);
    // Without the portal lists the client cannot know the categories; the server refuses.
    const mine = clone(base);
    mine.category = 'Sports';
    mine.name = 'Should not land';
    for (const route of ['revision', 'view'] as const) {
      const err = await client.apply(id, mine, { base, route }).then(
        () => undefined,
        (e: unknown) => e,
      );
      assert.ok(isSodaError(err), String(err));
      assert.equal(err.field, 'category', route);
      assert.match(err.message, /Unknown category "Sports"/);
    }
    const dup = clone(base);
    dup.rowIdentifier = 'amount';
    dup.name = 'Should not land';
    const err = await client.apply(id, dup, { base, route: 'view' }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isSodaError(err));
    assert.equal(emu.store.getDataset(id)?.name, 'Scratch');
    assert.equal(emu.store.getDataset(id)?.rowIdentifier, 'code');
  });

  it('the view route changes the permission on its own, and refuses to mix it with other changes', async () => {
    const id = scratch();
    const { document: base } = await client.get(id);
    const mine = clone(base);
    mine.permission = 'public';
    mine.columns[1].displayName = 'Total';
    const err = await client.apply(id, mine, { base }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(isSodaError(err));
    assert.equal(err.field, 'permission');
    assert.equal(emu.store.getDataset(id)?.isPublic, false);
    const onlyPermission = clone(base);
    onlyPermission.permission = 'public';
    await client.apply(id, onlyPermission, { base, route: 'view' });
    assert.equal(emu.store.getDataset(id)?.isPublic, true);
  });
});
