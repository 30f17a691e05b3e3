// The same host suite in desktop VS Code through @vscode/test-electron, for machines that have it:
//   VSCODE_EXECUTABLE=/path/to/code npm run test:host:electron
// test-electron downloads VS Code when no executable is given; this entry insists on a local one, so it
// never downloads. The runner extension and the suite are the ones test/host/run.ts uses; only the way
// VS Code starts differs (extensionDevelopmentPath instead of an extensions dir).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { runTests } from '@vscode/test-electron';
import { BASE_SETTINGS } from './lib/codeServer';
import { startSampleEmulator } from './lib/emulator';
import { ensureBuilt, extensionId } from './lib/extensions';
import { repoRoot } from './lib/paths';
import { cleanupAll, onCleanup } from './lib/proc';
import type { HostTestConfig, HostTestResults } from './lib/protocol';
import { finish, printOutcome } from './lib/report';
import { emulatorSettings } from './lib/stack';
import { buildSuite, installRunnerExtension, RUNNER_EXTENSION_ID } from './lib/suite';
import { createSampleWorkspace } from './lib/workspace';

/** The module VS Code loads as extensionTestsPath: it waits for the runner extension's results. */
const WAIT_FOR_RESULTS = `
const fs = require('node:fs');
exports.run = async function run() {
  const file = process.env.SOCRATA_HOST_TEST_RESULTS;
  for (;;) {
    if (fs.existsSync(file)) {
      const results = JSON.parse(fs.readFileSync(file, 'utf8'));
      if (results.failed > 0) throw new Error(results.failed + ' host test(s) failed');
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
};
`;

async function main(): Promise<number> {
  const executable = process.env.VSCODE_EXECUTABLE;
  if (!executable || !existsSync(executable)) {
    return finish('host (electron)', 0, 0, 'set VSCODE_EXECUTABLE to a desktop VS Code executable (this entry does not download one)');
  }
  const tmp = mkdtempSync(join(tmpdir(), 'socrata-electron-'));
  onCleanup(() => rmSync(tmp, { recursive: true, force: true }));
  await ensureBuilt();
  const testFiles = await buildSuite(join(tmp, 'suite'), process.argv.slice(2));
  await installRunnerExtension(join(tmp, 'extensions'));
  const [publisher, name] = RUNNER_EXTENSION_ID.split('.');
  const runnerDir = join(tmp, 'extensions', `${publisher}.${name}-0.0.1`);
  const workspace = await createSampleWorkspace(join(tmp, 'workspace'));
  const emulator = await startSampleEmulator();
  if (emulator) onCleanup(() => emulator.stop());

  const resultsFile = join(tmp, 'results.json');
  const config: HostTestConfig = {
    resultsFile,
    testFiles,
    mochaPath: dirname(createRequire(join(repoRoot, 'package.json')).resolve('mocha/package.json')),
    testTimeoutMs: 20_000,
    extensionId: extensionId(),
    manifestPath: join(repoRoot, 'package.json'),
    ...(emulator ? { emulator: { url: emulator.url, domain: emulator.domain } } : {}),
    workspaceFolder: workspace,
  };
  writeFileSync(join(tmp, 'config.json'), JSON.stringify(config, null, 2));
  writeFileSync(join(tmp, 'wait-for-results.js'), WAIT_FOR_RESULTS);
  const userDataDir = join(tmp, 'user-data');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify({ ...BASE_SETTINGS, ...emulatorSettings(emulator) }, null, 2));

  let runError: unknown;
  try {
    await runTests({
      vscodeExecutablePath: executable,
      extensionDevelopmentPath: [repoRoot, runnerDir],
      extensionTestsPath: join(tmp, 'wait-for-results.js'),
      extensionTestsEnv: { SOCRATA_HOST_TEST_CONFIG: join(tmp, 'config.json'), SOCRATA_HOST_TEST_RESULTS: resultsFile },
      launchArgs: [workspace, '--user-data-dir', userDataDir, '--disable-extensions', '--disable-workspace-trust'],
    });
  } catch (error) {
    runError = error;
  }
  if (!existsSync(resultsFile)) return finish('host (electron)', 0, 0, `VS Code ended without results: ${String(runError)}`);
  const results = JSON.parse(readFileSync(resultsFile, 'utf8')) as HostTestResults;
  for (const t of results.tests) printOutcome({ title: t.fullTitle, state: t.state, durationMs: t.durationMs, ...(t.error ? { error: t.error } : {}) });
  for (const note of results.notes) console.log(`  note: ${note}`);
  return finish('host (electron)', results.passed, results.failed);
}

main()
  .then((code) => {
    process.exitCode = code;
  })
  .catch((error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  })
  .finally(() => cleanupAll());
