// The publish flow as a person meets it: sign in, right-click the planted bad CSV in the Explorer → "Publish to
// Socrata…" → pick "Building Permits" → the preview shows the inferred types and the bad rows as problems (also in
// the Problems panel). Screenshots of the preview in a light and a dark theme go to test-artifacts/e2e/.
import * as assert from 'node:assert/strict';
import { e2e } from './lib/context';

describe('CSV preview', function () {
  this.timeout(180_000);

  it('Publish to Socrata… from the Explorer shows the preview with types and problems, in light and dark themes', async function () {
    const { ui, page, emulator } = e2e();
    if (!emulator) this.skip();
    await ui.explorerItem('permits-bad.csv');
    // The picker lists the datasets of the signed-in accounts: the sign-in must have worked.
    await ui.signInWithApiKey(emulator.domain, 'demo_key_id', 'demo_key_secret', /signed in to .* as Pat Publisher/i);

    await ui.explorerContextMenu('permits-bad.csv', 'Publish to Socrata…');
    // The picker lists the catalog in the background; a slow machine may need a while.
    await ui.waitForQuickPickItem('Building Permits', 60_000);
    await ui.pick('Building Permits');

    const view = await ui.webview();
    await view.locator('#target-dataset', { hasText: 'Building Permits' }).waitFor({ timeout: 30_000 });
    // The background pass has counted the problems.
    const problems = view.locator('#plan-problems .value');
    const deadline = Date.now() + 60_000;
    let text = '';
    while (Date.now() < deadline) {
      text = ((await problems.textContent()) ?? '').trim();
      if (/^\d+$/.test(text.replace(/\s/g, ''))) break;
      await page.waitForTimeout(200);
    }
    assert.ok(Number(text.replace(/\s/g, '')) >= 8, `problems counted in the preview (got "${text}")`);
    const valuation = view.locator('#columns tr', { has: view.locator('th', { hasText: /^valuation/ }) });
    assert.equal(((await valuation.locator('td.inferred').textContent()) ?? '').trim(), 'text', 'inferred from the values ("twelve thousand")');
    assert.equal(await valuation.locator('select.type-select').inputValue(), 'number', 'converted as the dataset field type');
    assert.match((await valuation.locator('td.problems').textContent()) ?? '', /line 3/);

    await ui.setTheme('light');
    await view.locator('#columns').waitFor();
    await ui.screenshot('preview-light');
    await ui.setTheme('dark');
    await view.locator('#columns').waitFor();
    await ui.screenshot('preview-dark');

    // The same problems are in the Problems panel, on the CSV file.
    await page.keyboard.press('Control+Shift+M');
    const marker = page.locator('.markers-panel .monaco-list-row', { hasText: 'valuation' }).first();
    await marker.waitFor({ timeout: 20_000 });
    await ui.screenshot('preview-problems-panel');
  });
});
