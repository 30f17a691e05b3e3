// The query grid's total row count ("rows 1–100 of 12,345"): one count query per statement, checked against the
// rows the statement really returns from the emulator, and the per-dataset query history.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { PassThrough } from 'node:stream';
import { SodaClient } from '../../src/soda/client';
import { parseDomain } from '../../src/soda/domain';
import { countStatement, exportQueryCsv, queryTotal, QueryHistory } from '../../src/datasets/query';
import { type RunningEmulator, SAMPLE, startEmulator } from '../emulator/index';

let emu: RunningEmulator;
let client: SodaClient;

before(async () => {
  emu = await startEmulator({ port: 0, seed: 'sample' });
  client = new SodaClient({
    domain: parseDomain(emu.domain),
    auth: { type: 'apiKey', keyId: SAMPLE.apiKey.keyId, keySecret: SAMPLE.apiKey.keySecret },
    appToken: SAMPLE.appToken,
    retry: { maxAttempts: 1 },
  });
});

after(async () => {
  await client.close();
  await emu.stop();
});

/** The number of rows the statement really returns (its whole CSV export). */
async function rowsOf(stmt: string, id: string): Promise<number> {
  const out = new PassThrough();
  out.resume();
  const { rows } = await exportQueryCsv(client, id, stmt, out);
  out.end();
  return rows;
}

describe('views: the total row count of a query', () => {
  it('counts with the same WHERE (and GROUP BY / HAVING), never the ORDER BY, LIMIT or OFFSET', () => {
    assert.deepEqual(countStatement("SELECT permit_id, valuation WHERE valuation > 1000 AND permit_id != 'ORDER BY x' ORDER BY valuation DESC"), {
      statement: "SELECT count(*) WHERE valuation > 1000 AND permit_id != 'ORDER BY x'",
      groups: false,
    });
    assert.deepEqual(countStatement('SELECT status, count(*) WHERE valuation > 5 GROUP BY status HAVING count(*) > 1 ORDER BY status LIMIT 10 OFFSET 2'), {
      statement: 'SELECT count(*) WHERE valuation > 5 GROUP BY status HAVING count(*) > 1',
      groups: true,
      limit: 10,
      offset: 2,
    });
    assert.deepEqual(countStatement("select * search 'fire'"), { statement: "SELECT count(*) search 'fire'", groups: false });
    assert.equal(countStatement('SELECT count(*)'), undefined, 'one row: the page says it');
    assert.equal(countStatement('SELECT DISTINCT status'), undefined);
  });

  for (const [id, stmt] of [
    ['bldg-prmt', 'SELECT *'],
    ['bldg-prmt', 'SELECT permit_id WHERE valuation > 100000 ORDER BY permit_id'],
    ['crsh-larg', 'SELECT * LIMIT 50 OFFSET 20'],
    ['crsh-larg', 'SELECT * LIMIT 50 OFFSET 299'],
  ] as const) {
    it(`${id}: ${stmt} — the count equals the rows the query returns`, async () => {
      const expected = await rowsOf(stmt, id);
      assert.equal(await queryTotal(client, id, stmt), expected);
    });
  }

  it('a grouped query counts its groups', async () => {
    const stmt = 'SELECT is_residential, count(*) GROUP BY is_residential';
    const expected = await rowsOf(stmt, 'bldg-prmt');
    assert.ok(expected > 1, `several groups (${expected})`);
    assert.equal(await queryTotal(client, 'bldg-prmt', stmt), expected);
  });

  it('an aggregate without GROUP BY is not counted (one row)', async () => {
    assert.equal(await queryTotal(client, 'bldg-prmt', 'SELECT count(*)'), undefined);
  });

  it("a count the server refuses is the caller's error (the grid then says the total is unknown)", async () => {
    await assert.rejects(queryTotal(client, 'bldg-prmt', 'SELECT * WHERE no_such_field > 1'));
  });
});

describe('views: query history', () => {
  function memory(): Map<string, unknown> & { get<T>(key: string): T | undefined; update(key: string, value: unknown): Promise<void> } {
    const map = new Map<string, unknown>();
    return Object.assign(map, {
      update: (key: string, value: unknown) => {
        map.set(key, JSON.parse(JSON.stringify(value)));
        return Promise.resolve();
      },
    }) as never;
  }

  it('keeps the last 20 statements per dataset, newest first, without repeats', async () => {
    const store = memory();
    const history = new QueryHistory(store);
    for (let i = 1; i <= 25; i++) await history.add('d.org', 'aaaa-bbbb', `SELECT * LIMIT ${i}`);
    await history.add('d.org', 'aaaa-bbbb', '  SELECT *   LIMIT 7 ');
    await history.add('d.org', 'cccc-dddd', 'SELECT count(*)');
    const list = history.list('d.org', 'aaaa-bbbb');
    assert.equal(list.length, 20);
    assert.equal(list[0], 'SELECT *   LIMIT 7');
    assert.equal(list[1], 'SELECT * LIMIT 25');
    assert.equal(list.filter((s) => /LIMIT 7$/.test(s)).length, 1);
    assert.deepEqual(new QueryHistory(store).list('d.org', 'cccc-dddd'), ['SELECT count(*)'], 'read back from the store');
    assert.deepEqual(history.list('d.org', 'eeee-ffff'), []);
  });

  it('forgets the least recently used datasets past 100', async () => {
    const history = new QueryHistory(memory());
    for (let i = 0; i < 101; i++) await history.add('d.org', `ds${String(i).padStart(2, '0')}-xxxx`, 'SELECT *');
    assert.deepEqual(history.list('d.org', 'ds00-xxxx'), []);
    assert.deepEqual(history.list('d.org', 'ds100-xxxx'), ['SELECT *']);
  });
});
