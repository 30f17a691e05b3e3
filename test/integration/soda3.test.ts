// SODA3 (`/api/v3/views/{4x4}/query.json` and `export.csv`): the emulator's answers and errors, and the
// engine's queries through it, with the fall back to SODA 2.1 against an emulator started with `soda: 2`.
import { strict as assert } from 'node:assert';
import { after, before, beforeEach, describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { SodaClient } from '../../src/soda/client';
import { SodaError } from '../../src/soda/errors';
import { PassThrough } from 'node:stream';
import { exportCsv, forgetQueryApis, queryApiOf, runQuery, CsvRecordCounter, saveQueryCsv, csvHeaderCells } from '../../src/soda/query';
import { type RunningEmulator, SAMPLE, startEmulator } from '../emulator/index';
import { call, KEY_AUTH } from '../emulator/testing';

let v3: RunningEmulator;
let v2: RunningEmulator;
const clients: SodaClient[] = [];

function client(emu: RunningEmulator, who: 'key' | 'token' | 'anonymous' = 'key'): SodaClient {
  const c = new SodaClient({
    domain: emu.domain,
    ...(who === 'key' ? { auth: { type: 'apiKey' as const, keyId: SAMPLE.apiKey.keyId, keySecret: SAMPLE.apiKey.keySecret } } : {}),
    ...(who === 'token' ? { appToken: SAMPLE.appToken } : {}),
    retry: { maxAttempts: 1 },
  });
  clients.push(c);
  return c;
}

async function text(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.from(c as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

before(async () => {
  v3 = await startEmulator({ port: 0, seed: 'sample' });
  v2 = await startEmulator({ port: 0, seed: 'sample', soda: 2 });
});

after(async () => {
  for (const c of clients) await c.close();
  await v3.stop();
  await v2.stop();
});

beforeEach(() => forgetQueryApis());

const Q = '/api/v3/views/bldg-prmt/query.json';

describe('emulator: SODA3 query.json', () => {
  it('answers a JSON array of rows for {query}; the same rows as /resource', async () => {
    const stmt = 'SELECT permit_id, valuation WHERE valuation > 0 ORDER BY permit_id';
    const r = await call<Record<string, unknown>[]>(v3.url, Q, {
      method: 'POST',
      headers: { authorization: KEY_AUTH },
      json: { query: stmt, includeSynthetic: false },
    });
    assert.equal(r.status, 200, r.text);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    const v21 = await call<Record<string, unknown>[]>(v3.url, `/resource/bldg-prmt.json?$query=${encodeURIComponent(`${stmt} LIMIT 100000`)}`, {
      headers: { authorization: KEY_AUTH },
    });
    assert.ok(r.body.length > 10);
    assert.deepEqual(r.body, v21.body);
  });

  it('has no implicit 1000-row limit (SODA 2.1 has one)', async () => {
    const big = await call<unknown[]>(v3.url, '/api/v3/views/crsh-larg/query.json', {
      method: 'POST',
      headers: { authorization: KEY_AUTH },
      json: { query: 'SELECT crash_id' },
    });
    assert.equal(big.status, 200, big.text);
    assert.ok(big.body.length > 1000, `${big.body.length} rows`);
    const v21 = await call<unknown[]>(v3.url, '/resource/crsh-larg.json?$select=crash_id', { headers: { authorization: KEY_AUTH } });
    assert.equal(v21.body.length, 1000);
  });

  it('page {pageNumber, pageSize} cuts pages of the result, ordered by :id when the query has no order; the pages together are the result', async () => {
    const all = await call<Record<string, unknown>[]>(v3.url, Q, {
      method: 'POST',
      headers: { authorization: KEY_AUTH },
      json: { query: 'SELECT permit_id ORDER BY :id', includeSynthetic: false },
    });
    const pages: Record<string, unknown>[] = [];
    for (let n = 1; n <= 200; n++) {
      const r = await call<Record<string, unknown>[]>(v3.url, Q, {
        method: 'POST',
        headers: { authorization: KEY_AUTH },
        json: { query: 'SELECT permit_id', page: { pageNumber: n, pageSize: 7 }, includeSynthetic: false },
      });
      assert.equal(r.status, 200, r.text);
      assert.ok(r.body.length <= 7);
      pages.push(...r.body);
      if (r.body.length < 7) break;
    }
    assert.deepEqual(pages, all.body);
    // A page applies after the statement's own LIMIT: page 2 of a 3-row result is empty.
    const limited = await call<unknown[]>(v3.url, Q, {
      method: 'POST',
      headers: { authorization: KEY_AUTH },
      json: { query: 'SELECT permit_id LIMIT 3', page: { pageNumber: 2, pageSize: 3 } },
    });
    assert.deepEqual(limited.body, []);
  });

  it('includeSynthetic adds :id, :created_at and :updated_at to SELECT * (default true)', async () => {
    const withSys = await call<Record<string, unknown>[]>(v3.url, Q, {
      method: 'POST',
      headers: { authorization: KEY_AUTH },
      json: { query: 'SELECT * LIMIT 1' },
    });
    assert.ok(':id' in (withSys.body[0] ?? {}) && ':updated_at' in (withSys.body[0] ?? {}), JSON.stringify(withSys.body[0]));
    const without = await call<Record<string, unknown>[]>(v3.url, Q, {
      method: 'POST',
      headers: { authorization: KEY_AUTH },
      json: { query: 'SELECT * LIMIT 1', includeSynthetic: false },
    });
    assert.ok(!Object.keys(without.body[0] ?? {}).some((k) => k.startsWith(':')));
    assert.ok('permit_id' in (without.body[0] ?? {}));
  });

  it('refuses a request with neither credentials nor an app token (403); an app token alone is enough', async () => {
    const anon = await call<Record<string, unknown>>(v3.url, Q, { method: 'POST', json: { query: 'SELECT *' } });
    assert.equal(anon.status, 403);
    assert.equal(anon.body.error, true);
    assert.equal(anon.body.code, 'authentication_required');
    assert.match(String(anon.body.message), /application token/);
    const token = await call<unknown[]>(v3.url, Q, {
      method: 'POST',
      headers: { 'x-app-token': SAMPLE.appToken },
      json: { query: 'SELECT permit_id LIMIT 2' },
    });
    assert.equal(token.status, 200, token.text);
    assert.equal(token.body.length, 2);
  });

  it('errors use the core envelope {code, error, message, data}: bad SoQL, bad page, bad JSON, missing dataset, wrong method', async () => {
    const soql = await call<Record<string, unknown>>(v3.url, Q, {
      method: 'POST',
      headers: { authorization: KEY_AUTH },
      json: { query: 'SELECT no_such_column' },
    });
    assert.equal(soql.status, 400);
    assert.deepEqual(Object.keys(soql.body).sort(), ['code', 'data', 'error', 'message']);
    assert.equal(soql.body.code, 'query.soql.no-such-column');
    const page = await call<Record<string, unknown>>(v3.url, Q, {
      method: 'POST',
      headers: { authorization: KEY_AUTH },
      json: { query: 'SELECT *', page: { pageNumber: 0, pageSize: 10 } },
    });
    assert.equal(page.status, 400);
    assert.equal(page.body.error, true);
    assert.match(String(page.body.message), /page\.pageNumber/);
    const unknown = await call<Record<string, unknown>>(v3.url, Q, {
      method: 'POST',
      headers: { authorization: KEY_AUTH },
      json: { query: 'SELECT *', limit: 5 },
    });
    assert.equal(unknown.status, 400);
    assert.match(String(unknown.body.message), /limit/);
    const missing = await call<Record<string, unknown>>(v3.url, '/api/v3/views/zzzz-9999/query.json', {
      method: 'POST',
      headers: { authorization: KEY_AUTH },
      json: { query: 'SELECT *' },
    });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error, true);
    const put = await call<Record<string, unknown>>(v3.url, Q, { method: 'PUT', headers: { authorization: KEY_AUTH }, json: {} });
    assert.equal(put.status, 405);
    assert.equal(put.body.error, true);
  });

  it('a private dataset is not found for another user, and readable by its owner', async () => {
    const owner = await call<unknown[]>(v3.url, '/api/v3/views/bdgt-priv/query.json', {
      method: 'POST',
      headers: { authorization: KEY_AUTH },
      json: { query: 'SELECT * LIMIT 1' },
    });
    assert.equal(owner.status, 200, owner.text);
    const token = await call<Record<string, unknown>>(v3.url, '/api/v3/views/bdgt-priv/query.json', {
      method: 'POST',
      headers: { 'x-app-token': SAMPLE.appToken },
      json: { query: 'SELECT *' },
    });
    assert.equal(token.status, 404);
  });
});

describe('emulator: SODA3 export.csv', () => {
  it('exports every row of the query as CSV (GET ?query= or POST {query}); page is refused', async () => {
    const get = await call(v3.url, `/api/v3/views/crsh-larg/export.csv?query=${encodeURIComponent('SELECT crash_id')}`, {
      headers: { authorization: KEY_AUTH },
    });
    assert.equal(get.status, 200, get.text);
    assert.match(get.headers.get('content-type') ?? '', /^text\/csv/);
    const rows = parse<Record<string, string>>(get.text, { columns: true });
    assert.ok(rows.length > 1000);
    assert.deepEqual(Object.keys(rows[0] ?? {}), ['crash_id']);
    const post = await call(v3.url, '/api/v3/views/crsh-larg/export.csv', {
      method: 'POST',
      headers: { authorization: KEY_AUTH },
      json: { query: 'SELECT crash_id' },
    });
    assert.equal(post.text, get.text);
    const paged = await call<Record<string, unknown>>(v3.url, '/api/v3/views/crsh-larg/export.csv', {
      method: 'POST',
      headers: { authorization: KEY_AUTH },
      json: { query: 'SELECT crash_id', page: { pageNumber: 1, pageSize: 5 } },
    });
    assert.equal(paged.status, 400);
    assert.match(String(paged.body.message), /page is not available on \/export/);
  });

  it('an emulator started with soda: 2 answers the v3 paths 404, as a portal without SODA3', async () => {
    const q = await call<Record<string, unknown>>(v2.url, Q, { method: 'POST', headers: { authorization: KEY_AUTH }, json: { query: 'SELECT *' } });
    assert.equal(q.status, 404);
    const e = await call(v2.url, '/api/v3/views/bldg-prmt/export.csv', { headers: { authorization: KEY_AUTH } });
    assert.equal(e.status, 404);
    const r = await call<unknown[]>(v2.url, '/resource/bldg-prmt.json?$limit=1', { headers: { authorization: KEY_AUTH } });
    assert.equal(r.status, 200);
  });
});

describe('emulator: switching SODA3 off and on at runtime (loopback test control)', () => {
  it('POST /__emulator/soda {"soda": 2} makes the v3 paths 404 until {"soda": 3}; bad bodies get 400', async () => {
    const emu = await startEmulator({ port: 0, seed: 'sample' });
    try {
      const query = (): Promise<{ status: number }> =>
        call(emu.url, Q, { method: 'POST', headers: { authorization: KEY_AUTH }, json: { query: 'SELECT permit_id LIMIT 1' } });
      assert.equal((await query()).status, 200);
      assert.deepEqual((await call(emu.url, '/__emulator/soda', { method: 'POST', json: { soda: 2 } })).body, { soda: 2 });
      assert.equal((await query()).status, 404);
      assert.deepEqual((await call(emu.url, '/__emulator/soda')).body, { soda: 2 });
      assert.equal((await call(emu.url, '/__emulator/soda', { method: 'POST', json: { soda: 4 } })).status, 400);
      emu.setSoda(3);
      assert.equal((await query()).status, 200);
    } finally {
      await emu.stop();
    }
  });
});

describe('engine: runQuery and exportCsv', () => {
  it('pages through SODA3 (POST query.json with page) and says whether a next page may exist', async () => {
    const c = client(v3);
    const first = await runQuery(c, 'bldg-prmt', 'SELECT permit_id', { page: { pageNumber: 1, pageSize: 7 } });
    assert.equal(first.api, 'soda3');
    assert.equal(first.rows.length, 7);
    assert.equal(first.hasNext, true);
    const ids: unknown[] = [];
    for (let n = 1; n <= 200; n++) {
      const p = await runQuery(c, 'bldg-prmt', 'SELECT permit_id', { page: { pageNumber: n, pageSize: 7 } });
      ids.push(...p.rows.map((r) => r.permit_id));
      if (!p.hasNext) break;
    }
    const all = await c.rows('bldg-prmt', { select: 'permit_id', order: ':id', limit: 10000 });
    assert.deepEqual(
      ids,
      all.rows.map((r) => r.permit_id),
    );
    assert.equal(queryApiOf(c), 'soda3');
  });

  it('falls back to SODA 2.1 on a portal without SODA3, remembers the domain and tells once', async () => {
    const c = client(v2);
    const notices: string[] = [];
    const onNotice = (m: string): void => void notices.push(m);
    const first = await runQuery(c, 'bldg-prmt', 'SELECT permit_id', { page: { pageNumber: 1, pageSize: 7 }, onNotice });
    assert.equal(first.api, 'soda2.1');
    assert.equal(first.rows.length, 7);
    assert.equal(first.hasNext, true);
    const second = await runQuery(c, 'bldg-prmt', 'SELECT permit_id', { page: { pageNumber: 2, pageSize: 7 }, onNotice });
    assert.equal(second.api, 'soda2.1');
    assert.notDeepEqual(second.rows, first.rows);
    assert.equal(queryApiOf(c), 'soda2.1');
    assert.equal(notices.length, 1, notices.join('\n'));
    assert.match(notices[0] ?? '', /has no SODA3 query API \(SODA3 query answered 404\).*SODA 2\.1/);
    // The same pages as SODA3 gives on the other emulator (same seed).
    const v3First = await runQuery(client(v3), 'bldg-prmt', 'SELECT permit_id', { page: { pageNumber: 2, pageSize: 7 } });
    assert.deepEqual(second.rows, v3First.rows);
  });

  it('a missing dataset is an error, not a reason to give up SODA3', async () => {
    const c = client(v3);
    await assert.rejects(runQuery(c, 'zzzz-9999', 'SELECT *'), (e: unknown) => e instanceof SodaError && e.kind === 'not-found');
    assert.equal(queryApiOf(c), 'soda3');
  });

  it("bad SoQL reaches the user with the server's message (no fallback)", async () => {
    const c = client(v3);
    // A query is a read even though SODA3 sends it with POST: its failure says nothing about changes applied.
    await assert.rejects(
      runQuery(c, 'bldg-prmt', 'SELECT no_such_column'),
      (e: unknown) =>
        e instanceof SodaError && e.kind === 'client' && /no_such_column/.test(e.message) && !/applied/.test(e.message) && e.outcome === undefined,
    );
    assert.equal(queryApiOf(c), 'soda3');
  });

  it('with neither credentials nor an app token, says so before sending anything', async () => {
    const sent: string[] = [];
    const c = new SodaClient({ domain: v3.domain, retry: { maxAttempts: 1 }, onLog: (e) => void sent.push(e.url) });
    clients.push(c);
    await assert.rejects(
      runQuery(c, 'bldg-prmt', 'SELECT *'),
      (e: unknown) => e instanceof SodaError && e.kind === 'invalid-input' && /application token|app token/.test(e.message),
    );
    await assert.rejects(exportCsv(c, 'bldg-prmt', 'SELECT *'), (e: unknown) => e instanceof SodaError && e.kind === 'invalid-input');
    assert.deepEqual(sent, []);
    // An app token alone is enough.
    const t = await runQuery(client(v3, 'token'), 'bldg-prmt', 'SELECT permit_id LIMIT 2');
    assert.equal(t.rows.length, 2);
  });

  it('exports every row through SODA3, and through SODA 2.1 (past its 1000-row default) on a portal without it', async () => {
    // Each body is read before the next request, so that a failure leaves no answer unread (close() would wait for it).
    const a = await exportCsv(client(v3), 'crsh-larg', 'SELECT crash_id');
    const ta = await text(a.body);
    const b = await exportCsv(client(v2), 'crsh-larg', 'SELECT crash_id');
    const tb = await text(b.body);
    assert.equal(a.api, 'soda3');
    assert.equal(b.api, 'soda2.1');
    const rows = parse<Record<string, string>>(ta, { columns: true });
    assert.ok(rows.length > 1000, `${rows.length} rows`);
    // The same rows; SODA 2.1 gets them ordered by :id (the fallback adds ORDER BY :id), SODA3 in storage order.
    const lines = (t: string): string[] => t.trimEnd().split('\n');
    assert.deepEqual(lines(tb).slice(1).sort(), lines(ta).slice(1).sort());
    assert.equal(lines(tb)[0], lines(ta)[0]);
    const counter = new CsvRecordCounter();
    for (let i = 0; i < ta.length; i += 1000) counter.push(ta.slice(i, i + 1000));
    assert.equal(counter.total(), rows.length + 1);
  });

  it("saveQueryCsv writes the portal's CSV to a stream with progress, on SODA3 and on SODA 2.1", async () => {
    for (const emu of [v3, v2]) {
      const out = new PassThrough();
      const chunks: Buffer[] = [];
      out.on('data', (c: Buffer) => chunks.push(c));
      const progress: number[] = [];
      const r = await saveQueryCsv(client(emu), 'crsh-larg', 'SELECT crash_id, crash_date', out, { onProgress: (n) => progress.push(n) });
      out.end();
      const records = parse<Record<string, string>>(Buffer.concat(chunks).toString('utf8'), { columns: true });
      assert.equal(r.api, emu === v3 ? 'soda3' : 'soda2.1');
      assert.equal(r.rows, records.length);
      assert.ok(r.rows > 1000);
      assert.deepEqual(r.columns, ['crash_id', 'crash_date']);
      assert.ok(progress.length > 1, 'progress reported as data arrives');
      assert.ok((progress.at(-1) ?? 0) >= r.rows - 1);
    }
  });

  it('counts CSV records with quoted line breaks right, and reads header cells', () => {
    assert.deepEqual(csvHeaderCells('"a","b ""x""",c\r'), ['a', 'b "x"', 'c']);
    const counter = new CsvRecordCounter();
    counter.push('"a","b"\n"1","line\nbreak"\n"2","x"');
    assert.equal(counter.total(), 3);
  });

  it('saveQueryCsv stops when cancelled (kind cancelled)', async () => {
    const abort = new AbortController();
    const out = new PassThrough();
    out.resume();
    let seen = 0;
    const onProgress = (n: number): void => {
      seen = n;
      if (n >= 1000) abort.abort();
    };
    await assert.rejects(
      saveQueryCsv(client(v3), 'crsh-larg', 'SELECT *', out, { signal: abort.signal, onProgress }),
      (e: unknown) => e instanceof SodaError && e.kind === 'cancelled',
    );
    assert.ok(seen >= 1000);
  });
});
