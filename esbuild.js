// @ts-check
const esbuild = require('esbuild');

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

/** @type {import('esbuild').Plugin} */
const problemMatcher = {
  name: 'problem-matcher',
  setup(build) {
    build.onStart(() => {
      if (watch) console.log('[watch] build started');
    });
    build.onEnd((result) => {
      for (const { text, location } of result.errors) {
        console.error(`✘ [ERROR] ${text}`);
        if (location) console.error(`    ${location.file}:${location.line}:${location.column}:`);
      }
      if (watch) console.log('[watch] build finished');
    });
  },
};

/** @type {import('esbuild').BuildOptions} */
const common = {
  bundle: true,
  minify: production,
  sourcemap: production ? false : 'linked',
  sourcesContent: false,
  keepNames: true,
  logLevel: 'warning',
  plugins: [problemMatcher],
};

/** @type {import('esbuild').BuildOptions[]} */
const targets = [
  {
    ...common,
    entryPoints: ['src/extension.ts'],
    outfile: 'dist/extension.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
  },
  {
    ...common,
    entryPoints: ['src/cli.ts'],
    outfile: 'dist/cli.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    banner: { js: '#!/usr/bin/env node' },
  },
  {
    // The CSV validation worker: src/csv/worker.ts starts `worker-entry.js` from the bundle's own folder.
    ...common,
    entryPoints: ['src/csv/worker-entry.ts'],
    outfile: 'dist/worker-entry.js',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
  },
  {
    ...common,
    entryPoints: ['src/publishing/app/main.ts'],
    outfile: 'dist/webview/preview.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    tsconfig: 'src/publishing/app/tsconfig.json',
  },
  {
    ...common,
    entryPoints: ['src/datasets/grid/app/main.ts'],
    outfile: 'dist/webview/grid.js',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    tsconfig: 'src/datasets/grid/app/tsconfig.json',
  },
];

/** The codicon font and stylesheet for the webviews (loaded through asWebviewUri from dist/webview/codicons). */
function copyCodicons() {
  const fs = require('node:fs');
  const path = require('node:path');
  const from = path.join(path.dirname(require.resolve('@vscode/codicons/package.json')), 'dist');
  const to = path.join('dist', 'webview', 'codicons');
  fs.mkdirSync(to, { recursive: true });
  for (const name of ['codicon.css', 'codicon.ttf']) fs.copyFileSync(path.join(from, name), path.join(to, name));
}

async function main() {
  if (production) require('node:fs').rmSync('dist', { recursive: true, force: true });
  copyCodicons();
  const contexts = await Promise.all(targets.map((options) => esbuild.context(options)));
  if (watch) {
    await Promise.all(contexts.map((ctx) => ctx.watch()));
    return;
  }
  await Promise.all(contexts.map((ctx) => ctx.rebuild()));
  await Promise.all(contexts.map((ctx) => ctx.dispose()));
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
