// Query paging and CSV export of the dataset browser, over real loopback HTTP against the emulator.
import { strict as assert } from 'node:assert';
import { after, before, describe, it } from 'node:test';
import { PassThrough } from 'node:stream';
import { parse } from 'csv-parse/sync';
import { SodaClient } from '../../src/soda/client';
import { parseDomain } from '../../src/soda/domain';
import { SodaError } from '../../src/soda/errors';
import { exportQueryCsv, queryPage } from '../../src/datasets/query';
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

async function collect(stmt: string, id = 'bldg-prmt'): Promise<{ text: string; rows: number; progress: number[] }> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (c: Buffer) => chunks.push(c));
  const progress: number[] = [];
  const result = await exportQueryCsv(client, id, stmt, out, { onProgress: (n) => progress.push(n) });
  out.end();
  return { text: Buffer.concat(chunks).toString('utf8'), rows: result.rows, progress };
}

describe('views: query pages against the emulator', () => {
  it("pages a statement with SODA3 pages in :id order, typed from the dataset's columns (SODA3 sends no X-SODA2-Types)", async () => {
    const first = await queryPage(client, 'bldg-prmt', 'SELECT permit_id, valuation, is_residential', 7, 0);
    const second = await queryPage(client, 'bldg-prmt', 'SELECT permit_id, valuation, is_residential', 7, 1);
    assert.deepEqual(
      first.columns.map((c) => c.name),
      ['permit_id', 'valuation', 'is_residential'],
    );
    assert.deepEqual(
      first.columns.map((c) => c.type),
      ['text', 'number', 'boolean'],
    );
    assert.equal(first.rows.length, 7);
    assert.equal(second.rows.length, 7);
    assert.equal(first.hasNext, true);
    assert.equal(first.statement, 'SELECT permit_id, valuation, is_residential', 'SODA3 pages with `page`, not LIMIT/OFFSET');
    const all = await client.rows('bldg-prmt', { select: 'permit_id', order: ':id', limit: 14 });
    assert.deepEqual(
      [...first.rows, ...second.rows].map((r) => r[0]),
      all.rows.map((r) => r.permit_id),
    );
  });

  it('runs a statement with its own LIMIT as one page', async () => {
    const page = await queryPage(client, 'tree-cnsu', 'SELECT species, diameter_in ORDER BY diameter_in DESC LIMIT 3', 100, 0);
    assert.equal(page.rows.length, 3);
    assert.equal(page.hasNext, false);
    const next = await queryPage(client, 'tree-cnsu', 'SELECT species LIMIT 3', 100, 1);
    assert.equal(next.rows.length, 0);
  });

  it("shows the server's message for a bad query", async () => {
    await assert.rejects(
      queryPage(client, 'bldg-prmt', 'SELECT no_such_column', 10, 0),
      (e: unknown) => e instanceof SodaError && e.kind === 'client' && /no_such_column/.test(e.message),
    );
  });

  it('refuses a malformed statement before sending it', async () => {
    await assert.rejects(
      queryPage(client, 'bldg-prmt', "SELECT * WHERE address = 'x", 10, 0),
      (e: unknown) => e instanceof SodaError && e.kind === 'invalid-input' && e.field === 'query',
    );
  });
});

describe('views: Save as CSV against the emulator', () => {
  it("writes every row over several pages, with a header and the server's values", async () => {
    const { text, rows, progress } = await collect('SELECT permit_id, valuation, location WHERE valuation > 0');
    const expected = await client.count('bldg-prmt', { where: 'valuation > 0' });
    assert.equal(rows, expected);
    assert.ok(progress.length >= 1 && progress.at(-1) === expected, `progress reported as rows arrive: ${progress.join(',')}`);
    const records = parse<Record<string, string>>(text, { columns: true });
    assert.equal(records.length, expected);
    assert.deepEqual(Object.keys(records[0] ?? {}), ['permit_id', 'valuation', 'location']);
    assert.equal(new Set(records.map((r) => r.permit_id)).size, expected, 'no row repeated');
    const firstRow = (await client.rows('bldg-prmt', { select: 'permit_id, valuation, location', where: 'valuation > 0', order: ':id', limit: 1 })).rows[0];
    const same = records.find((r) => r.permit_id === firstRow?.permit_id);
    assert.equal(same?.valuation, firstRow?.valuation);
    assert.match(same?.location ?? '', /^POINT \(-?\d/);
  });

  it('exports all 300 rows of a dataset without a row identifier', async () => {
    const { rows, text } = await collect('SELECT *', 'tree-cnsu');
    assert.equal(rows, 300);
    assert.equal(parse<Record<string, string>>(text, { columns: true }).length, 300);
  });

  it('stops when cancelled', async () => {
    const abort = new AbortController();
    const out = new PassThrough();
    out.resume();
    const run = exportQueryCsv(client, 'crsh-larg', 'SELECT crash_id', out, {
      signal: abort.signal,
      onProgress: (n) => {
        if (n >= 1000) abort.abort();
      },
    });
    await assert.rejects(run, (e: unknown) => e instanceof SodaError && e.kind === 'cancelled');
  });
});
