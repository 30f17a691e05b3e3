// The extension's texts are localisable: every user-facing string of the VS Code side goes through `vscode.l10n.t`
// (or `l10n.t` of @vscode/l10n in the webview apps and the modules that also run in plain Node), and
// l10n/bundle.l10n.json, the English bundle translators start from, is exactly what `npm run l10n`
// (@vscode/l10n-dev export) makes from the current source. A new or changed text without `npm run l10n` fails here.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join, relative, sep } from 'node:path';
import { describe, it } from 'node:test';
import { getL10nJson } from '@vscode/l10n-dev';

const root = join(__dirname, '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sources(full));
    else if (/\.(ts|tsx|js|jsx)$/.test(name)) out.push(full);
  }
  return out.sort();
}

const rel = (file: string): string => relative(root, file).split(sep).join('/');

/** What `vscode-l10n-dev export ./src` writes: the strings of every script under src, English text as the value. */
async function exported(files: readonly string[]): Promise<Record<string, unknown>> {
  return getL10nJson(files.map((f) => ({ extension: extname(f), contents: readFileSync(f, 'utf8') })));
}

describe('l10n: the translation bundle', () => {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { l10n?: string; scripts: Record<string, string> };

  it('package.json points VS Code at l10n/, and `npm run l10n` exports the bundle there from src', () => {
    assert.equal(manifest.l10n, './l10n');
    assert.match(manifest.scripts.l10n ?? '', /\bvscode-l10n-dev export --outDir \.\/l10n \.\/src$/);
  });

  it('the extractor finds both forms of a call (so a new string cannot hide from the check)', async () => {
    const found = await getL10nJson([
      {
        extension: '.ts',
        contents: `import * as vscode from 'vscode';\nvoid vscode.window.showInformationMessage(vscode.l10n.t('Saved {0}.', name));`,
      },
      { extension: '.ts', contents: `import * as l10n from '@vscode/l10n';\nexport const label = () => l10n.t('First {0} rows', 5);` },
    ]);
    assert.deepEqual(found, { 'Saved {0}.': 'Saved {0}.', 'First {0} rows': 'First {0} rows' });
  });

  it('l10n/bundle.l10n.json is exactly what the export makes from the current source (run `npm run l10n` after changing a text)', async () => {
    const committed = JSON.parse(readFileSync(join(root, 'l10n', 'bundle.l10n.json'), 'utf8')) as Record<string, unknown>;
    const fresh = await exported(sources(join(root, 'src')));
    assert.ok(Object.keys(fresh).length > 200, `only ${Object.keys(fresh).length} strings found in src`);
    const missing = Object.keys(fresh).filter((k) => !(k in committed));
    const stale = Object.keys(committed).filter((k) => !(k in fresh));
    assert.deepEqual({ missing, stale }, { missing: [], stale: [] }, 'run `npm run l10n`');
    assert.deepEqual(committed, fresh);
  });

  it('the bundle has strings of every feature, the webview apps and the modules shared with plain Node', async () => {
    for (const [where, text] of [
      ['src/ui/boundary.ts', 'Show Log'],
      ['src/publishing/app/main.ts', 'What a publish would do'],
      ['src/datasets/model.ts', 'updated today'],
      ['src/metadata/fileSystem.ts', 'Apply Changes'],
    ] as const) {
      const one = await exported([join(root, where)]);
      assert.ok(text in one, `${where}: ${text}`);
    }
  });
});

// ---- no hard-coded user-facing text ----------------------------------------------------------------------------

/** The VS Code side's code (the engine, src/soda, src/csv, src/publish, stays English: it is also the CLI's output). */
const FEATURE_DIRS = ['accounts', 'datasets', 'publishing', 'metadata', 'webview', 'ui'];

/**
 * Places where a literal string would reach people untranslated: a message, input box or quick pick given a literal;
 * a title, placeholder, prompt, tooltip, label, detail or description set to one; an error or a tree item made from
 * one. Each pattern ends where the literal starts.
 */
