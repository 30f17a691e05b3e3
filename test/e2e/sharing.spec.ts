// The Datasets view's three groups as a person sees them: My datasets, Shared with me (with the role) and All
// datasets on the portal, for the publisher, and a screenshot of them.
import * as assert from 'node:assert/strict';
import { e2e } from './lib/context';

const SIDEBAR = '.part.sidebar';

async function waitForPrompt(prompt: RegExp): Promise<void> {
  const { ui, page } = e2e();
  for (let i = 0; i < 100; i++) {
    const widget = page.locator('.quick-input-widget');
    const text = `${await ui.quickInputPrompt().catch(() => '')} ${
      (await widget
        .locator('.quick-input-title')
        .textContent()
        .catch(() => '')) ?? ''
    }`;
    if (prompt.test(text) && (await widget.locator('input.input').inputValue()) === '') return;
    await page.waitForTimeout(100);
  }
  throw new Error(`no input box asking for ${String(prompt)}`);
}

describe('sharing: the three groups of the Datasets view', () => {
  it('shows My datasets, Shared with me with the role, and All datasets on the portal', async function () {
    const { ui, page, emulator } = e2e();
    if (!emulator) this.skip();
    await ui.showActivity('Socrata');
    const sidebar = page.locator(SIDEBAR);
    const signIn = sidebar.getByRole('button', { name: 'Sign In with API Key' });
    const mine = sidebar.locator('.monaco-list-row', { hasText: 'My datasets' }).first();
    await Promise.race([signIn.waitFor({ timeout: 30_000 }), mine.waitFor({ timeout: 30_000 })]);
    if (await signIn.isVisible()) {
      await signIn.click();
      for (const [answer, next] of [
        [emulator.domain, /key id/i],
        ['demo_key_id', /secret/i],
      ] as const) {
        await ui.answerInput(answer);
        await waitForPrompt(next);
      }
      await ui.answerInput('demo_key_secret');
    }
    await mine.waitFor({ timeout: 30_000 });
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
