// The dataset browser in the real extension host, against the emulator: the tree after signing in with the
// account commands, Load more paging, columns, the signed-out and unreachable states, filter, Go to
// Dataset, queries in the grid and Save as CSV.
import * as assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server, Socket as NetSocket, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import * as vscode from 'vscode';
import type { SocrataExtensionApi } from '../../../src/extension';
import type { DatasetsNode } from '../../../src/datasets';
import { emulator, extension } from './lib/host';

const OWNED = ['bdgt-priv', 'bldg-prmt', 'crsh-larg', 'tree-cnsu'];
const PERMIT_FIELDS = ['permit_id', 'address', 'valuation', 'issued_date', 'is_residential', 'info_url', 'location'];

function api(): SocrataExtensionApi {
  return extension().exports as SocrataExtensionApi;
}

function domainOrSkip(ctx: Mocha.Context): string {
  const emu = emulator();
  if (!emu) ctx.skip();
  return emu.domain;
}

async function signOutAll(): Promise<void> {
  for (const a of await api().accounts.list()) await api().accounts.signOut(a.id);
}

async function signIn(domain: string): Promise<void> {
  const result = await vscode.commands.executeCommand<{ domain: string } | undefined>('socrata.auth.signInWithApiKey', {
    domain,
    keyId: 'demo_key_id',
    keySecret: 'demo_key_secret',
  });
  assert.equal(result?.domain, domain, `signed in to ${domain}`);
}

async function children(node?: DatasetsNode): Promise<DatasetsNode[]> {
  return api().datasets.provider.getChildren(node);
}

async function accountNode(domain: string): Promise<DatasetsNode> {
  const roots = await children();
  const node = roots.find((n) => n.kind === 'domain' && n.account.domain === domain);
  assert.ok(node, `an account node for ${domain} among ${roots.map((r) => r.kind).join(', ')}`);
  return node;
}

/** The account's "My datasets" group (the first of its three). */
async function myDatasets(domain: string): Promise<DatasetsNode> {
  const account = await accountNode(domain);
  assert.equal(account.kind, 'domain');
  return account.groups.mine;
}

function datasetIds(nodes: DatasetsNode[]): string[] {
  return nodes.flatMap((n) => (n.kind === 'dataset' ? [n.datasetId] : []));
}

async function datasetNode(domain: string, id: string): Promise<DatasetsNode & { kind: 'dataset' }> {
  const node = (await children(await myDatasets(domain))).find((n) => n.kind === 'dataset' && n.datasetId === id);
  assert.ok(node?.kind === 'dataset', `${id} is listed`);
  return node;
}

/** What the emulator answers anonymously for a public query (the expected rows). */
async function expectedRows(id: string, query: string): Promise<Record<string, unknown>[]> {
  const url = new URL(`/resource/${id}.json`, emulator()?.url);
  url.searchParams.set('$query', query);
  const res = await fetch(url);
  assert.equal(res.status, 200);
  return (await res.json()) as Record<string, unknown>[];
}

async function setPageSize(value: number | undefined): Promise<void> {
  if (vscode.workspace.getConfiguration('socrata').inspect('datasets.pageSize')?.globalValue === value) return;
  const changed = new Promise<void>((resolve) => {
    const sub = vscode.workspace.onDidChangeConfiguration((e) => {
      if (e.affectsConfiguration('socrata.datasets.pageSize')) {
        sub.dispose();
        resolve();
      }
    });
  });
  await vscode.workspace.getConfiguration('socrata').update('datasets.pageSize', value, vscode.ConfigurationTarget.Global);
  await changed;
  // Reload now instead of waiting for the debounced refresh the setting change scheduled.
  api().datasets.provider.refreshAll();
}

