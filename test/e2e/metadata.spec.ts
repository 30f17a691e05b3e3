// Edit Dataset Metadata as a person meets it: opened from the dataset's context menu, a value the portal's schema
// does not allow marked in the editor, and a field-name rename shown as a diff with the confirmation dialog
// (declined here, so the sample dataset stays as it is for the other specs).
import * as assert from 'node:assert/strict';
import { e2e } from './lib/context';

const SIDEBAR = '.part.sidebar';

async function signedIn(): Promise<void> {
  const { ui, emulator } = e2e();
  if (!emulator) return;
  await ui.signInFromWelcome({ domain: emulator.domain, keyId: 'demo_key_id', keySecret: 'demo_key_secret', shows: 'Street Tree Census' });
}

/** Replaces the first `from` in the active editor with `to` (the editor's find/replace widget). */
async function replaceInEditor(from: string, to: string): Promise<void> {
  const { page } = e2e();
  await page.locator('.monaco-editor .view-lines').first().click();
  await page.keyboard.press('Control+H');
  const find = page.locator('.find-widget textarea[aria-label="Find"], .find-widget input[aria-label="Find"]').first();
  await find.waitFor({ timeout: 10_000 });
  await find.fill(from);
  const replace = page.locator('.find-widget textarea[aria-label="Replace"], .find-widget input[aria-label="Replace"]').first();
  await replace.fill(to);
  await page.keyboard.press('Enter');
  await page.keyboard.press('Escape');
}

describe('metadata: Edit Dataset Metadata', () => {
  it('opens the document from the tree, marks a value outside the portal schema, and shows a rename as a diff to confirm', async function () {
    const { ui, page, emulator } = e2e();
    if (!emulator) this.skip();
    await ui.runCommand('View: Close All Editors');
    await signedIn();
    const row = page.locator(SIDEBAR).locator('.monaco-list-row', { hasText: 'Street Tree Census' }).first();
    await row.click({ button: 'right' });
    await ui.pickMenuItem('Edit Dataset Metadata…');
    const tab = page.locator('.tabs-container .tab', { hasText: 'metadata.json' }).first();
    await tab.waitFor({ timeout: 30_000 });
    const editor = page.locator('.editor-instance .monaco-editor').first();
    await editor.locator('.view-line', { hasText: '"Street Tree Census"' }).first().waitFor({ timeout: 20_000 });

    await replaceInEditor('"Environment"', '"Sports"');
    await editor.locator('.squiggly-error, .squiggly-warning').first().waitFor({ timeout: 30_000 });
    await ui.runCommand('View: Focus Problems (Errors, Warnings, Infos)');
    const problems = page.locator('.markers-panel');
    await problems
      .locator('.monaco-list-row', { hasText: /Environment|allowed|enum/i })
      .first()
      .waitFor({ timeout: 20_000 });
    await ui.screenshot('metadata-schema-error');
    await replaceInEditor('"Sports"', '"Environment"');

    await replaceInEditor('"fieldName": "species"', '"fieldName": "species_name"');
    await page.keyboard.press('Control+S');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ timeout: 30_000 });
    assert.match((await dialog.textContent()) ?? '', /species → species_name: this breaks API consumers/);
    await page.locator('.editor-instance .monaco-diff-editor').first().waitFor({ timeout: 20_000 });
    await ui.screenshot('metadata-risky-diff');
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden', timeout: 10_000 });
    const res = await fetch(new URL('/api/views/tree-cnsu.json', emulator.url));
    const view = (await res.json()) as { columns: { fieldName: string }[] };
    assert.equal(view.columns[0]?.fieldName, 'species', 'declined: nothing changed');
    await ui.clearNotifications();
    await tab.click();
    await replaceInEditor('"fieldName": "species_name"', '"fieldName": "species"');
    await page.keyboard.press('Control+S');
    await page.locator('.tabs-container .tab.dirty', { hasText: 'metadata.json' }).first().waitFor({ state: 'detached', timeout: 20_000 });
    await ui.runCommand('View: Close All Editors');
  });
});
