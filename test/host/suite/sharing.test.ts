// Sharing in the dataset browser, in real VS Code against the emulator's sample seed: each account's three groups
// (My datasets, Shared with me, All datasets on the portal), the menus its rights offer, sorting the portal's
// catalog, and publishing to a shared dataset as an editor (works) and as a viewer (refused, with the reason).
import * as assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { DatasetsNode } from '../../../src/datasets';
import type { SocrataExtensionApi } from '../../../src/extension';
import type { FlowResult } from '../../../src/publishing/flow';
import { emulator, extension, runner, signOutAll } from './lib/host';

type Node<K extends DatasetsNode['kind']> = DatasetsNode & { kind: K };
type Account = 'publisher' | 'viewer' | 'other';

const OWNED = {
  publisher: ['bdgt-priv', 'bldg-prmt', 'crsh-larg', 'tree-cnsu'],
  viewer: [],
  other: ['insp-shrd', 'libr-shrd', 'park-othr'],
} as const;
const SHARED = { publisher: [['libr-shrd', 'editor']], viewer: [['insp-shrd', 'viewer']], other: [] } as const;

function api(): SocrataExtensionApi {
  return extension().exports as SocrataExtensionApi;
}

const provider = () => api().datasets.provider;

async function signInAs(domain: string, who: Account): Promise<void> {
  await signOutAll();
  const result =
    who === 'publisher'
      ? await vscode.commands.executeCommand<{ domain: string } | undefined>('socrata.auth.signInWithApiKey', {
          domain,
          keyId: 'demo_key_id',
          keySecret: 'demo_key_secret',
        })
      : await vscode.commands.executeCommand<{ domain: string } | undefined>('socrata.auth.signInWithPassword', {
          domain,
          email: `${who}@example.org`,
          password: who === 'viewer' ? 'view-only' : 'other-pass',
        });
  assert.equal(result?.domain, domain, `signed in as ${who}`);
  provider().refreshAll();
}

async function groups(domain: string): Promise<Record<'mine' | 'shared' | 'all', Node<'group'>>> {
  const roots = await provider().getChildren();
  const account = roots.find((n): n is Node<'domain'> => n.kind === 'domain' && n.account.domain === domain);
  assert.ok(account, `an account node for ${domain}`);
  const kids = await provider().getChildren(account);
  const byKind = (g: string) => kids.find((n): n is Node<'group'> => n.kind === 'group' && n.group === g);
  const [mine, shared, all] = [byKind('mine'), byKind('shared'), byKind('all')];
  assert.ok(mine && shared && all, 'three groups');
  assert.deepEqual(
    kids.map((k) => provider().getTreeItem(k).label),
    ['My datasets', 'Shared with me', `All datasets on ${domain}`],
  );
  return { mine, shared, all };
}

/** What the Socrata output channel has written to its log file(s) so far (VS Code writes them asynchronously). */
function socrataLog(): string {
  const files = (dir: string): string[] =>
    existsSync(dir) ? readdirSync(dir).flatMap((name) => (statSync(join(dir, name)).isDirectory() ? files(join(dir, name)) : [join(dir, name)])) : [];
  const userData = join(runner().context.globalStorageUri.fsPath, '..', '..', '..');
  return files(join(userData, 'logs'))
    .filter((f) => /Socrata\.log$/.test(f))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
}

const datasets = (nodes: DatasetsNode[]): Node<'dataset'>[] => nodes.filter((n): n is Node<'dataset'> => n.kind === 'dataset');
const ids = (nodes: DatasetsNode[]): string[] => datasets(nodes).map((d) => d.datasetId);

/** Whether the manifest offers `command` in the dataset context menu for an item with this context value. */
function offered(command: string, contextValue: string): boolean {
  const menus = (extension().packageJSON as { contributes: { menus: Record<string, { command: string; when?: string }[]> } }).contributes.menus;
  const entries = menus['view/item/context']?.filter((m) => m.command === command) ?? [];
  return entries.some((m) => [...(m.when ?? '').matchAll(/viewItem =~ \/(.+?)\/(?= |$)/g)].every((r) => new RegExp(r[1] ?? '').test(contextValue)));
}

