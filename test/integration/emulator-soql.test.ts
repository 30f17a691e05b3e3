// Emulator: reading /resource/{4x4}.json|csv with SoQL, value encodings, headers and SoQL errors, over HTTP.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startEmulator, type RunningEmulator } from '../emulator/index';
import { PUBLISHER_AUTH, call } from '../emulator/testing';

type Rows = Record<string, unknown>[];

describe('emulator: SoQL reads', () => {
  let emu: RunningEmulator;
  const q = async (path: string, headers: Record<string, string> = {}) => call<Rows>(emu.url, path, { headers });
  const qs = (params: Record<string, string>): string => new URLSearchParams(params).toString();

  before(async () => {
    emu = await startEmulator({ seed: 'sample' });
  });
  after(async () => {
    await emu.stop();
  });

  it('encodes values as Socrata does and omits null keys', async () => {
    const r = await q('/resource/bldg-prmt.json?$limit=50');
    assert.equal(r.status, 200);
    assert.equal(r.body.length, 50);
    const row = r.body[0] ?? {};
    assert.equal(typeof row.valuation, 'string');
    assert.match(String(row.valuation), /^\d+(\.\d+)?$/);
    assert.match(String(row.issued_date), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}$/);
    assert.equal(typeof row.is_residential, 'boolean');
    assert.deepEqual(Object.keys(row.info_url as object).sort(), ['description', 'url']);
    const loc = row.location as { type: string; coordinates: number[] };
    assert.equal(loc.type, 'Point');
    assert.equal(loc.coordinates.length, 2);
    assert.ok((loc.coordinates[0] ?? 0) < 0, 'longitude first');
    // Row 25 of the sample has no info_url, row 40 no valuation: the keys are absent, not null.
    const r25 = r.body[24] ?? {};
    assert.equal(r25.permit_id, 'BP-2025-00025');
    assert.ok(!('info_url' in r25));
    assert.ok(!('valuation' in (r.body[39] ?? {})));
    assert.ok(!(':id' in row), 'system fields only when selected');
    assert.equal(
      r.headers.get('x-soda2-fields'),
      JSON.stringify(['permit_id', 'address', 'valuation', 'issued_date', 'is_residential', 'info_url', 'location']),
    );
    assert.equal(r.headers.get('x-soda2-types'), JSON.stringify(['text', 'text', 'number', 'floating_timestamp', 'boolean', 'url', 'point']));
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  });

  it('is deterministic: the sample rows are the same on every start', async () => {
    const other = await startEmulator({ seed: 'sample' });
    try {
      const a = await q('/resource/crsh-larg.json?$order=crash_id&$offset=59990');
      const b = await call<Rows>(other.url, '/resource/crsh-larg.json?$order=crash_id&$offset=59990');
      assert.deepEqual(a.body, b.body);
      assert.equal(a.body.length, 10);
    } finally {
      await other.stop();
    }
  });

  it('defaults $limit to 1000 and pages with $limit/$offset through 60 000 rows', async () => {
    const d = await q('/resource/crsh-larg.json');
    assert.equal(d.body.length, 1000);
    const count = await q('/resource/crsh-larg.json?$select=count(*)');
    assert.deepEqual(count.body, [{ count: '60000' }]);
    const last = await q('/resource/crsh-larg.json?$order=crash_id&$limit=50000&$offset=50000');
    assert.equal(last.body.length, 10000);
    assert.equal(last.body[0]?.crash_id, '50001');
    assert.equal(last.body.at(-1)?.crash_id, '60000');
  });

  it('supports $select with aliases, aggregates, $group, $having and several $order keys', async () => {
    const r = await q(
      `/resource/crsh-larg.json?${qs({ $select: 'severity, count(*) AS n, sum(injuries), min(crash_id) as first, max(crash_id)', $group: 'severity', $order: 'n DESC' })}`,
    );
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(JSON.parse(r.headers.get('x-soda2-fields') ?? ''), ['severity', 'n', 'sum_injuries', 'first', 'max_crash_id']);
    assert.deepEqual(JSON.parse(r.headers.get('x-soda2-types') ?? ''), ['text', 'number', 'number', 'number', 'number']);
    const counts = r.body.map((x) => Number(x.n));
    assert.deepEqual(
      [...counts].sort((a, b) => b - a),
      counts,
    );
    assert.equal(
      counts.reduce((a, b) => a + b, 0),
      60000,
    );
    // Cross-check one group against a plain filter.
    const minor = r.body.find((x) => x.severity === 'minor');
    const viaWhere = await q(`/resource/crsh-larg.json?${qs({ $select: 'count(*)', $where: "severity = 'minor'" })}`);
    assert.equal(viaWhere.body[0]?.count, minor?.n);
    const having = await q(`/resource/crsh-larg.json?${qs({ $select: 'severity, count(*) AS n', $group: 'severity', $having: 'n > 10000' })}`);
    assert.ok(having.body.length >= 1 && having.body.every((x) => Number(x.n) > 10000));
    const avg = await q(`/resource/tree-cnsu.json?${qs({ $select: 'avg(diameter_in) as a, sum(diameter_in) as s, count(diameter_in) as c' })}`);
    const a = avg.body[0] ?? {};
    assert.ok(Math.abs(Number(a.a) - Number(a.s) / Number(a.c)) < 1e-6);
    const multi = await q(`/resource/tree-cnsu.json?${qs({ $select: 'species, diameter_in', $order: 'species ASC, diameter_in DESC', $limit: '300' })}`);
    for (let i = 1; i < multi.body.length; i++) {
      const p = multi.body[i - 1] ?? {};
      const c = multi.body[i] ?? {};
      const ps = String(p.species);
      const cs = String(c.species);
      assert.ok(ps < cs || (ps === cs && Number(p.diameter_in) >= Number(c.diameter_in)), `order at ${i}`);
    }
  });

  it('filters with comparisons, and/or/not, is null, in, between, like and starts_with', async () => {
    const check = async (where: string, pred: (r: Record<string, unknown>) => boolean, dataset = 'bldg-prmt'): Promise<number> => {
      const all = await q(`/resource/${dataset}.json?$limit=1000`);
      const got = await q(`/resource/${dataset}.json?${qs({ $where: where, $limit: '1000' })}`);
      assert.equal(got.status, 200, `${where}: ${got.text}`);
      assert.deepEqual(got.body, all.body.filter(pred), where);
      return got.body.length;
    };
    assert.ok((await check('valuation > 1000000', (r) => r.valuation !== undefined && Number(r.valuation) > 1000000)) > 0);
    assert.ok(
      (await check("is_residential = true AND issued_date >= '2025-01-01'", (r) => r.is_residential === true && String(r.issued_date) >= '2025-01-01')) > 0,
    );
    assert.ok(
      (await check('NOT is_residential OR valuation < 5000', (r) => r.is_residential === false || (r.valuation !== undefined && Number(r.valuation) < 5000))) >
        0,
    );
    assert.equal(await check('info_url IS NULL', (r) => r.info_url === undefined), 20);
    assert.equal(await check('valuation IS NOT NULL', (r) => r.valuation !== undefined), 488);
    assert.equal(
      await check("permit_id IN ('BP-2025-00003', 'BP-2025-00007', 'nope')", (r) => ['BP-2025-00003', 'BP-2025-00007'].includes(String(r.permit_id))),
      2,
    );
    assert.equal(await check("permit_id NOT IN ('BP-2025-00003')", (r) => r.permit_id !== 'BP-2025-00003'), 499);
    assert.ok(
      (await check('valuation BETWEEN 10000 AND 500000', (r) => r.valuation !== undefined && Number(r.valuation) >= 10000 && Number(r.valuation) <= 500000)) >
        0,
    );
    assert.ok((await check("address LIKE '%Main St'", (r) => String(r.address).endsWith('Main St'))) > 0);
    assert.ok((await check("starts_with(address, '12')", (r) => String(r.address).startsWith('12'))) > 0);
    assert.ok(
      (await check(
        "(species = 'Ginkgo' or species = 'Elm') and healthy",
        (r) => (r.species === 'Ginkgo' || r.species === 'Elm') && r.healthy === true,
        'tree-cnsu',
      )) > 0,
    );
  });

  it('supports simple column=value filters, $q full-text search and $query', async () => {
    const simple = await q('/resource/bldg-prmt.json?permit_id=BP-2025-00042');
    assert.equal(simple.body.length, 1);
    assert.equal(simple.body[0]?.permit_id, 'BP-2025-00042');
    const num = await q('/resource/crsh-larg.json?crash_id=77');
    assert.equal(num.body[0]?.crash_id, '77');
    const search = await q('/resource/tree-cnsu.json?$q=ginkgo&$limit=1000');
    assert.ok(search.body.length > 0 && search.body.every((r) => r.species === 'Ginkgo'));
    const query = await q(
      `/resource/bldg-prmt.json?${qs({ $query: 'SELECT permit_id, valuation WHERE valuation > 100000 ORDER BY valuation DESC LIMIT 3 OFFSET 1' })}`,
    );
    assert.equal(query.status, 200, query.text);
    assert.equal(query.body.length, 3);
    assert.deepEqual(Object.keys(query.body[0] ?? {}), ['permit_id', 'valuation']);
    const top = await q(
      `/resource/bldg-prmt.json?${qs({ $select: 'permit_id, valuation', $where: 'valuation > 100000', $order: 'valuation DESC', $limit: '4' })}`,
    );
    assert.deepEqual(query.body, top.body.slice(1));
  });

  it('returns system fields only when selected', async () => {
    const r = await q(`/resource/tree-cnsu.json?${qs({ $select: ':id, :created_at, :updated_at, species', $limit: '2' })}`);
    assert.equal(r.status, 200, r.text);
    const row = r.body[0] ?? {};
    assert.match(String(row[':id']), /^row-[a-z2-9]{4}~[a-z2-9]{4}~[a-z2-9]{4}$/);
    assert.match(String(row[':created_at']), /Z$/);
    assert.deepEqual(JSON.parse(r.headers.get('x-soda2-types') ?? ''), ['row_identifier', 'fixed_timestamp', 'fixed_timestamp', 'text']);
    const star = await q(`/resource/tree-cnsu.json?${qs({ $select: ':*, *', $limit: '1' })}`);
    assert.ok(':id' in (star.body[0] ?? {}) && 'species' in (star.body[0] ?? {}));
    const byId = await q(`/resource/tree-cnsu/${encodeURIComponent(String(row[':id']))}.json`);
    assert.equal(byId.status, 200);
    assert.equal((byId.body as unknown as Record<string, unknown>).species, row.species);
  });

  it('serves CSV with quoted cells, empty nulls and an optional BOM', async () => {
    const res = await fetch(`${emu.url}/resource/bldg-prmt.csv?$limit=25&$select=permit_id,info_url,valuation`);
    assert.match(res.headers.get('content-type') ?? '', /^text\/csv/);
    const lines = (await res.text()).trimEnd().split('\n');
    assert.equal(lines[0], '"permit_id","info_url","valuation"');
    assert.equal(lines.length, 26);
    assert.match(lines[1] ?? '', /^"BP-2025-00001","Permit BP-2025-00001 \(https:\/\/permits\.example\.org\/permits\/BP-2025-00001\)","[\d.]+"$/);
    assert.match(lines[25] ?? '', /^"BP-2025-00025",,"[\d.]+"$/);
    const bom = await (await fetch(`${emu.url}/resource/bldg-prmt.csv?$limit=1&$$bom=true`)).arrayBuffer();
    assert.deepEqual([...new Uint8Array(bom).slice(0, 3)], [0xef, 0xbb, 0xbf]);
  });

  it('sends Last-Modified and ETag and answers 304 to a matching If-None-Match', async () => {
    const r = await q('/resource/tree-cnsu.json?$limit=1');
    const etag = r.headers.get('etag');
    assert.ok(etag);
    assert.equal(r.headers.get('last-modified'), new Date(1767225600 * 1000).toUTCString());
    const again = await fetch(`${emu.url}/resource/tree-cnsu.json?$limit=1`, { headers: { 'if-none-match': etag } });
    assert.equal(again.status, 304);
    const otherQuery = await fetch(`${emu.url}/resource/tree-cnsu.json?$limit=2`, { headers: { 'if-none-match': etag } });
    assert.equal(otherQuery.status, 200);
    await call(emu.url, '/resource/tree-cnsu.json', { method: 'POST', headers: { authorization: PUBLISHER_AUTH }, json: [{ species: 'Oak' }] });
    const changed = await fetch(`${emu.url}/resource/tree-cnsu.json?$limit=1`, { headers: { 'if-none-match': etag } });
    assert.equal(changed.status, 200);
    assert.notEqual(changed.headers.get('etag'), etag);
  });

  it('answers bad SoQL with 400 and the soda-fountain envelope', async () => {
    const cases: [string, string, Record<string, unknown>][] = [
      [`$where=${encodeURIComponent('nosuchcolumn = 1')}`, 'query.soql.no-such-column', { column: 'nosuchcolumn', position: { row: 1, column: 1 } }],
      [`$select=${encodeURIComponent('permit_id, bogus')}`, 'query.soql.no-such-column', { column: 'bogus', position: { row: 1, column: 12 } }],
      ['bogus=1', 'query.soql.no-such-column', { column: 'bogus' }],
      [`$where=${encodeURIComponent("permit_id = 'oops")}`, 'query.soql.unterminated-string', {}],
      [`$where=${encodeURIComponent('valuation >')}`, 'query.soql.unexpected-eof', {}],
      [`$where=${encodeURIComponent('valuation > > 1')}`, 'query.soql.bad-parse', {}],
      [`$where=${encodeURIComponent('valuation # 1')}`, 'query.soql.unexpected-character', {}],
      [`$select=${encodeURIComponent('frobnicate(valuation)')}`, 'query.soql.no-such-function', { function: 'frobnicate' }],
      [`$where=${encodeURIComponent("valuation > 'abc'")}`, 'query.soql.type-mismatch', {}],
      [`$select=${encodeURIComponent('sum(address)')}`, 'query.soql.type-mismatch', {}],
      [`$select=${encodeURIComponent('address, count(*)')}`, 'query.soql.column-not-in-group-bys', { column: 'address' }],
      [`$where=${encodeURIComponent('count(*) > 1')}`, 'query.soql.aggregate-in-ungrouped-context', {}],
      [`$select=${encodeURIComponent('permit_id, address as permit_id')}`, 'query.soql.duplicate-alias', {}],
    ];
    for (const [query, code, data] of cases) {
      const r = await call<{ message: string; errorCode: string; data: Record<string, unknown> }>(emu.url, `/resource/bldg-prmt.json?${query}`);
      assert.equal(r.status, 400, query);
      assert.deepEqual(Object.keys(r.body).sort(), ['data', 'errorCode', 'message'], query);
      assert.equal(r.body.errorCode, code, `${query}: ${r.text}`);
      assert.ok(r.body.message.startsWith(`Query coordinator error: ${code}; `), r.body.message);
      assert.equal(r.body.data.dataset, 'bldg-prmt');
      for (const [k, v] of Object.entries(data)) assert.deepEqual(r.body.data[k], v, `${query} data.${k}`);
    }
    const limit = await call<Record<string, unknown>>(emu.url, '/resource/bldg-prmt.json?$limit=-1');
    assert.equal(limit.status, 400);
  });

  it('gets one row by row identifier and answers 404 soda.row.not-found otherwise', async () => {
    const r = await call<Record<string, unknown>>(emu.url, '/resource/bldg-prmt/BP-2025-00010.json');
    assert.equal(r.status, 200);
    assert.equal(r.body.permit_id, 'BP-2025-00010');
    const missing = await call<Record<string, unknown>>(emu.url, '/resource/bldg-prmt/NOPE.json');
    assert.equal(missing.status, 404);
    assert.deepEqual(missing.body, { message: 'Row with identifier NOPE was not found', errorCode: 'soda.row.not-found', data: { value: 'NOPE' } });
  });
});
