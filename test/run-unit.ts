// Runs the tests of one kind in plain Node with node's test runner (TypeScript through tsx):
//   `tsx test/run-unit.ts`               fast pure unit tests, test/unit/**/*.test.ts (no server, no child process);
//   `tsx test/run-unit.ts --integration` the emulator, CLI and real-socket tests, test/integration/** and test/conformance/**.
// `npm run test:unit -- csv soda` runs only the files whose path contains one of the words.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

const root = join(__dirname, '..');

function findTests(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) out.push(...findTests(full));
    else if (name.endsWith('.test.ts')) out.push(relative(root, full));
  }
  return out.sort();
}

const args = process.argv.slice(2);
const integration = args.includes('--integration');
const filter = args.filter((a) => a !== '--integration');
const dirs = integration ? ['integration', 'conformance'] : ['unit'];
const files = dirs.flatMap((d) => findTests(join(root, 'test', d))).filter((f) => filter.length === 0 || filter.some((p) => f.includes(p)));
const tmp = mkdtempSync(join(tmpdir(), integration ? 'socrata-integration-' : 'socrata-unit-'));
const tap = join(tmp, 'results.tap');
const result = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    '--test-concurrency=2',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tap}`,
    ...files,
  ],
  { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'test' } },
);
const text = readFileSync(tap, 'utf8');
const count = (name: string) => Number(new RegExp(`^# ${name} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
const summary = { passed: count('pass'), failed: count('fail') + count('cancelled') };
if (process.env.SUITE_SUMMARY) writeFileSync(process.env.SUITE_SUMMARY, JSON.stringify(summary));
rmSync(tmp, { recursive: true, force: true });
process.exitCode = result.status ?? 1;