describe('sharing: My datasets, Shared with me, All datasets', function () {
  this.timeout(90_000);
  let domain = '';
  let dir = '';

  before(async function () {
    const emu = emulator();
    if (!emu) this.skip();
    domain = emu.domain;
    dir = mkdtempSync(join(tmpdir(), 'socrata-sharing-'));
    await extension().activate();
  });

  after(async () => {
    await provider().setFilter(undefined);
    await vscode.commands.executeCommand('socrata.datasets.sortAll', 'name');
    await signOutAll();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  });

  for (const who of ['publisher', 'viewer', 'other'] as const) {
    it(`lists the right datasets in each group for ${who}@example.org`, async () => {
      await signInAs(domain, who);
      const g = await groups(domain);
      const mine = await provider().getChildren(g.mine);
      assert.deepEqual(ids(mine).sort(), [...OWNED[who]]);
      if (OWNED[who].length === 0) assert.equal(provider().getTreeItem(mine[0] ?? g.mine).label, 'You own no datasets on this portal');

      const shared = datasets(await provider().getChildren(g.shared));
      assert.deepEqual(
        shared.map((d) => [d.datasetId, d.role === 'contributor' ? 'editor' : d.role]),
        SHARED[who].map(([id, role]) => [id, role]),
      );
      for (const d of shared) {
        const [, role] = SHARED[who].find(([id]) => id === d.datasetId) ?? [];
        assert.match(String(provider().getTreeItem(d).description), new RegExp(`^${d.datasetId} · ${role} · `), 'the role is shown');
      }

      const all = await provider().getChildren(g.all);
      assert.equal(all.at(-1)?.kind, 'loadMore', 'the portal catalog is paged');
      assert.equal(ids(all).length, 50);
      const total = g.all.page?.total ?? 0;
      // 254 public datasets, and the private ones the account owns or that are shared with it (open drafts that other
      // test files left count too, so at least).
      assert.ok(total >= { publisher: 256, viewer: 255, other: 256 }[who], `the portal's datasets ${who} may see (got ${total})`);
      await vscode.commands.executeCommand('socrata.datasets.loadMore', all.at(-1));
      assert.equal(ids(await provider().getChildren(g.all)).length, 100, 'Load more appends the next page');
    });
  }

  it("offers write actions by the account's rights, not by ownership", async () => {
    await signInAs(domain, 'publisher');
    const g = await groups(domain);
    const [library] = datasets(await provider().getChildren(g.shared));
    assert.ok(library);
    const editorItem = provider().getTreeItem(library).contextValue ?? '';
    assert.match(editorItem, /;canWrite;/);
    assert.match(editorItem, /;canDeleteRows;/);
    assert.match(editorItem, /;canEditMetadata;/);
    assert.doesNotMatch(editorItem, /;canDeleteDataset;|;owned;/, 'an editor may not delete the dataset; it is not theirs');
    assert.ok(offered('socrata.dataset.publishCsv', editorItem), 'Publish CSV is offered on a dataset shared for editing');

    await provider().setFilter('Park Facilities');
    const [park] = datasets(await provider().getChildren((await groups(domain)).all));
    assert.equal(park?.datasetId, 'park-othr');
    await provider().ensureView(park);
    const readOnly = provider().getTreeItem(park).contextValue ?? '';
    assert.match(readOnly, /;readOnly;/);
    assert.doesNotMatch(readOnly, /;canWrite;|;canDeleteRows;|;canEditMetadata;|;canDeleteDataset;/);
    assert.equal(offered('socrata.dataset.publishCsv', readOnly), false, 'no Publish CSV on a read-only dataset');
    for (const command of ['socrata.dataset.previewRows', 'socrata.dataset.runQuery', 'socrata.dataset.openInBrowser', 'socrata.dataset.copyId']) {
      assert.ok(offered(command, readOnly), `${command} on a read-only dataset`);
    }
    assert.match(park.notOffered() ?? '', /^write rows \(needs "write"\), delete rows \(needs "delete"\)/, 'which right each action lacks');
    const tip = provider().getTreeItem(park).tooltip;
    assert.ok(tip instanceof vscode.MarkdownString);
    assert.match(tip.value, /Not offered: write&nbsp;rows/, 'the tooltip says so');
    await provider().setFilter(undefined);
  });

  it('sorts All datasets by name or by last update', async () => {
    await signInAs(domain, 'viewer');
    await vscode.commands.executeCommand('socrata.datasets.sortAll', 'updatedAt');
    const g = await groups(domain);
    assert.match(String(provider().getTreeItem(g.all).description), /by last update/);
    const byUpdate = datasets(await provider().getChildren(g.all)).map((d) => Date.parse(d.entry.updatedAt ?? ''));
    assert.ok(
      byUpdate.every((t, i) => i === 0 || (byUpdate[i - 1] ?? t) >= t),
      'newest first',
    );
    await vscode.commands.executeCommand('socrata.datasets.sortAll', 'name');
    const byName = datasets(await provider().getChildren((await groups(domain)).all)).map((d) => d.name.toLowerCase());
    assert.deepEqual(byName, [...byName].sort());
  });

  it('publishes to a dataset shared for editing, and refuses a viewer with the missing right', async () => {
    await signInAs(domain, 'publisher');
    const library = join(dir, 'branches.csv');
    writeFileSync(library, 'branch_id,branch,visits\nLB-77,Harbor Branch,120\nLB-78,Hill Branch,80\n');
    const ok = await vscode.commands.executeCommand<FlowResult>('socrata.csv.publish', vscode.Uri.file(library), {
      domain,
      dataset: 'libr-shrd',
      run: 'publish',
    });
    assert.equal(ok.outcome?.status, 'success', ok.outcome?.message);
    const rows = (await (
      await fetch(new URL('/resource/libr-shrd.json?$where=branch_id%20in(%27LB-77%27,%27LB-78%27)', emulator()?.url), {
        headers: { authorization: `Basic ${Buffer.from('other@example.org:other-pass').toString('base64')}` },
      })
    ).json()) as { branch: string }[];
    assert.deepEqual(rows.map((r) => r.branch).sort(), ['Harbor Branch', 'Hill Branch']);

    await signInAs(domain, 'viewer');
    const inspections = join(dir, 'inspections.csv');
    writeFileSync(inspections, 'inspection_id,restaurant,score\nIN-900,Corner Cafe,91\n');
    // Publishing stops at the preview, whose message (shown and logged) names the missing right; nothing is written.
    const refused = await vscode.commands.executeCommand<FlowResult | undefined>('socrata.csv.publish', vscode.Uri.file(inspections), {
      domain,
      dataset: 'insp-shrd',
      run: 'publish',
    });
    assert.notEqual(refused?.outcome?.status, 'success');
    const written = (await (
      await fetch(new URL('/resource/insp-shrd.json?inspection_id=IN-900', emulator()?.url), {
        headers: { authorization: `Basic ${Buffer.from('other@example.org:other-pass').toString('base64')}` },
      })
    ).json()) as unknown[];
    assert.deepEqual(written, [], 'nothing was written');
    const told =
      /socrata\.csv\.publish: You may read insp-shrd \("Restaurant Inspections"\) but not write to it: the "write" right is missing \(your rights: read\)\. Ask its owner \(Olive Other\) to share it with you as an editor/;
    const deadline = Date.now() + 10_000;
    while (!told.test(socrataLog()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.match(socrataLog(), told, 'the refusal says which right is missing');
  });
});
