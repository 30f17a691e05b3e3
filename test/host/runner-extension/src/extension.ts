// Test-only extension: activates once start-up has finished, runs the compiled mocha suite inside the real extension
// host (real `vscode` API, real SecretStorage), and writes the results to the file the harness waits for.
// The harness passes a JSON config file through the SOCRATA_HOST_TEST_CONFIG environment variable.
import { appendFileSync, readFileSync, writeFileSync, renameSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as vscode from 'vscode';
import type MochaType from 'mocha';
import type { HostTestConfig, HostTestResult, HostTestResults } from '../../lib/protocol';

export interface RunnerApi {
  /** The runner's own ExtensionContext: tests use its SecretStorage and storage paths. */
  context: vscode.ExtensionContext;
  config: HostTestConfig;
  /**
   * Whether the extension under test was already active when start-up finished (this runner activates on
   * `onStartupFinished`, after the workbench's start-up activations), before any test ran a command.
   */
  activeAtStartup: boolean;
}

let api: RunnerApi | undefined;

export function activate(context: vscode.ExtensionContext): RunnerApi | undefined {
  const configFile = process.env.SOCRATA_HOST_TEST_CONFIG;
  if (!configFile) return undefined;
  const config = JSON.parse(readFileSync(configFile, 'utf8')) as HostTestConfig;
  api = { context, config, activeAtStartup: vscode.extensions.getExtension(config.extensionId)?.isActive ?? false };
  // Let activation finish first, so tests see the runner's exports.
  setTimeout(() => void runSuite(config), 0);
  return api;
}

function writeResults(config: HostTestConfig, results: HostTestResults): void {
  // Write then rename, so the harness never reads a half-written file.
  writeFileSync(`${config.resultsFile}.tmp`, JSON.stringify(results, null, 2));
  renameSync(`${config.resultsFile}.tmp`, config.resultsFile);
}

function errorText(error: unknown): string {
  if (error instanceof Error) return error.stack ?? `${error.name}: ${error.message}`;
  return String(error);
}

async function runSuite(config: HostTestConfig): Promise<void> {
  const tests: HostTestResult[] = [];
  const started = Date.now();
  try {
    const load = createRequire(__filename);
    const Mocha = load(config.mochaPath) as typeof MochaType;
    const mocha = new Mocha({ ui: 'bdd', timeout: config.testTimeoutMs, color: false, reporter: class {} as unknown as string });
    if (config.grep) mocha.grep(config.grep);
    for (const file of config.testFiles) mocha.addFile(file);
    await mocha.loadFilesAsync();
    await new Promise<void>((resolve) => {
      const runner = mocha.run(() => resolve());
      // Each result is also appended to `<results>.progress` (one JSON line) as soon as it is known: the
      // harness prints it live and times out only when no test has finished for a while.
      const record = (result: HostTestResult) => {
        tests.push(result);
        appendFileSync(`${config.resultsFile}.progress`, `${JSON.stringify(result)}\n`);
      };
      runner.on('test', (test) => appendFileSync(`${config.resultsFile}.progress`, `${JSON.stringify({ started: test.fullTitle() })}\n`));
      runner.on('pass', (test) => record({ title: test.title, fullTitle: test.fullTitle(), file: test.file, state: 'passed', durationMs: test.duration ?? 0 }));
      runner.on('fail', (test, error) =>
        record({ title: test.title, fullTitle: test.fullTitle(), file: test.file, state: 'failed', durationMs: test.duration ?? 0, error: errorText(error) }),
      );
      runner.on('pending', (test) => record({ title: test.title, fullTitle: test.fullTitle(), file: test.file, state: 'pending', durationMs: 0 }));
    });
    writeResults(config, summarise(tests, started));
  } catch (error) {
    tests.push({ title: 'load the host suite', fullTitle: 'load the host suite', state: 'failed', durationMs: 0, error: errorText(error) });
    writeResults(config, summarise(tests, started));
  }
}

function summarise(tests: HostTestResult[], started: number): HostTestResults {
  return {
    passed: tests.filter((t) => t.state === 'passed').length,
    failed: tests.filter((t) => t.state === 'failed').length,
    pending: tests.filter((t) => t.state === 'pending').length,
    durationMs: Date.now() - started,
    tests,
    notes: globalNotes(),
  };
}

function globalNotes(): string[] {
  const g = globalThis as { __socrataHostTestNotes?: string[] };
  return g.__socrataHostTestNotes ?? [];
}

export function deactivate(): void {
  api = undefined;
}
