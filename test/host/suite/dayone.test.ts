// The everyday workflow as a new user meets it, against the emulator: the dataset page "Open in Browser" opens,
// SELECT count(*) in the query grid, an error naming the query that was sent, a create whose preview, spec and
// Publish Again then target the new dataset (no duplicates), Delete Dataset, and the tree refreshed after a create.
import * as assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { config, emulator, extension, signOutAll } from './lib/host';

interface QueryResult {
  columns: { name: string }[];
  rows: (string | null)[][];
  hasNext: boolean;
  error: string | undefined;
}

interface FlowResult {
  file: string;
  preview: { target: { domain: string; id?: string; newName?: string } | undefined; mode: string; error: string | undefined; problems: number | undefined };
  outcome: { status: string; dataset: string | undefined; created: number; message: string; errorRowsFile: string | undefined } | undefined;
}

interface PreviewSummary {
  rows: number | undefined;
  problems: number | undefined;
  columns: { header: string; inferredType: string; problems: number }[];
  plan: {
    state: string;
    message: string | undefined;
    blocked: boolean;
    problemCount: number | undefined;
    toCreate: number | undefined;
    toDelete: number | undefined;
  };
  target: { domain: string; id?: string } | undefined;
}

interface PreviewLike {
  session: { file: string; summary(): PreviewSummary; whenScanned(): Promise<void> };
  receive(message: unknown): void;
}

interface TreeNode {
  kind: string;
  datasetId?: string;
  group?: string;
  account?: { domain: string };
}

interface Api {
  datasets: { provider: { getChildren(node?: TreeNode): Promise<TreeNode[]> }; grids: readonly { panel: { title: string } }[] };
  preview: { flow: { openPreviews: readonly PreviewLike[] } };
}

const HEADER = 'permit_id,address,valuation,issued_date,is_residential,info_url,location';

function permitLine(id: string, valuation: string): string {
  return `${id},1 Main St,${valuation},2024-03-01T00:00:00,true,https://permits.example.org/permit/${id},POINT (-122.4 37.75)`;
}

function api(): Api {
  return extension().exports as Api;
}

function ws(name: string): string {
  return join(config().workspaceFolder, name);
}

