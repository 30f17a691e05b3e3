// Query tabs in the real extension host, against the emulator: titled by their query, another statement run in
// the same tab (the query box's Run), the total row count of the query ("rows 1–100 of 12,345"), and a total
// that cannot be counted shown as unknown instead of failing the tab.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { SocrataExtensionApi } from '../../../src/extension';
import { GridPanel } from '../../../src/datasets/grid/panel';
import { emulator, extension, signOutAll } from './lib/host';

interface QueryResult {
  statement: string;
  rows: (string | null)[][];
  hasNext: boolean;
  error: string | undefined;
}

function api(): SocrataExtensionApi {
  return extension().exports as SocrataExtensionApi;
}

/** The number of rows the emulator returns for a query (anonymous, all of them: the expected total). */
async function countOf(id: string, where: string): Promise<number> {
  const url = new URL(`/resource/${id}.json`, emulator()?.url);
  url.searchParams.set('$query', `SELECT count(*) AS n ${where}`);
  const res = await fetch(url);
  assert.equal(res.status, 200);
  const [row] = (await res.json()) as { n: string }[];
  return Number(row?.n);
}

/** The grid's state once its total is no longer being counted. */
async function counted(grid: { state: GridPanel['state'] }): Promise<GridPanel['state']> {
  const deadline = Date.now() + 30_000;
  while (grid.state.total === 'counting') {
    if (Date.now() > deadline) throw new Error('the total was still being counted after 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return grid.state;
}

describe('query tabs: titled by the query, run again in place, with the total row count', function () {
  this.timeout(90_000);
  let domain = '';

  before(async function () {
    const emu = emulator();
    if (!emu) this.skip();
    domain = emu.domain;
    await extension().activate();
    await signOutAll();
    const result = await vscode.commands.executeCommand<{ domain: string } | undefined>('socrata.auth.signInWithApiKey', {
      domain,
      keyId: 'demo_key_id',
      keySecret: 'demo_key_secret',
    });
    assert.equal(result?.domain, domain);
  });

  after(async () => {
    for (const grid of [...api().datasets.grids]) grid.dispose();
    await signOutAll();
  });

  it('a query tab is titled by its query and shows the total rows of the query, counted with the same WHERE', async () => {
    const where = 'WHERE valuation > 1000000';
    const query = `SELECT permit_id ${where}`;
    const result = await vscode.commands.executeCommand<QueryResult>('socrata.dataset.runQuery', { domain, id: 'bldg-prmt', query });
    assert.equal(result.error, undefined);
    const grid = api().datasets.grids.at(-1);
    assert.ok(grid);
    assert.equal(grid.panel.title, `${query} · bldg-prmt`);
    const expected = await countOf('bldg-prmt', where);
    assert.ok(expected > 100, `more than one page (${expected})`);
    assert.equal(result.rows.length, 100);
    const state = await counted(grid);
    assert.equal(state.statement, query);
    assert.equal(state.total, expected);
  });

  it('runs another statement in the same tab: title, rows and total follow it', async () => {
    const grid = api().datasets.grids.at(-1);
    assert.ok(grid);
    const open = api().datasets.grids.length;
    const count = await grid.runStatement('SELECT count(*)');
    assert.equal(count.error, undefined);
    assert.equal(api().datasets.grids.length, open, 'no new tab');
    assert.equal(grid.panel.title, 'SELECT count(*) · bldg-prmt');
    assert.equal(count.statement, 'SELECT count(*)');
    assert.deepEqual(
      count.page?.columns.map((c) => c.name),
      ['count'],
    );
    assert.equal(count.page?.rows[0]?.[0], String(await countOf('bldg-prmt', '')));
    assert.equal((await counted(grid)).total, 1, 'one row');

    // A statement that cannot run keeps the tab (and its query box) with the reason.
    const bad = await grid.runStatement('DELETE everything');
    assert.match(bad.error ?? '', /starts with SELECT/);
    assert.equal(grid.panel.title, 'SELECT count(*) · bldg-prmt');
  });

  it('more groups than the count fetches: the total is unknown and the rows still show', async () => {
    const result = await vscode.commands.executeCommand<QueryResult>('socrata.dataset.runQuery', {
      domain,
      id: 'crsh-larg',
      query: 'SELECT crash_id, count(*) GROUP BY crash_id',
    });
    assert.equal(result.error, undefined);
    assert.equal(result.rows.length, 100);
    const grid = api().datasets.grids.at(-1);
    assert.ok(grid);
    assert.equal((await counted(grid)).total, 'unknown');
  });

  it('a count that fails leaves the total unknown, and the page is shown', async () => {
    // A portal that answers the rows but refuses the count: no emulator request tells the two apart, so the
    // source's count is the one part made to fail here; the panel and its webview are the real ones.
    const warnings: string[] = [];
    const grid = GridPanel.open(
      extension().extensionUri,
      {
        title: 'failing count',
        subtitle: 'test',
        pageSize: 2,
        statement: 'SELECT *',
        load: () => Promise.resolve({ columns: [{ name: 'a', type: 'text' }], rows: [['1'], ['2']], hasNext: true }),
        count: () => Promise.reject(new Error('HTTP 500 from the count')),
      },
      (work) => work(),
      { warn: (line: string) => void warnings.push(line) },
    );
    try {
      const first = await grid.firstLoad;
      assert.equal(first.error, undefined);
      assert.equal(first.page?.rows.length, 2);
      assert.equal((await counted(grid)).total, 'unknown');
      assert.match(warnings.join('\n'), /total row count failed.*HTTP 500 from the count/);
    } finally {
      grid.dispose();
    }
  });
});
