// The first sign-in as a newcomer meets it: the domain box starts with the `socrata.defaultDomain` setting (the
// host suite sets it to the emulator), so accepting it as it is signs in to that portal. (Typing into the boxes,
// as after a refused key secret, is covered by the end-to-end suite, test/e2e/auth.spec.ts.)
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { emulator, extension, signOutAll } from './lib/host';

interface SignInResult {
  accountId: string;
  domain: string;
}

describe('sign-in: the first sign-in', function () {
  this.timeout(60_000);

  before(async () => {
    await extension().activate();
    await signOutAll();
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeQuickOpen');
    await signOutAll();
  });

  it('pre-fills the domain box with socrata.defaultDomain: Enter signs in to that portal', async function () {
    const emu = emulator();
    if (!emu) this.skip();
    assert.equal(vscode.workspace.getConfiguration('socrata').get<string>('defaultDomain'), emu.domain);
    // The domain is not passed: the command asks for it; the key id and secret are passed.
    const signing = vscode.commands.executeCommand<SignInResult | undefined>('socrata.auth.signInWithApiKey', {
      keyId: 'demo_key_id',
      keySecret: 'demo_key_secret',
    });
    let settled = false;
    void signing.then(() => (settled = true));
    // Enter on the box as it is shown (an empty box refuses Enter, so the command would still be waiting).
    const deadline = Date.now() + 20_000;
    while (!settled && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      await vscode.commands.executeCommand('workbench.action.acceptSelectedQuickOpenItem');
    }
    assert.ok(settled, 'the domain box was accepted as shown and the sign-in finished');
    const result = await signing;
    assert.equal(result?.domain, emu.domain);
    assert.equal(result?.accountId, `${emu.domain}|pub1-usr1`);
  });
});
