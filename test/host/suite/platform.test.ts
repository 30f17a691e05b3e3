// The extension in real VS Code against answers real portals give that the emulator now reproduces: a draft
// (`abcd-1234:7`) in the catalog shown as a draft of its dataset, and bad credentials answered 403 "You must be
// logged in" (no code), which marks the account for signing in again, once, without asking the portal again.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { SocrataExtensionApi } from '../../../src/extension';
import type { DatasetsNode } from '../../../src/datasets';
import { emulator, extension, signOutAll } from './lib/host';

function api(): SocrataExtensionApi {
  return extension().exports as SocrataExtensionApi;
}

function domainOrSkip(ctx: Mocha.Context): string {
  const emu = emulator();
  if (!emu) ctx.skip();
  return emu.domain;
}

async function signIn(domain: string): Promise<string> {
  const result = await vscode.commands.executeCommand<{ accountId: string } | undefined>('socrata.auth.signInWithApiKey', {
    domain,
    keyId: 'demo_key_id',
    keySecret: 'demo_key_secret',
  });
  assert.ok(result?.accountId, `signed in to ${domain}`);
  return result.accountId;
}

async function accountNode(domain: string): Promise<DatasetsNode> {
  const roots = await api().datasets.provider.getChildren();
  const node = roots.find((n) => n.kind === 'domain' && n.account.domain === domain);
  assert.ok(node, `an account node for ${domain}`);
  return node;
}

/** The emulator's test control: refuse the API key id, answering with the 403 "You must be logged in" (or clear). */
async function refuseWithLogin(on: boolean): Promise<void> {
  const emu = emulator();
  assert.ok(emu);
  const url = new URL('/__emulator/rejected-credentials', emu.url);
  const res = on
    ? await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'demo_key_id', authFailures: 'login' }),
      })
    : await fetch(url, { method: 'DELETE' });
  assert.equal(res.status, 200, await res.text());
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('platform answers in real VS Code', function () {
  this.timeout(60_000);

  before(async () => {
    await extension().activate();
    await signOutAll();
  });

  after(async () => {
    await refuseWithLogin(false).catch(() => undefined);
    await signOutAll();
  });

  it('shows the draft tree-cnsu:1 as a draft of Street Tree Census, whose commands use the dataset id', async function () {
    const domain = domainOrSkip(this);
    await signIn(domain);
    // The account's first group, My datasets.
    const account = await accountNode(domain);
    assert.equal(account.kind, 'domain');
    const list = await api().datasets.provider.getChildren(account.groups.mine);
    assert.deepEqual(list.flatMap((n) => (n.kind === 'dataset' ? [n.datasetId] : [])).sort(), ['bdgt-priv', 'bldg-prmt', 'crsh-larg', 'tree-cnsu']);
    assert.equal(
      list.some((n) => n.kind === 'draft'),
      false,
      'the draft is not a dataset of its own',
    );
    const trees = list.find((n) => n.kind === 'dataset' && n.datasetId === 'tree-cnsu');
    assert.ok(trees);
    assert.match(String(api().datasets.provider.getTreeItem(trees).description), /^tree-cnsu · draft open/);
    const kids = await api().datasets.provider.getChildren(trees);
    const draft = kids[0];
    assert.ok(draft?.kind === 'draft', `the first child is the draft (got ${kids.map((k) => k.kind).join(', ')})`);
    assert.equal(draft.datasetId, 'tree-cnsu', 'commands given the draft use the dataset');
    const item = api().datasets.provider.getTreeItem(draft);
    assert.equal(item.label, 'Draft (revision 1)');
    assert.equal(item.contextValue, 'draft;');
    assert.ok(item.tooltip instanceof vscode.MarkdownString);
    assert.match(item.tooltip.value, /`tree-cnsu:1`/);
    assert.match(item.tooltip.value, /not&nbsp;yet&nbsp;applied/);
    assert.ok(
      kids.slice(1).every((k) => k.kind === 'column'),
      'then the columns',
    );
    // A command given the draft node uses the dataset's 4x4; given the draft's id it refuses (the message, which
    // names the dataset to use, is checked in the unit tests) rather than sending it to the portal.
    assert.equal(await vscode.commands.executeCommand<string | undefined>('socrata.dataset.copyId', draft), 'tree-cnsu');
    assert.equal(await vscode.commands.executeCommand<string | undefined>('socrata.dataset.copyId', { domain, id: 'tree-cnsu:1' }), undefined);
  });

  it('marks the account for signing in again on a 403 "You must be logged in", once, and stops asking', async function () {
    const domain = domainOrSkip(this);
    const accountId = await signIn(domain);
    const needsSignIn = async () => (await api().accounts.list()).find((a) => a.id === accountId)?.invalid === true;
    try {
      await refuseWithLogin(true);
      await until('the account to be marked', async () => {
        await vscode.commands.executeCommand('socrata.datasets.refresh');
        await api().datasets.provider.getChildren();
        return (await needsSignIn()) ? true : undefined;
      });
      assert.equal(await api().accounts.getConnection(domain), undefined, 'the account is no longer offered');
      const node = await accountNode(domain);
      const children = await api().datasets.provider.getChildren(node);
      assert.deepEqual(
        children.map((c) => (c.kind === 'error' ? [c.kind, c.action?.command] : [c.kind])),
        [['error', 'socrata.auth.updateCredentials']],
        'Sign In Again instead of asking the portal',
      );
      // The error a feature gets is recognised by status and message.
      const client = await api().accounts.clientWith(domain, { kind: 'apiKey', keyId: 'demo_key_id', keySecret: 'demo_key_secret' });
      const refused = await client.currentUser().then(
        () => undefined,
        (e: unknown) => e,
      );
      await client.close();
      assert.match(String(refused), /did not accept the credentials \(403\)/);
      const [account] = (await api().accounts.list()).filter((a) => a.id === accountId);
      assert.ok(account);
      assert.equal(await api().accounts.reportError(account, refused), true);
    } finally {
      await refuseWithLogin(false);
    }
  });
});
