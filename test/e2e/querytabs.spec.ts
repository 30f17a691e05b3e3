// Query tabs as a person uses them: the tab titled by its query, the total row count of the query, the query edited
// and run again in the same tab, the dataset's recent queries (in the tab and in Run SoQL Query…), and the tab
// keeping its rows and unsent edits when you switch away and back. Screenshots: test-artifacts/e2e/querytabs-*.png.
import * as assert from 'node:assert/strict';
import type { FrameLocator } from 'playwright-core';
import { e2e } from './lib/context';

const FIRST = 'SELECT permit_id, valuation WHERE valuation > 1000000';

/** Run SoQL Query… from the tree's context menu on Building Permits; the quick pick is left open. */
async function openRunQuery(): Promise<void> {
  const { ui, page } = e2e();
  await ui.showActivity('Socrata');
  const permits = page.locator('.part.sidebar .monaco-list-row', { hasText: 'Building Permits' }).first();
  await permits.waitFor({ timeout: 30_000 });
  await permits.click({ button: 'right' });
  await ui.pickMenuItem('Run SoQL Query…');
}

/** The grid's status line once the total has been counted. */
async function countedStatus(grid: FrameLocator): Promise<string> {
  const status = grid.locator('.toolbar [role="status"]').first();
  await status.filter({ hasNotText: /counting/ }).waitFor({ timeout: 30_000 });
  return ((await status.textContent()) ?? '').trim();
}

function activeTabTitle(): Promise<string | null> {
  return e2e().page.locator('.tabs-container .tab.active .label-name').first().textContent();
}

describe('query tabs', function () {
  this.timeout(180_000);

  before(async function () {
    const { ui, emulator } = e2e();
    if (!emulator) this.skip();
    await ui.signInWithApiKey(emulator.domain, 'demo_key_id', 'demo_key_secret', /signed in to .* as Pat Publisher/i);
    await ui.clearNotifications();
  });

  it('is titled by its query and shows the total rows of the query', async () => {
    const { ui, page } = e2e();
    await ui.closeAllEditors();
    await openRunQuery();
    const widget = await ui.quickInput();
    await widget.locator('input.input').fill(FIRST);
    await page.keyboard.press('Enter');
    const grid = await ui.webview();
    await grid.locator('table tbody tr').first().waitFor({ timeout: 30_000 });
    assert.match((await activeTabTitle()) ?? '', /^SELECT permit_id, valuation WHERE valuation > 1000000 · Building Permits$/);
    assert.match(await countedStatus(grid), /^Rows 1–100 of (\d{1,3}(,\d{3})*) ·/);
    const total = Number(/of ([\d,]+)/.exec(await countedStatus(grid))?.[1]?.replace(/,/g, ''));
    assert.ok(total > 100, `more rows than one page (${total})`);
    assert.equal(await grid.locator('#query-text').inputValue(), FIRST);
    await ui.screenshot('querytabs-total');
  });

  it('edits the query and runs it in the same tab; the recent queries are offered; the tab keeps its state across tab switches', async () => {
    const { ui, page } = e2e();
    const grid = await ui.webview();
    const tabs = await page.locator('.tabs-container .tab').count();
    await grid.getByLabel('SoQL query', { exact: true }).fill('SELECT count(*)');
    await grid.getByRole('button', { name: 'Run' }).click();
    await grid.locator('thead', { hasText: 'count' }).waitFor({ timeout: 30_000 });
    assert.equal(await grid.locator('table tbody tr').count(), 1);
    assert.match(await countedStatus(grid), /^Rows 1–1 of 1 ·/);
    assert.equal(await page.locator('.tabs-container .tab').count(), tabs, 'the same tab');
    assert.equal(await activeTabTitle(), 'SELECT count(*) · Building Permits');
    // The recent queries, newest first: picking one puts it in the box.
    const history = grid.getByLabel('Recent queries');
    const options = await history.locator('option').allTextContents();
    assert.deepEqual(options.slice(1, 3), ['SELECT count(*)', FIRST]);
    await history.selectOption(FIRST);
    assert.equal(await grid.locator('#query-text').inputValue(), FIRST);
    await grid.locator('#query-text').fill(`${FIRST} ORDER BY valuation DESC`);
    await ui.screenshot('querytabs-edit-in-place');

    // Away and back: the rows and the unsent edit are still there.
    await ui.openFromExplorer('README.md');
    await page
      .locator('iframe.webview.ready')
      .first()
      .waitFor({ state: 'hidden', timeout: 10_000 })
      .catch(() => undefined);
    await page
      .locator('.tabs-container .tab', { hasText: /SELECT count\(\*\)/ })
      .first()
      .click();
    const back = await ui.webview();
    await back.locator('table tbody tr').first().waitFor({ timeout: 30_000 });
    assert.equal(await back.locator('#query-text').inputValue(), `${FIRST} ORDER BY valuation DESC`);
    assert.match(await countedStatus(back), /^Rows 1–1 of 1 ·/);

    // Ctrl+Enter runs it.
    await back.locator('#query-text').press('Control+Enter');
    await back.locator('thead', { hasText: 'valuation' }).waitFor({ timeout: 30_000 });
    assert.match(await countedStatus(back), /^Rows 1–100 of [\d,]+ ·/);
    const title = (await activeTabTitle()) ?? '';
    assert.ok(title.startsWith(`${FIRST} ORDER`) && title.endsWith('… · Building Permits'), title);
    await ui.screenshot('querytabs-after-switch');
  });

  it('Run SoQL Query… offers the recent queries of the dataset; picking one runs it', async () => {
    const { ui, page } = e2e();
    await ui.closeAllEditors();
    await openRunQuery();
    const widget = await ui.quickInput();
    const recent = widget.locator('.quick-input-list .monaco-list-row .label-description');
    await recent
      .filter({ hasText: /^\s*SELECT count\(\*\)\s*$/ })
      .first()
      .waitFor({ timeout: 20_000 });
    const items = (await recent.allTextContents()).map((s) => s.trim());
    assert.deepEqual(items.slice(0, 3), [`${FIRST} ORDER BY valuation DESC`, 'SELECT count(*)', FIRST], 'newest first');
    // Enter still runs the typed statement: "Run query" stays the first item.
    assert.match((await widget.locator('.quick-input-list .monaco-list-row').first().textContent()) ?? '', /Run query/);
    await ui.screenshot('querytabs-recent-pick');
    await widget
      .locator('.quick-input-list .monaco-list-row', { has: page.locator('.label-description', { hasText: /^\s*SELECT count\(\*\)\s*$/ }) })
      .first()
      .click();
    const grid = await ui.webview();
    await grid.locator('thead', { hasText: 'count' }).waitFor({ timeout: 30_000 });
    assert.equal(await activeTabTitle(), 'SELECT count(*) · Building Permits');
  });
});
