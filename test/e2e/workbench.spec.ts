// The extension as a person meets it: its activity-bar entry and its log.
import * as assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../host/lib/paths';
import { e2e } from './lib/context';

interface Manifest {
  contributes?: {
    viewsContainers?: { activitybar?: Array<{ id: string; title: string }> };
    views?: Record<string, unknown[]>;
  };
}

const manifest = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as Manifest;
/** The manifest's %key% strings, as VS Code shows them (English, from package.nls.json). */
const nls = JSON.parse(readFileSync(join(repoRoot, 'package.nls.json'), 'utf8')) as Record<string, string>;
const shown = (text: string): string => (/^%[^%\s]+%$/.test(text) ? (nls[text.slice(1, -1)] ?? text) : text);
/** Activity-bar containers that hold at least one view (VS Code hides empty ones). */
const containers = (manifest.contributes?.viewsContainers?.activitybar ?? [])
  .filter((c) => (manifest.contributes?.views?.[c.id]?.length ?? 0) > 0)
  .map((c) => ({ ...c, title: shown(c.title) }));

describe('workbench', () => {
  it('shows the workbench with the sample workspace', async () => {
    const { ui } = e2e();
    await ui.explorerItem('permits-good.csv');
    await ui.screenshot('workbench');
  });

  if (containers.length > 0) {
    for (const container of containers) {
      it(`shows the "${container.title}" view container in the activity bar`, async () => {
        const { ui } = e2e();
        const item = ui.activityBarItem(container.title);
        await item.waitFor({ state: 'visible', timeout: 20_000 });
        await item.click();
        await ui.page
          .locator('.part.sidebar .composite.title', { hasText: new RegExp(container.title, 'i') })
          .first()
          .waitFor({ timeout: 20_000 });
        // The view shows a placeholder until the extension has activated and registered its data provider.
        await ui.page.locator('.part.sidebar', { hasText: 'There is no data provider registered' }).waitFor({ state: 'detached', timeout: 60_000 });
        await ui.screenshot(`activity-bar-${container.id}`);
      });
    }
  } else {
    it('has no Socrata activity-bar entry while no view is contributed', async () => {
      const { ui, page } = e2e();
      await page.locator('.part.activitybar .action-item').first().waitFor({ timeout: 20_000 });
      assert.equal(await ui.activityBarItem('Socrata').count(), 0);
    });
  }

  it('runs "Socrata: Show Log" from the command palette and shows the Socrata output channel', async () => {
    const { ui } = e2e();
    await ui.runCommand('Socrata: Show Log');
    await ui.waitForOutputChannel('Socrata');
    assert.equal(await ui.outputChannel(), 'Socrata');
    await ui.screenshot('socrata-log');
  });

  it('switches between light and dark themes', async () => {
    const { ui } = e2e();
    await ui.setTheme('light');
    assert.equal(await ui.themeKind(), 'light');
    await ui.screenshot('theme-light');
    await ui.setTheme('dark');
    assert.equal(await ui.themeKind(), 'dark');
  });
});
