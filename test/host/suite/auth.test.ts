// Accounts in the real extension host: sign in through the commands (their input boxes are answered by the
// commands' argument object: every field passed is not asked for), see the sessions change, sign out, and
// check that no secret ends up in settings, state or logs.
//
// This suite runs in another extension (the test runner). VS Code lets an extension read another
// extension's authentication sessions only after the user allowed it in a modal dialog, so a silent
// `vscode.authentication.getSession('socrata', …)` from here answers undefined even while the session exists;
// the sessions are read through `socrata.auth.listAccounts` (public descriptions only) and the
// `onDidChangeSessions` events instead. The end-to-end suite checks the Accounts menu.
import * as assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import type { SocrataExtensionApi } from '../../../src/extension';
import type { DatasetsNode } from '../../../src/datasets';
import { emulator, extension, runner, signOutAll } from './lib/host';

interface SignInResult {
  accountId: string;
  label: string;
  domain: string;
  displayName: string;
  email: string;
  roleName: string | undefined;
}

const SECRETS = ['demo_key_secret', 'publish-me', 'other-pass', 'wrong-secret-value', 'demo-app-token-for-tests'];

function domainOrSkip(ctx: Mocha.Context): string {
  const emu = emulator();
  if (!emu) ctx.skip();
  return emu.domain;
}

interface ListedAccount extends SignInResult {
  kind: string;
  needsSignIn: boolean;
}

async function accounts(domain: string): Promise<ListedAccount[]> {
  const all = (await vscode.commands.executeCommand<ListedAccount[] | undefined>('socrata.auth.listAccounts')) ?? [];
  return all.filter((a) => a.domain === domain);
}

/** Waits until `onDidChangeSessions` fires for the socrata provider (or fails after a while). */
function nextSessionChange(): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      sub.dispose();
      reject(new Error('no onDidChangeSessions event for socrata'));
    }, 10_000);
    const sub = vscode.authentication.onDidChangeSessions((e) => {
      if (e.provider.id !== 'socrata') return;
      clearTimeout(timer);
      sub.dispose();
      resolve();
    });
  });
}

function api(): SocrataExtensionApi {
  return extension().exports as SocrataExtensionApi;
}

/** Asks `check` again every 100 ms until it answers something other than undefined; fails after `timeoutMs`. */
async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** <user data> of this VS Code: <user data>/User/globalStorage/<runner id> → <user data>. */
function userDataDir(): string {
  return join(runner().context.globalStorageUri.fsPath, '..', '..', '..');
}

/** What the Socrata output channel has written to its log file(s) so far. */
function socrataLog(): string {
  return filesUnder(join(userDataDir(), 'logs'))
    .filter((f) => /Socrata\.log$/.test(f))
    .map((f) => readFileSync(f, 'utf8'))
    .join('\n');
}

/** Polls (bounded) until the Socrata log file holds what `ready` looks for; VS Code writes log files asynchronously. */
function socrataLogWhen(what: string, ready: (text: string) => boolean): Promise<string> {
  return until(what, () => {
    const text = socrataLog();
    return ready(text) ? text : undefined;
  });
}

/**
 * The Socrata log with everything the extension logged before this call: has it log a line of its own (removing
 * the app token of a made-up domain, which changes nothing) and waits until that line is in the file.
 */
async function socrataLogUpToNow(): Promise<string> {
  const marker = `log-mark-${randomUUID().slice(0, 8)}.example.org`;
  await vscode.commands.executeCommand('socrata.auth.setAppToken', { domain: marker, appToken: '' });
  return socrataLogWhen(`the line logged for ${marker}`, (text) => text.includes(`Removed the app token of ${marker}.`));
}

function occurrences(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

/** Switches the emulator's refusal of a Basic user name (its test-control endpoint) on, or off for every name. */
async function rejectCredential(username: string | undefined): Promise<void> {
  const emu = emulator();
  assert.ok(emu);
  const url = new URL('/__emulator/rejected-credentials', emu.url);
  const res =
    username === undefined
      ? await fetch(url, { method: 'DELETE' })
      : await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username }) });
  assert.equal(res.status, 200, await res.text());
}

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const st = statSync(full);
    if (st.isDirectory()) out.push(...filesUnder(full));
    else if (st.size < 50 * 1024 * 1024) out.push(full);
  }
  return out;
}

