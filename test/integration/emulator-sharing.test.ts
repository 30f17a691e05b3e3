// Emulator: grants on datasets, the catalog's ownership and sharing filters, its order and paging, and the rights
// /api/views/{4x4} answers per user, over HTTP against the sample seed.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { SAMPLE, startEmulator, type RunningEmulator } from '../emulator/index';
import { OTHER_AUTH, PUBLISHER_AUTH, VIEWER_AUTH, call } from '../emulator/testing';

interface CatalogBody {
  results: { resource: { id: string; name: string; updatedAt: string }; owner: { id: string } }[];
  resultSetSize: number;
  error?: string;
}
interface ViewBody {
  id: string;
  rights: string[];
  grants: { type: string; userId?: string; userEmail?: string; flags: string[] }[];
}

const { publisher, viewer, other } = SAMPLE.users;

describe('emulator: sharing', () => {
  let emu: RunningEmulator;
  before(async () => {
    emu = await startEmulator({ seed: 'sample' });
  });
  after(async () => {
    await emu.stop();
  });

  // Authenticated catalog calls name the portal in X-Socrata-Host, as the client does (private assets need it).
  const catalog = (query: string, auth?: string): Promise<{ status: number; body: CatalogBody }> =>
    call<CatalogBody>(
      emu.url,
      `/api/catalog/v1?domains=${emu.domain}&${query}`,
      auth ? { headers: { authorization: auth, 'x-socrata-host': emu.domain } } : {},
    );
  const ids = (b: CatalogBody): string[] => b.results.map((r) => r.resource.id);
  const view = (id: string, auth?: string): Promise<{ status: number; body: ViewBody }> =>
    call<ViewBody>(emu.url, `/api/views/${id}.json`, auth ? { headers: { authorization: auth } } : {});

  it('shared_to lists the datasets shared with the caller, without the ones they own', async () => {
    assert.deepEqual(ids((await catalog(`shared_to=${publisher.id}`, PUBLISHER_AUTH)).body), ['libr-shrd']);
    assert.deepEqual(ids((await catalog(`shared_to=${viewer.id}`, VIEWER_AUTH)).body), ['insp-shrd']);
    assert.deepEqual(ids((await catalog(`shared_to=${other.id}`, OTHER_AUTH)).body), []);
  });

  it('shared_to: nothing for anonymous callers, 403 for another user id, 400 without domains', async () => {
    assert.equal((await catalog(`shared_to=${viewer.id}`)).body.resultSetSize, 0);
    const foreign = await catalog(`shared_to=${viewer.id}`, PUBLISHER_AUTH);
    assert.equal(foreign.status, 403);
    assert.match(foreign.body.error ?? '', /administrators/);
    const noDomain = await call<CatalogBody>(emu.url, `/api/catalog/v1?shared_to=${publisher.id}`, { headers: { authorization: PUBLISHER_AUTH } });
    assert.equal(noDomain.status, 400);
  });

  it('a private dataset shared with a viewer is visible to that viewer only (catalog and view)', async () => {
    assert.equal((await view('insp-shrd', VIEWER_AUTH)).status, 200);
    assert.equal((await view('insp-shrd', PUBLISHER_AUTH)).status, 404);
    assert.equal((await view('insp-shrd')).status, 404);
    const all = await catalog('ids=insp-shrd', PUBLISHER_AUTH);
    assert.equal(all.body.resultSetSize, 0);
    const rows = await call<unknown[]>(emu.url, '/resource/insp-shrd.json?$limit=5', { headers: { authorization: VIEWER_AUTH } });
    assert.equal(rows.status, 200);
    assert.equal(rows.body.length, 5);
  });

  it('answers the rights of the caller in /api/views/{4x4}, and lists the grants', async () => {
    const asEditor = await view('libr-shrd', PUBLISHER_AUTH);
    assert.ok(asEditor.body.rights.includes('write') && asEditor.body.rights.includes('update_view'));
    assert.ok(!asEditor.body.rights.includes('delete_view') && !asEditor.body.rights.includes('grant'));
    assert.ok((await view('libr-shrd', OTHER_AUTH)).body.rights.includes('delete_view'));
    assert.equal((await view('libr-shrd', VIEWER_AUTH)).status, 404);
    assert.deepEqual((await view('park-othr', PUBLISHER_AUTH)).body.rights, ['read']);
    assert.deepEqual((await view('park-othr')).body.rights, ['read']);
    assert.deepEqual((await view('insp-shrd', VIEWER_AUTH)).body.rights, ['read']);
    assert.deepEqual(
      asEditor.body.grants.map((g) => [g.type, g.userId ?? null, g.userEmail ?? null, g.flags]),
      [['contributor', publisher.id, publisher.email, []]],
    );
  });

  it('writes follow the rights: an editor upserts, but neither deletes the dataset; a viewer is refused', async () => {
    const upsert = (id: string, auth: string) =>
      call(emu.url, `/resource/${id}.json`, { method: 'POST', headers: { authorization: auth }, json: [{ branch_id: 'LB-90', branch: 'Kiosk' }] });
    assert.equal((await upsert('libr-shrd', PUBLISHER_AUTH)).status, 200);
    assert.equal((await upsert('park-othr', PUBLISHER_AUTH)).status, 403);
    const refused = await call<{ code: string; message: string; data: { right: string } }>(emu.url, '/resource/insp-shrd.json', {
      method: 'POST',
      headers: { authorization: VIEWER_AUTH },
      json: [{ inspection_id: 'IN-900' }],
    });
    assert.equal(refused.status, 403);
    assert.equal(refused.body.code, 'permission_denied');
    assert.equal(refused.body.data.right, 'write');
    const del = await call<{ code: string; data: { right: string } }>(emu.url, '/api/views/libr-shrd.json', {
      method: 'DELETE',
      headers: { authorization: PUBLISHER_AUTH },
    });
    assert.equal(del.status, 403);
    assert.equal(del.body.data.right, 'delete_view');
    const meta = await call<{ name: string }>(emu.url, '/api/views/libr-shrd.json', {
      method: 'PUT',
      headers: { authorization: PUBLISHER_AUTH },
      json: { description: 'Edited by an editor' },
    });
    assert.equal(meta.status, 200);
  });

  it('a grant taken away (store.setGrant) takes the rights with it', async () => {
    emu.store.setGrant('libr-shrd', publisher.id, undefined);
    try {
      assert.equal((await view('libr-shrd', PUBLISHER_AUTH)).status, 404);
      assert.deepEqual(ids((await catalog(`shared_to=${publisher.id}`, PUBLISHER_AUTH)).body), []);
    } finally {
      emu.store.setGrant('libr-shrd', publisher.id, 'contributor');
    }
  });

  it('for_user lists what a user owns; the public catalog pages past 250 datasets', async () => {
    assert.deepEqual(ids((await catalog(`for_user=${other.id}&order=name`, OTHER_AUTH)).body), ['libr-shrd', 'park-othr', 'insp-shrd']);
    const first = await catalog('only=dataset&limit=100&offset=0&order=name', VIEWER_AUTH);
    assert.ok(first.body.resultSetSize >= SAMPLE.catalogSize + 5, String(first.body.resultSetSize));
    const seen = new Set<string>();
    for (let offset = 0; offset < first.body.resultSetSize; offset += 100) {
      for (const id of ids((await catalog(`only=dataset&limit=100&offset=${offset}&order=name`, VIEWER_AUTH)).body)) seen.add(id);
    }
    assert.equal(seen.size, first.body.resultSetSize);
    assert.ok(seen.has('pcat-0250') && seen.has('insp-shrd') && !seen.has('bdgt-priv'));
  });

  it('order: name ascending, updatedAt descending by default, ASC/DESC suffixes; a bad order is a 400', async () => {
    const names = (await catalog('limit=300&order=name', OTHER_AUTH)).body.results.map((r) => r.resource.name.toLowerCase());
    assert.deepEqual(names, [...names].sort());
    const desc = (await catalog('limit=300&order=name%20DESC', OTHER_AUTH)).body.results.map((r) => r.resource.name.toLowerCase());
    assert.deepEqual(desc, [...names].reverse().sort().reverse());
    const updated = (await catalog('limit=300&order=updatedAt', OTHER_AUTH)).body.results.map((r) => Date.parse(r.resource.updatedAt));
    assert.ok(updated.every((t, i) => i === 0 || (updated[i - 1] ?? t) >= t));
    assert.notDeepEqual(updated, [...updated].reverse());
    assert.equal((await catalog('order=popularity', OTHER_AUTH)).status, 400);
  });

  it('visibility=open keeps public published datasets; internal the others the caller may see', async () => {
    const open = ids((await catalog('limit=400&visibility=open', PUBLISHER_AUTH)).body);
    assert.ok(open.includes('bldg-prmt') && !open.includes('bdgt-priv') && !open.includes('libr-shrd'));
    assert.deepEqual(ids((await catalog('limit=400&visibility=internal', PUBLISHER_AUTH)).body), ['bdgt-priv', 'libr-shrd']);
  });
});
