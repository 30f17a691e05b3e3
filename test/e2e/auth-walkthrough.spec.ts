// The Get Started walkthrough ticks its steps by itself, on the real action: "Sign in" once an account is signed in
// (a cancelled sign-in leaves it unticked), "Browse" once the Datasets view is shown, "Preview a CSV" once a preview
// is open (a dismissed file dialog leaves it unticked). This spec runs first (specs
// run in file-name order on one workbench): nobody has signed in yet. Screenshots: test-artifacts/e2e/walkthrough-*.png.
import * as assert from 'node:assert/strict';
import { e2e } from './lib/context';

/** Whether the walkthrough shows step `id` as done (its checkbox in the step list). */
async function done(id: string): Promise<boolean> {
  const box = e2e().page.locator(`[data-done-step-id$="#${id}"]`).first();
  await box.waitFor({ state: 'attached', timeout: 20_000 });
  return (await box.getAttribute('aria-checked')) === 'true';
}

async function waitDone(id: string): Promise<void> {
  const { page } = e2e();
  await page.locator(`[data-done-step-id$="#${id}"][aria-checked="true"]`).first().waitFor({ state: 'attached', timeout: 20_000 });
}

/** Opens (or shows) the Get Started walkthrough; the palette learns the command late on a loaded machine. */
async function openWalkthrough(): Promise<void> {
  const { ui, page } = e2e();
  for (let attempt = 1; ; attempt++) {
    try {
      await ui.runCommand('Welcome: Open Walkthrough...');
      await ui.pick('Get Started with Socrata Publisher');
      return;
    } catch (error) {
      if (attempt >= 4) throw error;
      await page.keyboard.press('Escape');
      await page.waitForTimeout(3000);
    }
  }
}

describe('walkthrough: the steps tick themselves', function () {
  this.timeout(180_000);

  before(function () {
    if (!e2e().emulator) this.skip();
  });

  it('Sign in stays unticked when the sign-in is cancelled and ticks once signed in; Browse ticks when the view is shown', async () => {
    const { ui, page, emulator } = e2e();
    assert.ok(emulator);
    await openWalkthrough();
    for (const step of ['signIn', 'browse', 'preview', 'dryRun', 'publish']) assert.equal(await done(step), false, `${step} is not done yet`);
    await ui.screenshot('walkthrough-start');
    // The walkthrough is closed while the commands run (its page takes the keyboard focus when it re-renders).
    await ui.runCommand('View: Close All Editors');

    // Invoked, then cancelled: not signed in, so not done.
    await ui.runCommand('Socrata: Sign In with API Key');
    await ui.waitForInputBox(/Socrata domain/, { empty: false });
    await page.keyboard.press('Escape');
    await openWalkthrough();
    await page.waitForTimeout(1000);
    assert.equal(await done('signIn'), false, 'a cancelled sign-in does not tick the step');
    await ui.runCommand('View: Close All Editors');

    await ui.signInWithApiKey(emulator.domain, 'demo_key_id', 'demo_key_secret', /signed in to .* as Pat Publisher/i);
    await ui.clearNotifications();
    await openWalkthrough();
    await waitDone('signIn');
    assert.equal(await done('browse'), false);

    await ui.showActivity('Socrata');
    await waitDone('browse');
    assert.equal(await done('dryRun'), false);
    await ui.screenshot('walkthrough-signed-in-and-browsed');
    await ui.runCommand('View: Close All Editors');
  });

  it('Preview a CSV stays unticked when the file dialog is dismissed and ticks once a preview opens', async () => {
    const { ui, page } = e2e();
    // No CSV editor is active: the command asks for a file; dismissing the dialog previews nothing.
    await ui.runCommand('Socrata: Preview as Socrata Import');
    await ui.quickInput();
    await page.keyboard.press('Escape');
    await openWalkthrough();
    await page.waitForTimeout(1000);
    assert.equal(await done('preview'), false, 'a dismissed file dialog does not tick the step');
    await ui.runCommand('View: Close All Editors');

    await ui.explorerContextMenu('permits-good.csv', 'Preview as Socrata Import');
    await (await ui.webview()).locator('body').waitFor();
    await ui.runCommand('View: Close All Editors');
    await openWalkthrough();
    await waitDone('preview');
    await ui.screenshot('walkthrough-previewed');
    await ui.runCommand('View: Close All Editors');
  });
});
