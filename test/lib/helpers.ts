// Shared by the unit tests (not a test file itself: the runner only picks up *.test.ts).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { build } from 'esbuild';
import { SodaError } from '../../src/soda/errors';

const root = join(__dirname, '..', '..');

/** Builds the CLI as it ships (bundled the way esbuild.js builds dist/cli.js) into `dir`; returns the script path. */
export async function bundleCli(dir: string): Promise<string> {
  const bundle = join(dir, 'cli.js');
  await build({
    entryPoints: [join(root, 'src', 'cli.ts')],
    outfile: bundle,
    bundle: true,
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    logLevel: 'error',
  });
  return bundle;
}

/** Awaits `p`, which must fail with a `SodaError`, and returns that error. */
export async function rejectsWithSodaError(p: Promise<unknown>): Promise<SodaError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof SodaError, `expected a SodaError, got ${String(e)}`);
    return e;
  }
  assert.fail('expected a failure');
}
