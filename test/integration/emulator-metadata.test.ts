// Emulator: dataset metadata through PUT /api/views/{4x4} and DSMAPI metadata-only revisions, the platform's
// validation (each refusal names the field and changes nothing), and the domain's lists.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type RunningEmulator } from '../emulator/index';
import { DOMAIN_METADATA } from '../emulator/metadata';
import { PUBLISHER_AUTH, VIEWER_AUTH, call } from '../emulator/testing';

type Body = Record<string, unknown>;

describe('emulator: dataset metadata', () => {
  let emu: RunningEmulator;
  before(async () => {
    emu = await startEmulator({ seed: 'sample' });
  });
  after(async () => {
    await emu.stop();
  });
  const put = (id: string, json: unknown, auth = PUBLISHER_AUTH) =>
    call<Body>(emu.url, `/api/views/${id}.json`, { method: 'PUT', headers: { authorization: auth }, json });
  const view = async (id: string) => (await call<Body>(emu.url, `/api/views/${id}.json`, { headers: { authorization: PUBLISHER_AUTH } })).body;
  const scratch = () => {
    const id = emu.store.createDataset({
      name: 'Scratch',
      owner: 'pub1-usr1',
      category: 'Finance',
      columns: [
        { name: 'Code', dataTypeName: 'text' },
        { name: 'Amount', dataTypeName: 'number' },
      ],
    });
    emu.store.upsertRows(id, [
      { code: 'A', amount: 1 },
      { code: 'B', amount: 2 },
    ]);
    return id;
  };

  it('serves the domain lists: categories (with counts), licences and the custom fieldsets', async () => {
    const cats = await call<{ results: { domain_category: string; count: number }[] }>(emu.url, '/api/catalog/v1/domain_categories?domains=x');
    assert.deepEqual(
      cats.body.results.map((r) => r.domain_category),
      DOMAIN_METADATA.categories,
    );
    assert.equal(cats.body.results.find((r) => r.domain_category === 'Permitting')?.count, 1);
    const lic = await call<{ id: string; attributionRequired: boolean }[]>(emu.url, '/api/licenses.json');
    assert.ok(lic.body.some((l) => l.id === 'CC_30_BY' && l.attributionRequired));
    const conf = await call<{ type: string; properties: { name: string; value: { name: string }[] }[] }[]>(
      emu.url,
      '/api/configurations.json?type=metadata&defaultOnly=true',
    );
    assert.deepEqual(
      conf.body[0]?.properties[0]?.value.map((f) => f.name),
      ['Publication Metadata', 'Data Quality'],
    );
  });

  it('PUT /api/views sets every key, renames a field (rows follow) and shows the contact email to writers only', async () => {
    const id = scratch();
    const before = await view(id);
    const cols = before.columns as { id: number; fieldName: string }[];
    const code = cols.find((c) => c.fieldName === 'code');
    assert.ok(code);
    const r = await put(id, {
      name: 'Ledger',
      description: 'All lines',
      category: 'Business',
      tags: ['money'],
      licenseId: 'CC_30_BY',
      attribution: 'City Finance',
      attributionLink: 'https://example.org/finance',
      privateMetadata: { contactEmail: 'data@example.org' },
      metadata: { custom_fields: { 'Publication Metadata': { 'Update Frequency': 'Monthly' } }, rowIdentifier: code.id },
      columns: [{ id: code.id, name: 'Line code', description: 'Unique', fieldName: 'line_code' }],
    });
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.licenseId, 'CC_30_BY');
    assert.deepEqual(r.body.license, { name: 'Creative Commons Attribution 3.0 Unported', termsLink: 'https://creativecommons.org/licenses/by/3.0/legalcode' });
    assert.equal(r.body.attributionLink, 'https://example.org/finance');
    assert.deepEqual(r.body.privateMetadata, { contactEmail: 'data@example.org' });
    assert.deepEqual((r.body.metadata as Body).custom_fields, { 'Publication Metadata': { 'Update Frequency': 'Monthly' } });
    assert.equal(r.body.rowIdentifierColumnId, code.id);
    const col = (r.body.columns as { id: number; fieldName: string; name: string; description: string }[]).find((c) => c.id === code.id);
    assert.deepEqual([col?.fieldName, col?.name, col?.description], ['line_code', 'Line code', 'Unique']);
    assert.equal(emu.store.getDataset(id)?.rowIdentifier, 'line_code');
    assert.deepEqual(
      emu.store.getRows(id).map((row) => row.v.line_code),
      ['A', 'B'],
    );
    const rows = await call<Body[]>(emu.url, `/resource/${id}.json?$order=line_code`, { headers: { authorization: PUBLISHER_AUTH } });
    assert.deepEqual(
      rows.body.map((x) => x.line_code),
      ['A', 'B'],
    );
    // Made public: an anonymous reader sees the rest but not the private contact email.
    await put(id, {}, PUBLISHER_AUTH);
    emu.store.updateDataset(id, { isPublic: true });
    const anon = await call<Body>(emu.url, `/api/views/${id}.json`);
    assert.equal(anon.body.privateMetadata, undefined);
    assert.equal(anon.body.licenseId, 'CC_30_BY');
  });

  it('refuses bad input naming the field, with the core envelope, and changes nothing', async () => {
    const id = scratch();
    const cols = (await view(id)).columns as { id: number; fieldName: string }[];
    const [a, b] = cols;
    assert.ok(a && b);
    const cases: [unknown, string, RegExp][] = [
      [{ category: 'Sports' }, 'category', /Unknown category "Sports"/],
      [{ privateMetadata: { contactEmail: 'not-an-email' } }, 'privateMetadata.contactEmail', /not a valid email/],
      [{ columns: [{ id: b.id, fieldName: a.fieldName }] }, 'columns[0].fieldName', /Duplicate field name "code"/],
      [{ columns: [{ id: a.id, fieldName: 'Bad Name' }] }, 'columns[0].fieldName', /Invalid field name/],
      [{ name: 'x'.repeat(256) }, 'name', /256 characters long; at most 255/],
      [{ licenseId: 'MIT' }, 'licenseId', /Invalid license "MIT"/],
      [{ licenseId: 'CC_30_BY', attribution: null }, 'attribution', /requires an attribution/],
      [{ attributionLink: 'javascript:alert(1)' }, 'attributionLink', /not an http\(s\) URL/],
      [{ metadata: { custom_fields: { Nope: {} } } }, 'metadata.custom_fields.Nope', /Unknown custom metadata fieldset/],
      [
        { metadata: { custom_fields: { 'Publication Metadata': { 'Update Frequency': 'Hourly' } } } },
        'metadata.custom_fields.Publication Metadata.Update Frequency',
        /not an option/,
      ],
      [{ metadata: { rowIdentifier: 'nope' } }, 'metadata.rowIdentifier', /not a column/],
    ];
    const before = JSON.stringify(await view(id));
    for (const [body, field, message] of cases) {
      // A valid change rides along each time: nothing of it may land.
      const r = await put(id, { description: 'changed', ...(body as Body) });
      assert.equal(r.status, 400, JSON.stringify(body));
      assert.equal(r.body.error, true);
      assert.equal(r.body.code, 'invalid_request');
      assert.equal((r.body.data as Body).field, field);
      assert.match(String(r.body.message), message);
    }
    assert.equal(JSON.stringify(await view(id)), before);
    // A row identifier on a column with duplicate values: refused by the store, and the name change beside it is not applied.
    emu.store.upsertRows(id, [{ code: 'C', amount: 1 }]);
    const dup = await put(id, { name: 'Changed', metadata: { rowIdentifier: 'amount' } });
    assert.equal(dup.status, 400);
    assert.equal((await view(id)).name, 'Scratch');
    assert.equal((await put(id, { name: 'x' }, VIEWER_AUTH)).status, 404);
  });

  it('a metadata-only revision validates on open and applies everything with the permission on apply', async () => {
    const id = scratch();
    const bad = await call<Body>(emu.url, `/api/publishing/v1/revision/${id}`, {
      method: 'POST',
      headers: { authorization: PUBLISHER_AUTH },
      json: { action: { type: 'update' }, metadata: { category: 'Sports' } },
    });
    assert.equal(bad.status, 400);
    assert.deepEqual([bad.body.code, (bad.body.data as Body).field], ['invalid_metadata', 'metadata.category']);
    const open = await call<{ resource: { revision_seq: number; metadata: Body }; links: { apply: string } }>(emu.url, `/api/publishing/v1/revision/${id}`, {
      method: 'POST',
      headers: { authorization: PUBLISHER_AUTH },
      json: {
        action: { type: 'update', permission: 'public' },
        metadata: {
          name: 'Revised',
          licenseId: 'PUBLIC_DOMAIN',
          privateMetadata: { contactEmail: 'a@b.org' },
          metadata: { custom_fields: { 'Data Quality': { 'Known Issues': 'none' } } },
        },
      },
    });
    assert.equal(open.status, 201, open.text);
    assert.equal(open.body.resource.metadata.name, 'Revised');
    assert.equal(emu.store.getDataset(id)?.name, 'Scratch');
    const badUpdate = await call<Body>(emu.url, `/api/publishing/v1/revision/${id}/${open.body.resource.revision_seq}`, {
      method: 'PUT',
      headers: { authorization: PUBLISHER_AUTH },
      json: { metadata: { privateMetadata: { contactEmail: 'x' } } },
    });
    assert.equal((badUpdate.body.data as Body).field, 'metadata.privateMetadata.contactEmail');
    const job = await call<{ resource: { id: number } }>(emu.url, open.body.links.apply, {
      method: 'PUT',
      headers: { authorization: PUBLISHER_AUTH },
      json: {},
    });
    assert.equal(job.status, 200);
    for (let i = 0; i < 50 && emu.store.getDataset(id)?.name !== 'Revised'; i++) await new Promise((r) => setTimeout(r, 20));
    const v = await view(id);
    assert.deepEqual(
      [v.name, v.licenseId, (v.privateMetadata as Body).contactEmail, emu.store.getDataset(id)?.isPublic],
      ['Revised', 'PUBLIC_DOMAIN', 'a@b.org', true],
    );
    assert.deepEqual((v.metadata as Body).custom_fields, { 'Data Quality': { 'Known Issues': 'none' } });
  });
});
