// Languages in the real extension host: the installed extension carries the translation bundle where package.json
// tells VS Code to look, the bundle holds the texts of the host code, of the modules shared with plain Node and of the
// webview apps, and in English (no bundle loaded) the preview's page is in the display language with the English
// texts that went through vscode.l10n.t and no translations attribute for the app.
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as vscode from 'vscode';
import { config, extension, manifest } from './lib/host';

interface PreviewPanelLike {
  readonly html: string;
  readonly isReady: boolean;
  session: { file: string };
}

function openPreviews(): readonly PreviewPanelLike[] {
  return (extension().exports as { preview: { flow: { openPreviews: readonly PreviewPanelLike[] } } }).preview.flow.openPreviews;
}

describe('languages (l10n)', function () {
  this.timeout(120_000);

  before(async () => {
    await extension().activate();
  });

  after(async () => {
    await vscode.commands.executeCommand('workbench.action.closeAllEditors');
  });

  it('the installed extension ships the English bundle where package.json points VS Code', () => {
    const folder = (manifest() as { l10n?: string }).l10n;
    assert.equal(folder, './l10n');
    const file = join(extension().extensionPath, folder, 'bundle.l10n.json');
    assert.ok(existsSync(file), `${file} is installed`);
    const bundle = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;
    for (const text of ['Show Log', 'updated today', 'What a publish would do', 'Apply {0} risky changes to {1}?']) {
      assert.equal(bundle[text], text, `the bundle has "${text}"`);
    }
  });

  it('in English the preview page is in the display language, with the English texts and no translations for the app', async () => {
    assert.ok(vscode.env.language.startsWith('en'), `the host runs in English (${vscode.env.language})`);
    const file = join(config().workspaceFolder, 'permits-good.csv');
    await vscode.commands.executeCommand('socrata.csv.preview', vscode.Uri.file(file));
    const panel = openPreviews().find((p) => p.session.file === file);
    assert.ok(panel, 'a preview is open');
    assert.match(panel.html, new RegExp(`<html lang="${vscode.env.language}">`));
    assert.match(panel.html, /<title>Preview: permits-good\.csv<\/title>/);
    assert.match(panel.html, /Loading the preview…/);
    assert.doesNotMatch(panel.html, /data-l10n=/, 'VS Code loads no bundle in English: the app keeps its English texts');
  });
});
