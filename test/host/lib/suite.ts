// Compiles the host suite (test/host/suite/**/*.test.ts) and the test-only runner extension with esbuild.
// Each test file becomes one CommonJS bundle with `vscode` and `mocha` left external, so a new
// feature adds its host tests by adding one `*.test.ts` file.
import { copyFileSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { build } from 'esbuild';
import { readManifest } from './extensions';
import { repoRoot } from './paths';

const suiteDir = join(repoRoot, 'test', 'host', 'suite');
const runnerDir = join(repoRoot, 'test', 'host', 'runner-extension');

export const RUNNER_EXTENSION_ID = (() => {
  const m = readManifest(runnerDir);
  return `${m.publisher}.${m.name}`;
})();

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...findTests(full));
    else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out.sort();
}

/** Compiles the host test files whose path contains one of `filter` (all when empty); returns the outputs. */
export async function buildSuite(outDir: string, filter: string[] = []): Promise<string[]> {
  const sources = findTests(suiteDir).filter((f) => filter.length === 0 || filter.some((word) => relative(suiteDir, f).includes(word)));
  const outputs: string[] = [];
  for (const source of sources) {
    const outfile = join(outDir, relative(suiteDir, source).replace(/\.ts$/, '.js'));
    await build({
      entryPoints: [source],
      outfile,
      bundle: true,
      platform: 'node',
      format: 'cjs',
      target: 'node20',
      external: ['vscode', 'mocha'],
      sourcemap: 'inline',
      keepNames: true,
      logLevel: 'warning',
    });
    outputs.push(outfile);
  }
  return outputs;
}

/** Builds the runner extension straight into `<extensionsDir>/<publisher>.<name>-<version>`. */
export async function installRunnerExtension(extensionsDir: string): Promise<void> {
  const m = readManifest(runnerDir);
  const target = join(extensionsDir, `${m.publisher}.${m.name}-${m.version}`);
  mkdirSync(target, { recursive: true });
  copyFileSync(join(runnerDir, 'package.json'), join(target, 'package.json'));
  mkdirSync(dirname(join(target, 'dist', 'extension.js')), { recursive: true });
  await build({
    entryPoints: [join(runnerDir, 'src', 'extension.ts')],
    outfile: join(target, 'dist', 'extension.js'),
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: ['vscode'],
    sourcemap: 'inline',
    keepNames: true,
    logLevel: 'warning',
  });
}