describe('views: the Datasets tree in real VS Code', function () {
  this.timeout(60_000);

  before(async () => {
    await extension().activate();
    await signOutAll();
  });

  after(async () => {
    await setPageSize(undefined).catch(() => undefined);
    await api().datasets.provider.setFilter(undefined);
    await signOutAll();
    for (const grid of [...api().datasets.grids]) grid.dispose();
  });

  it('shows the signed-out welcome when no account exists', async () => {
    assert.deepEqual(await children(), []);
    assert.equal(api().datasets.provider.state, 'signedOut');
  });

  it("lists the publisher's datasets after signing in with the account command", async function () {
    const domain = domainOrSkip(this);
    await signIn(domain);
    const account = await accountNode(domain);
    assert.equal(api().datasets.provider.state, 'ready');
    const groups = await children(account);
    assert.deepEqual(
      groups.map((g) => api().datasets.provider.getTreeItem(g).label),
      ['My datasets', 'Shared with me', `All datasets on ${domain}`],
    );
    const list = await children(await myDatasets(domain));
    assert.deepEqual(datasetIds(list).sort(), OWNED, 'the datasets owned by the publisher, not park-othr');
    const permits = list.find((n) => n.kind === 'dataset' && n.datasetId === 'bldg-prmt');
    assert.ok(permits);
    const item = api().datasets.provider.getTreeItem(permits);
    assert.equal(item.label, 'Building Permits');
    assert.match(String(item.description), /^bldg-prmt · updated /);
    assert.match(item.contextValue ?? '', /^dataset;owned;writable;/);
    assert.ok(item.tooltip instanceof vscode.MarkdownString);
    assert.equal(item.tooltip.isTrusted, false);
    // appendText escapes what the server sent (spaces become &nbsp;, Markdown characters are backslashed); the id is
    // a code span, shown literally, so it is not escaped (a backslash there would be shown).
    assert.match(item.tooltip.value, /\*\*Building&nbsp;Permits\*\* `bldg-prmt`/);
    assert.doesNotMatch(item.tooltip.value, /command:|<[a-z]/i);
  });

  it('shows columns under a dataset with the row identifier marked', async function () {
    const domain = domainOrSkip(this);
    const permits = await datasetNode(domain, 'bldg-prmt');
    const columns = await children(permits);
    assert.deepEqual(
      columns.map((c) => (c.kind === 'column' ? c.column.fieldName : c.kind)),
      PERMIT_FIELDS,
    );
    const rowId = columns.filter((c) => c.kind === 'column' && c.isRowIdentifier);
    assert.deepEqual(
      rowId.map((c) => (c.kind === 'column' ? c.column.fieldName : '')),
      ['permit_id'],
    );
    const [idNode] = rowId;
    assert.ok(idNode);
    const idItem = api().datasets.provider.getTreeItem(idNode);
    assert.equal(idItem.contextValue, 'column;rowId;');
    assert.match(String(idItem.description), /row identifier/);
    assert.ok(idItem.tooltip instanceof vscode.MarkdownString);
    assert.match(idItem.tooltip.value, /\*\* `permit_id`\n/, 'the field name as it is, not permit\\_id');
    const issued = columns.find((c) => c.kind === 'column' && c.column.fieldName === 'issued_date');
    assert.ok(issued);
    assert.match(String(api().datasets.provider.getTreeItem(issued).description), /^floating_timestamp/);
    // With the metadata loaded, the dataset's context value carries the row identifier and visibility.
    assert.equal(
      api().datasets.provider.getTreeItem(permits).contextValue,
      'dataset;owned;writable;canWrite;canDeleteRows;canEditMetadata;canDeleteDataset;hasRowId;public;',
    );

    const trees = await datasetNode(domain, 'tree-cnsu');
    await children(trees);
    assert.doesNotMatch(api().datasets.provider.getTreeItem(trees).contextValue ?? '', /;hasRowId;/);
    const budget = await datasetNode(domain, 'bdgt-priv');
    await children(budget);
    const budgetItem = api().datasets.provider.getTreeItem(budget);
    assert.match(budgetItem.contextValue ?? '', /;private;/);
    assert.equal((budgetItem.iconPath as vscode.ThemeIcon).id, 'lock');
  });

  it('pages with Load more, appending without reloading the first page', async function () {
    const domain = domainOrSkip(this);
    await setPageSize(3);
    const account = await myDatasets(domain);
    const first = await children(account);
    // Three catalog entries: datasets, and the draft tree-cnsu:1 if it came in this page (shown under its dataset).
    const drafts = first.flatMap((n) => (n.kind === 'dataset' ? n.drafts : []));
    assert.equal(datasetIds(first).length + drafts.length, 3);
    const more = first.at(-1);
    assert.equal(more?.kind, 'loadMore');
    // The catalog counts the draft tree-cnsu:1 too (shown under its dataset, not as a dataset).
    assert.match(String(api().datasets.provider.getTreeItem(more).description), /^3 of 5$/);
    await vscode.commands.executeCommand('socrata.datasets.loadMore', more);
    const after = await children(account);
    assert.equal(
      after.some((n) => n.kind === 'loadMore'),
      false,
      'no Load more once everything is loaded',
    );
    assert.deepEqual(datasetIds(after).sort(), OWNED);
    // The first page's nodes are the same objects: appended to, not fetched again.
    for (const node of first.filter((n) => n.kind === 'dataset')) assert.ok(after.includes(node), 'first-page node kept');
    await setPageSize(undefined);
  });

  it('filters on the server with the catalog search and clears the filter', async function () {
    const domain = domainOrSkip(this);
    await vscode.commands.executeCommand('socrata.datasets.filter', 'permits');
    assert.equal(api().datasets.treeView.description, 'Filter: "permits"');
    assert.deepEqual(datasetIds(await children(await myDatasets(domain))), ['bldg-prmt']);
    await vscode.commands.executeCommand('socrata.datasets.clearFilter');
    assert.equal(api().datasets.treeView.description, undefined);
    assert.deepEqual(datasetIds(await children(await myDatasets(domain))).sort(), OWNED);
  });

  it('goes to a dataset by a pasted portal URL, read-only for the publisher', async function () {
    const domain = domainOrSkip(this);
    const result = await vscode.commands.executeCommand<{ id: string; name: string } | undefined>(
      'socrata.datasets.goTo',
      `http://${domain}/Recreation/Park-Facilities/park-othr`,
    );
    assert.deepEqual(result && { id: result.id, name: result.name }, { id: 'park-othr', name: 'Park Facilities' });
    const park = await datasetNode(domain, 'park-othr');
    const item = api().datasets.provider.getTreeItem(park);
    assert.doesNotMatch(item.contextValue ?? '', /;writable;|;owned;/);
    const endpoint = await vscode.commands.executeCommand<string>('socrata.dataset.copyApiEndpoint', park);
    assert.equal(endpoint, `http://${domain}/resource/park-othr.json`);
    // (The browser workbench does not let the extension host read the clipboard back.)
  });

  it('runs a SoQL query into the grid and returns the expected rows', async function () {
    const domain = domainOrSkip(this);
    const query = 'SELECT permit_id, valuation, is_residential WHERE valuation > 100000 ORDER BY permit_id LIMIT 5';
    const result = await vscode.commands.executeCommand<{ rows: (string | null)[][]; columns: { name: string; type: string }[]; error?: string }>(
      'socrata.dataset.runQuery',
      { domain, id: 'bldg-prmt', query },
    );
    assert.equal(result.error, undefined);
    assert.deepEqual(result.columns, [
      { name: 'permit_id', type: 'text' },
      { name: 'valuation', type: 'number' },
      { name: 'is_residential', type: 'boolean' },
    ]);
    const expected = await expectedRows('bldg-prmt', query);
    assert.equal(expected.length, 5);
    assert.deepEqual(
      result.rows,
      expected.map((r) => [String(r.permit_id), String(r.valuation), typeof r.is_residential === 'boolean' ? String(r.is_residential) : null]),
    );
  });

  it("pages query results with Next and shows the server's message for a bad query", async function () {
    const domain = domainOrSkip(this);
    const result = await vscode.commands.executeCommand<{ rows: unknown[]; hasNext: boolean }>('socrata.dataset.previewRows', { domain, id: 'crsh-larg' });
    assert.equal(result.rows.length, 100);
    assert.equal(result.hasNext, true);
    const grid = api().datasets.grids.at(-1);
    assert.ok(grid);
    const second = await grid.show(1);
    const expected = await expectedRows('crsh-larg', 'SELECT * ORDER BY :id LIMIT 100 OFFSET 100');
    assert.deepEqual(
      second.page?.rows.map((r) => r[0]),
      expected.map((r) => String(r.crash_id)),
    );
    const bad = await vscode.commands.executeCommand<{ error?: string }>('socrata.dataset.runQuery', {
      domain,
      id: 'bldg-prmt',
      query: 'SELECT no_such_field',
    });
    assert.match(bad.error ?? '', /no_such_field/);
  });

  it('saves every row of a query as CSV to the given file', async function () {
    const domain = domainOrSkip(this);
    const dir = mkdtempSync(join(tmpdir(), 'socrata-views-'));
    try {
      const target = join(dir, 'permits.csv');
      const result = await vscode.commands.executeCommand<{ rows: number; path: string }>('socrata.query.saveCsv', {
        domain,
        id: 'bldg-prmt',
        query: 'SELECT permit_id, address, valuation',
        target,
      });
      assert.equal(result.rows, 500);
      const records = parse<Record<string, string>>(readFileSync(target, 'utf8'), { columns: true });
      assert.equal(records.length, 500);
      assert.deepEqual(Object.keys(records[0] ?? {}), ['permit_id', 'address', 'valuation']);
      assert.equal(new Set(records.map((r) => r.permit_id)).size, 500);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('shows an error node with a retry action when a portal goes down, and the unreachable welcome when all are', async function () {
    const domain = domainOrSkip(this);
    const emu = emulator();
    assert.ok(emu);
    // A loopback relay to the emulator is a second portal that can be taken down.
    const target = new URL(emu.url);
    const sockets = new Set<Socket>();
    const relay: Server = createServer((client) => {
      const upstream = new NetSocket();
      sockets.add(client).add(upstream);
      upstream.connect(Number(target.port), target.hostname, () => {
        client.pipe(upstream).pipe(client);
      });
      const drop = () => {
        client.destroy();
        upstream.destroy();
      };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const address = relay.address();
    assert.ok(address !== null && typeof address === 'object');
    const down = `127.0.0.1:${address.port}`;
    try {
      await signIn(down);
      assert.deepEqual(datasetIds(await children(await myDatasets(down))).sort(), OWNED);
      await new Promise<void>((resolve) => relay.close(() => resolve()));
      for (const s of sockets) s.destroy();

      const node = await myDatasets(down);
      api().datasets.provider.refresh(node);
      const kids = await children(node);
      assert.equal(kids.length, 1);
      const error = kids[0];
      assert.equal(error?.kind, 'error');
      const item = api().datasets.provider.getTreeItem(error);
      assert.match(typeof item.label === 'string' ? item.label : '', /Cannot reach the portal/);
      assert.equal(item.command?.command, 'socrata.treeItem.refresh', 'clicking the error retries');
      assert.ok(datasetIds(await children(await myDatasets(domain))).length > 0, 'the other portal still lists its datasets');

      const other = (await api().accounts.list()).find((a) => a.domain === domain);
      assert.ok(other);
      await api().accounts.signOut(other.id);
      api().datasets.provider.refreshAll();
      assert.deepEqual(await children(), []);
      assert.equal(api().datasets.provider.state, 'unreachable');
    } finally {
      relay.close();
      for (const s of sockets) s.destroy();
      await signOutAll();
    }
    api().datasets.provider.refreshAll();
    assert.deepEqual(await children(), []);
    assert.equal(api().datasets.provider.state, 'signedOut');
  });
});
