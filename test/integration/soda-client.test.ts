// SodaClient endpoints against the local Socrata emulator (real loopback HTTP), plus the catalog's
// 10 000-offset cap against a purpose-built server (the emulator's seed has only a handful of datasets).
import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { request as undiciRequest } from 'undici';
import { type RunningEmulator, SAMPLE, startEmulator } from '../emulator';
import { SodaClient } from '../../src/soda/client';
import { type SodaAuth } from '../../src/soda/http';
import { type Clock, systemClock } from '../../src/soda/retry';
import { type Row } from '../../src/soda/types';
import { rejectsWithSodaError } from '../lib/helpers';

const publisher: SodaAuth = { type: 'basic', email: SAMPLE.users.publisher.email, password: SAMPLE.users.publisher.password };
const viewer: SodaAuth = { type: 'basic', email: SAMPLE.users.viewer.email, password: SAMPLE.users.viewer.password };

let emu: RunningEmulator;
const clients: SodaClient[] = [];
function client(auth: SodaAuth = publisher, extra: Partial<ConstructorParameters<typeof SodaClient>[0] & object> = {}): SodaClient {
  const c = new SodaClient({ domain: emu.domain, auth, appToken: SAMPLE.appToken, retry: { baseDelayMs: 1 }, ...extra });
  clients.push(c);
  return c;
}

before(async () => {
  emu = await startEmulator({ seed: 'sample' });
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await emu.stop();
});

