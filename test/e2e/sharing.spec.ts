// The Datasets view's three groups as a person sees them: My datasets, Shared with me (with the role) and All
// datasets on the portal, for the publisher, and a screenshot of them.
import * as assert from 'node:assert/strict';
import { e2e } from './lib/context';

const SIDEBAR = '.part.sidebar';

describe('sharing: the three groups of the Datasets view', () => {
  it('shows My datasets, Shared with me with the role, and All datasets on the portal', async function () {
    const { ui, page, emulator } = e2e();
    if (!emulator) this.skip();
    await ui.signInFromWelcome({ domain: emulator.domain, keyId: 'demo_key_id', keySecret: 'demo_key_secret', shows: 'My datasets' });
    const sidebar = page.locator(SIDEBAR);
    const shared = sidebar.locator('.monaco-list-row', { hasText: 'Shared with me' }).first();
    await shared.waitFor({ timeout: 10_000 });
    const library = sidebar.locator('.monaco-list-row', { hasText: 'Library Branches' }).first();
    await library.waitFor({ timeout: 20_000 });
    assert.match((await library.textContent()) ?? '', /libr-shrd · editor/);
    const all = sidebar.locator('.monaco-list-row', { hasText: `All datasets on ${emulator.domain}` }).first();
    await all.click();
    // The portal's catalog, sorted by name: the department's datasets and the sample ones (the list is virtual, so
    // Load more… at its end is not in the page).
    await sidebar.locator('.monaco-list-row', { hasText: 'Bridge Assets' }).first().waitFor({ timeout: 20_000 });
    assert.match((await all.textContent()) ?? '', /by name/);
    await ui.screenshot('sharing-three-groups');
    // Leave the view as the other specs expect it: the Socrata container closed.
    await ui.runCommand('View: Close Primary Side Bar');
    await sidebar.waitFor({ state: 'hidden', timeout: 10_000 });
  });
});
