// Emulator: authentication, app tokens, /api/users/current.json, the catalog and view metadata, over HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SAMPLE, startEmulator, type RunningEmulator } from '../emulator/index';
import { KEY_AUTH, OTHER_AUTH, PUBLISHER_AUTH, VIEWER_AUTH, basic, call } from '../emulator/testing';

interface CatalogBody {
  results: {
    resource: Record<string, unknown>;
    classification: Record<string, unknown>;
    metadata: Record<string, unknown>;
    permalink: string;
    link: string;
    owner: { id: string; display_name: string };
  }[];
  resultSetSize: number;
}

describe('emulator: auth and metadata', () => {
  let emu: RunningEmulator;
  before(async () => {
    emu = await startEmulator({ seed: 'sample' });
  });
  after(async () => {
    await emu.stop();
  });

  describe('authentication', () => {
    it('accepts email/password and API key id/secret in HTTP Basic', async () => {
      for (const auth of [PUBLISHER_AUTH, KEY_AUTH]) {
        const r = await call<Record<string, unknown>>(emu.url, '/api/users/current.json', { headers: { authorization: auth } });
        assert.equal(r.status, 200);
        assert.equal(r.body.id, 'pub1-usr1');
        assert.equal(r.body.displayName, 'Pat Publisher');
        assert.equal(r.body.email, 'publisher@example.org');
        assert.equal(r.body.roleName, 'publisher');
        assert.ok(Array.isArray(r.body.rights) && (r.body.rights as string[]).includes('create_datasets'));
        assert.equal(typeof r.body.screenName, 'string');
      }
    });

    it('answers 401 with the core envelope for bad credentials, and 403 when not logged in', async () => {
      for (const auth of [basic('publisher@example.org', 'wrong'), basic('demo_key_id', 'nope'), 'OAuth not-a-token', 'Bearer x']) {
        const r = await call<Record<string, unknown>>(emu.url, '/api/users/current.json', { headers: { authorization: auth } });
        assert.equal(r.status, 401, auth);
        assert.equal(r.body.error, true);
        assert.equal(typeof r.body.code, 'string');
        assert.equal(typeof r.body.message, 'string');
      }
      const anon = await call<Record<string, unknown>>(emu.url, '/api/users/current.json');
      assert.equal(anon.status, 403);
      assert.deepEqual(anon.body, { code: 'authentication_required', error: true, message: 'You must be logged in to access this resource' });
    });

    it('accepts OAuth access tokens issued through the store, and rejects revoked ones', async () => {
      const token = emu.store.issueAccessToken('vwr1-usr1', SAMPLE.oauthClient.clientId);
      const r = await call<Record<string, unknown>>(emu.url, '/api/users/current.json', { headers: { authorization: `OAuth ${token}` } });
      assert.equal(r.status, 200);
      assert.equal(r.body.id, 'vwr1-usr1');
      assert.equal(emu.store.userForToken(token)?.email, 'viewer@example.org');
      assert.equal(emu.store.revokeAccessToken(token), true);
      const again = await call(emu.url, '/api/users/current.json', { headers: { authorization: `OAuth ${token}` } });
      assert.equal(again.status, 401);
    });

    it('refuses a credential switched off through the control endpoint with 401, until the list is cleared', async () => {
      const control = (method: string, json?: unknown) =>
        call<{ rejected: string[] }>(emu.url, '/__emulator/rejected-credentials', { method, ...(json !== undefined ? { json } : {}) });
      const me = async (auth: string) => (await call(emu.url, '/api/users/current.json', { headers: { authorization: auth } })).status;
      try {
        assert.deepEqual((await control('GET')).body, { rejected: [] });
        assert.deepEqual((await control('POST', { username: 'demo_key_id' })).body, { rejected: ['demo_key_id'] });
        const refused = await call<Record<string, unknown>>(emu.url, '/api/users/current.json', { headers: { authorization: KEY_AUTH } });
        assert.equal(refused.status, 401);
        assert.equal(refused.body.code, 'invalid_credentials');
        assert.equal(await me(PUBLISHER_AUTH), 200, 'the same user with a password is still accepted: the key is what was switched off');
        // Emails match case-insensitively, as at sign-in; faults do not apply to the control endpoint.
        emu.setFaults('error=1');
        try {
          assert.deepEqual((await control('POST', { username: ' Publisher@Example.org ' })).body, { rejected: ['demo_key_id', 'publisher@example.org'] });
        } finally {
          emu.setFaults(undefined);
        }
        assert.equal(await me(PUBLISHER_AUTH), 401);
        assert.equal(await me(VIEWER_AUTH), 200);
        assert.equal((await control('POST', { user: 'x' })).status, 400);
        assert.equal(
          (await call(emu.url, '/__emulator/rejected-credentials', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' })).status,
          400,
        );
        assert.equal((await control('PUT', { username: 'x' })).status, 405);
        assert.deepEqual((await control('DELETE')).body, { rejected: [] });
        assert.deepEqual([await me(KEY_AUTH), await me(PUBLISHER_AUTH)], [200, 200]);
      } finally {
        await control('DELETE');
      }
    });

    it('accepts a known app token in X-App-Token or $$app_token and refuses an unknown one', async () => {
      assert.equal((await call(emu.url, '/resource/bldg-prmt.json?$limit=1', { headers: { 'x-app-token': 'demo-app-token' } })).status, 200);
      assert.equal((await call(emu.url, '/resource/bldg-prmt.json?$limit=1&$$app_token=demo-app-token')).status, 200);
      for (const r of [
        await call<Record<string, unknown>>(emu.url, '/resource/bldg-prmt.json', { headers: { 'x-app-token': 'bogus' } }),
        await call<Record<string, unknown>>(emu.url, '/resource/bldg-prmt.json?$$app_token=bogus'),
      ]) {
        assert.equal(r.status, 403);
        assert.deepEqual(r.body, { code: 'invalid_app_token', error: true, message: 'Invalid app_token specified' });
      }
    });

    it('echoes X-Socrata-RequestId when sent and generates one otherwise', async () => {
      const sent = await call(emu.url, '/api/views/bldg-prmt.json', { headers: { 'x-socrata-requestid': 'abc123def' } });
      assert.equal(sent.headers.get('x-socrata-requestid'), 'abc123def');
      const gen = await call(emu.url, '/api/views/bldg-prmt.json');
      assert.match(gen.headers.get('x-socrata-requestid') ?? '', /^[0-9a-f]{32}$/);
    });
  });

  describe('catalog', () => {
    it('lists public datasets with the documented result shape and resultSetSize', async () => {
      const r = await call<CatalogBody>(emu.url, '/api/catalog/v1');
      assert.equal(r.status, 200);
      // The sample catalog's public datasets of department@example.org (pcat-…) come after the sample ones.
      const ids = r.body.results
        .map((x) => String(x.resource.id))
        .filter((id) => !id.startsWith('pcat-'))
        .sort();
      assert.deepEqual(ids, ['bldg-prmt', 'crsh-larg', 'park-othr', 'tree-cnsu']);
      assert.equal(r.body.resultSetSize, 4 + SAMPLE.catalogSize);
      const b = r.body.results.find((x) => x.resource.id === 'bldg-prmt');
      assert.ok(b);
      assert.deepEqual(Object.keys(b).sort(), ['classification', 'creator', 'link', 'metadata', 'owner', 'permalink', 'resource']);
      assert.equal(b.resource.name, 'Building Permits');
      assert.equal(b.resource.type, 'dataset');
      assert.match(String(b.resource.updatedAt), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
      assert.deepEqual(b.resource.columns_field_name, ['permit_id', 'address', 'valuation', 'issued_date', 'is_residential', 'info_url', 'location']);
      assert.deepEqual(b.resource.columns_datatype, ['Text', 'Text', 'Number', 'Calendar date', 'Checkbox', 'URL', 'Point']);
      assert.equal((b.resource.columns_name as unknown[]).length, 7);
      assert.equal((b.resource.columns_description as unknown[]).length, 7);
      assert.equal(b.metadata.domain, emu.domain);
      assert.equal(b.permalink, `${emu.url}/d/bldg-prmt`);
      assert.ok(b.link.endsWith('/bldg-prmt'));
      assert.deepEqual(b.owner, { id: 'pub1-usr1', user_type: 'interactive', display_name: 'Pat Publisher' });
      assert.equal(b.classification.domain_category, 'Permitting');
    });

    it('shows the owner their private datasets and filters by for_user, domains, q and only', async () => {
      const host = { authorization: PUBLISHER_AUTH, 'x-socrata-host': emu.domain };
      const mine = await call<CatalogBody>(emu.url, `/api/catalog/v1?for_user=pub1-usr1&domains=${emu.domain}&only=datasets`, { headers: host });
      // The owner also sees the sample draft of tree-cnsu (revision 1), right after its dataset.
      assert.deepEqual(mine.body.results.map((x) => x.resource.id).sort(), ['bdgt-priv', 'bldg-prmt', 'crsh-larg', 'tree-cnsu', 'tree-cnsu:1']);
      // Without X-Socrata-Host an authenticated owner gets the anonymously viewable assets only (Discovery API docs).
      const noHost = await call<CatalogBody>(emu.url, `/api/catalog/v1?for_user=pub1-usr1`, { headers: { authorization: PUBLISHER_AUTH } });
      assert.deepEqual(noHost.body.results.map((x) => x.resource.id).sort(), ['bldg-prmt', 'crsh-larg', 'tree-cnsu']);
      const anon = await call<CatalogBody>(emu.url, '/api/catalog/v1?for_user=pub1-usr1');
      assert.ok(!anon.body.results.some((x) => x.resource.id === 'bdgt-priv'));
      const other = await call<CatalogBody>(emu.url, '/api/catalog/v1?for_user=pub1-usr1', {
        headers: { authorization: OTHER_AUTH, 'x-socrata-host': emu.domain },
      });
      assert.deepEqual(
        other.body.results.map((x) => x.resource.id).sort(),
        ['bldg-prmt', 'crsh-larg', 'tree-cnsu'],
        'neither the private dataset nor the draft of another owner',
      );
      const wrongDomain = await call<CatalogBody>(emu.url, '/api/catalog/v1?domains=data.example.gov');
      assert.equal(wrongDomain.body.resultSetSize, 0);
      const q = await call<CatalogBody>(emu.url, '/api/catalog/v1?q=tree');
      assert.deepEqual(
        q.body.results.map((x) => x.resource.id),
        ['tree-cnsu'],
      );
      const byColumn = await call<CatalogBody>(emu.url, '/api/catalog/v1?q=crash_id');
      assert.deepEqual(
        byColumn.body.results.map((x) => x.resource.id),
        ['crsh-larg'],
      );
      const onlyMaps = await call<CatalogBody>(emu.url, '/api/catalog/v1?only=maps');
      assert.equal(onlyMaps.body.resultSetSize, 0);
    });

    it('pages with limit/offset (default limit 100) and refuses offset+limit > 10000', async () => {
      for (let i = 0; i < 120; i++) {
        emu.store.createDataset({ name: `Bulk ${i}`, owner: 'oth1-usr1', isPublic: true, columns: [{ name: 'A', dataTypeName: 'text' }] });
      }
      const first = await call<CatalogBody>(emu.url, '/api/catalog/v1?for_user=oth1-usr1');
      assert.equal(first.body.results.length, 100);
      assert.equal(first.body.resultSetSize, 121);
      const second = await call<CatalogBody>(emu.url, '/api/catalog/v1?for_user=oth1-usr1&limit=100&offset=100');
      assert.equal(second.body.results.length, 21);
      const all = new Set([...first.body.results, ...second.body.results].map((x) => x.resource.id));
      assert.equal(all.size, 121);
      const tooFar = await call<Record<string, unknown>>(emu.url, '/api/catalog/v1?offset=9950&limit=100');
      assert.equal(tooFar.status, 400);
      assert.equal(typeof tooFar.body.error, 'string');
      assert.equal((await call(emu.url, '/api/catalog/v1?offset=9900&limit=100')).status, 200);
      assert.equal((await call(emu.url, '/api/catalog/v1?limit=abc')).status, 400);
    });
  });

  describe('views', () => {
    it('returns the view JSON with epoch-second timestamps, columns and row identifier', async () => {
      const r = await call<Record<string, unknown>>(emu.url, '/api/views/bldg-prmt.json', { headers: { authorization: PUBLISHER_AUTH } });
      assert.equal(r.status, 200);
      const v = r.body;
      assert.equal(v.id, 'bldg-prmt');
      assert.equal(v.name, 'Building Permits');
      assert.equal(v.viewType, 'tabular');
      assert.equal(v.displayType, 'table');
      assert.equal(v.publicationStage, 'published');
      assert.equal(v.provenance, 'official');
      for (const k of ['createdAt', 'rowsUpdatedAt', 'viewLastModified']) assert.equal(v[k], SAMPLE.createdAt, k);
      const cols = v.columns as Record<string, unknown>[];
      assert.deepEqual(
        cols.map((c) => [c.fieldName, c.dataTypeName, c.position]),
        [
          ['permit_id', 'text', 1],
          ['address', 'text', 2],
          ['valuation', 'number', 3],
          ['issued_date', 'calendar_date', 4],
          ['is_residential', 'checkbox', 5],
          ['info_url', 'url', 6],
          ['location', 'point', 7],
        ],
      );
      for (const c of cols) {
        assert.equal(typeof c.id, 'number');
        assert.equal(typeof c.name, 'string');
        assert.equal(typeof c.description, 'string');
      }
      assert.equal(v.rowIdentifierColumnId, cols[0]?.id);
      assert.deepEqual((v.owner as Record<string, unknown>).id, 'pub1-usr1');
      assert.equal((v.owner as Record<string, unknown>).displayName, 'Pat Publisher');
      assert.ok((v.rights as string[]).includes('write'));
      const anon = await call<Record<string, unknown>>(emu.url, '/api/views/bldg-prmt.json');
      assert.deepEqual(anon.body.rights, ['read']);
      const trees = await call<Record<string, unknown>>(emu.url, '/api/views/tree-cnsu.json');
      assert.equal(trees.body.rowIdentifierColumnId, undefined);
    });

    it('hides private datasets from others with 404 dataset.missing', async () => {
      const variants: Record<string, string>[] = [{}, { authorization: VIEWER_AUTH }, { authorization: OTHER_AUTH }];
      for (const headers of variants) {
        for (const path of ['/api/views/bdgt-priv.json', '/resource/bdgt-priv.json']) {
          const r = await call(emu.url, path, { headers });
          assert.equal(r.status, 404, path);
          assert.deepEqual(r.body, { code: 'dataset.missing', error: true, message: 'Not found', data: { id: 'bdgt-priv' } });
        }
      }
      assert.equal((await call(emu.url, '/api/views/bdgt-priv.json', { headers: { authorization: PUBLISHER_AUTH } })).status, 200);
      assert.equal((await call(emu.url, '/api/views/zzzz-zzzz.json')).status, 404);
    });

    it('updates metadata with PUT (owner only) and deletes with DELETE', async () => {
      const id = emu.store.createDataset({ name: 'Scratch', owner: 'pub1-usr1', columns: [{ name: 'Code', dataTypeName: 'text' }] });
      const denied = await call(emu.url, `/api/views/${id}.json`, { method: 'PUT', headers: { authorization: OTHER_AUTH }, json: { name: 'x' } });
      assert.equal(denied.status, 404); // private: invisible to others
      const put = await call<Record<string, unknown>>(emu.url, `/api/views/${id}.json`, {
        method: 'PUT',
        headers: { authorization: PUBLISHER_AUTH },
        json: { name: 'Renamed', tags: ['a'], metadata: { rowIdentifier: 'code' } },
      });
      assert.equal(put.status, 200);
      assert.equal(put.body.name, 'Renamed');
      assert.deepEqual(put.body.tags, ['a']);
      assert.equal(put.body.rowIdentifierColumnId, (put.body.columns as { id: number }[])[0]?.id);
      assert.equal(emu.store.getDataset(id)?.rowIdentifier, 'code');
      const del = await call(emu.url, `/api/views/${id}.json`, { method: 'DELETE', headers: { authorization: PUBLISHER_AUTH } });
      assert.equal(del.status, 200);
      assert.equal(emu.store.getDataset(id), undefined);
    });

    it('answers unknown paths with 404 not-found', async () => {
      const r = await call<Record<string, unknown>>(emu.url, '/api/nothing/here');
      assert.equal(r.status, 404);
      assert.equal(r.body.code, 'not-found');
    });
  });
});
