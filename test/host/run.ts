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
import { cleanupAll, StopWaiting, waitFor } from './lib/proc';
import type { HostTestConfig, HostTestResult, HostTestResults } from './lib/protocol';
import { finish, printOutcome, runSuite } from './lib/report';
import { startStack } from './lib/stack';
import { buildSuite, installRunnerExtension } from './lib/suite';
import { createSampleWorkspace } from './lib/workspace';

/** Give up when no test has started or finished for this long (a hung test, or the suite never started). */
const RESULTS_IDLE_TIMEOUT_MS = Number(process.env.SOCRATA_HOST_TIMEOUT_MS ?? 120_000);
/** And in any case after this long. */
const RESULTS_TOTAL_TIMEOUT_MS = 30 * 60_000;

class StalledError extends StopWaiting {}

function readProgress(file: string): HostTestResult[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as HostTestResult | { started: string })
    .filter((e): e is HostTestResult => !('started' in e));
}

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
    const progressFile = `${resultsFile}.progress`;
    let printed = 0;
    let lastProgress = Date.now();
    let current = '';
    try {
      results = await waitFor('the host suite results', RESULTS_TOTAL_TIMEOUT_MS, () => {
        // Print each result as it arrives; give up when no test has started or finished for a while.
        const lines = existsSync(progressFile)
          ? readFileSync(progressFile, 'utf8')
              .split('\n')
              .filter((l) => l !== '')
          : [];
        for (const line of lines.slice(printed)) {
          const entry = JSON.parse(line) as HostTestResult | { started: string };
          if ('started' in entry) current = entry.started;
          else printOutcome({ title: entry.fullTitle, state: entry.state, durationMs: entry.durationMs, ...(entry.error ? { error: entry.error } : {}) });
          lastProgress = Date.now();
        }
        printed = lines.length;
        if (existsSync(resultsFile)) return JSON.parse(readFileSync(resultsFile, 'utf8')) as HostTestResults;
        if (Date.now() - lastProgress > RESULTS_IDLE_TIMEOUT_MS) {
          throw new StalledError(
            `no host test finished for ${RESULTS_IDLE_TIMEOUT_MS / 1000} s${current ? ` (running: ${current})` : ' (the suite did not start)'}`,
          );
        }
        return undefined;
      });
    } catch (error) {
      const shot = join(artifactsDir('host'), 'timeout.png');
      await workbench.page.screenshot({ path: shot }).catch(() => undefined);
      saveLogs(stack.userDataDir);
      const passedSoFar = readProgress(progressFile).filter((t) => t.state === 'passed').length;
      const failedSoFar = readProgress(progressFile).filter((t) => t.state === 'failed').length;
      return finish('host', passedSoFar, failedSoFar, `${(error as Error).message} (screenshot: ${shot})`);
    }
    // Results not printed live (e.g. a suite that failed to load).
    const seen = new Set(readProgress(progressFile).map((t) => t.fullTitle));
    for (const t of results.tests) {
      if (!seen.has(t.fullTitle)) printOutcome({ title: t.fullTitle, state: t.state, durationMs: t.durationMs, ...(t.error ? { error: t.error } : {}) });
    }
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

runSuite('host', 'host', main);
