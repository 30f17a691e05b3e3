// Where the test harness keeps things. The code-server install is cached outside the extension's own
// dependencies, so contributors who only run unit tests never pay for it.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export const repoRoot = join(__dirname, '..', '..', '..');

/** `.test-cache/` in the repository (git-ignored), or `$SOCRATA_TEST_CACHE`. */
export function cacheDir(...parts: string[]): string {
  const dir = join(process.env.SOCRATA_TEST_CACHE ?? join(repoRoot, '.test-cache'), ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}

/** `test-artifacts/` in the repository (git-ignored): screenshots and logs. */
export function artifactsDir(...parts: string[]): string {
  const dir = join(repoRoot, 'test-artifacts', ...parts);
  mkdirSync(dir, { recursive: true });
  return dir;
}