async function until<T>(what: string, timeoutMs: number, probe: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const AUTH = `Basic ${Buffer.from('demo_key_id:demo_key_secret').toString('base64')}`;

/** The publisher's datasets named `name`, from the catalog (what the server holds, not the tree). */
async function ownedNamed(url: string, name: string): Promise<string[]> {
  const u = new URL('/api/catalog/v1', url);
  u.searchParams.set('for_user', 'pub1-usr1');
  u.searchParams.set('limit', '1000');
  // Private assets are listed only to a signed-in caller that names the site (X-Socrata-Host), as the platform does.
  const res = await fetch(u, { headers: { Authorization: AUTH, 'X-Socrata-Host': new URL(url).host } });
  assert.equal(res.status, 200);
  const body = (await res.json()) as { results: { resource: { id: string; name: string } }[] };
  return body.results.filter((r) => r.resource.name === name).map((r) => r.resource.id);
}

async function treeIds(domain: string): Promise<string[]> {
  const roots = await api().datasets.provider.getChildren();
  const account = roots.find((n) => n.kind === 'domain' && n.account?.domain === domain);
  if (!account) return [];
  // The account's own datasets: its "My datasets" group.
  const mine = (await api().datasets.provider.getChildren(account)).find((n) => n.kind === 'group' && n.group === 'mine');
  if (!mine) return [];
  return (await api().datasets.provider.getChildren(mine)).flatMap((n) => (n.kind === 'dataset' && n.datasetId ? [n.datasetId] : []));
}

describe('day one: the everyday workflow', function () {
  this.timeout(120_000);
  let domain = '';
  let url = '';
  const created: string[] = [];

  before(async function () {
    const emu = emulator();
    if (!emu) this.skip();
    domain = emu.domain;
    url = emu.url;
    await extension().activate();
    await signOutAll();
    const r = await vscode.commands.executeCommand<{ domain: string } | undefined>('socrata.auth.signInWithApiKey', {
      domain,
      keyId: 'demo_key_id',
      keySecret: 'demo_key_secret',
    });
    assert.equal(r?.domain, domain);
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    for (const id of created) await fetch(new URL(`/api/views/${id}.json`, url), { method: 'DELETE', headers: { Authorization: AUTH } }).catch(() => undefined);
    rmSync(ws('permits-good.socrata.json'), { force: true });
    if (domain !== '') await signOutAll();
  });

  it('Open Dataset in Browser lands on a dataset page, and the portal has a home page', async () => {
    const link = await vscode.commands.executeCommand<string>('socrata.dataset.openInBrowser', { domain, id: 'bldg-prmt', dryRun: true });
    assert.equal(link, `${url}/d/bldg-prmt`);
    const res = await fetch(link);
    assert.equal(res.status, 200, 'the permalink answers');
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    const html = await res.text();
    assert.match(html, /<h1>Building Permits<\/h1>/);
    assert.match(html, /permit_id/);
    const home = await fetch(new URL('/', url));
    assert.equal(home.status, 200);
    assert.match(await home.text(), /href="\/d\/bldg-prmt"/);
  });

  it('SELECT count(*) runs in the query grid (no ORDER BY :id added to an aggregate)', async () => {
    const result = await vscode.commands.executeCommand<QueryResult>('socrata.dataset.runQuery', { domain, id: 'bldg-prmt', query: 'SELECT count(*)' });
    assert.equal(result.error, undefined, result.error);
    assert.deepEqual(
      result.columns.map((c) => c.name),
      ['count'],
    );
    assert.equal(result.rows.length, 1);
    assert.match(result.rows[0]?.[0] ?? '', /^\d+$/);
    assert.equal(result.hasNext, false);
    const grouped = await vscode.commands.executeCommand<QueryResult>('socrata.dataset.runQuery', {
      domain,
      id: 'bldg-prmt',
      query: 'SELECT is_residential, count(*) GROUP BY is_residential',
    });
    assert.equal(grouped.error, undefined, grouped.error);
    assert.equal(grouped.rows.length, 2);
  });

  it('a failed query shows the statement that was actually sent', async () => {
    const result = await vscode.commands.executeCommand<QueryResult>('socrata.dataset.runQuery', { domain, id: 'bldg-prmt', query: 'SELECT no_such_column' });
    assert.ok(result.error, 'the query failed');
    assert.match(result.error, /no_such_column/);
    assert.match(result.error, /Query sent: SELECT no_such_column \(page 1, 100 rows a page\)/);
  });

  it('after a create, the preview targets the new dataset: publishing again updates it instead of creating a duplicate; the tree lists it', async () => {
    const name = `Day One Permits ${Date.now()}`;
    const file = ws('permits-good.csv');
    const first = await vscode.commands.executeCommand<FlowResult>('socrata.csv.publish', vscode.Uri.file(file), {
      domain,
      newDataset: { name },
      run: 'publish',
      confirmed: true,
    });
    assert.equal(first.outcome?.status, 'success', first.outcome?.message);
    const id = first.outcome.dataset;
    assert.ok(id && /^[a-z0-9]{4}-[a-z0-9]{4}$/.test(id), `the new dataset's 4x4 (${id})`);
    created.push(id);
    assert.deepEqual(first.preview.target, { domain, id }, 'the preview now targets the new dataset');
    assert.equal(first.preview.mode, 'replace', 'no row identifier was chosen: replace');
    // The replace's counts: the rows of the file (the preview read them all) in place of the dataset's.
    const panel = api().preview.flow.openPreviews.find((p) => p.session.file === file);
    assert.ok(panel, 'the preview is open');
    const replacePlan = await until('the replace plan', 20_000, async () => {
      await panel.session.whenScanned();
      const s = panel.session.summary();
      return s.plan.state === 'ready' && s.plan.toDelete !== undefined ? s.plan : undefined;
    });
    assert.deepEqual([replacePlan.toCreate, replacePlan.toDelete], [200, 200], 'the 200 rows of the file replace the 200 of the new dataset');

    // The tree lists the new dataset without a manual Refresh.
    await until(`${id} in the tree`, 15_000, async () => (await treeIds(domain)).includes(id));

    // Publish in the same preview again: the same dataset, no second one.
    const again = await vscode.commands.executeCommand<FlowResult>('socrata.csv.publish', vscode.Uri.file(file), { run: 'publish', confirmed: true });
    assert.equal(again.outcome?.status, 'success', again.outcome?.message);
    assert.equal(again.outcome.dataset, id);
    assert.deepEqual(await ownedNamed(url, name), [id], 'one dataset with that name');

    // Palette Publish Again (the last publish) targets it too.
    const palette = vscode.commands.executeCommand<{ status: string; dataset: string | undefined; message: string }>('socrata.publishAgain', {
      run: 'publish',
      confirmed: true,
    });
    await new Promise((r) => setTimeout(r, 1500));
    await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    const outcome = await palette;
    assert.equal(outcome.status, 'success', outcome.message);
    assert.equal(outcome.dataset, id);
    assert.deepEqual(await ownedNamed(url, name), [id], 'still one dataset with that name');
  });

  it('the preview follows the file on disk: fixed rows re-plan, the counts and the inferred types follow, and Refresh re-reads it', async () => {
    const file = ws('dayone-stale.csv');
    writeFileSync(file, `${[HEADER, permitLine('STALE-1', '100'), permitLine('STALE-2', 'n/a'), permitLine('STALE-3', '300')].join('\n')}\n`);
    try {
      await vscode.commands.executeCommand('socrata.csv.preview', vscode.Uri.file(file), { domain, dataset: 'bldg-prmt' });
      const panel = api().preview.flow.openPreviews.find((p) => p.session.file === file);
      assert.ok(panel, 'the preview is open');
      await panel.session.whenScanned();
      const before = panel.session.summary();
      assert.equal(before.rows, 3);
      assert.ok((before.problems ?? 0) >= 1, 'n/a is not a number');
      assert.equal(before.columns.find((c) => c.header === 'valuation')?.inferredType, 'text');

      // Fixed on disk (as an editor or another program would): the preview catches up by itself.
      writeFileSync(
        file,
        `${[HEADER, permitLine('STALE-1', '100'), permitLine('STALE-2', '200'), permitLine('STALE-3', '300'), permitLine('STALE-4', '400')].join('\n')}\n`,
      );
      const after = await until('the preview to follow the file', 20_000, async () => {
        await panel.session.whenScanned();
        const s = panel.session.summary();
        return s.rows === 4 && s.problems === 0 ? s : undefined;
      });
      assert.equal(after.columns.find((c) => c.header === 'valuation')?.inferredType, 'number', 'the Inferred column is inferred again');

      // The webview's Refresh button re-reads the file too.
      writeFileSync(file, `${[HEADER, permitLine('STALE-1', 'x')].join('\n')}\n`);
      panel.receive({ type: 'refresh' });
      await until('Refresh to re-read the file', 20_000, async () => {
        await panel.session.whenScanned();
        const s = panel.session.summary();
        return s.rows === 1 && (s.problems ?? 0) >= 1 ? s : undefined;
      });
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      rmSync(file, { force: true });
    }
  });

  it("for an existing dataset, cells are checked against the field's type whatever type is chosen, and a choice the server would refuse is refused in the preview", async () => {
    const file = ws('dayone-types.csv');
    writeFileSync(file, `${[HEADER, permitLine('TYPE-1', '100'), permitLine('TYPE-2', 'n/a')].join('\n')}\n`);
    try {
      await vscode.commands.executeCommand('socrata.csv.preview', vscode.Uri.file(file), { domain, dataset: 'bldg-prmt', types: { valuation: 'text' } });
      const panel = api().preview.flow.openPreviews.find((p) => p.session.file === file);
      assert.ok(panel, 'the preview is open');
      await panel.session.whenScanned();
      const s = panel.session.summary();
      assert.ok((s.columns.find((c) => c.header === 'valuation')?.problems ?? 0) >= 1, '"n/a" is still a problem of the number field valuation');
      assert.equal(s.plan.state, 'error');
      assert.match(s.plan.message ?? '', /types\.valuation: the field valuation of bldg-prmt is number/);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      rmSync(file, { force: true });
    }
  });

  it('a delete names the ids the dataset does not have "not in the dataset", not errors', async () => {
    const up = await fetch(new URL('/resource/bldg-prmt.json', url), {
      method: 'POST',
      headers: { Authorization: AUTH, 'Content-Type': 'application/json' },
      body: JSON.stringify([{ permit_id: 'GONE-1' }, { permit_id: 'GONE-2' }]),
    });
    assert.equal(up.status, 200);
    const file = ws('dayone-delete.csv');
    writeFileSync(file, 'permit_id\nGONE-1\nGONE-2\nNEVER-THERE-1\n');
    try {
      const result = await vscode.commands.executeCommand<FlowResult>('socrata.csv.publish', vscode.Uri.file(file), {
        domain,
        dataset: 'bldg-prmt',
        mode: 'delete',
        run: 'publish',
        confirmed: true,
      });
      assert.equal(result.outcome?.status, 'success', result.outcome?.message);
      assert.match(result.outcome.message, /2 deleted, 1 not in the dataset/);
      assert.doesNotMatch(result.outcome.message, /error/i);
    } finally {
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      rmSync(file, { force: true });
    }
  });

  it('the bad file: the preview and the dry run count the same problems and say what they count, paths are workspace-relative, and skipping bad rows is a choice in the preview', async () => {
    const file = ws('permits-bad.csv');
    const dry = await vscode.commands.executeCommand<FlowResult>('socrata.csv.publish', vscode.Uri.file(file), { domain, dataset: 'bldg-prmt', run: 'dryRun' });
    assert.equal(dry.outcome?.status, 'dry-run', dry.outcome?.message);
    const problems = dry.preview.problems ?? 0;
    assert.ok(problems >= 8, `the planted problems (${problems})`);
    const said = /(\d+) problems? in (\d+) rows?/.exec(dry.outcome.message);
    assert.ok(said, `the dry run says what it counts: ${dry.outcome.message}`);
    assert.equal(Number(said[1]), problems, 'the dry run counts the problems the preview shows');

    const refused = await vscode.commands.executeCommand<FlowResult>('socrata.csv.publish', vscode.Uri.file(file), { run: 'publish' });
    assert.equal(refused.outcome?.status, 'refused');
    assert.ok(!refused.outcome.message.includes(config().workspaceFolder), `no absolute workspace path in: ${refused.outcome.message}`);
    assert.match(refused.outcome.message, /permits-bad\.csv/);

    // The refusal offers skipping the bad rows, and the preview has that choice, with the count.
    const panel = api().preview.flow.openPreviews.find((p) => p.session.file === file);
    assert.ok(panel);
    assert.match(refused.outcome.message, /skip/i);
    panel.receive({ type: 'setSkipBadRows', skip: true });
    await until('the plan to allow skipping', 20_000, async () => {
      await panel.session.whenScanned();
      const s = panel.session.summary();
      return s.plan.state === 'ready' && !s.plan.blocked ? s : undefined;
    });
    const skipped = await vscode.commands.executeCommand<FlowResult>('socrata.csv.publish', vscode.Uri.file(file), { run: 'dryRun' });
    assert.equal(skipped.outcome?.status, 'dry-run', skipped.outcome?.message);
    assert.match(skipped.outcome.message, /rows? with problems (?:are|is) skipped/);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it("a re-opened preview remembers the file's last target", async () => {
    const file = ws('dayone-remember.csv');
    writeFileSync(file, `${HEADER}\n${permitLine('REMEMBER-1', '1')}\n`);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await vscode.commands.executeCommand('socrata.csv.preview', vscode.Uri.file(file), { domain, dataset: 'tree-cnsu' });
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    await until('the preview to close', 10_000, () => !api().preview.flow.openPreviews.some((p) => p.session.file === file));
    const again = await vscode.commands.executeCommand<FlowResult>('socrata.csv.preview', vscode.Uri.file(file));
    assert.deepEqual(again.preview.target, { domain, id: 'tree-cnsu' });
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
    rmSync(file, { force: true });
  });

  it('a query tab is titled by its query', async () => {
    await vscode.commands.executeCommand('socrata.dataset.runQuery', { domain, id: 'bldg-prmt', query: 'SELECT permit_id WHERE valuation > 1000' });
    const grid = api().datasets.grids[api().datasets.grids.length - 1];
    assert.ok(grid);
    assert.match(grid.panel.title, /^SELECT permit_id WHERE valuation > 1000/);
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('a new dataset is public or private as chosen', async () => {
    const name = `Day One Public ${Date.now()}`;
    const res = await vscode.commands.executeCommand<FlowResult>('socrata.csv.publish', vscode.Uri.file(ws('permits-good.csv')), {
      domain,
      newDataset: { name, permission: 'public' },
      run: 'publish',
      confirmed: true,
    });
    const id = res.outcome?.dataset;
    assert.ok(id, res.outcome?.message);
    created.push(id);
    assert.equal((await fetch(new URL(`/api/views/${id}.json`, url))).status, 200, 'anyone can read the public dataset');
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('after a cancel, the result says what was applied, and Resume (the last publish again) publishes the rest', async () => {
    const file = ws('dayone-resume.csv');
    const rows = 20_000;
    const lines = [HEADER];
    for (let i = 1; i <= rows; i++) lines.push(permitLine(`RSUM-${String(i).padStart(6, '0')}`, String(i)));
    writeFileSync(file, `${lines.join('\n')}\n`);
    const settings = vscode.workspace.getConfiguration('socrata');
    await settings.update('publish.batchSize', 100, vscode.ConfigurationTarget.Global);
    await settings.update('publish.concurrency', 1, vscode.ConfigurationTarget.Global);
    const count = async (): Promise<number> => {
      const u = new URL('/resource/bldg-prmt.json', url);
      u.searchParams.set('$select', 'count(*)');
      u.searchParams.set('$where', "starts_with(permit_id, 'RSUM-')");
      const body = (await (await fetch(u)).json()) as Record<string, string>[];
      return Number(Object.values(body[0] ?? {})[0]);
    };
    try {
      const running = vscode.commands.executeCommand<FlowResult>('socrata.csv.publish', vscode.Uri.file(file), {
        domain,
        dataset: 'bldg-prmt',
        run: 'publish',
      });
      await until('rows to arrive', 60_000, async () => (await count()) > 0);
      assert.equal(await vscode.commands.executeCommand<boolean>('socrata.publish.cancel'), true);
      const cancelled = await running;
      assert.equal(cancelled.outcome?.status, 'cancelled');
      assert.match(cancelled.outcome.message, /Applied: lines 2–\d+ of dayone-resume\.csv\. Publishing the same file again resumes/);
      const resumed = await vscode.commands.executeCommand<{ status: string; message: string; resume: { status: string } | undefined }>(
        'socrata.publishAgain',
        { last: true, run: 'publish', confirmed: true },
      );
      assert.equal(resumed.status, 'success', resumed.message);
      assert.equal(resumed.resume?.status, 'resumed');
      assert.equal(await count(), rows);
    } finally {
      await settings.update('publish.batchSize', undefined, vscode.ConfigurationTarget.Global);
      await settings.update('publish.concurrency', undefined, vscode.ConfigurationTarget.Global);
      await vscode.commands.executeCommand('workbench.action.closeAllEditors');
      const ids = lines.slice(1).map((l) => l.split(',')[0]);
      for (let i = 0; i < ids.length; i += 5000) {
        await fetch(new URL('/resource/bldg-prmt.json', url), {
          method: 'POST',
          headers: { Authorization: AUTH, 'Content-Type': 'application/json' },
          body: JSON.stringify(ids.slice(i, i + 5000).map((permit_id) => ({ permit_id, ':deleted': true }))),
        });
      }
      rmSync(file, { force: true });
    }
  });

  it('Delete Dataset refuses a name that does not match, deletes through the platform on the right one, and the tree drops it', async () => {
    const name = `Day One Delete ${Date.now()}`;
    const res = await vscode.commands.executeCommand<FlowResult>('socrata.csv.publish', vscode.Uri.file(ws('permits-good.csv')), {
      domain,
      newDataset: { name },
      run: 'publish',
      confirmed: true,
    });
    const id = res.outcome?.dataset;
    assert.ok(id, res.outcome?.message);
    created.push(id);
    await until(`${id} in the tree`, 15_000, async () => (await treeIds(domain)).includes(id));

    const refused = await vscode.commands.executeCommand<unknown>('socrata.dataset.delete', { domain, id, typedName: 'something else' });
    assert.equal(refused, undefined, 'a name that does not match is refused (the boundary shows why)');
    assert.equal((await fetch(new URL(`/api/views/${id}.json`, url), { headers: { Authorization: AUTH } })).status, 200, 'a wrong name deletes nothing');

    const deleted = await vscode.commands.executeCommand<{ domain: string; id: string } | undefined>('socrata.dataset.delete', { domain, id, typedName: name });
    assert.deepEqual(deleted, { domain, id });
    assert.equal((await fetch(new URL(`/api/views/${id}.json`, url), { headers: { Authorization: AUTH } })).status, 404, 'the dataset is gone from the portal');
    await until(`${id} gone from the tree`, 15_000, async () => !(await treeIds(domain)).includes(id));
  });

  it('Sign Out sits on the account node and signs that account out', async () => {
    const menus =
      (extension().packageJSON as { contributes: { menus: Record<string, { command: string; when?: string }[]> } }).contributes.menus['view/item/context'] ??
      [];
    const item = menus.find((m) => m.command === 'socrata.auth.signOut');
    assert.ok(item, "Sign Out is in the tree's item menu");
    assert.match(item.when ?? '', /viewItem =~ \/\^domain;\//);
    const roots = await api().datasets.provider.getChildren();
    const account = roots.find((n) => n.kind === 'domain' && n.account?.domain === domain);
    assert.ok(account);
    const out = await vscode.commands.executeCommand<{ accountId: string } | undefined>('socrata.auth.signOut', account);
    assert.ok(out, 'signed out without asking which account');
    await until(
      'the account to leave the tree',
      10_000,
      async () => !(await api().datasets.provider.getChildren()).some((n) => n.kind === 'domain' && n.account?.domain === domain),
    );
  });
});
