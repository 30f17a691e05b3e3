// The dataset browser as a person meets it: the Socrata view signed out (welcome buttons), signing in from
// there, the datasets listed, a dataset's columns, and a preview of its rows in the grid.
import * as assert from 'node:assert/strict';
import { e2e } from './lib/context';

const SIDEBAR = '.part.sidebar';

describe('views: the Socrata Datasets view', () => {
  it("lists the publisher's datasets after signing in from the welcome view, and previews rows", async function () {
    const { ui, page, emulator } = e2e();
    if (!emulator) this.skip();
    // Another spec may have signed in already; otherwise the welcome view offers the sign-in buttons.
    const permits = await ui.signInFromWelcome({
      domain: emulator.domain,
      keyId: 'demo_key_id',
      keySecret: 'demo_key_secret',
      shows: 'Building Permits',
      beforeSignIn: async () => {
        await ui.screenshot('views-signed-out');
      },
    });
    const sidebar = page.locator(SIDEBAR);
    for (const name of ['Budget Drafts', 'Street Tree Census', 'Traffic Crashes']) {
      await sidebar.locator('.monaco-list-row', { hasText: name }).first().waitFor({ timeout: 10_000 });
    }
    assert.equal(await sidebar.locator('.monaco-list-row', { hasText: 'Park Facilities' }).count(), 0, 'not owned by the publisher');
    assert.match((await permits.textContent()) ?? '', /bldg-prmt/);
    await ui.screenshot('views-datasets');

    await permits.click();
    await sidebar.locator('.monaco-list-row', { hasText: 'permit_id' }).first().waitFor({ timeout: 20_000 });
    assert.match((await sidebar.locator('.monaco-list-row', { hasText: 'permit_id' }).first().textContent()) ?? '', /row identifier/);
    await ui.screenshot('views-columns');

    // The grid must be the only webview: a preview left open by another spec is a second frame with a table too,
    // and VS Code tears a hidden one down at any moment.
    await ui.runCommand('View: Close All Editors');
    await page
      .locator('iframe.webview')
      .first()
      .waitFor({ state: 'detached', timeout: 10_000 })
      .catch(() => undefined);
    await permits.click({ button: 'right' });
    await ui.pickMenuItem('Preview Rows');
    const grid = await ui.webview();
    await grid.locator('table tbody tr').first().waitFor({ timeout: 30_000 });
    assert.equal(await grid.locator('table tbody tr').count(), 100);
    assert.match((await grid.locator('thead').textContent()) ?? '', /permit_id\s*text/);
    await ui.screenshot('views-preview-rows');
  });
});
