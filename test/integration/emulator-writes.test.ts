// Emulator: upsert, replace, single-row operations, permissions, atomicity, the applied-writes log and sink mode.
import assert from 'node:assert/strict';
import { after, beforeEach, describe, it } from 'node:test';
import { SAMPLE, startEmulator, type RunningEmulator, type UpsertResult } from '../emulator/index';
import { KEY_AUTH, OTHER_AUTH, PUBLISHER_AUTH, VIEWER_AUTH, call } from '../emulator/testing';

const SIX = ['By RowIdentifier', 'By SID', 'Errors', 'Rows Created', 'Rows Deleted', 'Rows Updated'];
type Body = Record<string, unknown>;

describe('emulator: writes', () => {
  let emu: RunningEmulator;
  const post = (path: string, json: unknown, auth = PUBLISHER_AUTH) => call<Body>(emu.url, path, { method: 'POST', headers: { authorization: auth }, json });
  const put = (path: string, json: unknown, auth = PUBLISHER_AUTH) => call<Body>(emu.url, path, { method: 'PUT', headers: { authorization: auth }, json });
  const row = async (ds: string, id: string) => (await call<Body>(emu.url, `/resource/${ds}/${encodeURIComponent(id)}.json`)).body;

  beforeEach(async () => {
    await emu?.stop();
    emu = await startEmulator({ seed: 'sample' });
  });
  after(async () => {
    await emu.stop();
  });

  it('upserts by row identifier with merge semantics, :deleted and the six-key report', async () => {
    const original = await row('bldg-prmt', 'BP-2025-00001');
    const r = await post('/resource/bldg-prmt.json', [
      { permit_id: 'BP-2025-00001', valuation: 42.5 },
      {
        permit_id: 'NEW-0001',
        address: '1 New St',
        valuation: '1000',
        issued_date: '2026-03-04',
        is_residential: true,
        info_url: { url: 'https://x.example/1', description: 'one' },
        location: 'POINT (-87.6 41.8)',
      },
      { permit_id: 'BP-2025-00002', ':deleted': true },
      { permit_id: 'NOT-THERE', ':deleted': true },
    ]);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(Object.keys(r.body).sort(), SIX);
    assert.deepEqual(r.body, { 'By RowIdentifier': 4, 'Rows Updated': 1, 'Rows Deleted': 1, 'By SID': 0, 'Rows Created': 1, Errors: 1 });
    const merged = await row('bldg-prmt', 'BP-2025-00001');
    assert.deepEqual(merged, { ...original, valuation: '42.5' }, 'merge keeps the other fields');
    const created = await row('bldg-prmt', 'NEW-0001');
    assert.deepEqual(created, {
      permit_id: 'NEW-0001',
      address: '1 New St',
      valuation: '1000',
      issued_date: '2026-03-04T00:00:00.000',
      is_residential: true,
      info_url: { url: 'https://x.example/1', description: 'one' },
      location: { type: 'Point', coordinates: [-87.6, 41.8] },
    });
    assert.equal((await call(emu.url, '/resource/bldg-prmt/BP-2025-00002.json')).status, 404);
    assert.equal(emu.store.rowCount('bldg-prmt'), 500);
  });

  it('sets a cell to null with an explicit JSON null', async () => {
    await post('/resource/bldg-prmt.json', [{ permit_id: 'BP-2025-00005', address: null }]);
    const r = await row('bldg-prmt', 'BP-2025-00005');
    assert.ok(!('address' in r));
    assert.ok('valuation' in r);
  });

  it('appends rows without a row identifier, and updates or deletes them by :id', async () => {
    const r = await post('/resource/tree-cnsu.json', [
      { species: 'Oak', diameter_in: 3 },
      { species: 'Oak', diameter_in: 3 },
    ]);
    assert.deepEqual(r.body, { 'By RowIdentifier': 0, 'Rows Updated': 0, 'Rows Deleted': 0, 'By SID': 0, 'Rows Created': 2, Errors: 0 });
    assert.equal(emu.store.rowCount('tree-cnsu'), 302);
    const ids = (await call<Body[]>(emu.url, '/resource/tree-cnsu.json?$select=:id,species&$where=species=%27Oak%27')).body.map((x) => String(x[':id']));
    assert.equal(ids.length, 2);
    const u = await post('/resource/tree-cnsu.json', [
      { ':id': ids[0], species: 'Red Oak' },
      { ':id': ids[1], ':deleted': true },
      { ':id': 'row-zzzz~zzzz~zzzz', species: 'x' },
    ]);
    assert.deepEqual(u.body, { 'By RowIdentifier': 0, 'Rows Updated': 1, 'Rows Deleted': 1, 'By SID': 3, 'Rows Created': 0, Errors: 1 });
    assert.equal((await row('tree-cnsu', ids[0] ?? '')).species, 'Red Oak');
    assert.equal(emu.store.rowCount('tree-cnsu'), 301);
  });

  it('refuses unknown fields and maltyped values with 400 and applies nothing (atomic)', async () => {
    const before = JSON.stringify(emu.store.getRows('bldg-prmt'));
    const unknown = await post('/resource/bldg-prmt.json', [
      { permit_id: 'BP-2025-00001', valuation: 1 },
      { permit_id: 'X', colour: 'red' },
    ]);
    assert.equal(unknown.status, 400);
    assert.equal(unknown.body.errorCode, 'soda.row.column-not-found');
    assert.equal(unknown.body.message, "One or more rows expected column 'colour' which was not found on the dataset");
    assert.equal((unknown.body.data as Body).value, 'colour');
    for (const [field, value, expected] of [
      ['valuation', 'twelve', 'number'],
      ['issued_date', '31/31/2020', 'floating_timestamp'],
      ['is_residential', 'maybe', 'boolean'],
      ['location', { lat: 1 }, 'point'],
      ['address', { a: 1 }, 'text'],
    ] as const) {
      const r = await post('/resource/bldg-prmt.json', [
        { permit_id: 'BP-2025-00001', valuation: 7 },
        { permit_id: 'BP-2025-00009', [field]: value },
      ]);
      assert.equal(r.status, 400, field);
      assert.equal(r.body.errorCode, 'soda.column.maltyped');
      const data = r.body.data as Body;
      assert.equal(data.field, field);
      assert.equal(data.expected, expected);
      assert.deepEqual(data.got, value);
      assert.match(String(r.body.message), new RegExp(`^Column is maltyped; for field '${field}' we expected '${expected}' but got`));
    }
    const noKey = await post('/resource/bldg-prmt.json', [{ address: 'no key' }]);
    assert.equal(noKey.status, 400);
    assert.equal(noKey.body.errorCode, 'soda.row.primary-key-nonexistent-or-null');
    const delNoKey = await post('/resource/bldg-prmt.json', [{ ':deleted': true }]);
    assert.equal(delNoKey.body.errorCode, 'soda.row.delete-without-primary-key');
    const notObj = await post('/resource/bldg-prmt.json', [42]);
    assert.equal(notObj.body.errorCode, 'soda.row.upsert-row-not-an-object');
    assert.equal(JSON.stringify(emu.store.getRows('bldg-prmt')), before, 'nothing applied');
    assert.equal(emu.store.appliedWrites.length, 0);
  });

  it('rejects malformed JSON, wrong bodies and content types', async () => {
    const bad = await call<Body>(emu.url, '/resource/bldg-prmt.json', {
      method: 'POST',
      headers: { authorization: PUBLISHER_AUTH, 'content-type': 'application/json' },
      body: '[{"permit_id": "x",\n  oops}]',
    });
    assert.equal(bad.status, 400);
    assert.equal(bad.body.errorCode, 'req.body.malformed-json');
    assert.equal((bad.body.data as Body).row, 2);
    assert.equal((bad.body.data as Body).column, 3);
    const notArray = await put('/resource/bldg-prmt.json', { permit_id: 'x' });
    assert.equal(notArray.status, 400);
    assert.deepEqual(notArray.body.data, { expected: 'array' });
    const xml = await call<Body>(emu.url, '/resource/bldg-prmt.json', {
      method: 'POST',
      headers: { authorization: PUBLISHER_AUTH, 'content-type': 'application/xml' },
      body: '<x/>',
    });
    assert.equal(xml.status, 415);
    assert.equal(xml.body.errorCode, 'req.content-type.not-json');
  });

  it('names the exact line and column of a JSON syntax error, past the first line and after non-ASCII text', async () => {
    const send = (body: string) =>
      call<Body>(emu.url, '/resource/bldg-prmt.json', { method: 'POST', headers: { authorization: PUBLISHER_AUTH, 'content-type': 'application/json' }, body });
    const missingComma = await send('[\n  {"permit_id": "a"},\n  {"permit_id": "b" "valuation": 1}\n]');
    assert.equal(missingComma.status, 400);
    assert.equal(missingComma.body.errorCode, 'req.body.malformed-json');
    assert.deepEqual(missingComma.body.data, { row: 3, column: 21 });
    assert.match(String(missingComma.body.message), /^Malformed JSON at line 3, column 21: Expected ',' or '}' after an object member, found '"'/);
    // Columns count characters as an editor shows them (UTF-16 code units), not bytes: "Straße 🏠" is 9 units, 12 bytes.
    const afterUnicode = await send('[\n  {"permit_id": "a"},\n  {"address": "Straße 🏠", oops}\n]');
    assert.deepEqual(afterUnicode.body.data, { row: 3, column: 28 });
    // An unterminated body points just past its last character.
    const truncated = await send('[\n  {"permit_id": "a"},\n  {"permit_id": "b"');
    assert.deepEqual(truncated.body.data, { row: 3, column: 20 });
    assert.equal(emu.store.appliedWrites.length, 0, 'nothing applied');
  });

  it('accepts a text/csv body whose header holds field names', async () => {
    const csv =
      'permit_id,valuation,issued_date,is_residential,info_url,location,:deleted\nBP-2025-00001,99,03/26/2024 10:38:01 PM,false,Site (https://s.example),"(41.9, -87.7)",\nCSV-1,,2026-01-02,true,,,\nBP-2025-00003,,,,,,true\n';
    const r = await call<UpsertResult>(emu.url, '/resource/bldg-prmt.json', {
      method: 'POST',
      headers: { authorization: PUBLISHER_AUTH, 'content-type': 'text/csv' },
      body: csv,
    });
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { 'By RowIdentifier': 3, 'Rows Updated': 1, 'Rows Deleted': 1, 'By SID': 0, 'Rows Created': 1, Errors: 0 });
    const one = await row('bldg-prmt', 'BP-2025-00001');
    assert.equal(one.valuation, '99');
    assert.equal(one.issued_date, '2024-03-26T22:38:01.000');
    assert.deepEqual(one.info_url, { url: 'https://s.example', description: 'Site' });
    assert.deepEqual(one.location, { type: 'Point', coordinates: [-87.7, 41.9] });
    const fresh = await row('bldg-prmt', 'CSV-1');
    assert.deepEqual(fresh, { permit_id: 'CSV-1', issued_date: '2026-01-02T00:00:00.000', is_residential: true });
    const badCell = await call<Body>(emu.url, '/resource/bldg-prmt.json', {
      method: 'POST',
      headers: { authorization: PUBLISHER_AUTH, 'content-type': 'text/csv' },
      body: 'permit_id,valuation\nA,1\nB,lots\n',
    });
    assert.equal(badCell.status, 400);
    assert.equal(badCell.body.errorCode, 'soda.column.maltyped');
    assert.deepEqual([(badCell.body.data as Body).line, (badCell.body.data as Body).column], [3, 2]);
    const badHeader = await call<Body>(emu.url, '/resource/bldg-prmt.json', {
      method: 'POST',
      headers: { authorization: PUBLISHER_AUTH, 'content-type': 'text/csv' },
      body: 'permit_id,Valuation\nA,1\n',
    });
    assert.equal(badHeader.body.errorCode, 'soda.row.column-not-found');
    assert.equal(emu.store.findRow('bldg-prmt', 'A'), undefined);
  });

  it('replaces all rows atomically with PUT, and [] truncates', async () => {
    const r = await put(
      '/resource/park-othr.json',
      [
        { facility_id: 'F1', name: 'Pool', open: true },
        { facility_id: 'F2', name: 'Rink' },
      ],
      OTHER_AUTH,
    );
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { 'By RowIdentifier': 2, 'Rows Updated': 0, 'Rows Deleted': 0, 'By SID': 0, 'Rows Created': 2, Errors: 0 });
    const rows = (await call<Body[]>(emu.url, '/resource/park-othr.json')).body;
    assert.deepEqual(rows, [
      { facility_id: 'F1', name: 'Pool', open: true },
      { facility_id: 'F2', name: 'Rink' },
    ]);
    const bad = await put('/resource/park-othr.json', [{ facility_id: 'F3' }, { facility_id: 'F4', open: 'perhaps' }], OTHER_AUTH);
    assert.equal(bad.status, 400);
    assert.equal(emu.store.rowCount('park-othr'), 2, 'a failed replace keeps the old rows');
    const csv = await call<UpsertResult>(emu.url, '/resource/park-othr.json', {
      method: 'PUT',
      headers: { authorization: OTHER_AUTH, 'content-type': 'text/csv' },
      body: 'facility_id,name\nC1,Court\n',
    });
    assert.equal(csv.body['Rows Created'], 1);
    assert.equal(emu.store.rowCount('park-othr'), 1);
    const empty = await put('/resource/park-othr.json', [], OTHER_AUTH);
    assert.equal(empty.status, 200);
    assert.deepEqual((await call<Body[]>(emu.url, '/resource/park-othr.json')).body, []);
  });

  it('deletes and upserts single rows by row identifier or :id', async () => {
    const del = await call<unknown>(emu.url, '/resource/bldg-prmt/BP-2025-00007.json', { method: 'DELETE', headers: { authorization: PUBLISHER_AUTH } });
    assert.equal(del.status, 200);
    assert.deepEqual(del.body, [{ typ: 'delete', id: 'BP-2025-00007' }]);
    assert.equal((await call(emu.url, '/resource/bldg-prmt/BP-2025-00007.json')).status, 404);
    const again = await call<Body>(emu.url, '/resource/bldg-prmt/BP-2025-00007.json', { method: 'DELETE', headers: { authorization: PUBLISHER_AUTH } });
    assert.equal(again.status, 404);
    assert.equal(again.body.errorCode, 'soda.row.not-found');
    const sid = emu.store.getRows('tree-cnsu')[0]?.id ?? '';
    assert.equal((await call(emu.url, `/resource/tree-cnsu/${sid}.json`, { method: 'DELETE', headers: { authorization: PUBLISHER_AUTH } })).status, 200);
    assert.equal(emu.store.rowCount('tree-cnsu'), 299);
    const up = await post('/resource/bldg-prmt/BP-2025-00008.json', { address: '8 Single St' });
    assert.equal(up.status, 200, up.text);
    assert.equal(up.body.address, '8 Single St');
    assert.equal(up.body.permit_id, 'BP-2025-00008');
    assert.match(String(up.body[':id']), /^row-/);
    assert.match(String(up.body[':updated_at']), /Z$/);
  });

  it('bumps rowsUpdatedAt, viewLastModified and :updated_at on writes', async () => {
    const before = (await call<Body>(emu.url, '/api/views/crsh-larg.json')).body;
    assert.equal(before.rowsUpdatedAt, SAMPLE.createdAt);
    const t0 = Date.now();
    await post('/resource/crsh-larg.json', [{ crash_id: 5, injuries: 9 }]);
    const after = (await call<Body>(emu.url, '/api/views/crsh-larg.json')).body;
    assert.ok(Number(after.rowsUpdatedAt) >= Math.floor(t0 / 1000));
    assert.ok(Number(after.viewLastModified) >= Math.floor(t0 / 1000));
    const r = (await call<Body[]>(emu.url, '/resource/crsh-larg.json?crash_id=5&$select=:updated_at,:created_at,injuries')).body[0] ?? {};
    assert.equal(r.injuries, '9');
    assert.ok(Date.parse(String(r[':updated_at'])) >= Math.floor(t0 / 1000) * 1000);
    assert.ok(Date.parse(String(r[':created_at'])) < Date.parse(String(r[':updated_at'])));
  });

  it('enforces write permissions: 403 when not logged in, for viewers and for non-owners', async () => {
    const anon = await call<Body>(emu.url, '/resource/bldg-prmt.json', { method: 'POST', json: [] });
    assert.equal(anon.status, 403);
    assert.equal(anon.body.code, 'authentication_required');
    for (const [auth, path] of [
      [VIEWER_AUTH, '/resource/bldg-prmt.json'],
      [PUBLISHER_AUTH, '/resource/park-othr.json'],
      [KEY_AUTH, '/resource/park-othr.json'],
    ] as const) {
      const r = await post(path, [{}], auth);
      assert.equal(r.status, 403, path);
      assert.equal(r.body.code, 'permission_denied');
      assert.equal(r.body.error, true);
    }
    assert.equal(
      (await call(emu.url, '/resource/park-othr.json?$limit=1', { headers: { authorization: PUBLISHER_AUTH } })).status,
      200,
      'the publisher may read it',
    );
    assert.equal((await post('/resource/bldg-prmt.json', [], KEY_AUTH)).status, 200, 'API key of the owner may write');
    const wrongPass = await post('/resource/bldg-prmt.json', [], 'Basic ' + Buffer.from('publisher@example.org:nope').toString('base64'));
    assert.equal(wrongPass.status, 401);
  });

  it('records applied writes with request ids and row counts', async () => {
    await call(emu.url, '/resource/bldg-prmt.json', {
      method: 'POST',
      headers: { authorization: PUBLISHER_AUTH, 'x-socrata-requestid': 'req-one' },
      json: [{ permit_id: 'L-1' }, { permit_id: 'L-2' }],
    });
    await put('/resource/bdgt-priv.json', []);
    const log = emu.store.appliedWrites;
    assert.equal(log.length, 2);
    assert.deepEqual(
      [log[0]?.requestId, log[0]?.dataset, log[0]?.kind, log[0]?.rowsIn, log[0]?.result['Rows Created']],
      ['req-one', 'bldg-prmt', 'upsert', 2, 2],
    );
    assert.deepEqual([log[1]?.dataset, log[1]?.kind, log[1]?.rowsIn, log[1]?.source], ['bdgt-priv', 'replace', 0, 'resource']);
  });

  it('refuses a body over the limit with 413 req.body.too-large', async () => {
    const small = await startEmulator({ seed: 'sample', bodyLimit: 1000 });
    try {
      const r = await call<Body>(small.url, '/resource/bldg-prmt.json', {
        method: 'POST',
        headers: { authorization: PUBLISHER_AUTH },
        json: Array.from({ length: 100 }, (_, i) => ({ permit_id: `P${i}` })),
      });
      assert.equal(r.status, 413);
      assert.equal(r.body.errorCode, 'req.body.too-large');
      assert.deepEqual(r.body.data, { limit: 1000 });
      assert.equal(small.store.appliedWrites.length, 0);
    } finally {
      await small.stop();
    }
  });

  it('in sink mode checks and counts upserts without storing them', async () => {
    const sink = await startEmulator({ seed: 'sample', sink: true });
    try {
      const rows = Array.from({ length: 5000 }, (_, i) => ({ permit_id: `S${i}`, valuation: i }));
      const r = await call<UpsertResult>(sink.url, '/resource/bldg-prmt.json', { method: 'POST', headers: { authorization: PUBLISHER_AUTH }, json: rows });
      assert.equal(r.status, 200);
      assert.equal(r.body['Rows Created'], 5000);
      const c = await call<UpsertResult>(sink.url, '/resource/abcd-1234.json', {
        method: 'POST',
        headers: { authorization: PUBLISHER_AUTH, 'content-type': 'text/csv' },
        body: 'a,b\n1,2\n3,4\n',
      });
      assert.equal(c.body['Rows Created'], 2);
      assert.deepEqual([sink.store.sinkCounters.requests, sink.store.sinkCounters.rows], [2, 5002]);
      assert.ok(sink.store.sinkCounters.bytes > 0);
      assert.equal(sink.store.rowCount('bldg-prmt'), 500);
      assert.equal(sink.store.findRow('bldg-prmt', 'S1'), undefined);
    } finally {
      await sink.stop();
    }
  });
});