describe('soda client: identity', () => {
  it('returns the current user for email/password, API key and OAuth token', async () => {
    const byPassword = await client().currentUser();
    assert.deepEqual(
      [byPassword.id, byPassword.displayName, byPassword.email, byPassword.roleName],
      ['pub1-usr1', 'Pat Publisher', 'publisher@example.org', 'publisher'],
    );
    const byKey = await client({ type: 'apiKey', keyId: SAMPLE.apiKey.keyId, keySecret: SAMPLE.apiKey.keySecret }).currentUser();
    assert.equal(byKey.id, 'pub1-usr1');
    const token = emu.store.issueAccessToken(SAMPLE.users.viewer.id, SAMPLE.oauthClient.clientId);
    const byToken = await client({ type: 'oauth', accessToken: token }).currentUser();
    assert.deepEqual([byToken.id, byToken.displayName], ['vwr1-usr1', 'Vic Viewer']);
  });

  it('fails with kind auth when not signed in or when the password is wrong', async () => {
    const anon = await rejectsWithSodaError(client({ type: 'none' }).currentUser());
    assert.deepEqual([anon.kind, anon.status], ['auth', 403]);
    assert.match(anon.message, /^Socrata refused access \(403( [\w.-]+)?\): You must be logged in to access this resource\.$/);
    const wrong = await rejectsWithSodaError(client({ type: 'basic', email: SAMPLE.users.publisher.email, password: 'nope' }).currentUser());
    assert.deepEqual([wrong.kind, wrong.status], ['auth', 401]);
    assert.match(wrong.message, /^Socrata did not accept the credentials \(401/);
  });
});

describe('soda client: catalog', () => {
  it('pages through a user’s datasets', async () => {
    const pages = [];
    for await (const page of client().catalog({ forUser: SAMPLE.users.publisher.id, pageSize: 2 })) pages.push(page);
    assert.deepEqual(
      pages.map((p) => [p.offset, p.results.length, p.total, p.capped]),
      [
        [0, 2, 5, false],
        [2, 2, 5, false],
        [4, 1, 5, false],
      ],
    );
    const ids = pages.flatMap((p) => p.results.map((r) => r.id)).sort();
    // The client sends X-Socrata-Host, so the owner's private dataset and the draft of tree-cnsu are listed.
    assert.deepEqual(ids, ['bdgt-priv', 'bldg-prmt', 'crsh-larg', 'tree-cnsu', 'tree-cnsu:1']);
    const draft = pages.flatMap((p) => p.results).find((r) => r.id === 'tree-cnsu:1');
    assert.deepEqual(draft?.draftOf, { id: 'tree-cnsu', revision: 1 });
    assert.equal(pages.flatMap((p) => p.results).find((r) => r.id === 'tree-cnsu')?.draftOf, undefined);
    const permits = pages.flatMap((p) => p.results).find((r) => r.id === 'bldg-prmt');
    assert.equal(permits?.name, 'Building Permits');
    assert.equal(permits?.owner?.id, 'pub1-usr1');
    assert.deepEqual(
      permits?.columns.map((c) => c.fieldName),
      ['permit_id', 'address', 'valuation', 'issued_date', 'is_residential', 'info_url', 'location'],
    );
  });

  it('searches with q and hides private datasets from anonymous callers', async () => {
    const found = [];
    for await (const page of client().catalog({ q: 'tree' })) found.push(...page.results.map((r) => r.id));
    assert.deepEqual(found, ['tree-cnsu', 'tree-cnsu:1']);
    const anon = [];
    for await (const page of client({ type: 'none' }).catalog({ forUser: SAMPLE.users.publisher.id })) anon.push(...page.results.map((r) => r.id));
    assert.ok(!anon.includes('bdgt-priv') && anon.includes('bldg-prmt'), anon.join());
  });

  it('stops cleanly at the 10 000 offset cap and reports that more exist', async () => {
    // A catalog server with 12 345 matches that enforces offset + limit <= 10 000 like the real one.
    const asked: { offset: number; limit: number }[] = [];
    const server: Server = createServer((req, res) => {
      const u = new URL(req.url ?? '/', 'http://x');
      const offset = Number(u.searchParams.get('offset'));
      const limit = Number(u.searchParams.get('limit'));
      asked.push({ offset, limit });
      res.setHeader('content-type', 'application/json');
      if (offset + limit > 10_000) {
        res.statusCode = 400;
        res.end(JSON.stringify({ error: 'offset + limit must be <= 10000' }));
        return;
      }
      const results = Array.from({ length: limit }, (_, i) => ({ resource: { id: 'abcd-1234', name: `n${offset + i}` } }));
      res.end(JSON.stringify({ results, resultSetSize: 12_345 }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    try {
      const c = new SodaClient({ domain: `127.0.0.1:${(server.address() as AddressInfo).port}` });
      clients.push(c);
      const pages = [];
      for await (const page of c.catalog({ pageSize: 1000, offset: 7500 })) pages.push(page);
      assert.deepEqual(asked, [
        { offset: 7500, limit: 1000 },
        { offset: 8500, limit: 1000 },
        { offset: 9500, limit: 500 },
      ]);
      assert.deepEqual(
        pages.map((p) => p.capped),
        [false, false, true],
      );
      assert.equal(pages.at(-1)?.total, 12_345);
      assert.equal(
        pages.reduce((n, p) => n + p.results.length, 0),
        2500,
      );
    } finally {
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    }
  });

  it('validates its arguments before sending anything', async () => {
    const it1 = client().catalog({ forUser: '../x' });
    assert.equal((await rejectsWithSodaError(it1.next())).kind, 'invalid-input');
    assert.equal((await rejectsWithSodaError(client().catalog({ pageSize: 0 }).next())).field, 'pageSize');
  });
});

describe('soda client: dataset metadata', () => {
  it('reads columns, the row identifier, the owner and timestamps', async () => {
    const v = await client().view('bldg-prmt');
    assert.equal(v.name, 'Building Permits');
    assert.deepEqual(
      v.columns.map((c) => [c.fieldName, c.dataTypeName, c.position]),
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
    assert.equal(typeof v.rowIdentifierColumnId, 'number');
    assert.equal(v.owner?.id, 'pub1-usr1');
    assert.equal(v.createdAt?.getTime(), SAMPLE.createdAt * 1000);
    assert.equal(await client().rowIdentifier('bldg-prmt'), 'permit_id');
    assert.equal(await client().rowIdentifier('crsh-larg'), 'crash_id');
    assert.equal(await client().rowIdentifier('tree-cnsu'), undefined);
  });

  it('not found: unknown dataset, or private to someone else', async () => {
    const missing = await rejectsWithSodaError(client().view('zzzz-zzzz'));
    assert.equal(missing.kind, 'not-found');
    assert.equal(missing.status, 404);
    assert.match(missing.message, /^Socrata could not find \/api\/views\/zzzz-zzzz\.json \(404/);
    assert.equal((await rejectsWithSodaError(client({ type: 'none' }).view('bdgt-priv'))).kind, 'not-found');
    assert.equal((await client().view('bdgt-priv')).id, 'bdgt-priv');
  });

  it('refuses a malformed 4x4 before building a URL', async () => {
    for (const id of ['../api', 'BLDG-PRMT', 'bldg-prmt/rows', 'bldg-prmt.json?x=', '']) {
      const e = await rejectsWithSodaError(client().view(id));
      assert.equal(e.kind, 'invalid-input', id);
      assert.equal(e.field, 'dataset id');
    }
  });
});

describe('soda client: reading rows', () => {
  it('queries with $select/$where/$order/$limit/$offset and returns the SODA2 field and type headers', async () => {
    const c = client();
    const r = await c.rows('bldg-prmt', { select: 'permit_id, valuation, issued_date', where: "permit_id = 'BP-2025-00002'", order: 'permit_id' });
    assert.equal(r.rows.length, 1);
    assert.equal(r.rows[0]?.permit_id, 'BP-2025-00002');
    assert.deepEqual(r.fields, ['permit_id', 'valuation', 'issued_date']);
    assert.deepEqual(r.types, ['text', 'number', 'floating_timestamp']);
    const page = await c.rows('bldg-prmt', { order: 'permit_id', limit: 3, offset: 2, select: 'permit_id' });
    assert.deepEqual(
      page.rows.map((x) => x.permit_id),
      ['BP-2025-00003', 'BP-2025-00004', 'BP-2025-00005'],
    );
  });

  it('supports $group, $q, raw $query and simple filters', async () => {
    const c = client();
    const grouped = await c.rows('crsh-larg', { select: 'severity, count(*) AS n', group: 'severity', order: 'severity' });
    assert.ok(grouped.rows.length >= 2);
    assert.equal(
      grouped.rows.reduce((n, r) => n + Number(r.n), 0),
      60_000,
    );
    const raw = await c.rows('bldg-prmt', { query: "SELECT permit_id WHERE permit_id = 'BP-2025-00007'" });
    assert.deepEqual(raw.rows, [{ permit_id: 'BP-2025-00007' }]);
    const filtered = await c.rows('bldg-prmt', { filters: { permit_id: 'BP-2025-00009' } });
    assert.equal(filtered.rows[0]?.permit_id, 'BP-2025-00009');
    const first = (await c.rows<{ species: string }>('tree-cnsu', { limit: 1, order: ':id' })).rows[0];
    const searched = await c.rows('tree-cnsu', { q: first?.species, limit: 1000 });
    assert.ok(searched.rows.length > 0 && searched.rows.every((r) => JSON.stringify(r).toLowerCase().includes(String(first?.species).toLowerCase())));
    await assert.rejects(c.rows('bldg-prmt', { query: 'SELECT *', limit: 1 }), /cannot be combined with \$limit/);
    await assert.rejects(c.rows('bldg-prmt', { filters: { 'a&b': 1 } }), /Invalid filter field/);
  });

  it('a bad column is a client error with the server code', async () => {
    const e = await rejectsWithSodaError(client().rows('bldg-prmt', { where: 'nosuchcolumn = 1' }));
    assert.deepEqual([e.kind, e.status, e.code], ['client', 400, 'query.soql.no-such-column']);
    assert.match(e.message, /^Socrata rejected the request \(400 query\.soql\.no-such-column\): .*nosuchcolumn/);
  });

  it('pages through all 60 000 rows ordered by :id, and counts', async () => {
    const c = client();
    const seen = new Set<unknown>();
    let pages = 0;
    for await (const page of c.allRows('crsh-larg', { select: 'crash_id' }, { pageSize: 25_000 })) {
      pages++;
      for (const r of page.rows) seen.add(r.crash_id);
    }
    assert.equal(pages, 3);
    assert.equal(seen.size, 60_000);
    assert.equal(await c.count('crsh-larg'), 60_000);
    const some = await c.count('crsh-larg', { where: 'injuries > 0' });
    assert.ok(some > 0 && some < 60_000);
    let limited = 0;
    for await (const page of c.allRows('crsh-larg', { where: 'injuries > 0', limit: 250 }, { pageSize: 100 })) limited += page.rows.length;
    assert.equal(limited, Math.min(250, some));
  });

  it('reads one row by its identifier', async () => {
    const r = await client().row<{ permit_id: string }>('bldg-prmt', 'BP-2025-00010');
    assert.equal(r.permit_id, 'BP-2025-00010');
    const e = await rejectsWithSodaError(client().row('bldg-prmt', 'NO/SUCH ROW'));
    assert.equal(e.kind, 'not-found');
  });

  it('streams a CSV export of every row', async () => {
    const stream = await client().exportCsv('tree-cnsu');
    let text = '';
    for await (const chunk of stream) text += String(chunk);
    const lines = text.trimEnd().split('\n');
    assert.equal(lines[0], '"species","diameter_in","planted_on","healthy","location"');
    assert.equal(lines.length, 1 + emu.store.rowCount('tree-cnsu'));
  });
});

describe('soda client: writing rows', () => {
  it('upserts JSON rows into a dataset with a row identifier (update merges, new rows are created)', async () => {
    const c = client();
    const before = await c.count('bldg-prmt');
    const r = await c.upsert('bldg-prmt', [
      { permit_id: 'BP-2025-00011', address: '1 Changed St' },
      { permit_id: 'NEW-0001', address: '2 New Rd', valuation: 10 },
    ]);
    assert.deepEqual([r.shape, r.created, r.updated, r.errors], ['counts', 1, 1, 0]);
    const changed = await c.row<Row>('bldg-prmt', 'BP-2025-00011');
    assert.equal(changed.address, '1 Changed St');
    assert.ok(changed.valuation !== undefined, 'merge kept the other columns');
    assert.equal(await c.count('bldg-prmt'), before + 1);
  });

  it('upserts a streamed row source and a CSV body (text and stream)', async () => {
    const c = client();
    async function* rows(): AsyncGenerator<Row> {
      for (let i = 0; i < 2500; i++) {
        await Promise.resolve();
        yield { permit_id: `STREAM-${i}`, address: `${i} Stream Way` };
      }
    }
    const streamed = await c.upsert('bldg-prmt', rows(), { hasRowIdentifier: true });
    assert.equal(streamed.created, 2500);
    const csv = await c.upsertCsv('bldg-prmt', 'permit_id,address\nCSV-1,"1 Csv St"\nBP-2025-00012,"12 Csv Rd"\n');
    assert.deepEqual([csv.created, csv.updated], [1, 1]);
    const csvStream = await c.upsertCsv('bldg-prmt', Readable.from(['permit_id,address\n', 'CSV-2,2 Csv St\n']));
    assert.equal(csvStream.created, 1);
    assert.equal((await c.row<Row>('bldg-prmt', 'CSV-2')).address, '2 Csv St');
  });

  it('deletes rows with :deleted and one by one', async () => {
    const c = client();
    const before = await c.count('bldg-prmt');
    const r = await c.deleteRows('bldg-prmt', ['STREAM-0', 'STREAM-1']);
    assert.equal(r.deleted, 2);
    await c.deleteRow('bldg-prmt', 'STREAM-2');
    assert.equal(await c.count('bldg-prmt'), before - 3);
    const gone = await rejectsWithSodaError(c.deleteRow('bldg-prmt', 'STREAM-2'));
    assert.equal(gone.kind, 'not-found');
    await assert.rejects(c.deleteRows('tree-cnsu', ['x']), /has no row identifier/);
  });

  it('replaces every row (JSON and CSV)', async () => {
    const c = client();
    const r = await c.replace('bdgt-priv', [
      { line_item: 'L1', department: 'Parks', amount: 5 },
      { line_item: 'L2', department: 'Roads', amount: 7 },
    ]);
    assert.equal(r.created, 2);
    assert.equal(await c.count('bdgt-priv'), 2);
    await c.replaceCsv('bdgt-priv', 'line_item,department,amount\nL3,Fire,1\n');
    assert.deepEqual(
      (await c.rows('bdgt-priv')).rows.map((x) => x.line_item),
      ['L3'],
    );
  });

  it('write errors: unknown column, no write right, viewer', async () => {
    const bad = await rejectsWithSodaError(client().upsert('bldg-prmt', [{ permit_id: 'X', no_such_field: 1 }]));
    assert.deepEqual([bad.kind, bad.status, bad.outcome], ['client', 400, 'not-applied']);
    assert.ok(bad.code !== undefined);
    const other = await rejectsWithSodaError(client().upsert('park-othr', [{ facility_id: 'F-1' }], { hasRowIdentifier: true }));
    assert.deepEqual([other.kind, other.status, other.outcome], ['auth', 403, 'not-applied']);
    const v = await rejectsWithSodaError(client(viewer).replace('tree-cnsu', []));
    assert.equal(v.kind, 'auth');
  });
});

describe('soda client: retries seen in the emulator’s fault log', () => {
  /** Finds a fault seed whose first three decisions for `path` are error, error, none (the sequence is deterministic). */
  async function seedFor(path: string): Promise<string> {
    for (let seed = 1; seed < 500; seed++) {
      const spec = `seed=${seed},error=0.5,errorStatus=503,only=${path}`;
      emu.setFaults(spec);
      for (let i = 0; i < 3; i++) await (await undiciRequest(`${emu.url}${path}?$limit=1`)).body.dump();
      if (
        emu
          .faultLog()
          .map((e) => e.decision)
          .join() === 'error,error,none'
      ) {
        return spec;
      }
    }
    throw new Error('no seed found');
  }

  after(() => emu.setFaults(undefined));

  it('a GET after 503, 503 succeeds on the third attempt with growing backoff', async () => {
    const spec = await seedFor('/resource/bldg-prmt.json');
    emu.setFaults(spec);
    const sleeps: number[] = [];
    const clock: Clock = {
      now: () => Date.now(),
      sleep: (ms, s) => {
        sleeps.push(ms);
        return systemClock.sleep(ms, s);
      },
    };
    const r = await client(publisher, { clock, random: () => 0.99, retry: { baseDelayMs: 20 } }).rows('bldg-prmt', { limit: 1 });
    assert.equal(r.rows.length, 1);
    assert.deepEqual(
      emu.faultLog().map((e) => [e.decision, e.status]),
      [
        ['error', 503],
        ['error', 503],
        ['none', undefined],
      ],
    );
    assert.deepEqual(sleeps, [19, 39]);
  });

  it('an append to a dataset without row identifier is not retried after a 5xx (outcome unknown)', async () => {
    emu.setFaults('error=1,errorStatus=503,only=/resource/tree-cnsu.json');
    const before = emu.store.rowCount('tree-cnsu');
    const e = await rejectsWithSodaError(client().upsert('tree-cnsu', [{ species: 'Ginkgo' }]));
    assert.deepEqual([e.kind, e.status, e.outcome], ['server', 503, 'unknown']);
    assert.equal(emu.faultLog().length, 1);
    // A safe call can opt out of retries for itself.
    emu.setFaults('error=1,errorStatus=503,only=/resource/bldg-prmt.json');
    const once = await rejectsWithSodaError(client().rows('bldg-prmt', { limit: 1 }, { retry: false }));
    assert.deepEqual([once.kind, once.attempts], ['server', 1]);
    assert.equal(emu.faultLog().length, 1);
    assert.equal(emu.store.rowCount('tree-cnsu'), before);
  });

  it('an append whose connection is reset after it was applied is not repeated (no duplicate rows)', async () => {
    emu.setFaults('resetAfterApply=1,only=/resource/tree-cnsu.json');
    const before = emu.store.rowCount('tree-cnsu');
    const e = await rejectsWithSodaError(client().upsert('tree-cnsu', [{ species: 'Linden' }]));
    assert.deepEqual([e.kind, e.outcome], ['network', 'unknown']);
    assert.match(e.message, /may or may not have been applied/);
    assert.equal(emu.faultLog().length, 1);
    assert.equal(emu.store.rowCount('tree-cnsu'), before + 1);
  });

  it('an upsert keyed by a row identifier is retried after resets, up to the attempt cap', async () => {
    emu.setFaults('reset=1,only=/resource/bldg-prmt.json');
    const e = await rejectsWithSodaError(
      client(publisher, { retry: { maxAttempts: 3, baseDelayMs: 1 } }).upsert('bldg-prmt', [{ permit_id: 'R-1' }], { hasRowIdentifier: true }),
    );
    assert.deepEqual([e.kind, e.attempts], ['network', 3]);
    assert.deepEqual(
      emu.faultLog().map((x) => x.decision),
      ['reset', 'reset', 'reset'],
    );
  });

  it('429 with Retry-After is honoured, even for an append', async () => {
    emu.setFaults('throttle=1,retryAfter=1,only=/resource/tree-cnsu.json');
    const sleeps: number[] = [];
    const clock: Clock = {
      now: () => Date.now(),
      sleep: (ms, s) => {
        sleeps.push(ms);
        return systemClock.sleep(ms, s);
      },
    };
    const e = await rejectsWithSodaError(client(publisher, { clock, retry: { maxAttempts: 2 } }).upsert('tree-cnsu', [{ species: 'Yew' }]));
    assert.deepEqual([e.kind, e.status, e.retryAfterMs, e.outcome], ['rate-limited', 429, 1000, 'not-applied']);
    assert.deepEqual(sleeps, [1000]);
    assert.deepEqual(
      emu.faultLog().map((x) => [x.decision, x.retryAfter]),
      [
        ['throttle', 1],
        ['throttle', 1],
      ],
    );
  });
});
