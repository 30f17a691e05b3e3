// `npm test`: type check, lint, build, then the unit, integration, extension-host and end-to-end suites.
// Each suite writes `{ "passed": n, "failed": n }` to the file named by SUITE_SUMMARY; the last line
// printed is the total as `N passed, N failed`.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');
const tmp = mkdtempSync(join(tmpdir(), 'socrata-tests-'));
let passed = 0;
let failed = 0;

function run(label: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): number {
  const started = Date.now();
  console.log(`\n━━ ${label} ━━`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit', env: { ...process.env, ...env } });
  const status = result.status ?? 1;
  console.log(`━━ ${label}: ${status === 0 ? 'ok' : `exit ${status}`} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return status;
}

function check(label: string, command: string, args: string[]): void {
  if (run(label, command, args) === 0) passed += 1;
  else failed += 1;
}

function suite(label: string, script: string, args: string[] = []): void {
  if (!existsSync(join(root, script))) return;
  const summaryFile = join(tmp, `${label}.json`);
  const status = run(label, process.execPath, ['--import', 'tsx', script, ...args], { SUITE_SUMMARY: summaryFile });
  let summary: { passed: number; failed: number } | undefined;
  try {
    summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as { passed: number; failed: number };
  } catch {
    summary = undefined;
  }
  if (summary) {
    passed += summary.passed;
    failed += summary.failed;
  }
  // A runner that crashed or failed without counting a failure still counts as one.
  if (status !== 0 && (!summary || summary.failed === 0)) failed += 1;
}

const only = process.argv.slice(2);
const want = (name: string) => only.length === 0 || only.includes(name);

if (want('check')) {
  check('typecheck', process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'tsconfig.json']);
  check('typecheck webview', process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'src/publishing/app/tsconfig.json']);
  check('typecheck grid webview', process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '--noEmit', '-p', 'src/datasets/grid/app/tsconfig.json']);
  check('lint', process.execPath, [join(root, 'node_modules/eslint/bin/eslint.js'), '.', '--max-warnings', '0']);
  check('format', process.execPath, [join(root, 'node_modules/prettier/bin/prettier.cjs'), '--check', '**/*.{ts,mts,mjs,js}', '--log-level', 'warn']);
}
check('build', process.execPath, ['esbuild.js']);
if (want('unit')) suite('unit', 'test/run-unit.ts');
if (want('integration')) suite('integration', 'test/run-unit.ts', ['--integration']);
if (want('host')) suite('host', 'test/host/run.ts');
if (want('e2e')) suite('e2e', 'test/e2e/run.ts');

rmSync(tmp, { recursive: true, force: true });
console.log(`\n${passed} passed, ${failed} failed`);
process.exitCode = failed === 0 ? 0 : 1;
