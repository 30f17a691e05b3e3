// Extension-host suite: runs test/host/suite/**/*.test.ts with mocha inside a real VS Code
// (code-server 4.99.4 + headless Chromium), with the extension installed as a user would have it and the
// emulator (sample seed) running. `tsx test/host/run.ts [words…]` runs only the test files whose path
// contains one of the words. Set SOCRATA_TEST_KEEP=1 to keep the user-data dir (logs) afterwards.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync, cpSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { extensionId } from './lib/extensions';
import { artifactsDir, repoRoot } from './lib/paths';
import { cleanupAll, waitFor } from './lib/proc';
import type { HostTestConfig, HostTestResults } from './lib/protocol';
import { finish, printOutcome } from './lib/report';
import { startStack } from './lib/stack';
import { buildSuite, installRunnerExtension } from './lib/suite';
import { createSampleWorkspace } from './lib/workspace';

const RESULTS_TIMEOUT_MS = Number(process.env.SOCRATA_HOST_TIMEOUT_MS ?? 180_000);

async function main(): Promise<number> {
  const started = Date.now();
  const tmp = mkdtempSync(join(tmpdir(), 'socrata-host-'));
  try {
    const testFiles = await buildSuite(join(tmp, 'suite'), process.argv.slice(2));
    if (testFiles.length === 0) return finish('host', 0, 0, 'no host test files matched');
    const workspace = await createSampleWorkspace(join(tmp, 'workspace'));
    const resultsFile = join(tmp, 'results.json');
    const configFile = join(tmp, 'config.json');
    const mochaPath = dirname(createRequire(join(repoRoot, 'package.json')).resolve('mocha/package.json'));

    // The emulator's address is known only once it runs: the config file is written after the stack
    // has started it, and the runner extension reads the file on activation (after the browser opens).
    const writeConfig = (emulator: HostTestConfig['emulator']) => {
      const config: HostTestConfig = {
        resultsFile,
        testFiles,
        mochaPath,
        testTimeoutMs: 20_000,
        ...(process.env.SOCRATA_HOST_GREP ? { grep: process.env.SOCRATA_HOST_GREP } : {}),
        extensionId: extensionId(),
        manifestPath: join(repoRoot, 'package.json'),
        ...(emulator ? { emulator } : {}),
        workspaceFolder: workspace,
      };
      writeFileSync(configFile, JSON.stringify(config, null, 2));
    };

    const stack = await startStack({
      workspace,
      env: { SOCRATA_HOST_TEST_CONFIG: configFile },
      keep: process.env.SOCRATA_TEST_KEEP === '1',
      addExtensions: installRunnerExtension,
      // The extension host (and so the suite) starts only once the browser opens the workbench.
      beforeBrowser: ({ emulator }) => writeConfig(emulator ? { url: emulator.url, domain: emulator.domain } : undefined),
    });
    const workbench = stack.workbench;
    if (!workbench) throw new Error('the workbench did not open');
    console.log(`workbench ready after ${((Date.now() - started) / 1000).toFixed(1)} s; waiting for the suite…`);

    let results: HostTestResults;
    try {
      results = await waitFor('the host suite results', RESULTS_TIMEOUT_MS, () =>
        existsSync(resultsFile) ? (JSON.parse(readFileSync(resultsFile, 'utf8')) as HostTestResults) : undefined,
      );
    } catch (error) {
      const shot = join(artifactsDir('host'), 'timeout.png');
      await workbench.page.screenshot({ path: shot }).catch(() => undefined);
      saveLogs(stack.userDataDir);
      return finish('host', 0, 0, `${(error as Error).message} (screenshot: ${shot})`);
    }
    for (const t of results.tests) printOutcome({ title: t.fullTitle, state: t.state, durationMs: t.durationMs, ...(t.error ? { error: t.error } : {}) });
    for (const note of results.notes) console.log(`  note: ${note}`);
    if (results.failed > 0) saveLogs(stack.userDataDir);
    console.log(`host run took ${((Date.now() - started) / 1000).toFixed(1)} s (suite ${(results.durationMs / 1000).toFixed(1)} s)`);
    return finish('host', results.passed, results.failed);
  } finally {
    await cleanupAll();
    rmSync(tmp, { recursive: true, force: true });
  }
}

/** Copies code-server's logs (extension host output included) to test-artifacts/host/logs. */
function saveLogs(userDataDir: string): void {
  const logs = join(userDataDir, 'logs');
  if (!existsSync(logs)) return;
  const target = artifactsDir('host', 'logs');
  cpSync(logs, target, { recursive: true });
  console.log(`  logs copied to ${target}`);
}

main()
  .then((code) => {
    process.exitCode = code;
  })
  .catch(async (error: unknown) => {
    await cleanupAll();
    console.error(error);
    finish('host', 0, 0, `the host runner crashed: ${(error as Error).message}`);
    process.exitCode = 1;
  });
