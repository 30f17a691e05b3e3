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
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
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
    const bad = await vscode.commands.executeCommand<SignInResult | undefined>('socrata.auth.signInWithApiKey', { domain, keyId: 'demo_key_id', keySecret: 'wrong-secret-value' });
    assert.equal(bad, undefined);
    assert.deepEqual(await accounts(domain), before);
    // The old, stored credential still works: signing in again with it succeeds.
    const again = await vscode.commands.executeCommand<SignInResult | undefined>('socrata.auth.signInWithApiKey', { domain, keyId: 'demo_key_id', keySecret: 'demo_key_secret' });
    assert.equal(again?.accountId, before[0]?.accountId);
  });

  it('sets an app token per domain', async function () {
    const domain = domainOrSkip(this);
    const r = await vscode.commands.executeCommand<{ domain: string; set: boolean } | undefined>('socrata.auth.setAppToken', { domain, appToken: 'demo-app-token-for-tests' });
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
    assert.deepEqual((await accounts(domain)).map((a) => a.kind), ['basic']);
    // A second identity on the same domain is a second account.
    const other = await vscode.commands.executeCommand<SignInResult | undefined>('socrata.auth.signInWithPassword', { domain, email: 'other@example.org', password: 'other-pass' });
    assert.equal(other?.displayName, 'Olive Other');
    assert.deepEqual((await accounts(domain)).map((a) => a.label).sort(), [`other@example.org @ ${domain}`, `publisher@example.org @ ${domain}`]);
  });

  it('leaves no secret in settings, global state or logs (the output channel included)', async function () {
    domainOrSkip(this);
    // Give log writers a moment to flush what the sign-ins wrote.
    await new Promise((r) => setTimeout(r, 1500));
    const ctx = runner().context;
    // <user data>/User/globalStorage/<runner id> → <user data>
    const userData = join(ctx.globalStorageUri.fsPath, '..', '..', '..');
    const candidates = [
      ...filesUnder(join(userData, 'User')).filter((f) => /settings\.json$|\.vscdb$|state|storage\.json$/i.test(f)),
      ...filesUnder(join(userData, 'logs')),
      ...filesUnder(join(userData, 'Machine')),
    ];
    assert.ok(candidates.some((f) => f.includes('logs')), 'found the log files');
    const socrataLog = candidates.filter((f) => /Socrata\.log$/.test(f));
    assert.ok(socrataLog.length > 0, 'found the Socrata output channel log');
    assert.ok(socrataLog.some((f) => readFileSync(f, 'utf8').includes('Signed in to')), 'the output channel logged the sign-in');
    const leaks: string[] = [];
    for (const file of candidates) {
      const text = readFileSync(file).toString('latin1');
      for (const secret of SECRETS) if (text.includes(secret)) leaks.push(`${file}: ${secret}`);
    }
    assert.deepEqual(leaks, []);
    const settings = JSON.stringify(vscode.workspace.getConfiguration('socrata'));
    for (const secret of SECRETS) assert.ok(!settings.includes(secret));
  });
});
