import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
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

// ---- the import graph of src ------------------------------------------------------------------------------------

const srcRoot = join(root, 'src');
const ENGINE = ['soda', 'csv', 'publish'];
const FEATURES = ['accounts', 'datasets', 'publishing', 'metadata'];

/** Every module specifier a file names: `import … from`, `export … from`, `import '…'`, `require('…')`, `import('…')`. */
export function specifiers(text: string): string[] {
  const out: string[] = [];
  const patterns = [
    /^\s*(?:import|export)\b[^'"`;]*?\bfrom\s*['"]([^'"]+)['"]/gm,
    /^\s*import\s*['"]([^'"]+)['"]/gm,
    /\brequire\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
    /\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)/g,
  ];
  for (const pattern of patterns) for (const match of text.matchAll(pattern)) out.push(match[1]);
  return out;
}

/** The src file a relative specifier names (`x.ts`, `x/index.ts`, or as written), relative to src; undefined if none. */
function resolveImport(from: string, specifier: string): string | undefined {
  const base = resolve(dirname(from), specifier);
  for (const candidate of [`${base}.ts`, join(base, 'index.ts'), base]) {
    try {
      if (statSync(candidate).isFile()) return relative(srcRoot, candidate).split(sep).join('/');
    } catch {
      // not this one
    }
  }
  return undefined;
}

interface Edge {
  readonly from: string;
  /** The imported src file (relative to src), or the package name. */
  readonly to: string;
  readonly external: boolean;
}

function importGraph(): Edge[] {
  const edges: Edge[] = [];
  for (const file of sources(srcRoot).filter((f) => f.endsWith('.ts'))) {
    const from = relative(srcRoot, file).split(sep).join('/');
    for (const specifier of specifiers(readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('.')) {
        edges.push({ from, to: specifier, external: true });
        continue;
      }
      const to = resolveImport(file, specifier);
      assert.ok(to !== undefined, `${from}: cannot resolve ${specifier}`);
      // A file outside src (package.json) is data, not a layer.
      edges.push({ from, to, external: to.startsWith('../') });
    }
  }
  return edges;
}

/** The top folder of a src path ('' for a file directly in src). */
const folderOf = (path: string): string => (path.includes('/') ? path.slice(0, path.indexOf('/')) : '');

/** Every cycle's folders, as `a → b → a`, in a graph of folder → folders. */
export function cycles(graph: ReadonlyMap<string, ReadonlySet<string>>): string[] {
  const found: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string): void => {
    state.set(node, 'open');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') found.push([...stack.slice(stack.indexOf(next)), next].join(' → '));
      else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return found;
}

describe('architecture: the import graph of src', () => {
  const edges = importGraph();

  it('sees the imports it should (the graph is not empty and the extension wires every feature)', () => {
    assert.ok(edges.length > 100, `only ${edges.length} imports found`);
    for (const feature of FEATURES) {
      assert.ok(
        edges.some((e) => e.from === 'extension.ts' && e.to === `${feature}/index.ts`),
        `extension.ts does not import ${feature}`,
      );
    }
  });

  it('the engine (src/soda, src/csv, src/publish) and the CLI import neither vscode nor the VS Code side', () => {
    const offenders = edges
      .filter((e) => ENGINE.includes(folderOf(e.from)) || e.from === 'cli.ts')
      .filter((e) => (e.external ? e.to === 'vscode' : !ENGINE.includes(folderOf(e.to))))
      .map((e) => `${e.from} → ${e.to}`);
    assert.deepEqual(offenders, []);
  });

  it("a feature imports another feature only through that feature's index.ts", () => {
    const offenders = edges
      .filter((e) => !e.external && FEATURES.includes(folderOf(e.from)) && FEATURES.includes(folderOf(e.to)))
      .filter((e) => folderOf(e.from) !== folderOf(e.to) && e.to !== `${folderOf(e.to)}/index.ts`)
      .map((e) => `${e.from} → ${e.to}`);
    assert.deepEqual(offenders, []);
  });

  it('the shared VS Code parts (src/ui, src/webview) import no feature', () => {
    const offenders = edges
      .filter((e) => !e.external && ['ui', 'webview'].includes(folderOf(e.from)) && FEATURES.includes(folderOf(e.to)))
      .map((e) => `${e.from} → ${e.to}`);
    assert.deepEqual(offenders, []);
  });

  it('there are no cycles between src folders (nor between any two directories)', () => {
    const top = new Map<string, Set<string>>();
    const dirs = new Map<string, Set<string>>();
    const add = (graph: Map<string, Set<string>>, a: string, b: string) => {
      if (a === b) return;
      let set = graph.get(a);
      if (!set) graph.set(a, (set = new Set()));
      set.add(b);
    };
    for (const e of edges) {
      if (e.external) continue;
      add(top, folderOf(e.from) || 'src', folderOf(e.to) || 'src');
      add(dirs, dirname(e.from), dirname(e.to));
    }
    assert.deepEqual(cycles(top), []);
    assert.deepEqual(cycles(dirs), []);
  });

  it('the checks can fail: the parser finds every import form, and a cycle is found', () => {
    const text = [
      `import * as vscode from 'vscode';`,
      `import {\n  a,\n  type B,\n} from '../accounts/model';`,
      `export { x } from './x';`,
      `export * from "./y";`,
      `import './side-effect';`,
      `const z = require('../z');`,
      `const w = await import('../w');`,
      `// the import of a comment, from 'nowhere'`,
    ].join('\n');
    assert.deepEqual(specifiers(text).sort(), ['../accounts/model', '../w', '../z', './side-effect', './x', './y', 'vscode'].sort());
    const graph = new Map([
      ['a', new Set(['b'])],
      ['b', new Set(['c'])],
      ['c', new Set(['a'])],
      ['d', new Set(['a'])],
    ]);
    assert.deepEqual(cycles(graph), ['a → b → c → a']);
    assert.deepEqual(
      cycles(
        new Map([
          ['a', new Set(['b'])],
          ['b', new Set<string>()],
        ]),
      ),
      [],
    );
  });
});

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
    for (const line of [
      `import * as vscode from 'vscode';`,
      `import { window } from "vscode";`,
      `const v = require('vscode');`,
      `await import('vscode')`,
      `import 'vscode';`,
    ]) {
      assert.ok(vscodeImport.test(line), line);
    }
    assert.ok(!vscodeImport.test(`import { x } from './vscode-like';`));
  });
});