const SINKS = [
  /\b(?:show(?:Information|Warning|Error)Message|showInputBox|showQuickPick|setStatusBarMessage)\(\s*(?=['"`])/g,
  /(?:\b(?:title|placeHolder|placeholder|prompt|tooltip|openLabel|detail|description|label|validationMessage)|'aria-label')\s*[:=]\s*(?=['"`])/g,
  /\bnew (?:ExpectedError|Error|vscode\.TreeItem)\(\s*(?=['"`])/g,
];

/** The literal starting at `at` ('…', "…" or `…` with its ${…} parts), without its quotes. */
function literalAt(line: string, at: number): string {
  const quote = line[at];
  let depth = 0;
  for (let i = at + 1; i < line.length; i++) {
    const c = line[i];
    if (c === '\\') i++;
    else if (quote === '`' && c === '$' && line[i + 1] === '{') {
      depth++;
      i++;
    } else if (depth > 0 && c === '}') depth--;
    else if (depth === 0 && c === quote) return line.slice(at + 1, i);
  }
  return line.slice(at + 1);
}

/** Prose in a literal: words left once the ${…} parts, escapes and $(icon) names are taken out. */
function isProse(literal: string): boolean {
  let text = literal.replace(/\\./g, ' ');
  for (let before = ''; before !== text;) {
    before = text;
    text = text.replace(/\$\{[^{}]*\}/g, ' ');
  }
  return /[A-Za-z]{2,}/.test(text.replace(/\$\([\w~-]+\)/g, ' '));
}

/** Lines of a file that set user-facing text from a literal (comments aside; `l10n.t(…)` calls are not literals). */
export function hardCodedTexts(text: string): string[] {
  const out: string[] = [];
  text.split('\n').forEach((raw, i) => {
    if (/^\s*(?:\/\/|\*|\/\*)/.test(raw)) return;
    const line = raw.replace(/\s\/\/ .*$/, '');
    const hit = SINKS.some((re) => [...line.matchAll(re)].some((m) => isProse(literalAt(line, (m.index ?? 0) + m[0].length))));
    if (hit) out.push(`${i + 1}: ${line.trim()}`);
  });
  return out;
}

describe('l10n: no hard-coded user-facing text on the VS Code side', () => {
  it('the detector finds each kind of hard-coded text and passes translated ones', () => {
    for (const bad of [
      `void vscode.window.showInformationMessage('Saved.');`,
      'void vscode.window.showErrorMessage(`Socrata: ${text}`, showLog);',
      `const picked = await vscode.window.showQuickPick(items, { title: 'Publish Again' });`,
      `  placeHolder: 'abcd-1234',`,
      `item.tooltip = 'Click to retry';`,
      `throw new ExpectedError('Choose a dataset first.');`,
      `const item = new vscode.TreeItem('Load more…', vscode.TreeItemCollapsibleState.None);`,
      `{ 'aria-label': 'New dataset name' }`,
      "if (!found) throw new Error('That Socrata account is no longer signed in.');",
    ]) {
      assert.equal(hardCodedTexts(bad).length, 1, bad);
    }
    for (const good of [
      `void vscode.window.showInformationMessage(vscode.l10n.t('Saved.'));`,
      `const picked = await vscode.window.showQuickPick(items, { title: vscode.l10n.t('Publish Again') });`,
      `  placeHolder: l10n.t('abcd-1234'),`,
      `item.label = '$(account)';`,
      `// title: 'a comment'`,
      `const item = { label: \`$(key) \${vscode.l10n.t('API key')}\` };`,
      "const label = `${fileName} → ${job.request.dataset ?? vscode.l10n.t('new dataset')} (${job.request.mode})`;",
      "this.item.tooltip = `${tooltip}\\n${vscode.l10n.t('Cancel from the progress notification.')}`;",
      "this.name = 'ExpectedError';",
      '<meta name="viewport" content="width=device-width, initial-scale=1.0">',
    ]) {
      assert.deepEqual(hardCodedTexts(good), [], good);
    }
  });

  it('every file of the VS Code side (and the webview apps) sets its texts through l10n.t', () => {
    const offenders: string[] = [];
    const files = [join(root, 'src', 'extension.ts'), ...FEATURE_DIRS.flatMap((d) => sources(join(root, 'src', d)))];
    for (const file of files) for (const hit of hardCodedTexts(readFileSync(file, 'utf8'))) offenders.push(`${rel(file)}:${hit}`);
    assert.deepEqual(offenders, []);
  });
});
