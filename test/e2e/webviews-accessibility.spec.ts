// The preview and the query grid for people who use a keyboard or a screen reader: axe-core finds no serious or
// critical violation in either webview (light and dark themes), every control is reached with Tab in reading order and has a name, and the
// grid's table has headers and a caption.
// Named to run after the other specs that sign in and out (the specs share one workbench, in file-name order).
import * as assert from 'node:assert/strict';
import type { Frame } from 'playwright-core';
import { axeViolations, serious, webviewFrame } from './lib/axe';
import { e2e } from './lib/context';

async function signIn(): Promise<void> {
  const { ui, emulator } = e2e();
  if (!emulator) return;
  await ui.signInWithApiKey(emulator.domain, 'demo_key_id', 'demo_key_secret', /signed in to .* as Pat Publisher/i);
}

/** What Tab reaches, in order, from the top of the document: tag, role and accessible name of each stop. */
async function tabStops(frame: Frame, max = 60): Promise<{ tag: string; name: string }[]> {
  await frame.evaluate('document.activeElement && document.activeElement.blur()');
  const stops: { tag: string; name: string }[] = [];
  for (let i = 0; i < max; i++) {
    await frame.page().keyboard.press('Tab');
    // In the page (no DOM types here): the focused element and its accessible name, roughly as a screen reader has it.
    const stop = await frame.evaluate<{ tag: string; name: string } | undefined>(`(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return undefined;
      const labelled = el.getAttribute('aria-labelledby');
      const byId = labelled ? labelled.split(' ').map((id) => (document.getElementById(id) || {}).textContent || '').join(' ') : null;
      const label = el.labels && el.labels[0] ? el.labels[0].textContent : null;
      const name = el.getAttribute('aria-label') || byId || label || el.textContent || el.getAttribute('title') || '';
      return { tag: el.tagName.toLowerCase(), name: name.trim() };
    })()`);
    if (!stop) break;
    if (stops.length > 0 && stops[0].tag === stop.tag && stops[0].name === stop.name && i > 0) break; // wrapped around
    stops.push({ tag: stop.tag, name: stop.name });
  }
  return stops;
}

describe('accessibility of the webviews', function () {
  this.timeout(240_000);

  it('the CSV preview: no serious axe violation; every control reached by Tab and named', async function () {
    const { ui, page, emulator } = e2e();
    if (!emulator) this.skip();
    await ui.explorerItem('permits-bad.csv');
    await signIn();
    await ui.runCommand('View: Close All Editors');
    await ui.explorerContextMenu('permits-bad.csv', 'Publish to Socrata…');
    // A preview opened before remembers the file's last target; otherwise the dataset is picked.
    const asked = await ui.waitForQuickPickItem('Building Permits', 20_000).then(
      () => true,
      () => false,
    );
    if (asked) await ui.pick('Building Permits');
    const view = await ui.webview();
    await view.locator('#target-dataset', { hasText: 'Building Permits' }).waitFor({ timeout: 30_000 });
    await view.locator('#columns tr').nth(1).waitFor({ timeout: 30_000 });
    for (const theme of ['light', 'dark'] as const) {
      await ui.setTheme(theme);
      await view.locator('#columns').waitFor();
      assert.deepEqual(serious(await axeViolations(await webviewFrame(page))), [], `no serious or critical axe violation in the preview (${theme} theme)`);
    }
    const frame = await webviewFrame(page);
    const stops = await tabStops(frame);
    assert.ok(stops.length >= 3, `Tab reaches the controls (got ${JSON.stringify(stops)})`);
    assert.deepEqual(
      stops.filter((s) => s.name === ''),
      [],
      'every control Tab reaches has a name',
    );
    assert.ok(
      stops.some((s) => s.tag === 'select'),
      'the type choices are reached by keyboard',
    );
  });

  it('the query grid: no serious axe violation; the table has a caption and column headers; paging by keyboard', async function () {
    const { ui, page, emulator } = e2e();
    if (!emulator) this.skip();
    await ui.runCommand('View: Close All Editors');
    await page
      .locator('iframe.webview')
      .first()
      .waitFor({ state: 'detached', timeout: 10_000 })
      .catch(() => undefined);
    await ui.showActivity('Socrata');
    const permits = page.locator('.part.sidebar .monaco-list-row', { hasText: 'Building Permits' }).first();
    await permits.waitFor({ timeout: 30_000 });
    await permits.click({ button: 'right' });
    await ui.pickMenuItem('Preview Rows');
    const grid = await ui.webview();
    await grid.locator('table tbody tr').first().waitFor({ timeout: 30_000 });
    for (const theme of ['light', 'dark'] as const) {
      await ui.setTheme(theme);
      await grid.locator('table').waitFor();
      assert.deepEqual(serious(await axeViolations(await webviewFrame(page))), [], `no serious or critical axe violation in the grid (${theme} theme)`);
    }
    const frame = await webviewFrame(page);
    assert.match((await grid.locator('table caption').textContent()) ?? '', /Building Permits|bldg-prmt/);
    assert.ok((await grid.locator('thead th[scope="col"]').count()) > 3);
    const stops = await tabStops(frame);
    assert.deepEqual(
      stops.filter((s) => s.name === ''),
      [],
      'every control Tab reaches has a name',
    );
    const next = stops.findIndex((s) => s.tag === 'button' && /^Next/.test(s.name));
    assert.ok(next >= 0, `Next is reached by Tab (${JSON.stringify(stops)})`);
    // Next by keyboard: focus it and press Enter; the grid shows the second page and announces it.
    await grid.getByRole('button', { name: /^Next/ }).focus();
    await page.keyboard.press('Enter');
    await grid.locator('[role="status"]', { hasText: /Rows 101–200/ }).waitFor({ timeout: 20_000 });
  });
});