describe('auth: accounts in real VS Code', function () {
  this.timeout(30_000);

  before(async () => {
    await extension().activate();
    await signOutAll();
  });

  // The later test files start from no account too; leave none of the accounts signed in here.
  after(async () => {
    await signOutAll();
  });

  it('has no account before anyone signs in, and asking silently does not prompt', async function () {
    const domain = domainOrSkip(this);
    assert.deepEqual(await accounts(domain), []);
    assert.equal(await vscode.authentication.getSession('socrata', [`domain:${domain}`], { silent: true }), undefined);
  });

  it('signs in with an API key through the command and shows the session', async function () {
    const domain = domainOrSkip(this);
    const changed = nextSessionChange();
    const result = await vscode.commands.executeCommand<SignInResult | undefined>('socrata.auth.signInWithApiKey', {
      domain,
      keyId: 'demo_key_id',
      keySecret: 'demo_key_secret',
    });
    assert.ok(result, 'the command returned the account');
    assert.equal(result.label, `publisher@example.org @ ${domain}`);
    assert.equal(result.displayName, 'Pat Publisher');
    assert.equal(result.roleName, 'publisher');
    assert.ok(!JSON.stringify(result).includes('demo_key_secret'));
    await changed;
    const listed = await accounts(domain);
    assert.deepEqual(
      listed.map((a) => [a.accountId, a.label, a.kind, a.needsSignIn]),
      [[`${domain}|pub1-usr1`, `publisher@example.org @ ${domain}`, 'apiKey', false]],
    );
    assert.ok(!JSON.stringify(listed).includes('demo_key_secret'));
  });

  it('a wrong key secret is an error and saves nothing', async function () {
    const domain = domainOrSkip(this);
    const before = await accounts(domain);
    assert.equal(before.length, 1);
    const result = await vscode.commands.executeCommand<SignInResult | undefined>('socrata.auth.signInWithPassword', {
      domain,
      email: 'viewer@example.org',
      password: 'wrong-secret-value',
    });
    assert.equal(result, undefined, 'the command failed');
    assert.deepEqual(await accounts(domain), before, 'the existing account is untouched and no viewer account was added');
    // Updating the existing account with a wrong secret keeps the old, working credential.
    const bad = await vscode.commands.executeCommand<SignInResult | undefined>('socrata.auth.signInWithApiKey', {
      domain,
      keyId: 'demo_key_id',
      keySecret: 'wrong-secret-value',
    });
    assert.equal(bad, undefined);
    assert.deepEqual(await accounts(domain), before);
    // The old, stored credential still works: signing in again with it succeeds.
    const again = await vscode.commands.executeCommand<SignInResult | undefined>('socrata.auth.signInWithApiKey', {
      domain,
      keyId: 'demo_key_id',
      keySecret: 'demo_key_secret',
    });
    assert.equal(again?.accountId, before[0]?.accountId);
  });

  it('sets an app token per domain', async function () {
    const domain = domainOrSkip(this);
    const r = await vscode.commands.executeCommand<{ domain: string; set: boolean } | undefined>('socrata.auth.setAppToken', {
      domain,
      appToken: 'demo-app-token-for-tests',
    });
    assert.deepEqual(r, { domain, set: true });
    const cleared = await vscode.commands.executeCommand<{ domain: string; set: boolean } | undefined>('socrata.auth.setAppToken', { domain, appToken: '' });
    assert.deepEqual(cleared, { domain, set: false });
  });

  it('signs out through the command; the session disappears', async function () {
    const domain = domainOrSkip(this);
    const [account] = await accounts(domain);
    assert.ok(account);
    const changed = nextSessionChange();
    const r = await vscode.commands.executeCommand<{ accountId: string } | undefined>('socrata.auth.signOut', { accountId: account.accountId });
    assert.deepEqual(r, { accountId: account.accountId });
    await changed;
    assert.deepEqual(await accounts(domain), []);
  });

  it('signs in with email and password', async function () {
    const domain = domainOrSkip(this);
    const result = await vscode.commands.executeCommand<SignInResult | undefined>('socrata.auth.signInWithPassword', {
      domain,
      email: 'publisher@example.org',
      password: 'publish-me',
    });
    assert.equal(result?.label, `publisher@example.org @ ${domain}`);
    assert.deepEqual(
      (await accounts(domain)).map((a) => a.kind),
      ['basic'],
    );
    // A second identity on the same domain is a second account.
    const other = await vscode.commands.executeCommand<SignInResult | undefined>('socrata.auth.signInWithPassword', {
      domain,
      email: 'other@example.org',
      password: 'other-pass',
    });
    assert.equal(other?.displayName, 'Olive Other');
    assert.deepEqual((await accounts(domain)).map((a) => a.label).sort(), [`other@example.org @ ${domain}`, `publisher@example.org @ ${domain}`]);
  });

  it('leaves no secret in settings, global state or logs (the output channel included)', async function () {
    const domain = domainOrSkip(this);
    // The last sign-in above is the last thing written: once it is in the file, the sign-ins' lines are all there.
    await socrataLogWhen('the last sign-in in the Socrata log', (text) => text.includes(`Signed in to ${domain} as Olive Other <other@example.org>`));
    const userData = userDataDir();
    const candidates = [
      ...filesUnder(join(userData, 'User')).filter((f) => /settings\.json$|\.vscdb$|state|storage\.json$/i.test(f)),
      ...filesUnder(join(userData, 'logs')),
      ...filesUnder(join(userData, 'Machine')),
    ];
    assert.ok(
      candidates.some((f) => f.includes('logs')),
      'found the log files',
    );
    const socrataLog = candidates.filter((f) => /Socrata\.log$/.test(f));
    assert.ok(socrataLog.length > 0, 'found the Socrata output channel log');
    assert.ok(
      socrataLog.some((f) => readFileSync(f, 'utf8').includes('Signed in to')),
      'the output channel logged the sign-in',
    );
    const leaks: string[] = [];
    for (const file of candidates) {
      const text = readFileSync(file).toString('latin1');
      for (const secret of SECRETS) if (text.includes(secret)) leaks.push(`${file}: ${secret}`);
    }
    assert.deepEqual(leaks, []);
    const settings = JSON.stringify(vscode.workspace.getConfiguration('socrata'));
    for (const secret of SECRETS) assert.ok(!settings.includes(secret));
  });

  it('marks an account whose stored credential the portal answers 401 as needing sign-in, stops offering it, and tells once', async function () {
    const domain = domainOrSkip(this);
    await signOutAll();
    const signIn = () =>
      vscode.commands.executeCommand<SignInResult | undefined>('socrata.auth.signInWithApiKey', { domain, keyId: 'demo_key_id', keySecret: 'demo_key_secret' });
    const signedIn = await signIn();
    assert.ok(signedIn);
    const accountId = signedIn.accountId;
    const label = `publisher@example.org @ ${domain}`;
    const told = `${label} was rejected by the portal; it needs signing in again.`;
    const listed = async () => (await accounts(domain)).map((a) => [a.accountId, a.needsSignIn]);
    const toldBefore = occurrences(await socrataLogUpToNow(), told);
    /** How often the warning was logged once it was logged at least `atLeast` times, counting everything logged until now. */
    const timesTold = async (atLeast: number): Promise<number> => {
      await socrataLogWhen(`the warning logged ${atLeast} times`, (text) => occurrences(text, told) >= atLeast);
      return occurrences(await socrataLogUpToNow(), told);
    };
    try {
      // The key is revoked on the portal: the dataset tree lists the account's datasets with it and gets a 401.
      await rejectCredential('demo_key_id');
      // (Reloaded until the listing is one made after the revocation: a reload the sign-in scheduled may still be under way.)
      await until('a reload of the tree to mark the account', async () => {
        await vscode.commands.executeCommand('socrata.datasets.refresh');
        await api().datasets.provider.getChildren();
        return (await listed())[0]?.[1] === true ? true : undefined;
      });
      assert.deepEqual(await listed(), [[accountId, true]], 'the account is marked as needing sign-in');
      assert.equal(await api().accounts.getConnection(domain), undefined, 'the account is no longer offered');
      assert.equal(await api().accounts.getConnection(domain, { accountId }), undefined, 'not even when asked for by id');
      const node = (await api().datasets.provider.getChildren()).find(
        (n): n is DatasetsNode & { kind: 'domain' } => n.kind === 'domain' && n.account.id === accountId,
      );
      assert.ok(node, 'the account stays in the tree');
      const children = await api().datasets.provider.getChildren(node);
      assert.deepEqual(
        children.map((c) => (c.kind === 'error' ? [c.kind, c.action?.command, c.action?.title] : [c.kind])),
        [['error', 'socrata.auth.updateCredentials', 'Sign In Again']],
        'the tree offers Sign In Again instead of asking the portal',
      );

      // A second failure (another request that was under way with the same credential) marks nothing and tells nobody again.
      const [account] = await api().accounts.list();
      assert.ok(account);
      const client = await api().accounts.clientWith(domain, { kind: 'apiKey', keyId: 'demo_key_id', keySecret: 'demo_key_secret' });
      const refused = await client.currentUser().then(
        () => undefined,
        (e: unknown) => e,
      );
      await client.close();
      assert.match(String(refused), /did not accept the credentials/);
      assert.equal(await api().accounts.reportError(account, refused), true, 'a 401 is recognised as the credential being refused');
      assert.deepEqual(await listed(), [[accountId, true]]);
      assert.equal(await timesTold(toldBefore + 1), toldBefore + 1, 'one warning for the first failure, none for the second');

      // Signing in again brings the account back; a 401 in a feature that does not report errors itself (a query in
      // the grid) marks it too, because the account's client reports its own 401s.
      await rejectCredential(undefined);
      assert.equal((await signIn())?.accountId, accountId);
      assert.deepEqual(await listed(), [[accountId, false]], 'signed in again');
      await rejectCredential('demo_key_id');
      const result = await vscode.commands.executeCommand<{ error?: string } | undefined>('socrata.dataset.runQuery', {
        domain,
        id: 'bldg-prmt',
        query: 'SELECT permit_id LIMIT 1',
      });
      assert.match(result?.error ?? '', /did not accept the credentials/);
      await until('the account to be marked after the query', async () => ((await listed())[0]?.[1] === true ? true : undefined));
      assert.equal(await api().accounts.getConnection(domain), undefined);
      assert.equal(await timesTold(toldBefore + 2), toldBefore + 2, 'told once for this failure');
    } finally {
      for (const grid of [...api().datasets.grids]) grid.dispose();
      await rejectCredential(undefined);
      await signOutAll();
    }
  });
});
