import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';

const root = join(__dirname, '..', '..');

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sources(full));
    else if (/\.(ts|js|mjs|cjs)$/.test(name)) out.push(full);
  }
  return out;
}

// Matches `import … from 'vscode'`, `import 'vscode'`, `require('vscode')` and `import('vscode')`.
const vscodeImport = /(?:from\s*|import\s*\(?\s*|require\s*\(\s*)['"]vscode['"]/;

describe('architecture', () => {
  for (const dir of ['src/soda', 'src/csv', 'src/publish']) {
    it(`${dir} never imports vscode`, () => {
      const offenders = sources(join(root, dir))
        .filter((file) => vscodeImport.test(readFileSync(file, 'utf8')))
        .map((file) => relative(root, file));
      assert.deepEqual(offenders, []);
    });
  }

  // The emulator stands for the server: it takes no code from the client, so a bug in shared code (a UTF-8 check, a
  // CSV rule) could not hide itself by being wrong on both sides at once.
  it('test/emulator imports nothing from src', () => {
    const fromSrc = /(?:from\s*|import\s*\(?\s*|require\s*\(\s*)['"](?:\.\.\/)+src\//;
    assert.ok(fromSrc.test(`import { x } from '../../src/csv';`) && !fromSrc.test(`import { x } from './store';`));
    const offenders = sources(join(root, 'test', 'emulator'))
      .filter((file) => fromSrc.test(readFileSync(file, 'utf8')))
      .map((file) => relative(root, file));
    assert.deepEqual(offenders, []);
  });

  it('the import detector recognises every form of a vscode import', () => {
    for (const line of [`import * as vscode from 'vscode';`, `import { window } from "vscode";`, `const v = require('vscode');`, `await import('vscode')`, `import 'vscode';`]) {
      assert.ok(vscodeImport.test(line), line);
    }
    assert.ok(!vscodeImport.test(`import { x } from './vscode-like';`));
  });
});
