// Signing in as a person does it: the commands' input boxes, the Accounts menu, and the whole OAuth round
// trip (the portal's approval page in a browser tab, the hosted callback page, back into the editor).
//
// How the OAuth answer reaches the extension in code-server: `vscode.env.asExternalUri` turns the
// extension's `vscode://…/oauth-callback` into an http URL of code-server itself (`/callback?vscode-reqid=…`).
// That URL travels in the OAuth `state`; the hosted callback page (media/oauth-callback.html, served here by a
// loopback server standing in for the organisation's https host, with code-server's origin listed in its
// allow-list meta tag) appends `code` and `state` and navigates there; code-server's callback page hands the
// URI to the workbench, which calls the extension's UriHandler.
import * as assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { repoRoot } from '../host/lib/paths';
import { e2e } from './lib/context';

const PAGE_PATH = '/socrata/oauth-callback.html';

/** Serves the callback page the way an organisation would host it (here on loopback http). */
async function hostCallbackPage(allowedOrigin: string): Promise<{ url: string; server: Server }> {
  const html = readFileSync(join(repoRoot, 'media', 'oauth-callback.html'), 'utf8').replace(
    '<meta name="socrata-allowed-callback-origins" content="">',
    `<meta name="socrata-allowed-callback-origins" content="${allowedOrigin}">`,
  );
  const server = createServer((req, res) => {
    if (new URL(req.url ?? '/', 'http://x').pathname === PAGE_PATH) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(html);
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${PAGE_PATH}`, server };
}

/** Runs a command, retrying while the workbench is still registering the extension's contributions. */
async function runCommand(title: string): Promise<void> {
  const { ui, page } = e2e();
  for (let attempt = 1; ; attempt += 1) {
    try {
      await ui.runCommand(title);
      return;
    } catch (error) {
      if (attempt >= 4) throw error;
      await page.keyboard.press('Escape');
      await page.waitForTimeout(2000);
    }
  }
}

/** Records what the workbench writes to the clipboard (VS Code in the browser uses navigator.clipboard). */
async function recordClipboard(): Promise<void> {
  // Runs in the page (a string: this project's TypeScript has no DOM types).
  await e2e().page.evaluate(`(() => {
    if (window.__copied) return;
    window.__copied = [];
    const original = navigator.clipboard.writeText.bind(navigator.clipboard);
    navigator.clipboard.writeText = (text) => {
      window.__copied.push(text);
      return original(text).catch(() => undefined);
    };
  })()`);
}

async function copiedTexts(): Promise<string[]> {
  return e2e().page.evaluate<string[]>('window.__copied || []');
}

/** The extension's Output channel log as written so far (for failure messages). */
function socrataLog(): string {
  const logs = join(e2e().stack.userDataDir, 'logs');
  const found: string[] = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (statSync(full).isDirectory()) walk(full);
      else if (name === 'Socrata.log') found.push(readFileSync(full, 'utf8'));
    }
  };
  if (existsSync(logs)) walk(logs);
  return found.join('\n');
}

/** Waits until the open input box's prompt or message matches. */
async function waitForPrompt(match: RegExp): Promise<string> {
  const { ui, page } = e2e();
  let prompt = '';
  for (let i = 0; i < 100; i += 1) {
    prompt = await ui.quickInputPrompt();
    if (match.test(prompt)) return prompt;
    await page.waitForTimeout(100);
  }
  throw new Error(`the input box never showed ${String(match)}; it shows: ${prompt}`);
}

/** Clicks a notification's button, in its toast or (once the toast has timed out) in the notification center. */
async function clickNotificationButtonAnywhere(match: RegExp, button: string): Promise<void> {
  const { page, ui } = e2e();
  const toast = page.locator('.notifications-toasts .notification-toast', { has: page.locator('.notification-list-item-message', { hasText: match }) }).first();
  if (await toast.isVisible()) {
    await toast.locator('.monaco-button', { hasText: button }).first().click();
    return;
  }
  await ui.runCommand('Notifications: Show Notifications');
  const item = page
    .locator('.notifications-center .notification-list-item', { has: page.locator('.notification-list-item-message', { hasText: match }) })
    .first();
  await item.waitFor({ state: 'visible', timeout: 20_000 });
  await item.hover();
  await item.locator('.monaco-button', { hasText: button }).first().click();
}

async function accountsMenuItems(): Promise<string[]> {
  const { ui } = e2e();
  await ui.activityBarItem('Accounts').first().click();
  return ui.menuItems();
}

describe('auth', function () {
  // Every wait inside is bounded; on a loaded machine the first command may need retries (the palette learns the
  // extension's commands late) and the OAuth round trip up to 45 s, more than the runner's default 60 s.
  this.timeout(180_000);
  let callbackPage: { url: string; server: Server } | undefined;

  before(async function () {
    if (!e2e().emulator) this.skip();
    callbackPage = await hostCallbackPage(new URL(e2e().stack.codeServer.url).origin);
  });

  after(async () => {
    if (callbackPage) await new Promise<void>((resolve) => callbackPage?.server.close(() => resolve()));
  });

  it('signs in with an API key by answering the input boxes; the account shows in the Accounts menu; sign out from there', async () => {
    const { ui, page, emulator } = e2e();
    const domain = emulator?.domain ?? '';
    await runCommand('Socrata: Sign In with API Key');
    assert.match(await ui.quickInputPrompt(), /domain/i);
    await ui.answerInput('not a domain');
    // Enter is refused while the value is invalid; the validation message replaces the prompt.
    await waitForPrompt(/Invalid Socrata domain/);
    await ui.answerInput(domain);
    await waitForPrompt(/API key id/);
    await ui.answerInput('demo_key_id');
    await waitForPrompt(/API key secret/);
    const secretBox = (await ui.quickInput()).locator('input.input');
    assert.equal(await secretBox.getAttribute('type'), 'password');
    await ui.answerInput('demo_key_secret');
    await ui.waitForNotification(/signed in to .* as Pat Publisher <publisher@example\.org>, role publisher/);
    await ui.screenshot('auth-api-key-signed-in');

    const label = `publisher@example.org @ ${domain}`;
    const items = await accountsMenuItems();
    assert.ok(
      items.some((i) => i.includes(label)),
      `Accounts menu: ${items.join(' | ')}`,
    );
    await ui.screenshot('auth-accounts-menu');
    // Account entry → submenu → Sign Out, then confirm.
    await page.locator('.context-view .monaco-menu .action-item', { hasText: label }).first().hover();
    const signOut = page.locator('.context-view .monaco-menu .action-label', { hasText: /^Sign Out$/ }).last();
    await signOut.click();
    await ui.screenshot('auth-accounts-sign-out-clicked');
    const confirm = page.locator('.monaco-dialog-box .monaco-button', { hasText: /^Sign Out$/ });
    // A submenu that has just opened can miss the click (the item stays highlighted, the menu open): then run the
    // highlighted item with Enter. Bounded: at most two more tries, then the wait's own error.
    for (let attempt = 1; ; attempt += 1) {
      try {
        await confirm.waitFor({ state: 'visible', timeout: attempt < 3 ? 7_000 : 20_000 });
        break;
      } catch (error) {
        if (attempt >= 3 || !(await signOut.isVisible())) throw error;
        await signOut.hover();
        await page.keyboard.press('Enter');
      }
    }
    await ui.screenshot('auth-accounts-sign-out-confirm');
    await confirm.click();
    // The menu is rebuilt when the provider reports the removed session; under load that can take a while,
    // so reopen it until the account is gone (bounded by time, not by a count of tries).
    let after: string[] = [];
    const deadline = Date.now() + 30_000;
    do {
      await page.keyboard.press('Escape');
      await page.waitForTimeout(300);
      after = await accountsMenuItems();
    } while (after.some((item) => item.includes(label)) && Date.now() < deadline);
    await page.keyboard.press('Escape');
    assert.ok(!after.some((i) => i.includes(label)), `still listed: ${after.join(' | ')}`);
  });

  it('a wrong key secret asks again with the domain and key id kept and the reason shown; the right secret signs in', async () => {
    const { ui, page, emulator } = e2e();
    const domain = emulator?.domain ?? '';
    const value = async () => (await ui.quickInput()).locator('input.input').inputValue();
    await ui.clearNotifications();
    await runCommand('Socrata: Sign In with API Key');
    await waitForPrompt(/Socrata domain/);
    // The first box starts with the socrata.defaultDomain setting: Enter keeps it.
    assert.equal(await value(), domain);
    await page.keyboard.press('Enter');
    await waitForPrompt(/API key id/);
    await ui.answerInput('demo_key_id');
    await waitForPrompt(/API key secret/);
    await ui.answerInput('not-the-secret');
    // Refused: the key id box comes back with the id kept and the portal's reason in front of the prompt.
    const again = await waitForPrompt(/rejected the API key id or key secret.*API key id/);
    assert.match(again, /HTTP 401/);
    assert.equal(await value(), 'demo_key_id');
    await ui.screenshot('auth-api-key-retry');
    // Enter on the box itself, so a focus change during the screenshot cannot swallow it.
    await (await ui.quickInput()).locator('input.input').press('Enter');
    await waitForPrompt(/rejected the API key id or key secret.*API key secret for key demo_key_id/);
    assert.equal(await value(), '', 'the secret is not kept');
    await ui.answerInput('demo_key_secret');
    await ui.waitForNotification(/signed in to .* as Pat Publisher/, 30_000);
    const texts = (await ui.notifications()).join(' | ');
    assert.ok(!texts.includes('not-the-secret'), texts);
  });

  it('signs in with OAuth: Approve on the portal page, the callback reaches the editor', async () => {
    const { ui, page, emulator } = e2e();
    const domain = emulator?.domain ?? '';
    await ui.clearNotifications();
    await recordClipboard();
    await runCommand('Socrata: Sign In with OAuth');
    await waitForPrompt(/Socrata domain/);
    await ui.answerInput(domain);
    await waitForPrompt(/OAuth client id/);
    await ui.answerInput('demo-app-token');
    await waitForPrompt(/Secret token/);
    await ui.answerInput('demo-app-secret');
    await waitForPrompt(/Redirect URI/);
    const opened = page.context().waitForEvent('page', { timeout: 30_000 });
    await ui.answerInput(callbackPage?.url ?? '');
    // The extension opens the portal's authorization page in the browser. code-server forwards loopback
    // addresses through its port proxy and, in doing so, drops the path and query of the link
    // (http://127.0.0.1:<emulator>/oauth/authorize?… becomes /proxy/<emulator>/); real portals are not on
    // loopback. So, like a person would, use the notification's "Copy Link" and open the link by hand.
    const firstTab = await opened;
    await firstTab.close().catch(() => undefined);
    await clickNotificationButtonAnywhere(/continue the sign-in/, 'Copy Link');
    let link: string | undefined;
    for (let i = 0; i < 50 && link === undefined; i += 1) {
      link = (await copiedTexts()).find((t) => t.includes('/oauth/authorize?'));
      if (link === undefined) await page.waitForTimeout(100);
    }
    assert.ok(link, 'the sign-in link was copied');
    const authorize = new URL(link);
    assert.equal(authorize.host, domain);
    assert.equal(authorize.searchParams.get('client_id'), 'demo-app-token');
    assert.equal(authorize.searchParams.get('redirect_uri'), callbackPage?.url);
    assert.match(authorize.searchParams.get('state') ?? '', /^[A-Za-z0-9_-]{43}\.[A-Za-z0-9_-]+$/);
    const popup = await page.context().newPage();
    try {
      await popup.goto(link);
      await popup.locator('#email').fill('publisher@example.org');
      await popup.locator('#password').fill('publish-me');
      await popup.screenshot({ path: join(repoRoot, 'test-artifacts', 'e2e', 'auth-oauth-approve-page.png') }).catch(() => undefined);
      await popup.locator('#approve').click();
      // Approve → the hosted callback page → code-server's /callback → the extension's UriHandler.
      try {
        await ui.waitForNotification(/signed in to .* as Pat Publisher/, 45_000);
      } catch (error) {
        const text = await popup
          .locator('body')
          .innerText()
          .catch(() => '');
        throw new Error(`${(error as Error).message}\n  the browser tab is at ${popup.url()}\n  it shows: ${text.slice(0, 500)}\n  log:\n${socrataLog()}`);
      }
      assert.match(popup.url(), /\/callback\?/, `the callback page forwarded to code-server (${popup.url()})`);
    } finally {
      await popup.close().catch(() => undefined);
    }
    await ui.screenshot('auth-oauth-signed-in');
    const items = await accountsMenuItems();
    await page.keyboard.press('Escape');
    assert.ok(
      items.some((i) => i.includes(`publisher@example.org @ ${domain}`)),
      `Accounts menu: ${items.join(' | ')}`,
    );
  });

  it('after every flow, no secret is in settings, state files or logs (the Output channel included)', () => {
    const userData = e2e().stack.userDataDir;
    const files: string[] = [];
    const walk = (dir: string) => {
      if (!existsSync(dir)) return;
      for (const name of readdirSync(dir)) {
        const full = join(dir, name);
        const st = statSync(full);
        if (st.isDirectory()) walk(full);
        else if (st.size < 50 * 1024 * 1024) files.push(full);
      }
    };
    walk(join(userData, 'User'));
    walk(join(userData, 'logs'));
    walk(join(userData, 'Machine'));
    assert.ok(
      files.some((f) => f.endsWith('Socrata.log')),
      'the Output channel log is among the files',
    );
    assert.match(socrataLog(), /OAuth: received an authorization code/);
    const secrets = ['demo_key_secret', 'not-the-secret', 'demo-app-secret', 'publish-me'];
    const leaks = files.flatMap((f) => {
      const text = readFileSync(f).toString('latin1');
      return secrets.filter((secret) => text.includes(secret)).map((secret) => `${f}: ${secret}`);
    });
    assert.deepEqual(leaks, []);
  });
});
